"""The search benchmarks at toy sizes: `bench mcts` with an interleaved baseline search, and
`bench selfplay`'s time split (the parts add up to the worker's `play` time)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hexzero import cli
from hexzero.benchmarks import selfplay as selfplay_bench
from hexzero.network import make_network
from hexzero.train import TrainConfig

MCTS_FILE = Path(__file__).resolve().parent.parent / "hexzero" / "mcts.py"


def test_bench_mcts_times_a_baseline_search_beside_the_current_one(capsys):
    assert cli.main(["bench", "mcts", "--n", "3", "--width", "4", "--depth", "1", "--batch", "2", "--nodes", "4",
                     "--repeats", "1", "--policy", "gumbel", "puct", "--baseline", str(MCTS_FILE)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["search"], r["policy"]) for r in records] == [
        ("current", "gumbel"), (str(MCTS_FILE), "gumbel"), ("current", "puct"), (str(MCTS_FILE), "puct")]
    for r in records:
        assert r["sims_per_s"] > 0 and r["net_evals_per_s"] > 0 and 0 < r["tree_s"] < r["search_s"]


def test_bench_mcts_refuses_a_missing_baseline(tmp_path, capsys):
    assert cli.main(["bench", "mcts", "--n", "3", "--baseline", str(tmp_path / "nope.py")]) == 2
    assert "--baseline" in capsys.readouterr().err


def test_selfplay_time_split_adds_up():
    args = argparse.Namespace(repeats=1, moves=2)
    config = TrainConfig.for_mode("fast", board=3, width=4, depth=1, envs=8, workers=1, search={"nodes": 4})
    split = selfplay_bench._split(config, make_network("mlp", 3, 4, 1), args)
    parts = ("net_s", "tree_s", "search_other_s", "engine_s", "other_s")
    assert all(split[p] >= 0 for p in parts) and split["net_s"] > 0 and split["tree_s"] > 0
    assert sum(split[p] for p in parts) == pytest.approx(split["play_s"], abs=5e-4)  # rounded to 1e-5 each
    assert sum(split["fractions"].values()) == pytest.approx(1.0, abs=0.01)
    assert split["selfplay_sims_per_s"] > 0 and split["net_gap"] == pytest.approx(
        split["net_evals_per_s"] / split["selfplay_sims_per_s"], rel=0.01)
