"""The Hex engine against independent rules (tests/hex_reference.py), plus its text, picture,
command and benchmark front ends."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from scipy import ndimage

from hex_reference import STRUCTURE, first_wins, joins_top_bottom, winners_of
from hexzero import cli
from hexzero.benchmarks import engine as engine_bench
from hexzero.draw import draw_board
from hexzero.hex import (BLACK, EMPTY, NO_MOVE, WHITE, HexError, HexGames, board_text, cell_name,
                         moves_text, parse_board_text, parse_cell, parse_moves, seed_kernels, winning_move)

GAMES_PER_SIZE = 100_000


def random_orders(rng, games: int, n: int) -> np.ndarray:
    return rng.permuted(np.tile(np.arange(n * n, dtype=np.int16), (games, 1)), axis=1)


def play_orders(orders: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Step HexGames through the given move orders, one move per step for all games at once.
    Returns (winner, number of moves when the game was won)."""
    games = HexGames(n, len(orders))
    won_after = np.zeros(len(orders), dtype=np.int64)
    for t in range(n * n):
        running = games.winner == 0
        if not running.any():
            break
        games.step(np.where(running, orders[:, t], NO_MOVE))
        won_after[running & (games.winner != 0)] = t + 1
    return games.winner.copy(), won_after


# ----------------------------------------------------------------------------- the rules

@pytest.mark.parametrize("n", [3, 4])
def test_every_full_board_has_exactly_one_winner(n):
    cells = n * n
    bits = (np.arange(2 ** cells)[:, None] >> np.arange(cells)[None, :]) & 1
    boards = np.where(bits == 1, BLACK, WHITE).astype(np.int8)  # every full colouring
    black_joins, white_joins = winners_of(boards.reshape(-1, n, n))
    assert np.all(black_joins != white_joins)
    # The engine, one colour at a time, so a win by either colour would show.
    black_only = HexGames.from_boards(np.where(boards == BLACK, BLACK, EMPTY).astype(np.int8),
                                      np.full(len(boards), WHITE, dtype=np.int8))
    white_only = HexGames.from_boards(np.where(boards == WHITE, WHITE, EMPTY).astype(np.int8),
                                      np.full(len(boards), BLACK, dtype=np.int8))
    np.testing.assert_array_equal(black_only.winner == BLACK, black_joins)
    np.testing.assert_array_equal(white_only.winner == WHITE, white_joins)
    assert np.all((black_only.winner != 0) != (white_only.winner != 0))


@pytest.mark.parametrize("n", range(2, 12))
def test_reference_first_win_matches_prefix_labelling(n):
    # Check the flood reference itself against scipy labelling of every prefix of a few games.
    rng = np.random.default_rng(n)
    orders = random_orders(rng, 60, n)
    winner, moves = first_wins(orders, n)
    cells = n * n
    prefix_boards = np.zeros((60, cells, cells), dtype=np.int8)  # [game, prefix length - 1, cell]
    for t in range(cells):
        prefix_boards[np.arange(60), t:, orders[:, t]] = BLACK if t % 2 == 0 else WHITE
    black, white = winners_of(prefix_boards.reshape(-1, n, n))
    won = (black | white).reshape(60, cells)
    np.testing.assert_array_equal(won.argmax(axis=1) + 1, moves)
    first_black = black.reshape(60, cells)[np.arange(60), moves - 1]
    np.testing.assert_array_equal(np.where(first_black, BLACK, WHITE), winner)


@pytest.mark.parametrize("n", range(2, 12))
def test_step_agrees_with_reference_on_random_games(n):
    orders = random_orders(np.random.default_rng(100 + n), GAMES_PER_SIZE, n)
    winner, won_after = play_orders(orders, n)
    ref_winner, ref_moves = first_wins(orders, n)
    np.testing.assert_array_equal(winner, ref_winner)
    np.testing.assert_array_equal(won_after, ref_moves)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 11])
