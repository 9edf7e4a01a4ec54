"""The tournament database: agents, batches recorded once, concurrent writers."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from elo.db import TournamentDB
from elo.ratings import fit_ratings

COUNTS = {"a_wins_as_black": 3, "a_games_as_black": 4, "a_wins_as_white": 1, "a_games_as_white": 4}


def test_agents_are_registered_once_and_checked(tmp_path):
    db = TournamentDB(tmp_path / "t.sqlite")
    a = db.add_agent({"kind": "random", "n": 5}, 5)
    assert db.add_agent({"n": 5, "kind": "random"}, 5) == a   # same spec, key order aside
    b = db.add_agent({"kind": "snapshot", "path": "runs/x/snapshots/snapshot-03.pt", "nodes": 64}, 5,
                     name="x/03", run="x", compute=1e12, snapshot_index=3, flops=2e13, params=1234)
    row = db.agent("x/03")
    assert (row.id, row.run, row.compute, row.snapshot_index, row.flops, row.params, row.nodes) == (
        b, "x", 1e12, 3, 2e13, 1234, 64)
    assert [r.id for r in db.agents(board=5)] == [a, b] and db.agents(board=7) == []
    with pytest.raises(ValueError, match="unknown agent 'nobody'"):
        db.agent("nobody")
    with pytest.raises(ValueError, match="plays 5x5, not board 7"):
        db.add_agent({"kind": "random", "n": 5}, 7)
    with pytest.raises(ValueError, match="already taken"):
        db.add_agent({"kind": "random", "n": 6}, 6, name="x/03")


def test_a_batch_is_recorded_once_per_colour_order(tmp_path):
    db = TournamentDB(tmp_path / "t.sqlite")
    a, b = db.add_agent({"kind": "random", "n": 5}, 5), db.add_agent({"kind": "perfect", "n": 5}, 5)
    assert db.record_batch("rr0:1:2", a, b, COUNTS, seed=7)
    assert not db.record_batch("rr0:1:2", a, b, COUNTS, seed=7)
    games, played = db.games([b, a])   # rows index into the list given
    assert played == {"rr0:1:2"}
    assert sorted(zip(games.black, games.white, games.black_wins, games.games)) == [(0, 1, 3, 4), (1, 0, 3, 4)]
    assert db.result_count() == (1, 8)
    with pytest.raises(ValueError, match="recorded for agents"):
        db.record_batch("rr0:1:2", b, a, COUNTS)
    with pytest.raises(ValueError, match="itself"):
        db.record_batch("x", a, a, COUNTS)


def test_ratings_are_saved_with_their_anchor(tmp_path):
    db = TournamentDB(tmp_path / "t.sqlite")
    ids = [db.add_agent({"kind": "random", "n": 5}, 5), db.add_agent({"kind": "perfect", "n": 5}, 5)]
    db.record_batch("b", ids[0], ids[1], COUNTS)
    games, _ = db.games(ids)
    db.save_ratings(fit_ratings(["random-5", "perfect-5"], games, perfect=1), ids)
    rows = db.conn.execute("SELECT agent_id, elo, anchor FROM ratings ORDER BY agent_id").fetchall()
    assert [r[2] for r in rows] == ["perfect-5", "perfect-5"] and rows[1][1] == 0.0


WRITER = textwrap.dedent("""
    import sys, time
    from elo.db import TournamentDB
    path, who, other, start_at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    db = TournamentDB(path)
    a = db.add_agent({"kind": "random", "n": 5}, 5)
    b = db.add_agent({"kind": "perfect", "n": 5}, 5)
    counts = {"a_wins_as_black": 1, "a_games_as_black": 2, "a_wins_as_white": 0, "a_games_as_white": 2}
    time.sleep(max(0.0, start_at - time.time()))   # both writers start together
    for k in range(150):
        db.record_batch(f"{who}:{k}", a, b, counts)      # this writer's own batches
        db.record_batch(f"shared:{k}", a, b, counts)     # the same batches as the other writer
        if k == 50:  # rendezvous: go on only once the other writer is writing too
            deadline = time.time() + 60
            while time.time() < deadline and not db.conn.execute(
                    "SELECT 1 FROM results WHERE batch_id = ?", (f"{other}:0",)).fetchone():
                time.sleep(0.01)
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "t.sqlite"
    start_at = str(time.time() + 4.0)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, other, start_at], cwd=str(tmp_path.parent),
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                              stderr=subprocess.PIPE) for who, other in (("p", "q"), ("q", "p"))]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    db = TournamentDB(path)
    assert len(db.agents()) == 2
    ids = [r.id for r in db.agents()]
    _, played = db.games(ids)
    assert played == {f"{w}:{k}" for w in ("p", "q", "shared") for k in range(150)}
    assert db.result_count() == (450, 4 * 450)
    # the writers really overlapped in time
    span = {w: db.conn.execute("SELECT MIN(recorded_at), MAX(recorded_at) FROM results WHERE batch_id LIKE ?",
                               (f"{w}:%",)).fetchone() for w in ("p", "q")}
    assert span["p"][0] < span["q"][1] and span["q"][0] < span["p"][1]
