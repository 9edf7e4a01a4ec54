"""Weight averaging (`ema_decay`): the learner publishes the moving average of its weights to
self-play and snapshots, by the warmed-up rule, and a run that averages resumes bit-identical."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from hexzero.config import ConfigError, TrainConfig
from hexzero.learner import Learner
from hexzero.network import make_network
from hexzero.selfplay import Samples
from hexzero.storage import list_snapshots, load_snapshot
from hexzero.train import train

from test_resume import assert_same_run, tiny_config


def random_samples(n: int, count: int, seed: int = 0) -> Samples:
    rng = np.random.default_rng(seed)
    obs = (rng.random((count, 2, n, n)) < 0.2).astype(np.float32)
    obs[:, 1] *= 1 - obs[:, 0]  # no cell holds both colours
    policy = rng.random((count, n * n)).astype(np.float32) * (obs.sum(axis=1).reshape(count, -1) == 0)
    policy /= policy.sum(axis=1, keepdims=True)
    value = rng.choice([-1.0, 1.0], count).astype(np.float32)
    return Samples(obs, policy, value)


def learner_with(ema_decay: float, seed: int = 0) -> Learner:
    torch.manual_seed(seed)
    config = TrainConfig(board=3, width=8, depth=1, batch_size=32, lr=1e-2, augment=False, ema_decay=ema_decay)
    learner = Learner(make_network("mlp", 3, 8, 1), config, torch.device("cpu"), np.random.default_rng(seed))
    learner.add(random_samples(3, 256))
    return learner


def test_the_published_weights_are_the_warmed_up_moving_average_of_the_trained_ones():
    decay = 0.9
    learner = learner_with(decay)
    expected = {k: v.clone() for k, v in learner.network.state_dict().items()}
    for step in range(1, 31):
        learner.owed = learner.config.batch_size  # exactly one minibatch
        assert learner.train()["trained"] == 32
        # the rule: decay min(d, (1 + t) / (10 + t)) after step t
        rate = 1 - min(decay, (1 + step) / (10 + step))
        for key, value in learner.network.state_dict().items():
            expected[key] += rate * (value - expected[key])
    assert learner.steps == 30
    published = learner.weights()
    for key, value in expected.items():
        assert torch.allclose(published[key], value, atol=1e-6), key
        # the average is not the trained weights
        assert not torch.allclose(published[key], learner.network.state_dict()[key], atol=1e-4), key


def test_without_averaging_the_published_weights_are_the_trained_ones():
    learner = learner_with(0.0)
    learner.owed = 5 * learner.config.batch_size
    learner.train()
    assert learner.published is learner.network
    for key, value in learner.weights().items():
        assert torch.equal(value, learner.network.state_dict()[key])


def test_a_restored_learner_continues_the_same_average():
    a, b = learner_with(0.95), learner_with(0.95)
    a.owed = 7 * 32
    a.train()
    saved = io.BytesIO()  # through a file, as a resume point goes (the state shares a's tensors)
    torch.save(a.state(), saved)
    saved.seek(0)
    b.restore(torch.load(saved, weights_only=False))
    assert b.steps == 7
    for learner in (a, b):
        learner.owed = 4 * 32
        learner.train()
    for key, value in a.weights().items():
        assert torch.equal(value, b.weights()[key]), key


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, True, "0.9"])
def test_an_impossible_decay_is_refused_naming_the_field(bad):
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=bad)


def test_an_averaging_run_snapshots_the_average_and_resumes_bit_identical(tmp_path):
    config = dict(compute_start=1e3, compute=1.5e6, ema_decay=0.99)
    train(tiny_config(**config), tmp_path / "whole", progress=False, use_ray=False)
    stopped = tmp_path / "stopped"
    for _ in range(3):  # max_seconds=0: one round per invocation
        train(tiny_config(max_seconds=0.0, **config), stopped, progress=False, use_ray=False)
    train(tiny_config(**config), stopped, progress=False, use_ray=False)
    assert_same_run(tmp_path / "whole", stopped)
    # the snapshot holds the average, the resume point both
    latest = torch.load(stopped / "state" / "latest.pt", weights_only=False)["learner"]
    last = load_snapshot(list_snapshots(stopped)[-1]["path"])["network_state"]
    assert all(torch.equal(last[k], latest["average_state"][k]) for k in last)
    assert not all(torch.equal(last[k], latest["network_state"][k]) for k in last)
    # and averaging changes the run: the same run without it ends elsewhere
    train(tiny_config(**{**config, "ema_decay": 0.0}), tmp_path / "plain", progress=False, use_ray=False)
    plain = load_snapshot(list_snapshots(tmp_path / "plain")[-1]["path"])["network_state"]
    assert not all(torch.equal(last[k], plain[k]) for k in last)


def test_a_run_stored_before_the_field_existed_resumes_with_its_default(tmp_path):
    out = tmp_path / "run"
    config = dict(compute_start=1e3, compute=1.5e6)
    train(tiny_config(max_seconds=0.0, **config), out, progress=False, use_ray=False)
    stored = json.loads((out / "config.json").read_text())
    del stored["ema_decay"]  # as config.json was written before ema_decay
    (out / "config.json").write_text(json.dumps(stored))
    summary = train(tiny_config(**config), out, progress=False, use_ray=False)
    assert summary["finished"]
    # a stored value that differs from the asked one is still refused
    stored["ema_decay"] = 0.5
    (out / "config.json").write_text(json.dumps(stored))
    with pytest.raises(ConfigError, match="ema_decay: stored 0.5, asked 0"):
        train(tiny_config(**config), out, progress=False, use_ray=False)


def test_the_train_command_takes_the_decay():
    import argparse

    from hexzero.commands.train import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(["--out", "x", "--ema-decay", "0.995"])).ema_decay == 0.995
    assert config_from_args(parser.parse_args(["--out", "x"])).ema_decay == 0.0  # the mode's