def test_play_random_agrees_with_reference(n):
    """play_random one move at a time: a game that goes on must have no connection, a game
    that restarts must have had a winning cell for the mover, and the finished count must be
    the number of restarts."""
    seed_kernels(n)
    games = HexGames(n, 1500)
    for _ in range(n * n + 3):
        before, mover = games.board.copy(), games.to_play.copy()
        finished = games.play_random(1)
        restarted = (games.board == EMPTY).all(axis=1) & (games.to_play == BLACK)
        assert finished == restarted.sum()
        # Games that went on: exactly one new stone, of the mover's colour, and no winner.
        went_on = ~restarted
        diff = games.board[went_on] != before[went_on]
        assert np.all(diff.sum(axis=1) == 1)
        assert np.all(games.board[went_on][diff] == mover[went_on])
        black, white = winners_of(games.board[went_on].reshape(-1, n, n))
        assert not black.any() and not white.any()
        # Games that restarted: some empty cell wins for the mover.
        for board, colour in zip(before[restarted], mover[restarted]):
            empties = np.nonzero(board == EMPTY)[0]
            tries = np.repeat(board[None], len(empties), axis=0)
            tries[np.arange(len(empties)), empties] = colour
            black, white = winners_of(tries.reshape(-1, n, n))
            assert (black if colour == BLACK else white).any()
        check_legal_positions(games)


def check_legal_positions(games: HexGames):
    blacks = (games.board == BLACK).sum(axis=1)
    whites = (games.board == WHITE).sum(axis=1)
    assert np.all((blacks - whites == 0) & (games.to_play == BLACK) | (blacks - whites == 1) & (games.to_play == WHITE))
    np.testing.assert_array_equal(games.move_count, blacks + whites)


def test_play_random_leaves_games_that_step_correctly():
    # After play_random the union-find state must still match the board: finish every game
    # with step() and compare with the reference winner of the final position.
    n, rng = 6, np.random.default_rng(7)
    seed_kernels(3)
    games = HexGames(n, 3000)
    games.play_random(13)
    while not games.done.all():
        legal = games.legal_mask()
        pick = np.where(legal.any(axis=1), (rng.random(legal.shape) * legal).argmax(axis=1), NO_MOVE)
        games.step(pick)
    black, white = winners_of(games.board.reshape(-1, n, n))
    np.testing.assert_array_equal(games.winner == BLACK, black)
    np.testing.assert_array_equal(games.winner == WHITE, white)


def test_winning_move_agrees_with_labelling():
    rng = np.random.default_rng(11)
    for n in (2, 4, 7, 11):
        for _ in range(150):
            board = rng.choice(np.array([EMPTY, BLACK, WHITE], dtype=np.int8), size=n * n, p=[0.3, 0.35, 0.35])
            stones = np.nonzero(board != EMPTY)[0]
            if not len(stones):
                continue
            cell = int(rng.choice(stones))
            colour = int(board[cell])
            grid = (board == colour).reshape(n, n)
            if colour == WHITE:
                grid, (r, c) = grid.T, divmod(cell, n)[::-1]
            else:
                r, c = divmod(cell, n)
            labels, _ = ndimage.label(grid, structure=STRUCTURE)
            group = labels == labels[r, c]
            expected = group[0].any() and group[-1].any()
            assert winning_move(board, n, cell, colour) == expected


def test_joins_top_bottom_on_hand_made_boards():
    # The reference's own rule: (r, c) touches (r+1, c-1) but not (r+1, c+1).
    down_left = np.array([[[0, 1], [1, 0]]], dtype=bool)
    down_right = np.array([[[1, 0], [0, 1]]], dtype=bool)
    assert joins_top_bottom(down_left)[0] and not joins_top_bottom(down_right)[0]


# ----------------------------------------------------------------------------- game mechanics

