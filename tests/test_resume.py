"""Resume is exact or refuses: a run killed with kill -9 and resumed ends bit-identical to the
same run uninterrupted; a run folder moved elsewhere resumes; a different config is refused
naming each difference; the `on_event` hook reports durable files."""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from hexzero.commands.train import add_arguments, config_from_args
from hexzero.config import ConfigError, TrainConfig
from hexzero.network import make_network
from hexzero.storage import list_snapshots, load_snapshot, read_jsonl
from hexzero.train import train

REPO = Path(__file__).resolve().parents[1]
TIMING = ("wall_s", "train_s", "eval_s")  # clock readings: the only numbers a resume may change


def tiny_config(**overrides) -> TrainConfig:
    base = dict(board=3, width=4, depth=1, compute=4e6, compute_start=3e5, snapshots=5, envs=32,
                moves_per_round=2, batch_size=64, search={"nodes": 4}, evaluate=False)
    base.update(overrides)
    return TrainConfig.for_mode("fast", **base)


def without_timing(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMING and k not in ("ledger", "metrics", "path")}


def assert_same_run(a: Path, b: Path) -> None:
    """Same snapshots (weights bit for bit, facts) and the same metrics rows, clocks aside."""
    snaps_a, snaps_b = list_snapshots(a), list_snapshots(b)
    assert [without_timing(r) | {"run": None} for r in snaps_a] == [without_timing(r) | {"run": None} for r in snaps_b]
    for ra, rb in zip(snaps_a, snaps_b):
        da, db = load_snapshot(ra["path"]), load_snapshot(rb["path"])
        assert da["network_state"].keys() == db["network_state"].keys()
        for key in da["network_state"]:
            assert torch.equal(da["network_state"][key], db["network_state"][key]), (ra["index"], key)
        assert without_timing(da["ledger"]) == without_timing(db["ledger"])
        assert without_timing(da["metrics"]) == without_timing(db["metrics"])
    rows_a, rows_b = read_jsonl(a / "metrics.jsonl"), read_jsonl(b / "metrics.jsonl")
    assert len(rows_a) == len(rows_b)
    assert [without_timing(r) for r in rows_a] == [without_timing(r) for r in rows_b]


def test_resume_refuses_a_different_config_naming_each_difference(tmp_path):
    out = tmp_path / "run"
    config = tiny_config(compute=3e5, snapshots=1)
    train(config, out, progress=False, use_ray=False)
    asked = tiny_config(compute=6e5, snapshots=1, search={"nodes": 8})
    with pytest.raises(ConfigError) as err:
        train(asked, out, progress=False, use_ray=False)
    message = str(err.value)
    assert "compute: stored 300000, asked 600000" in message
    assert "search.nodes: stored 4, asked 8" in message
    assert "width" not in message and "\n" not in message
    # Per-invocation fields may change: the finished run is simply found finished.
    again = train(tiny_config(compute=3e5, snapshots=1, max_seconds=5.0, device="cpu"), out,
                  progress=False, use_ray=False)
    assert again["finished"] and again["snapshots"] == 1


def test_a_stopped_run_moved_elsewhere_resumes_to_the_uninterrupted_result(tmp_path, capsys):
    config = dict(compute_start=1e3, compute=1.5e6)  # the first round crosses a grid point
    train(tiny_config(**config), tmp_path / "whole", progress=False, use_ray=False)
    # max_seconds=0 stops after one round: the first takes snapshot 00; a later stop that ends
    # past a snapshot leaves rounds that the next invocation must cut back and replay (else
    # metrics.jsonl would differ from the uninterrupted run's below).
    first = train(tiny_config(max_seconds=0.0, **config), tmp_path / "a" / "run", progress=False, use_ray=False)
    assert first["snapshots"] == 1 and not first["finished"]
    shutil.move(tmp_path / "a" / "run", tmp_path / "b" / "moved")
    moved = tmp_path / "b" / "moved"
    for _ in range(3):
        train(tiny_config(max_seconds=0.0, **config), moved, progress=False, use_ray=False)
    assert "resuming" in capsys.readouterr().err
    summary = train(tiny_config(**config), moved, progress=False, use_ray=False)
    assert summary["finished"] and summary["run"] == "moved"
    assert_same_run(tmp_path / "whole", moved)
    # Nothing in the folder names where it was made.
    for path in moved.rglob("*"):
        if path.is_file():
            assert str(tmp_path).encode() not in path.read_bytes(), path


