"""External GTP engines as agents (hexzero.external): `hexzero gtp` as an engine plays the games
the built-in agent plays; engines that crash, hang or babble are restarted or reported, and a
tournament with them never records a partial batch."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from elo.db import TournamentDB
from elo.tournament import run_tournament
from hexzero.agents import make_agent
from hexzero.arena import play_match
from hexzero.cli import main as cli_main
from hexzero.external import EngineError, GtpAgent
from hexzero.records import parse_sgf

ROOT = Path(__file__).resolve().parents[1]
FAKE = str(ROOT / "tests" / "fixtures" / "fake_gtp_engine.py")
# `hexzero gtp` in a subprocess imports this worktree's code (Ray workers inherit it too)
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def hexzero_gtp(spec: dict) -> list[str]:
    return [sys.executable, "-m", "hexzero.cli", "gtp", json.dumps(spec)]


def fake(mode: str, *extra) -> list[str]:
    return [sys.executable, FAKE, mode, *map(str, extra)]


@pytest.fixture(scope="module")
def snapshot_spec(tmp_path_factory):
    """A greedy snapshot agent of a real tiny 3x3 run (a few seconds of training). Its own seed
    keeps it off the match's random stream, and greedy search makes its move a function of the
    position alone: the same whether it is asked in a batch or one position at a time."""
    from hexzero.storage import list_snapshots
    from hexzero.train import TrainConfig, train

    runs = tmp_path_factory.mktemp("runs")
    config = TrainConfig.for_mode("fast", board=3, width=4, depth=1, compute=3e6, compute_start=3e5, snapshots=2,
                                  envs=16, search={"nodes": 4})
    train(config, runs / "tiny", progress=False, use_ray=False)
    path = list_snapshots(runs / "tiny")[-1]["path"]
    return {"kind": "snapshot", "path": str(path), "nodes": 6, "greedy": True, "seed": 0}


def test_gtp_engine_as_an_agent_plays_the_same_games_in_process(snapshot_spec):
    builtin = make_agent(snapshot_spec)
    external = make_agent({"kind": "gtp", "n": 3, "command": hexzero_gtp(snapshot_spec), "name": "snap-gtp"})
    try:
        direct = play_match(make_agent({"kind": "random", "n": 3}), builtin, 8, seed=1)
        through = play_match(make_agent({"kind": "random", "n": 3}), external, 8, seed=1)
        assert np.array_equal(direct.moves, through.moves)
        assert direct.counts() == through.counts()
        assert external.engine_name == "hexzero" and external.restarts == 0
    finally:
        external.close()


def test_tournament_with_hexzero_gtp_as_external_engine_matches_builtin(snapshot_spec, tmp_path, ray_local):
    gtp_spec = {"kind": "gtp", "n": 3, "command": hexzero_gtp(snapshot_spec), "name": "snap-gtp", "timeout": 60}
    results = []
    for label, spec in (("builtin", snapshot_spec), ("gtp", gtp_spec)):
        with TournamentDB(tmp_path / f"{label}.sqlite") as db:
            ids = [db.add_agent({"kind": "random", "n": 3}, 3, name="random-3"),
                   db.add_agent(spec, 3, name="snapshot")]
            report = run_tournament(db, ids, scheme="round-robin", games=8, rounds=2, seed=5,
                                    save_games=tmp_path / label)
            assert report.games_played == 16 and report.engine_restarts == 0
            results.append(db.conn.execute("SELECT batch_id, a_wins_as_black, a_games_as_black, a_wins_as_white, "
                                           "a_games_as_white, seed FROM results ORDER BY batch_id").fetchall())
    assert results[0] == results[1] and len(results[0]) == 2
    # the kept games are the same games, move for move
    games = {label: sorted(p.read_text().split(";", 1)[1] for p in (tmp_path / label).glob("*.sgf"))
             for label in ("builtin", "gtp")}
    assert len(games["gtp"]) == 16 and games["builtin"] == games["gtp"]


def test_ratings_anchor_to_an_external_engine(tmp_path, ray_local, capsys):
    db_path = tmp_path / "t.sqlite"
    with TournamentDB(db_path) as db:
        ids = [db.add_agent({"kind": "random", "n": 3}, 3, name="random-3"),
               db.add_agent({"kind": "gtp", "n": 3, "command": fake("good")}, 3, name="reference-engine")]
        run_tournament(db, ids, scheme="round-robin", games=8, seed=2)
    assert cli_main(["ratings", "--db", str(db_path), "--refit", "--anchor", "reference-engine"]) == 0
    assert "anchor: reference-engine at 0 Elo (given)" in capsys.readouterr().out
    assert cli_main(["ratings", "--db", str(db_path), "--refit", "--anchor", "mohex"]) == 2
    assert "anchor 'mohex' has played no games" in capsys.readouterr().err


def test_engine_that_crashes_once_is_restarted_and_the_game_goes_on(tmp_path):
    marker = tmp_path / "crashed"
    good = GtpAgent(fake("good"), 4, timeout=10)
    flaky = GtpAgent(fake("crash-once", marker), 4, timeout=10)
    try:
        direct = play_match(make_agent({"kind": "random", "n": 4}), good, 6, seed=3)
        through = play_match(make_agent({"kind": "random", "n": 4}), flaky, 6, seed=3)
    finally:
        good.close()
        flaky.close()
    assert marker.exists() and flaky.restarts == 1 and good.restarts == 0
    assert np.array_equal(direct.moves, through.moves)   # the same games, nothing discarded


@pytest.mark.parametrize("mode, reason", [("crash", "engine exited"), ("hang", "no reply to 'genmove"),
                                          ("garbage", "not a cell of the 4x4 board")])
def test_engine_that_keeps_failing_is_reported(mode, reason):
    agent = GtpAgent(fake(mode), 4, timeout=0.5, retries=1)
    board = np.zeros((1, 16), np.int8)
    first = agent.act(board, np.array([1], np.int8), np.random.default_rng(0))
    assert first.tolist() == [0]                       # a1: the first move works
    board[0, 0], board[0, 5] = 1, 2
    process = agent._process.proc
    started = time.monotonic()
    with pytest.raises(EngineError, match=reason) as info:
        agent.act(board, np.array([1], np.int8), np.random.default_rng(0))
    assert time.monotonic() - started < 20
    message = str(info.value)
    assert "failed 2 times in a row" in message and "b:a1 w:b2" in message and "\n" not in message
    assert agent.restarts == 2 and agent._process is None and process.poll() is not None   # nothing left running


def test_missing_engine_and_bad_specs_are_clear_errors():
    with pytest.raises(EngineError, match="cannot start engine"):
        GtpAgent(["/nonexistent/engine"], 3).act(np.zeros((1, 9), np.int8), np.array([1], np.int8),
                                                  np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs 'command'"):
        make_agent({"kind": "gtp", "n": 3})
    with pytest.raises(ValueError, match="non-empty list of strings"):
        make_agent({"kind": "gtp", "n": 3, "command": "mohex"})
    with pytest.raises(ValueError, match="unknown keys"):
        make_agent({"kind": "gtp", "n": 3, "command": ["x"], "tiemout": 3})


def test_crashing_engine_stops_the_tournament_without_corrupting_the_database(tmp_path, ray_local, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    db_path = tmp_path / "t.sqlite"
    crash = json.dumps({"kind": "gtp", "command": fake("crash"), "name": "crasher", "timeout": 5, "retries": 1})
    args = ["tournament", str(runs), "--board", "3", "--db", str(db_path), "--scheme", "round-robin",
            "--games-per-batch", "4", "--rounds", "2", "--agent", crash, "--in-flight", "1",
            "--save-games", str(tmp_path / "games")]
    assert cli_main(args) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]   # past the progress bar
    assert len(errors) == 1 and errors[0].startswith("hexzero tournament: error: batch ")
    assert "crasher" in errors[0] and "engine exited" in errors[0] and "resumes" in errors[0]
    print(errors[0])
    with TournamentDB(db_path) as db:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {r.id: r.name for r in db.agents()}
        rows = db.conn.execute("SELECT agent_a, agent_b, a_games_as_black + a_games_as_white FROM results").fetchall()
    crasher = next(i for i, name in names.items() if name == "crasher")
    # only whole batches, none with the crashing engine
    assert all(games == 4 and crasher not in (a, b) for a, b, games in rows)
    # games are kept for the recorded batches only
    assert len(list((tmp_path / "games").glob("*.sgf"))) == 4 * len(rows)
    # the database stays usable: the ratings command reads it
    assert cli_main(["ratings", "--db", str(db_path)]) in (0, 2)


def test_saved_tournament_games_are_sgf_hexgui_reads(tmp_path, ray_local):
    with TournamentDB(tmp_path / "t.sqlite") as db:
        ids = [db.add_agent({"kind": "random", "n": 4, "tag": t}, 4, name=f"random{t}") for t in range(2)]
        run_tournament(db, ids, scheme="round-robin", games=4, save_games=tmp_path / "games", seed=1)
    files = sorted((tmp_path / "games").glob("*.sgf"))
    assert len(files) == 4 and all(":" not in f.name for f in files)
    for f in files:
        record = parse_sgf(f.read_text())
        assert record.n == 4 and {record.black, record.white} == {"random0", "random1"}
        assert record.result in ("B+", "W+") and "seed" in record.comment
        record.cells()   # every move legal