def test_turns_legal_mask_and_reset():
    games = HexGames(3, 2)
    assert games.legal_mask().all() and (games.to_play == BLACK).all()
    games.step(np.array([1, NO_MOVE]))  # black b1 = (0, 1)
    assert games.board[0, 1] == BLACK and games.to_play.tolist() == [WHITE, BLACK]
    assert games.move_count.tolist() == [1, 0]
    assert not games.legal_mask()[0, 1] and games.legal_mask()[1].all()
    for cell in (0, 3, 4):  # white a1, black a2 = (1, 0) touching b1, white b2
        games.step(np.array([cell, NO_MOVE]))
        assert games.winner[0] == 0
    games.step(np.array([6, NO_MOVE]))  # black a3 = (2, 0) joins b1-a2-a3: top to bottom
    assert games.winner.tolist() == [BLACK, 0]
    assert not games.legal_mask()[0].any()
    games.reset(np.array([True, False]))
    assert (games.board[0] == EMPTY).all() and games.winner[0] == 0 and games.to_play[0] == BLACK


def test_white_wins_left_to_right():
    games = HexGames.from_moves(3, "a1 a2 b1 b2 a3 c2")
    assert games.winner[0] == WHITE and games.move_count[0] == 6


def test_swap_rule():
    n = 5
    games = HexGames(n, 1, swap=True)
    games.step(np.array([parse_cell("b1", n)]))
    legal = games.legal_mask()[0]
    assert legal[parse_cell("b1", n)] and legal.sum() == n * n  # the swap cell and every empty one
    games.step(np.array([parse_cell("b1", n)]))
    assert games.board[0].tolist().count(EMPTY) == n * n - 1
    assert games.board[0, parse_cell("a2", n)] == WHITE  # (r, c) = (0, 1) -> (1, 0)
    assert games.to_play[0] == BLACK and games.move_count[0] == 2
    assert not games.legal_mask()[0, parse_cell("a2", n)] and games.legal_mask()[0, parse_cell("b1", n)]
    games.step(np.array([parse_cell("c3", n)]))
    assert not games.legal_mask()[0, parse_cell("c3", n)]  # no swap after move 2
    with pytest.raises(HexError, match="occupied"):
        games.step(np.array([parse_cell("c3", n)]))


def test_no_swap_by_default():
    games = HexGames.from_moves(5, "c3")
    assert not games.legal_mask()[0, parse_cell("c3", 5)]
    with pytest.raises(HexError, match="occupied"):
        games.step(np.array([parse_cell("c3", 5)]))


def test_swap_games_agree_with_reference_after_the_swap():
    # After a swap the union-find must match the board: finish 2000 swapped games in random
    # order and compare the winners with the reference's reading of the final boards.
    n, games_count = 5, 2000
    orders = random_orders(np.random.default_rng(5), games_count, n).astype(np.int64)
    games = HexGames(n, games_count, swap=True)
    first = orders[:, 0]
    games.step(first)
    games.step(first)
    swapped = (first % n) * n + first // n
    assert (games.board[np.arange(games_count), swapped] == WHITE).all() and (games.to_play == BLACK).all()
    rest = orders[orders != swapped[:, None]].reshape(games_count, n * n - 1)
    for t in range(n * n - 1):
        games.step(np.where(games.winner == 0, rest[:, t], NO_MOVE))
    assert games.done.all()
    black, white = winners_of(games.board.reshape(-1, n, n))
    np.testing.assert_array_equal(games.winner == BLACK, black)
    np.testing.assert_array_equal(games.winner == WHITE, white)


def test_observation_planes():
    games = HexGames.from_moves(3, "b1 a3")  # black at (0, 1), white at (2, 0); black to move
    obs = games.observation()
    assert obs.shape == (1, 2, 3, 3) and obs.dtype == np.float32
    assert obs[0, 0].sum() == 1 and obs[0, 0, 0, 1] == 1 and obs[0, 1, 2, 0] == 1
    games.step(np.array([parse_cell("c2", 3)]))  # black (1, 2); white to move sees the transpose
    obs = games.observation()
    assert obs[0, 0].sum() == 1 and obs[0, 0, 0, 2] == 1  # white's a3 = (2, 0) -> (0, 2)
    assert obs[0, 1, 1, 0] == 1 and obs[0, 1, 2, 1] == 1


def test_copy_is_independent():
    games = HexGames.from_moves(4, "a1")
    other = games.copy()
    other.step(np.array([5]))
    assert games.board[0, 5] == EMPTY and games.move_count[0] == 1 and other.move_count[0] == 2


# ----------------------------------------------------------------------------- text forms