def test_kill_minus_9_then_resume_is_bit_identical(tmp_path):
    """The CLI's default path (Ray actors in a local Ray of its own), killed with SIGKILL after
    its second snapshot and run again, against the same run uninterrupted (in-process workers:
    the same worker code, so the same numbers)."""
    args = ["--board", "3", "--width", "4", "--depth", "1", "--compute", "1.5e6", "--compute-start", "1.5e5",
            "--snapshots", "5", "--nodes", "4", "--envs", "32", "--no-eval", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "hexzero.cli", "train", *args, "--out", str(killed)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list_snapshots(killed)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 2 <= len(list_snapshots(killed)) < 5, proc.stderr.read().decode()
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {killed} from snapshot" in resumed.stderr

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    whole = tmp_path / "whole"
    train(config_from_args(parser.parse_args([*args, "--out", str(whole)])), whole, progress=False, use_ray=False)
    assert len(list_snapshots(whole)) == 5
    assert_same_run(whole, killed)


def test_on_event_reports_rounds_snapshots_and_the_end_with_durable_files(tmp_path):
    out = tmp_path / "run"
    events = []

    def hear(kind, info):
        # Each listed file is on disk, whole, when the event is heard.
        for name in info.get("files", []):
            assert not Path(name).is_absolute() and (out / name).is_file(), name
        if kind == "snapshot":
            latest = torch.load(out / "state" / "latest.pt", weights_only=False)
            assert latest["snapshot_index"] == info["index"] + 1
            load_snapshot(out / "snapshots" / f"snapshot-{info['index']:02d}.pt")
        events.append((kind, info))

    config = tiny_config(compute=1e6, snapshots=3, max_samples=10_000)
    summary = train(config, out, progress=False, use_ray=False, on_event=hear)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "end" and kinds.count("end") == 1 and kinds.count("snapshot") == summary["snapshots"] == 3
    params = make_network("mlp", 3, 4, 1).parameter_count()
    rounds = [i for k, i in events if k == "round"]
    assert len(rounds) == len(read_jsonl(out / "metrics.jsonl"))
    assert all(r["target_samples"] == math.ceil(1e6 / (4 * params)) and r["target_compute"] == 1e6 for r in rounds)
    assert [r["samples"] for r in rounds] == sorted(r["samples"] for r in rounds)
    assert rounds[-1]["compute"] >= 1e6
    snapshots = [i for k, i in events if k == "snapshot"]
    assert [s["index"] for s in snapshots] == [0, 1, 2]
    assert snapshots[0]["files"] == ["config.json", "metrics.jsonl", "snapshots.jsonl", "snapshots/snapshot-00.pt",
                                     "state/latest.pt"]
    assert snapshots[1]["files"] == ["metrics.jsonl", "snapshots.jsonl", "snapshots/snapshot-01.pt", "state/latest.pt"]
    end = events[-1][1]
    assert end["summary"] == summary == json.loads((out / "summary.json").read_text())
    assert "summary.json" in end["files"]


def test_a_damaged_resume_point_is_refused_in_one_line(tmp_path):
    out = tmp_path / "run"
    train(tiny_config(max_seconds=0.0, compute_start=1e4), out, progress=False, use_ray=False)
    latest = out / "state" / "latest.pt"
    latest.write_bytes(latest.read_bytes()[:100])
    with pytest.raises(ConfigError, match=r"resume point .* is corrupt .*delete the run folder's state/"):
        train(tiny_config(compute_start=1e4), out, progress=False, use_ray=False)
