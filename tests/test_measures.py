"""Measures against perfect play: move accuracy and win rate against the perfect agent."""
from __future__ import annotations

import numpy as np
import pytest

from hexzero.agents import RandomAgent
from hexzero.hex import BLACK, EMPTY, WHITE, HexGames
from hexzero.measures import accuracy_positions, move_accuracy, sample_positions, win_rate_vs_perfect
from hexzero.solver import PerfectAgent, Solver


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("solver-cache"))


@pytest.fixture(scope="module")
def positions3(cache):
    return accuracy_positions(3, 600, 7, cache)


class FirstEmptyAgent:
    """Plays the lowest empty cell: a deterministic agent whose accuracy we can count."""

    def __init__(self, n):
        self.n, self.name = n, "first-empty"

    def act(self, board, to_play, rng):
        return np.argmax(board == EMPTY, axis=1).astype(np.int64)


def test_positions_are_winnable_legal_and_reproducible(positions3, cache):
    p = positions3
    assert len(p) > 200  # most of the 600 drawn positions are winnable for the mover
    assert p.wins.any(axis=1).all()
    assert not (p.wins & (p.board != EMPTY)).any()
    blacks, whites = (p.board == BLACK).sum(1), (p.board == WHITE).sum(1)
    assert np.array_equal(p.to_play, np.where(blacks == whites, BLACK, WHITE))
    again = accuracy_positions.__wrapped__(3, 600, 7, cache)
    assert np.array_equal(again.board, p.board) and np.array_equal(again.wins, p.wins)
    other = accuracy_positions.__wrapped__(3, 600, 8, cache)
    assert not np.array_equal(other.board[:50], p.board[:50])


def test_positions_cover_every_phase_of_the_game(positions3):
    stones = (positions3.board != EMPTY).sum(axis=1)
    assert stones.min() == 0 and stones.max() >= 6


def test_sampled_positions_come_from_real_games():
    rng = np.random.default_rng(0)
    board, to_play = sample_positions(RandomAgent(4), 4, 50, 1.0, rng)
    games = HexGames.from_boards(board, to_play)
    assert not games.done.any()  # unfinished positions only


def test_sampling_opens_with_random_moves_and_draws_from_the_first_ply_on():
    # a deterministic agent plays one line: only random opening moves make its games differ
    line, _ = sample_positions(FirstEmptyAgent(4), 4, 40, 0.0, np.random.default_rng(0))
    board, _ = sample_positions(FirstEmptyAgent(4), 4, 40, 0.0, np.random.default_rng(0), first_ply=3,
                                random_plies=2)
    assert (board != EMPTY).sum(axis=1).min() >= 3
    stones = (line != EMPTY).sum(axis=1)
    assert all(np.array_equal(line[i], line[j]) for i in range(40) for j in range(40) if stones[i] == stones[j])
    opened = (board != EMPTY).sum(axis=1)
    assert len({row.tobytes() for row in board}) > len(set(opened.tolist())) + 10  # many lines per ply
    with pytest.raises(ValueError, match="ended before ply 30"):
        sample_positions(RandomAgent(4), 4, 5, 1.0, np.random.default_rng(0), first_ply=30)


def test_random_accuracy_matches_the_expected_count(positions3):
    # A uniform move keeps the win with probability |winning moves| / |legal moves|: average
    # that over the positions and compare with the measured figure, pooled over 20 seeds.
    expected = (positions3.wins.sum(axis=1) / (positions3.board == EMPTY).sum(axis=1)).mean()
    measured = np.mean([move_accuracy(RandomAgent(3), 3, seed=s, positions=positions3) for s in range(20)])
    standard_error = np.sqrt(expected * (1 - expected) / (20 * len(positions3)))
    assert abs(measured - expected) < 4 * standard_error
    assert 0.2 < expected < 0.8


def test_deterministic_agent_accuracy_is_the_exact_count(positions3):
    first_empty = np.argmax(positions3.board == EMPTY, axis=1)
    exact = positions3.wins[np.arange(len(positions3)), first_empty].mean()
    assert move_accuracy(FirstEmptyAgent(3), 3, positions=positions3) == exact


def test_perfect_agent_is_fully_accurate(positions3, cache):
    assert move_accuracy(PerfectAgent(3, seed=1, cache_dir=cache), 3, positions=positions3) == 1.0


def test_default_position_set_is_used(cache):
    acc = move_accuracy(PerfectAgent(3, cache_dir=cache), 3, seed=3, count=100, cache_dir=cache)
    assert acc == 1.0


def test_win_rate_of_perfect_play_against_itself(cache):
    # Black wins 3x3 with perfect play, so each side wins exactly its games as black.
    assert win_rate_vs_perfect(PerfectAgent(3, seed=5, cache_dir=cache), 3, games=40, seed=2, cache_dir=cache) == 0.5


def test_random_agent_rarely_beats_perfect_play(cache):
    # As white every position is lost against perfect black, so at most the black half counts.
    assert win_rate_vs_perfect(RandomAgent(3), 3, games=200, seed=0, cache_dir=cache) < 0.2


