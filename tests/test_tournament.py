"""Tournaments through Ray and SQLite: results, resumption after SIGKILL, bad pools, the CLI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from elo.db import TournamentDB
from elo.tournament import run_tournament
from hexzero.cli import main as cli_main

ROOT = Path(__file__).parents[1]


def random_pool(db, k, n=3):
    # distinct specs (the tag) for identical random players
    return [db.add_agent({"kind": "random", "n": n, "tag": t}, n, name=f"random{t}") for t in range(k)]


def test_round_robin_tournament_records_every_batch_once(tmp_path, ray_local):
    db = TournamentDB(tmp_path / "t.sqlite")
    ids = random_pool(db, 3)
    report = run_tournament(db, ids, scheme="round-robin", games=8, rounds=2)
    assert report.games_played == 2 * 3 * 8 and report.batches_played == 6
    games, played = db.games(ids)
    assert len(played) == 6 and games.total() == 48
    assert np.array_equal(games.games_per_agent(3), [32, 32, 32])
    # random against random: equal within their intervals, relative to a named anchor
    r = report.ratings
    assert r.anchor in {"random0", "random1", "random2"} and np.all(r.lower <= 0) and np.all(r.upper >= 0)
    assert db.conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 3
    # asked again, nothing is replayed
    again = run_tournament(db, ids, scheme="round-robin", games=8, rounds=2)
    assert again.games_played == 0 and db.games(ids)[0].total() == 48


def test_bad_pools_are_named(tmp_path):
    db = TournamentDB(tmp_path / "t.sqlite")
    ids = random_pool(db, 2)
    other = db.add_agent({"kind": "random", "n": 4}, 4)
    with pytest.raises(ValueError, match="unknown agent 'ghost'"):
        run_tournament(db, [ids[0], "ghost"])
    with pytest.raises(ValueError, match="different board sizes"):
        run_tournament(db, ids + [other])
    with pytest.raises(ValueError, match="empty pool"):
        run_tournament(db, [])
    with pytest.raises(ValueError, match="unknown scheme"):
        run_tournament(db, ids, scheme="swiss")
    with pytest.raises(ValueError, match="appears twice"):
        run_tournament(db, [ids[0], ids[0]])


DRIVER = textwrap.dedent("""
    import sys
    from elo.db import TournamentDB
    from elo.tournament import run_tournament
    db = TournamentDB(sys.argv[1])
    ids = [db.add_agent({"kind": "random", "n": 3, "tag": t}, 3, name=f"random{t}") for t in range(6)]
    run_tournament(db, ids, scheme="round-robin", games=4, rounds=8, max_in_flight=2, ray_address=sys.argv[2])
""")


def test_killed_tournament_resumes_without_losing_or_repeating_games(tmp_path, ray_local):
    path = tmp_path / "t.sqlite"
    address = ray_local.get_runtime_context().gcs_address
    expected_batches = 8 * 15
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(path), address], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    recorded = 0
    while time.time() < deadline and proc.poll() is None:
        if path.exists():
            with TournamentDB(path) as db:
                recorded = db.result_count()[0]
            if recorded >= 10:
                break
        time.sleep(0.05)
    assert proc.poll() is None, f"the tournament ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with TournamentDB(path) as db:
        before = db.conn.execute("SELECT batch_id, agent_a, a_wins_as_black, recorded_at FROM results").fetchall()
    assert 10 <= len(before) < expected_batches
    # restart to the end
    done = subprocess.run([sys.executable, "-c", DRIVER, str(path), address], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with TournamentDB(path) as db:
        after = db.conn.execute("SELECT batch_id, agent_a, a_wins_as_black, recorded_at FROM results").fetchall()
        ids = [r.id for r in db.agents()]
        games, played = db.games(ids)
    assert len(played) == expected_batches and len(after) == expected_batches
    assert games.total() == expected_batches * 4          # none lost, none twice
    assert set(before) <= set(after)                      # finished batches were not replayed


def test_tournament_command_needs_snapshots_of_the_board(tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    db = tmp_path / "t.sqlite"
    # random and perfect alone would rate nothing that was asked for: an error, and no database
    for board in (3, 6):
        assert cli_main(["tournament", str(runs), "--board", str(board), "--db", str(db)]) == 2
        assert f"no {board}x{board} snapshots to rate under {runs}" in capsys.readouterr().err
    assert not db.exists()


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """A folder with one real 3x3 training run of three snapshots (a few seconds)."""
    from hexzero.train import TrainConfig, train

    runs = tmp_path_factory.mktemp("runs")
    config = TrainConfig.for_mode("fast", board=3, width=4, depth=1, compute=3e6, compute_start=3e5, snapshots=3,
                                  envs=16, search={"nodes": 4})
    train(config, runs / "tiny", progress=False, use_ray=False)
    return runs


def test_adaptive_tournament_of_real_snapshots_through_the_commands(tiny_runs, tmp_path, ray_local, capsys):
    db_path = tmp_path / "t.sqlite"
    args = ["tournament", str(tiny_runs), "--board", "3", "--db", str(db_path), "--scheme", "adaptive",
            "--games-per-batch", "8", "--nodes", "4", "--target-width", "150", "--max-games", "480", "--seed", "3"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "anchor: perfect-3 at 0 Elo (perfect)" in out and "tiny/02@4" in out
    with TournamentDB(db_path) as db:
        rows = {r.name: r for r in db.agents(3)}
        assert set(rows) == {"random-3", "tiny/00@4", "tiny/01@4", "tiny/02@4", "perfect-3"}
        snap = rows["tiny/02@4"]
        assert (snap.run, snap.snapshot_index, snap.nodes, snap.params) == ("tiny", 2, 4, 146)
        assert snap.compute > 1e6 and snap.flops > snap.compute
        batches, games = db.result_count()
        assert 5 <= batches and games == 8 * batches and games < 480 + 8
        keys = [k for (k,) in db.conn.execute("SELECT batch_id FROM results")]
        assert len(keys) == len(set(keys))
    # the same command again finds the stop rule met: no game is played twice
    assert cli_main(args) == 0
    assert "played 0 games" in capsys.readouterr().out
    plot = tmp_path / "elo.png"
    assert cli_main(["ratings", "--db", str(db_path), "--board", "3", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "anchor: perfect-3" in out and "tiny" in out and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
