"""`hexzero play`: a person at the terminal, here a script typing moves."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from hexzero.commands import play
from hexzero.cli import build_parser

REPO = Path(__file__).resolve().parents[1]


def run_play(argv, typed: str) -> str:
    args = build_parser(["play"]).parse_args(["play", *argv])
    out = io.StringIO()
    play.main(args, stdin=io.StringIO(typed), stdout=out)
    return out.getvalue()


def test_bad_moves_get_clear_errors_and_the_game_goes_on():
    # We type garbage, an off-board cell and an occupied cell before real moves.
    text = run_play(["random", "--board", "3", "--seed", "1"], "zz\nd9\nb2\nb2\nquit\n")
    assert "malformed cell name 'zz': expected a column letter and a row number, like 'c3'; try again" in text
    assert "cell 'd9' is off the 3x3 board (a1..c3); try again" in text
    assert "illegal move b2: the cell is occupied; try again" in text
    assert "game 0" not in text  # the engine's batch index means nothing to a player
    assert text.rstrip().endswith("bye")


def test_a_whole_game_ends_with_a_winner():
    # Type every cell in order; occupied ones are refused, so the game always finishes.
    cells = [f"{c}{r}" for r in range(1, 4) for c in "abc"]
    text = run_play(["perfect", "--board", "3", "--colour", "white"], "\n".join(cells * 2) + "\n")
    # The perfect agent, black on 3x3, always wins: the game's last line says so, and only so.
    assert text.rstrip().splitlines()[-1] == "perfect wins."
    assert "You win!" not in text


def test_unknown_snapshot_is_a_clear_error():
    result = subprocess.run([sys.executable, "-m", "hexzero.cli", "play", "/nonexistent.pt"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "hexzero play: error: argument agent: snapshot /nonexistent.pt does not exist (an agent is random, "
        "perfect or a .pt file) (see hexzero play --help)"]
