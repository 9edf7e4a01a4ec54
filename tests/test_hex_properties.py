"""Hypothesis properties of the Hex engine: the mover's-view transform, the text forms, and
the error paths (each raises HexError naming the problem and changes nothing)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hexzero.hex import (BLACK, EMPTY, NO_MOVE, WHITE, HexError, HexGames, board_text, board_to_mover,
                         cell_name, mover_to_board, parse_board_text, parse_cell, parse_moves)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OTHER = {BLACK: WHITE, WHITE: BLACK, EMPTY: EMPTY}


@st.composite
def positions(draw, min_n=2, max_n=9):
    """(board int8[n*n], n, to_play): the first k cells of a random order played alternately
    (black first); whether someone has already won is left to chance."""
    n = draw(st.integers(min_n, max_n))
    order = draw(st.permutations(range(n * n)))
    k = draw(st.integers(0, n * n))
    board = np.zeros(n * n, dtype=np.int8)
    for i, cell in enumerate(order[:k]):
        board[cell] = BLACK if i % 2 == 0 else WHITE
    return board, n, (BLACK if k % 2 == 0 else WHITE)


def transposed_swapped(board: np.ndarray, n: int) -> np.ndarray:
    """The position with (r, c) -> (c, r) and the colours exchanged."""
    grid = board.reshape(n, n).T
    return np.select([grid == BLACK, grid == WHITE], [WHITE, BLACK], EMPTY).astype(np.int8).reshape(-1)


def arrays_of(games: HexGames) -> dict:
    return {k: v.copy() for k, v in vars(games).items() if isinstance(v, np.ndarray)}


def assert_unchanged(games: HexGames, before: dict):
    after = arrays_of(games)
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)


# ----------------------------------------------------------------------------- mover's view

@SETTINGS
@given(positions())
def test_transpose_with_colours_swapped_is_the_mirror_image(pos):
    board, n, to_play = pos
    mirror = transposed_swapped(board, n)
    seen = HexGames.from_boards(board[None], np.array([to_play], dtype=np.int8)).observation()
    seen_mirror = HexGames.from_boards(mirror[None], np.array([OTHER[to_play]], dtype=np.int8)).observation()
    np.testing.assert_array_equal(seen, seen_mirror)


@SETTINGS
@given(positions())
def test_winner_of_the_mirror_is_the_other_colour(pos):
    board, n, to_play = pos
    winner = HexGames.from_boards(board[None], np.array([to_play], dtype=np.int8)).winner[0]
    mirror = HexGames.from_boards(transposed_swapped(board, n)[None], np.array([OTHER[to_play]], dtype=np.int8))
    assert mirror.winner[0] == OTHER[int(winner)]


@SETTINGS
@given(positions())
def test_mover_frame_actions_map_to_the_cells_the_planes_show(pos):
    board, n, to_play = pos
    obs = HexGames.from_boards(board[None], np.array([to_play], dtype=np.int8)).observation()[0]
    actions = np.arange(n * n)
    cells = mover_to_board(actions, np.full(n * n, to_play), n)
    np.testing.assert_array_equal(board_to_mover(cells, np.full(n * n, to_play), n), actions)
    assert sorted(cells.tolist()) == list(range(n * n))
    np.testing.assert_array_equal(obs[0].reshape(-1), board[cells] == to_play)
    np.testing.assert_array_equal(obs[1].reshape(-1), board[cells] == OTHER[to_play])
    if to_play == BLACK:
        np.testing.assert_array_equal(cells, actions)


def test_mover_to_board_keeps_no_move():
    assert mover_to_board(np.array([NO_MOVE, 1]), np.array([WHITE, WHITE]), 3).tolist() == [NO_MOVE, 3]


# ----------------------------------------------------------------------------- text forms

@SETTINGS
@given(positions(max_n=19))
def test_board_text_round_trip(pos):
    board, n, to_play = pos
    parsed, parsed_to_play = parse_board_text(board_text(board, n))
    np.testing.assert_array_equal(parsed, board)
    assert parsed_to_play == to_play


@SETTINGS
@given(st.integers(2, 19).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n * n - 1)))))
def test_move_list_round_trip(case):
    n, cells = case
    assert parse_moves(", ".join(cell_name(c, n) for c in cells), n) == cells


# ----------------------------------------------------------------------------- error paths

@pytest.mark.parametrize("n", [0, 1, 20, -3, "5", 5.0, True, None])
def test_bad_board_sizes(n):
    with pytest.raises(HexError, match="board size"):
        HexGames(n, 1)


@pytest.mark.parametrize("batch", [0, -1, 2.0, True, "4"])
def test_bad_batch_sizes(batch):
    with pytest.raises(HexError, match="batch"):
        HexGames(3, batch)


@pytest.mark.parametrize("text", ["z9", "3c", "a0", "", "a", "1", "aa1", "a100", "c 3", "c3c", "-1"])
def test_malformed_or_off_board_cell_names(text):
    with pytest.raises(HexError, match="malformed cell name|off the"):
        parse_cell(text, 9)


@SETTINGS
@given(st.text(max_size=4))
def test_any_text_is_a_cell_or_a_clear_error(text):
    try:
        cell = parse_cell(text, 9)
    except HexError as exc:
        assert repr(text.strip().lower()) in str(exc) or repr(text) in str(exc)
    else:
        assert cell_name(cell, 9) == text.strip().lower()


@st.composite
def running_games(draw):
    """A few games part-way through, all still running, and a generator for further moves."""
    n = draw(st.integers(2, 6))
    batch = draw(st.integers(1, 5))
    games = HexGames(n, batch)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    for _ in range(draw(st.integers(0, n * n))):
        legal = games.legal_mask()
        if not legal.any(axis=1).all():
            break
        trial = games.copy()
        pick = (rng.random(legal.shape) * legal).argmax(axis=1)
        trial.step(pick)
        if trial.done.any():
            break
        games = trial
    return games, rng


@SETTINGS
@given(running_games(), st.sampled_from(["occupied", "off-board-high", "off-board-low", "after-end"]))
def test_illegal_moves_raise_and_change_nothing(case, kind):
    games, rng = case
    a = games.num_cells
    actions = (rng.random((games.batch, a)) * games.legal_mask()).argmax(axis=1)  # legal moves...
    g = int(rng.integers(games.batch))  # ...except in one game
    if kind == "occupied":
        occupied = np.nonzero(games.board[g] != EMPTY)[0]
        assume(len(occupied) > 0)  # an empty board has no occupied cell to try
        actions[g], expected = occupied[0], "occupied"
    elif kind == "off-board-high":
        actions[g], expected = a + int(rng.integers(0, 100)), "off the"
    elif kind == "off-board-low":
        actions[g], expected = -2 - int(rng.integers(0, 100)), "off the"
    else:
        # Put a finished game in slot g: black down column a, white beside it in column b.
        n = games.n
        moves = [cell for r in range(n) for cell in (r * n, r * n + 1)][:-1]
        won = HexGames.from_moves(n, moves)
        assert won.winner[0] == BLACK
        for key in ("board", "parent", "to_play", "winner", "move_count", "first_move"):
            getattr(games, key)[g] = getattr(won, key)[0]
        empties = np.nonzero(games.board[g] == EMPTY)[0]
        actions[g], expected = (empties[0] if len(empties) else 0), "after the game ended"
    before = arrays_of(games)
    with pytest.raises(HexError, match=expected):
        games.step(actions)
    assert_unchanged(games, before)


@pytest.mark.parametrize("actions, expected", [
    (np.array([0, 1], dtype=np.int64), "shape"),
    (np.array([[0]], dtype=np.int64), "shape"),
    (np.array([0.0]), "integers"),
    (np.array([True]), "integers"),
    (np.array(["a1"]), "integers"),
    ([[0, 1]], "shape"),
])
def test_bad_action_arrays_raise_and_change_nothing(actions, expected):
    games = HexGames.from_moves(3, "b2")
    before = arrays_of(games)
    with pytest.raises(HexError, match=expected):
        games.step(actions)
    assert_unchanged(games, before)


@pytest.mark.parametrize("board, to_play, expected", [
    (np.zeros((1, 9), dtype=np.int64), [BLACK], "int8"),
    (np.zeros(9, dtype=np.int8), [BLACK], "int8"),
    (np.zeros((1, 8), dtype=np.int8), [BLACK], "square"),
    (np.full((1, 9), 3, dtype=np.int8), [BLACK], "EMPTY"),
    (np.zeros((1, 9), dtype=np.int8), [0], "to_play"),
    (np.zeros((1, 9), dtype=np.int8), [BLACK, WHITE], "to_play"),
])
def test_bad_boards(board, to_play, expected):
    with pytest.raises(HexError, match=expected):
        HexGames.from_boards(board, np.array(to_play, dtype=np.int8))


@pytest.mark.parametrize("mask", [np.ones(3, dtype=bool), np.ones(2, dtype=np.int64), [1, 0]])
def test_bad_reset_masks_raise_and_change_nothing(mask):
    games = HexGames(3, 2)
    games.step(np.array([4, 1]))
    before = arrays_of(games)
    with pytest.raises(HexError, match="reset mask"):
        games.reset(mask)
    assert_unchanged(games, before)


def test_play_random_refuses_finished_games_and_changes_nothing():
    games = HexGames.from_moves(2, "a1 b1 a2")
    before = arrays_of(games)
    with pytest.raises(HexError, match="unfinished"):
        games.play_random(3)
    assert_unchanged(games, before)
