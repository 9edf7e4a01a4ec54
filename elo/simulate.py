"""Simulated players with known ratings, for tests and benchmarks of the rating and scheduling
code: outcomes drawn from the Bradley-Terry model with a first-move advantage."""
from __future__ import annotations

import numpy as np

from elo.ratings import ELO_PER_NAT, Games


def black_win_probability(true_elo: np.ndarray, black, white, first_move_elo: float = 0.0) -> np.ndarray:
    d = (true_elo[np.asarray(black)] - true_elo[np.asarray(white)] + first_move_elo) / ELO_PER_NAT
    return 1.0 / (1.0 + np.exp(-d))


def play_simulated(true_elo: np.ndarray, black, white, games, rng: np.random.Generator,
                   first_move_elo: float = 0.0) -> Games:
    """One row per (black, white, games) entry, wins drawn binomially."""
    black, white, games = (np.asarray(x, dtype=np.int64) for x in (black, white, games))
    wins = rng.binomial(games, black_win_probability(true_elo, black, white, first_move_elo))
    return Games(black, white, wins, games)


def play_both_colours(true_elo, a, b, games_per_colour, rng, first_move_elo: float = 0.0) -> Games:
    """Each pair (a[k], b[k]) plays `games_per_colour` games in each colour order."""
    a, b = np.asarray(a), np.asarray(b)
    g = np.broadcast_to(np.asarray(games_per_colour), a.shape)
    return play_simulated(true_elo, np.r_[a, b], np.r_[b, a], np.r_[g, g], rng, first_move_elo)


def run_simulated(scheduler, true_elo: np.ndarray, rng: np.random.Generator, first_move_elo: float = 0.0,
                  perfect: int | None = None, max_waves: int = 10_000):
    """Drive a scheduler (elo.schedule) with simulated games until it stops, as a tournament
    would: (final ratings, games played, waves)."""
    from elo.ratings import fit_ratings

    names = [f"sim{k}" for k in range(len(true_elo))]
    games, played = Games.empty(), set()
    for wave in range(max_waves):
        ratings = fit_ratings(names, games, perfect=perfect)
        batches = scheduler.next_batches(ratings, played)
        if not batches:
            return ratings, games.total(), wave
        a = np.array([b.a for b in batches])
        b = np.array([b.b for b in batches])
        half = np.array([x.games // 2 for x in batches])
        games = games + play_both_colours(true_elo, a, b, half, rng, first_move_elo)
        played.update(x.batch_id for x in batches)
    raise RuntimeError(f"scheduler did not stop within {max_waves} waves")