def test_cell_names():
    assert parse_cell("a1", 11) == 0 and parse_cell("c3", 11) == 2 * 11 + 2
    assert cell_name(2 * 11 + 2, 11) == "c3" and cell_name(120, 11) == "k11"
    for n in (2, 9, 19):
        assert [parse_cell(cell_name(c, n), n) for c in range(n * n)] == list(range(n * n))
    assert parse_moves("a1 b2,c3;  D4", 5) == [0, 6, 12, 18]
    assert moves_text([0, 6], 5) == "a1 b2"


def test_board_text_round_trip():
    games = HexGames.from_moves(4, "a1 b2 c3")
    text = board_text(games.board[0], 4)
    assert text.splitlines()[0].split() == ["a", "b", "c", "d"]
    assert text.splitlines()[2].startswith("  2 . O")  # row 2 indented one more than row 1
    board, to_play = parse_board_text(text)
    np.testing.assert_array_equal(board, games.board[0])
    assert to_play == WHITE


def test_parse_board_text_rejects_bad_boards():
    with pytest.raises(HexError, match="rows"):
        parse_board_text("X .\n. . .")
    with pytest.raises(HexError, match="impossible position"):
        parse_board_text("X X\n. .")


# ----------------------------------------------------------------------------- picture, command, benchmark

def test_draw_board_writes_png_and_svg(tmp_path):
    games = HexGames.from_moves(5, "a1 b1 c3")
    draw_board(games.board[0], 5, tmp_path / "b.png", title="t", last_move=12)
    draw_board(games.board[0], 5, tmp_path / "b.svg")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "b.svg").read_bytes()[:500]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "b.svg"]  # no temporary files left
    with pytest.raises(HexError, match="shape"):
        draw_board(games.board[0][:-1], 5, tmp_path / "bad.png")
    with pytest.raises(HexError, match="last move"):
        draw_board(games.board[0], 5, tmp_path / "bad.png", last_move=25)


def test_show_command(tmp_path, capsys):
    assert cli.main(["show", "--board", "3", "a1 b1 a2 b2 a3", "--png", str(tmp_path / "s.png")]) == 0
    out = capsys.readouterr().out
    assert "winner: black" in out and " 1 X O ." in out and (tmp_path / "s.png").exists()
    assert cli.main(["show", "--board", "3", "a1"]) == 0
    assert "to play: white" in capsys.readouterr().out
    assert cli.main(["show", "--board", "3", "a1 a1"]) == 2
    assert "occupied" in capsys.readouterr().err
    assert cli.main(["show", "--board", "3", "3c"]) == 2
    assert "malformed cell name" in capsys.readouterr().err


def test_engine_benchmark_records(capsys):
    assert cli.main(["bench", "engine", "--n", "3", "--batch", "1", "8", "--cores", "1",
                     "--impl", "hexzero-fused", "hexzero-step", "python", "--seconds", "0.3", "--repeats", "2"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["impl"], r["batch"]) for r in records] == [
        ("hexzero-fused", 1), ("hexzero-fused", 8), ("hexzero-step", 1), ("hexzero-step", 8), ("python", 1)]
    for r in records:
        assert r["n"] == 3 and r["cores"] == 1 and r["moves_per_s"] > 0 and r["games_per_s"] > 0
        # A 3x3 game lasts 3 to 9 moves. The benchmark's games run on across its windows (moves
        # made before a window count for games finished in it), so the ratio holds only for
        # windows of many games: 0.02 s on a loaded machine measured 2.0.
        assert 3 <= r["moves_per_game"] <= 9


def test_python_baseline_plays_by_the_rules():
    rng = random.Random(0)
    game = engine_bench.PythonHex(4)
    for _ in range(300):
        order, winner = [], 0
        game.reset()
        while not winner:
            before = list(game.board)
            winner = game.play_random(rng)
            order.append(next(i for i in range(16) if game.board[i] != before[i]))
        ref_winner, ref_moves = first_wins(np.array([order + [c for c in range(16) if c not in order]]), 4)
        assert winner == ref_winner[0] and len(order) == ref_moves[0]