def test_4x4_random_accuracy_matches_the_expected_count_quickly():
    import time

    positions = accuracy_positions(4)  # the training default, on the shared disk cache
    started = time.perf_counter()
    measured = move_accuracy(RandomAgent(4), 4, positions=positions)
    assert time.perf_counter() - started < 1.0
    expected = (positions.wins.sum(axis=1) / (positions.board == EMPTY).sum(axis=1)).mean()
    assert abs(measured - expected) < 4 * np.sqrt(expected * (1 - expected) / len(positions))


def test_bad_arguments_are_rejected(positions3, cache):
    with pytest.raises(ValueError, match="even"):
        win_rate_vs_perfect(RandomAgent(3), 3, games=7, cache_dir=cache)
    with pytest.raises(ValueError, match="asked for 4x4"):
        win_rate_vs_perfect(RandomAgent(3), 4, games=8, cache_dir=cache)
    with pytest.raises(ValueError, match="4x4"):
        move_accuracy(RandomAgent(4), 4, positions=positions3)
    with pytest.raises(ValueError, match="count"):
        accuracy_positions(3, 1, 0, cache)


def test_position_set_is_kept_on_disk_and_rebuilt_when_damaged(tmp_path):
    from hexzero.measures import positions_path

    built = accuracy_positions.__wrapped__(3, 200, 4, str(tmp_path))
    path = positions_path(3, 200, 4, str(tmp_path))
    assert path.is_file()
    loaded = accuracy_positions.__wrapped__(3, 200, 4, str(tmp_path))
    for field in ("board", "to_play", "wins"):
        assert (getattr(loaded, field) == getattr(built, field)).all()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="position set"):
        rebuilt = accuracy_positions.__wrapped__(3, 200, 4, str(tmp_path))
    assert (rebuilt.wins == built.wins).all()
    accuracy_positions.__wrapped__(3, 200, 4, str(tmp_path))  # the rebuilt file loads without a warning


def test_the_default_5x5_set_ships_with_hexzero(tmp_path):
    from hexzero.measures import SHIPPED_DIR, positions_path

    assert (SHIPPED_DIR / positions_path(5, 1000, 0).name).is_file()
    started = __import__("time").perf_counter()
    positions = accuracy_positions(5, 1000, 0, str(tmp_path))  # an empty cache: the shipped file
    assert __import__("time").perf_counter() - started < 5
    assert len(positions) > 500 and not list(tmp_path.iterdir())
    # spot-check the shipped answers against the solver
    solver = Solver(5, tmp_path)
    sample = np.random.default_rng(0).choice(len(positions), 25, replace=False)
    assert (solver.winning_moves_mask(positions.board[sample], positions.to_play[sample]) == positions.wins[sample]).all()


def test_the_default_6x6_set_ships_with_hexzero_and_starts_at_ply_4(tmp_path):
    from hexzero.measures import FIRST_PLY

    positions = accuracy_positions(6, 1000, 0, str(tmp_path))  # an empty cache: the shipped file
    assert len(positions) > 500 and not list(tmp_path.iterdir())
    stones = (positions.board != EMPTY).sum(axis=1)
    assert stones.min() == FIRST_PLY[6] == 4 and stones.max() >= 20
    # spot-check the shipped answers against a solver with the shipped tables only, on
    # positions it answers in milliseconds (12 stones and more)
    solver = Solver(6, tmp_path)
    late = np.flatnonzero(stones >= 12)
    sample = np.random.default_rng(0).choice(late, 25, replace=False)
    assert (solver.winning_moves_mask(positions.board[sample], positions.to_play[sample]) == positions.wins[sample]).all()
    assert 0.2 < move_accuracy(RandomAgent(6), 6, positions=positions) < 0.8


def test_5x5_random_accuracy_matches_the_expected_count(tmp_path):
    """5x5 is built and measured too: the H-search solver answers early positions in well under
    a second."""
    positions = accuracy_positions(5, 60, 3, str(tmp_path))
    assert len(positions) > 20
    measured = np.mean([move_accuracy(RandomAgent(5), 5, positions=positions, seed=s) for s in range(20)])
    expected = (positions.wins.sum(axis=1) / (positions.board == EMPTY).sum(axis=1)).mean()
    assert abs(measured - expected) < 4 * np.sqrt(expected * (1 - expected) / (20 * len(positions)))
    assert move_accuracy(PerfectAgent(5, seed=1, cache_dir=str(tmp_path)), 5, positions=positions) == 1.0


def test_measure_command_prints_both_measures(capsys, tmp_path):
    import json

    from hexzero.cli import main as cli_main

    assert cli_main(["measure", "random", "--board", "3", "--positions", "200", "--games", "40",
                     "--cache", str(tmp_path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["n"] == 3 and 0.3 < record["accuracy"] < 0.65 and record["win_rate_as_white"] == 0.0
    assert cli_main(["measure", "perfect", "--board", "3", "--positions", "200", "--games", "40",
                     "--cache", str(tmp_path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["accuracy"] == 1.0 and record["win_rate_as_black"] == 1.0 and record["win_rate_as_white"] == 0.0
    assert cli_main(["measure", "random", "--board", "7"]) == 2
    assert "up to 6x6" in capsys.readouterr().err
    assert cli_main(["measure", str(tmp_path / "missing.pt")]) == 2
    assert cli_main(["measure", "random", "--board", "3", "--games", "7"]) == 2
