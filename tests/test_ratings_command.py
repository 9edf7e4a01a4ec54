"""`hexzero ratings` reads without writing; `--refit` fits the frontier and the test-time
agents apart; a run folder moved elsewhere rates again (snapshot paths stored relative)."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3

import numpy as np
import pytest

from elo.db import TournamentDB
from elo.ratings import fit_ratings
from hexzero.cli import main as cli_main


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored_specs(db_path) -> dict[str, dict]:
    """Agent name -> spec exactly as the file holds it (read with sqlite3 itself)."""
    with sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        return {name: json.loads(spec) for name, spec in conn.execute("SELECT name, spec FROM agents")}


@pytest.fixture(scope="module")
def tiny_run_folder(tmp_path_factory):
    """A folder of runs holding one real 3x3 training run with three snapshots (seconds)."""
    from hexzero.train import TrainConfig, train

    runs = tmp_path_factory.mktemp("made") / "runs"
    config = TrainConfig.for_mode("fast", board=3, width=4, depth=1, compute=3e6, compute_start=3e5, snapshots=3,
                                  envs=16, search={"nodes": 4})
    train(config, runs / "tiny", progress=False, use_ray=False)
    return runs


def tournament_args(runs, max_games: int) -> list[str]:
    return ["tournament", str(runs), "--board", "3", "--scheme", "round-robin", "--rounds", "4",
            "--games-per-batch", "8", "--nodes", "4", "--target-width", "1", "--max-games", str(max_games)]


def test_a_moved_run_folder_rates_again(tiny_run_folder, tmp_path, ray_local, capsys):
    first = tmp_path / "first"
    shutil.copytree(tiny_run_folder.parent, first)
    runs = first / "runs"
    assert cli_main(tournament_args(runs, 40)) == 0
    db_path = runs / "tournament.sqlite"
    specs = stored_specs(db_path)
    snapshot_paths = sorted(s["path"] for s in specs.values() if s["kind"] == "snapshot")
    assert snapshot_paths == [f"tiny/snapshots/snapshot-0{k}.pt" for k in range(3)]  # relative to the db's folder
    with TournamentDB(db_path, readonly=True) as db:
        before = db.result_count()
        agents_before = {r.name: r.id for r in db.agents()}
    capsys.readouterr()

    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    first.rename(moved)
    assert not first.exists()
    runs = moved / "runs"
    # More games: snapshot agents are rebuilt (in Ray workers) from the moved files.
    assert cli_main(tournament_args(runs, 120)) == 0
    out = capsys.readouterr().out
    assert "tiny/02@4" in out
    with TournamentDB(runs / "tournament.sqlite", readonly=True) as db:
        after = db.result_count()
        assert {r.name: r.id for r in db.agents()} == agents_before  # the same agents, none registered twice
        paths = [r.spec["path"] for r in db.agents() if r.kind == "snapshot"]
    assert after[1] > before[1]
    assert all(p.startswith(str(runs.resolve())) for p in paths)
    assert cli_main(["ratings", "--db", str(runs / "tournament.sqlite"), "--refit"]) == 0
    assert "tiny/00@4" in capsys.readouterr().out


def test_databases_with_absolute_paths_keep_working(tmp_path):
    snapshot = tmp_path / "runs" / "old" / "snapshots" / "snapshot-00.pt"
    db_path = tmp_path / "runs" / "tournament.sqlite"
    with TournamentDB(db_path) as db:
        old = db.add_agent({"kind": "random", "n": 3}, 3)
        # written as before paths were stored relative: the absolute path in the spec itself
        db.conn.execute("INSERT INTO agents (name, board, kind, spec, run, nodes) VALUES (?,?,?,?,?,?)",
                        ("old/00@4", 3, "snapshot", json.dumps({"kind": "snapshot", "nodes": 4, "path": str(snapshot)},
                                                               sort_keys=True, separators=(",", ":")), "old", 4))
        row = db.agent("old/00@4")
        assert row.spec["path"] == str(snapshot)
        # registering the same snapshot again finds the old row instead of clashing on its name
        assert db.add_agent({"kind": "snapshot", "path": str(snapshot), "nodes": 4}, 3, name="old/00@4") == row.id
        assert db.add_agent({"kind": "random", "n": 3}, 3) == old
    # a snapshot outside the database's folder is stored absolute: moving the db alone keeps it
    outside = tmp_path / "elsewhere" / "snapshot-01.pt"
    with TournamentDB(db_path) as db:
        db.add_agent({"kind": "snapshot", "path": str(outside), "nodes": 4}, 3, name="outside")
    assert stored_specs(db_path)["outside"]["path"] == str(outside.resolve())


def pool_db(path):
    """Frontier agents and test-time agents of one board with recorded (made-up) results."""
    db = TournamentDB(path)
    random = db.add_agent({"kind": "random", "n": 3}, 3, name="random-3")
    perfect = db.add_agent({"kind": "perfect", "n": 3}, 3, name="perfect-3")
    snap = db.add_agent({"kind": "random", "n": 3, "tag": "s"}, 3, name="run/00@4", run="run", compute=1e6,
                        snapshot_index=0)
    tt = db.add_agent({"kind": "random", "n": 3, "tag": "t"}, 3, name="tt/run/00@1", run="tt/run", compute=1e6,
                      snapshot_index=0)

    def record(batch, a, b, a_wins):
        half = 8
        db.record_batch(batch, a, b, {"a_wins_as_black": min(a_wins, half), "a_games_as_black": half,
                                      "a_wins_as_white": max(a_wins - half, 0), "a_games_as_white": half})

    record("f1", perfect, random, 15)
    record("f2", perfect, snap, 12)
    record("f3", snap, random, 11)
    record("t1", perfect, tt, 16)   # the test-time agent loses every game: far below the frontier's
    record("t2", tt, snap, 0)
    return db, (random, perfect, snap, tt)


def test_ratings_prints_the_stored_ratings_and_changes_nothing(tmp_path, capsys):
    db_path = tmp_path / "t.sqlite"
    db, (random, perfect, snap, tt) = pool_db(db_path)
    assert cli_main(["ratings", "--db", str(db_path), "--refit"]) == 0
    refit_out = capsys.readouterr().out
    db.close()
    digest = sha256(db_path)
    assert cli_main(["ratings", "--db", str(db_path)]) == 0
    stored_out = capsys.readouterr().out
    assert sha256(db_path) == digest
    assert not (tmp_path / "t.sqlite-wal").exists() or (tmp_path / "t.sqlite-wal").stat().st_size == 0
    # the stored tables hold what the refit printed: the same agents, Elo, intervals and games
    agent_lines = [line for line in stored_out.splitlines() if line.startswith(("run/", "random-", "perfect-", "tt/"))]
    assert len(agent_lines) == 4 and set(agent_lines) <= set(refit_out.splitlines())
    assert cli_main(["ratings", "--db", str(db_path), "--plot", str(tmp_path / "elo.png")]) == 0
    assert sha256(db_path) == digest and (tmp_path / "elo.png").read_bytes()[:4] == b"\x89PNG"


def test_refit_keeps_test_time_agents_out_of_the_frontier(tmp_path, capsys):
    db_path = tmp_path / "t.sqlite"
    db, (random, perfect, snap, tt) = pool_db(db_path)
    assert cli_main(["ratings", "--db", str(db_path), "--refit"]) == 0
    out = capsys.readouterr().out
    frontier_text, test_time_text = out.split("3x3 test-time agents")
    assert frontier_text.startswith("3x3: 3 agents") and "tt/" not in frontier_text
    assert "tt/run/00@1" in test_time_text
    # the frontier's stored ratings are the fit of the frontier's games alone
    ids = [random, perfect, snap]
    games, _ = db.games(ids)
    expected = fit_ratings(["random-3", "perfect-3", "run/00@4"], games, perfect=1)
    stored = db.stored_ratings(ids + [tt])
    assert np.allclose([stored[i].elo for i in ids], expected.elo, atol=1e-6)
    assert stored[perfect].games == 32  # its frontier games, not the test-time pool's
    assert stored[tt].elo < stored[snap].elo
    # the stored view shows the same split
    assert cli_main(["ratings", "--db", str(db_path)]) == 0
    frontier_text, test_time_text = capsys.readouterr().out.split("3x3 test-time agents")
    assert "tt/" not in frontier_text and "tt/run/00@1" in test_time_text
    db.close()
