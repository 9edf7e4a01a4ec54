"""The GTP engine (hexzero.gtp, `hexzero gtp`): a HexGui session as a real subprocess, every
command in-process, errors that change nothing, and input that cannot crash it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hexzero.agents import RandomAgent
from hexzero.gtp import GtpEngine
from hexzero.hex import BLACK, WHITE

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

# What HexGui sends on connecting (name, version, its analyze commands, a two-argument
# boardsize, the game so far, showboard), then a game: genmove, undo, errors, the end.
SESSION = [
    ("name", "= hexzero"),
    ("version", "= 0.1.0"),
    ("protocol_version", "= 2"),
    ("hexgui-analyze_commands", "="),
    ("boardsize 3 3", "="),
    ("play black a1", "="),
    ("play white b2", "="),
    ("showboard", "= \n  a b c\n 1 X . .\n  2 . O .\n   3 . . .\n3x3, black to play"),
    ("10 genmove b", r"=10 [abc][123]"),
    ("undo", "="),
    ("11 reg_genmove black", r"=11 [abc][123]"),
    ("all_legal_moves", "= b1 c1 a2 c2 a3 b3 c3"),
    ("12 play w a1", "?12 cell a1 is occupied"),
    ("play green c3", "? invalid color 'green': expected b, black, w or white"),
    ("play b 3c", "? invalid move: malformed cell name '3c': expected a column letter and a row number, like 'c3'"),
    ("play b d1", "? invalid move: cell 'd1' is off the 3x3 board (a1..c3)"),
    ("boardsize 3 4", "? unacceptable size 3x4: only square boards are supported"),
    ("boardsize 1", "? unacceptable size 1x1: board size must be between 2 and 19, got 1"),
    ("frobnicate", "? unknown command: frobnicate"),
    ("known_command genmove", "= true"),
    ("known_command frobnicate", "= false"),
    ("final_score", "? the game is not over"),
    ("play b a2", "="),
    ("play w c1", "="),
    ("play b a3", "="),
    ("final_score", "= B+"),
    ("genmove w", "? the game is over (black won)"),
    ("undo", "="),
    ("final_score", "? the game is not over"),
    ("play b resign", "="),
    ("final_score", "= W+"),
    ("clear_board", "="),
    ("showboard", "= \n  a b c\n 1 . . .\n  2 . . .\n   3 . . .\n3x3, black to play"),
    ("quit", "="),
]


def run_gtp(args: list[str], commands: list[str], timeout: float = 120) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "hexzero.cli", "gtp", *args], input="\n".join(commands) + "\n",
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.endswith("\n\n")
    return proc.stdout[:-2].split("\n\n")


def test_hexgui_session_transcript_against_a_real_subprocess():
    replies = run_gtp(["perfect", "--board", "3"], [command for command, _ in SESSION])
    assert len(replies) == len(SESSION)
    for (command, expected), reply in zip(SESSION, replies):
        if command.endswith(("genmove b", "reg_genmove black")):
            assert re.fullmatch(expected, reply), (command, reply)
        else:
            assert reply == expected, (command, reply)


def test_perfect_engine_answers_a_winning_move():
    from hexzero.hex import parse_cell
    from hexzero.solver import Solver

    replies = run_gtp(["perfect", "--board", "3"], ["play b a2", "play w b2", "genmove b"])
    board = np.zeros(9, np.int8)
    board[3], board[4] = BLACK, WHITE
    wins = {int(c) for c in Solver(3).winning_moves(board, BLACK)}
    move = parse_cell(replies[2].split()[1], 3)
    assert wins and move in wins


def test_malformed_input_gets_question_marks_and_never_crashes():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    junk = b"\xff\xfe\x00garbage\n\x1b[2J\n99999999999999999999999 play\n7\n   # only a comment\n\tname\t\nplay\n" \
           b"boardsize -3\nboardsize 3 3 3\ngenmove\nundo extra\nloadsgf /nonexistent.sgf\nquit\n"
    proc = subprocess.run([sys.executable, "-m", "hexzero.cli", "gtp", "random", "--board", "4"], input=junk,
                          capture_output=True, timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    replies = proc.stdout.decode().split("\n\n")[:-1]
    assert replies[0].startswith("? unknown command")
    assert replies[1].startswith("? unknown command")
    assert replies[2].startswith("?99999999999999999999999 wrong number of arguments")
    assert replies[3] == "?7 missing command"
    assert replies[4] == "= hexzero"                      # the comment line got no reply; tabs are spaces
    assert all(r.startswith("?") for r in replies[5:-1]) and replies[-1] == "="
    assert len(replies) == 12


def engine(n: int = 4) -> GtpEngine:
    """An engine whose agent plays two sizes only, as a snapshot plays one."""
    def agent_for(size):
        if size not in (3, 4):
            raise ValueError("plays 3x3 and 4x4 only")
        return RandomAgent(size)
    return GtpEngine(agent_for, n, seed=1)


def state(e: GtpEngine):
    return (e.n, e.board.tobytes(), e.to_play, e.winner, len(e.history))


def test_errors_leave_the_game_unchanged():
    e = engine()
    for command in ("play b b2", "play w c3"):
        assert e.handle(command) == "=\n\n"
    before = state(e)
    bad = ["play b b2", "play w swap-pieces", "boardsize 5", "boardsize 4 3", "boardsize x", "genmove purple",
           "play b", "play black e1", "undo now", "final_score", "loadsgf /nonexistent.sgf",
           f"loadsgf {FIXTURES / 'hexgui_5x5_swap.sgf'}", "known_command", "list_commands extra"]
    for command in bad:
        reply = e.handle(command)
        assert reply.startswith("?") and reply.endswith("\n\n") and "\n\n" not in reply[:-2], (command, reply)
        assert state(e) == before, command
    assert e.handle("list_commands").startswith("= protocol_version\n")


def test_swap_pieces_undo_and_legal_moves():
    e = engine()
    assert e.handle("play b b1") == "=\n\n"
    assert e.handle("all_legal_moves").rstrip().endswith("swap-pieces")
    assert e.handle("play w swap-pieces") == "=\n\n"
    assert e.board[4] == WHITE and e.board[1] == 0 and e.to_play == BLACK   # b1 -> a2 as white
    assert "swap-pieces" not in e.handle("all_legal_moves")
    assert e.handle("undo") == "=\n\n" and e.board[1] == BLACK and e.to_play == WHITE
    assert e.handle("5 genmove w").startswith("=5 ") and e.to_play == BLACK
    assert e.handle("play b resign") == "=\n\n" and e.handle("final_score") == "= W+\n\n"
    assert e.handle("all_legal_moves") == "=\n\n"
    assert e.handle("play w a1").startswith("? the game is over")


def test_boardsize_rebuilds_the_agent_or_refuses():
    e = engine(4)
    assert e.handle("boardsize 3") == "=\n\n" and e.n == 3 and e.agent.n == 3
    assert e.handle("boardsize 5 5") == "? unacceptable size 5x5: plays 3x3 and 4x4 only\n\n" and e.n == 3


def test_loadsgf_sets_up_a_hexgui_game():
    e = GtpEngine(lambda n: RandomAgent(n), 3)
    assert e.handle(f"loadsgf {FIXTURES / 'hexgui_5x5_swap.sgf'}") == "=\n\n"
    assert e.n == 5 and e.winner == WHITE                                # it ends with black resigning
    assert e.handle(f"loadsgf {FIXTURES / 'hexgui_5x5_swap.sgf'} 4") == "=\n\n"   # before move 4: b1 swap c3
    assert e.winner == 0 and e.to_play == WHITE and e.board[5] == WHITE and e.board[12] == BLACK
    assert e.handle("genmove w").startswith("= ")


@pytest.mark.parametrize("seed", range(3))
def test_random_lines_never_crash_the_engine(seed):
    rng = np.random.default_rng(seed)
    e = engine()
    words = ["play", "genmove", "undo", "b", "w", "white", "a1", "d4", "swap-pieces", "resign", "boardsize", "3",
             "4", "showboard", "final_score", "clear_board", "reg_genmove", "all_legal_moves", "loadsgf", "17", "zz"]
    for _ in range(400):
        line = " ".join(rng.choice(words, size=rng.integers(0, 4)))
        reply = e.handle(line)
        assert reply is None or (reply[0] in "=?" and reply.endswith("\n\n") and "\n\n" not in reply[:-2])
        assert e.board.shape == (e.n * e.n,)
