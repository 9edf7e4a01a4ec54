"""Game records (hexzero.records): SGF and trmph round trips on every board size, HexGui-style
SGF written by hand, positions for `hexzero show`/`solve`, `hexzero play --save`."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hexzero.cli import main as cli_main
from hexzero.hex import BLACK, EMPTY, WHITE, HexError, HexGames, cell_name
from hexzero.records import (RESIGN, SWAP_PIECES, GameRecord, parse_position, parse_sgf, parse_trmph,
                             record_from_cells, sgf_text, trmph_link, write_sgf)

FIXTURES = Path(__file__).parent / "fixtures"


def random_game(n: int, rng: np.random.Generator, swap: bool) -> list[int]:
    """A random game to its end; with swap, white swaps black's first stone."""
    games = HexGames(n, 1, swap=True)
    cells = []
    while not games.done[0]:
        if swap and len(cells) == 1:
            cell = cells[0]
        else:
            cell = int(rng.choice(np.flatnonzero(games.board[0] == EMPTY)))
        games.step(np.array([cell]))
        cells.append(cell)
    return cells


@pytest.mark.parametrize("n", range(2, 20))
def test_sgf_and_trmph_round_trip_random_games(n):
    rng = np.random.default_rng(n)
    for k in range(3):
        cells = random_game(n, rng, swap=k == 2)
        record = record_from_cells(n, cells, black="a", white="b")
        assert record.result in ("B+", "W+")
        text = sgf_text(record)
        back = parse_sgf(text)
        assert (back.n, back.moves, back.black, back.white, back.result) == (n, record.moves, "a", "b", record.result)
        assert back.cells() == cells and parse_position(text) == (n, cells)
        link = trmph_link(n, cells)
        assert link.startswith(f"https://trmph.com/hex/board#{n},")
        assert parse_trmph(link) == (n, cells) and parse_position(link, n) == (n, cells)
        if k == 2:
            assert record.moves[1] == (WHITE, SWAP_PIECES) and f";W[{SWAP_PIECES}]" in text
        if n >= 10:
            # two-digit rows appear and read back (a random game to its end fills most rows)
            assert re.search(r"[a-s]1\d", link.split(",", 1)[1])


def test_two_digit_rows_are_split_on_letters():
    assert parse_trmph("https://trmph.com/hex/board#13,a10a1m13b11") == (13, [117, 0, 168, 131])
    assert parse_trmph("13,a1a10") == (13, [0, 117])   # a1 then a10, not a11 then 0


def test_hexgui_sgf_with_swap_variation_and_resignation():
    record = parse_sgf((FIXTURES / "hexgui_5x5_swap.sgf").read_text())
    assert (record.n, record.black, record.white, record.result) == (5, "alice", "bob", "W+R")
    assert record.moves == [(BLACK, 1), (WHITE, SWAP_PIECES), (BLACK, 12), (WHITE, 8), (BLACK, 17), (WHITE, 16),
                            (BLACK, RESIGN)]
    n, cells = parse_position(FIXTURES / "hexgui_5x5_swap.sgf")
    assert (n, cells) == (5, [1, 1, 12, 8, 17, 16])
    games = HexGames.from_moves(n, cells, swap=True)
    board = games.board[0]
    # b1 swapped: a white stone at its mirror a2 (cell 5), b1 empty
    assert board[1] == EMPTY and board[5] == WHITE and board[8] == WHITE and board[16] == WHITE
    assert board[12] == BLACK and board[17] == BLACK and (board != EMPTY).sum() == 5
    assert games.to_play[0] == BLACK and not games.done[0]


def test_hexgui_sgf_two_digit_rows_and_setup_stones():
    n, cells = parse_position(str(FIXTURES / "hexgui_11x11.sgf"))
    assert n == 11 and [cell_name(c, n) for c in cells] == ["f6", "k10", "a11", "j10", "e7", "k11"]
    assert cells == [60, 109, 110, 108, 70, 120]
    n, cells = parse_position(FIXTURES / "hexgui_setup_4x4.sgf")
    games = HexGames.from_moves(n, cells)
    board = games.board[0]
    assert n == 4 and board[5] == BLACK and board[10] == BLACK and board[12] == WHITE and board[3] == WHITE
    assert games.to_play[0] == BLACK


@pytest.mark.parametrize("text, message", [
    ("(;FF[4]GM[1]SZ[19];B[dd])", "not Hex"),
    ("(;FF[4]GM[11]SZ[4:5];B[a1])", "not square"),
    ("(;FF[4]GM[11]SZ[4];B[a1];W[a1])", "move 2: cell a1 is occupied"),
    ("(;FF[4]GM[11]SZ[4];B[a1];B[b1])", "move 2 is B b1 but W is to play"),
    ("(;FF[4]GM[11]SZ[4];B[e1])", "off the 4x4 board"),
    ("(;FF[4]GM[11]SZ[4];B[a1];W[b1];B[swap-pieces])", "only allowed as the second move"),
    ("(;FF[4]GM[11]SZ[4];B[a1]", "not closed"),
    ("(;FF[4]GM[11]SZ[40])", "between 2 and 19"),
    ("https://trmph.com/hex/board#5,c3x", "malformed trmph"),
    ("https://trmph.com/hex/board#5,c3c3c3", "occupied"),
])
def test_bad_records_are_named(text, message):
    with pytest.raises(HexError, match=re.escape(message)):
        parse_position(text)


def test_size_given_must_match_the_record():
    with pytest.raises(HexError, match="board size 5 given, but the trmph link is 4x4"):
        parse_position("https://trmph.com/hex/board#4,a1", 5)
    assert parse_position("c3 b4", 5) == (5, [12, 16])
    with pytest.raises(HexError, match="needs a board size"):
        parse_position("c3 b4")


def test_show_and_solve_read_records(tmp_path, capsys):
    path = write_sgf(tmp_path / "g.sgf", GameRecord(4, [(BLACK, 5), (WHITE, 10)]))
    assert cli_main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "moves: b2 c3" in out and "to play: black" in out
    assert cli_main(["solve", "https://trmph.com/hex/board#3,b2"]) == 0
    assert "value: -1 (white to play loses" in capsys.readouterr().out   # the 3x3 centre wins
    assert cli_main(["show", str(path), "--board", "5"]) == 2
    assert "board size 5 given, but the SGF game is 4x4" in capsys.readouterr().err
    assert cli_main(["solve", str(tmp_path / "missing.sgf")]) == 2
    assert "no SGF file at" in capsys.readouterr().err


def test_play_saves_its_game(tmp_path):
    from test_play_command import run_play

    path = tmp_path / "game.sgf"
    cells = [f"{c}{r}" for r in range(1, 4) for c in "abc"]
    text = run_play(["perfect", "--board", "3", "--colour", "white", "--save", str(path)], "\n".join(cells * 2) + "\n")
    record = parse_sgf(path.read_text())
    assert record.black == "perfect" and record.white == "you" and record.result == "B+"
    n, played = parse_position(path)
    assert HexGames.from_moves(n, played).winner[0] == BLACK
    assert trmph_link(3, played) in text
