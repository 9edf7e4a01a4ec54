"""The reproduction pipeline end to end on a tiny sweep: every plot and the report come out,
and a sweep killed with SIGKILL resumes without training a finished run again."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TINY = {
    "name": "tiny",
    "trainer": {"mode": "fast", "snapshots": 5, "overrides": {"envs": 32}},
    "search": {"policy": "gumbel", "nodes": 4},
    "seeds": [0],
    "boards": [
        {"board": 3, "widths": [2, 8], "depths": [1], "compute": [1e5, 3e7], "max_samples": 60000},
        {"board": 4, "widths": [4, 8], "depths": [1], "compute": [1e5, 6e7], "max_samples": 60000},
    ],
    "tournament": {"scheme": "round-robin", "games_per_colour": 4, "nodes": 4},
    "test_time": {"board": 4, "nodes": [1, 4, 16], "snapshots": 3, "games_per_colour": 4},
    "analysis": {"points_per_decade": 5, "bootstrap": 10, "resample": "two-level", "confidence": 0.9},
}


def reproduce_cmd(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "hexzero.cli", "reproduce", "--config", str(config), "--out", str(out), "--quiet"]


@pytest.fixture()
def tiny_config(tmp_path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


def test_killed_sweep_resumes_and_produces_every_plot_and_the_report(tmp_path, tiny_config):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(reproduce_cmd(tiny_config, out), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    summaries = out / "runs"
    deadline = time.time() + 240
    while time.time() < deadline and not list(summaries.glob("*/summary.json")):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Ray workers, mid-sweep
    proc.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in summaries.glob("*/summary.json")}
    assert finished, "no run finished before the kill"

    result = subprocess.run(reproduce_cmd(tiny_config, out), env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # Finished runs were not trained again: their summaries are untouched.
    for name, mtime in finished.items():
        assert (summaries / name / "summary.json").stat().st_mtime_ns == mtime, name
    assert len(list(summaries.glob("*/summary.json"))) == 4

    report = (out / "report.md").read_text()
    for stem in ("runs", "frontier_fit", "test_time", "tradeoff", "board"):
        for suffix in (".png", ".svg"):
            figure = out / "figures" / f"{stem}{suffix}"
            assert figure.is_file() and figure.stat().st_size > 1000, figure
        assert f"figures/{stem}.png" in report
    results = json.loads((out / "results.json").read_text())
    assert results["boards"] == [3, 4]
    # both boards are solved: anchored to the higher-rated of the two perfect agents
    for board in ("3", "4"):
        scale = results["scale"][board]
        assert results["anchors"][board].startswith(f"perfect-{board}")
        assert scale["other_perfect"]["elo"] <= 0 and scale["random"]["elo"] < 0
        assert {"before", "after"} <= set(scale)
    assert "## Measured: random play and the top of the scale" in report
    assert "one seed per network" in report  # the intervals say they miss training variance
    assert f"{results['params']['m_flops']:.0f} Elo per 10x" in report
    assert (out / "figures" / "runs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert results["derived"]["perfect_play_growth"]["low"] <= results["derived"]["perfect_play_growth"]["high"]

    # A board's pool: random play first and perfect play last (the chain links each to its
    # nearest snapshots), every snapshot of the board's runs between them.
    from elo.db import TournamentDB
    from experiments.pipeline import register_board, run_specs
    from experiments.sweep_config import load_sweep_config

    db = TournamentDB(tmp_path / "pool.sqlite")
    ids, special = register_board(db, out, run_specs(load_sweep_config(tiny_config)), 3, 4, "gumbel")
    names = [db.agent(i).name for i in ids]
    assert names[0] == "random-3" and names[-1] == "perfect-3" and ids[-1] == special["solver_perfect"]
    assert len(names) == 2 + sum(len(list((out / "runs" / r).glob("snapshots/*.pt"))) for r in ("b3-w2-d1-s0", "b3-w8-d1-s0"))


def test_seed_offset_shifts_every_seed_and_a_folder_keeps_its_seeds(tmp_path, tiny_config):
    from experiments.pipeline import _pin_config, sweep_data

    config, data = sweep_data(str(tiny_config), seed_offset=3)
    assert config.seeds == (3,) and data["seeds"] == [3]
    assert all(run.name.endswith("-s3") for run in config.runs())
    quick, _ = sweep_data("quick")
    rerun, _ = sweep_data("quick", seed_offset=1)
    assert len(quick.seeds) >= 2 and not set(quick.seeds) & set(rerun.seeds)  # a rerun shares no seed
    out = tmp_path / "out"
    out.mkdir()
    _pin_config(out, data)
    with pytest.raises(ValueError, match=r"another sweep config \('tiny', seeds \[3\]\)"):
        _pin_config(out, sweep_data(str(tiny_config))[1])
    _pin_config(out, {**data, "description": "reworded"})  # prose alone does not refuse a resume

    result = subprocess.run([*reproduce_cmd(tiny_config, out), "--seed-offset", "-1"],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--seed-offset must be >= 0, got -1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_started_with_another_sweep_is_refused(tmp_path, tiny_config):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps({**TINY, "name": "other"}))
    result = subprocess.run(reproduce_cmd(tiny_config, out), env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "was started with another sweep config" in result.stderr


def test_a_board_above_the_solver_is_anchored_to_its_top_agent_and_kept_out_of_perfect_play_figures(tmp_path,
                                                                                                   ray_local):
    """Boards 3 (solved) and 7 (above the solver's reach) with budgets far too small for 7x7:
    the report must not read perfect play off board 7's top agent."""
    from experiments.pipeline import reproduce

    config = {**TINY, "name": "tiny-7", "boards": [
        {"board": 3, "widths": [2, 8], "depths": [1], "compute": [1e5, 3e7], "max_samples": 20000},
        {"board": 7, "widths": [2, 4], "depths": [1], "compute": [1e5, 3e7], "max_samples": 20000}],
        "test_time": {"board": 3, "nodes": [1, 4], "snapshots": 2, "games_per_colour": 2},
        "analysis": {"points_per_decade": 5, "bootstrap": 20, "resample": "two-level", "confidence": 0.9}}
    path = tmp_path / "tiny7.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "out"
    report = reproduce(path, out, progress=False, skip_tradeoff=True).read_text()
    results = json.loads((out / "results.json").read_text())
    top = results["scale"]["7"]["top_agent"]
    assert results["anchors"]["7"] == top["agent"] and not top["agent"].startswith("perfect")
    assert top["perfect_play"] is False and top["random"]["elo"] < 0
    assert results["anchored_boards"] == [3] and results["boards"] == [3]
    assert set(results["perfect_play_compute"]) == {"3"}
    assert "## Boards above the solver's reach" in report and "**not shown**" in report
    assert "perfect-play compute growth per board | n/m" in report
