"""Bradley-Terry ratings on simulated players with known ratings."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elo.ratings import Games, fit_ratings, pool_pairs
from elo.simulate import play_both_colours

NAMES8 = [f"a{k}" for k in range(8)]
TRUE8 = np.linspace(0.0, -700.0, 8)
PAIRS8 = np.triu_indices(8, 1)


def test_intervals_cover_the_truth_about_95_percent():
    rng = np.random.default_rng(0)
    covered, errors = [], []
    for _ in range(200):
        games = play_both_colours(TRUE8, *PAIRS8, 30, rng, first_move_elo=60.0)
        r = fit_ratings(NAMES8, games, anchor="a0")
        covered.append((r.lower[1:] <= TRUE8[1:]) & (TRUE8[1:] <= r.upper[1:]))
        errors.append(r.elo - TRUE8)
    coverage = float(np.mean(covered))
    print(f"coverage of 95% intervals over 200 replications x 7 agents: {coverage:.3f}")
    assert 0.9 <= coverage <= 0.99
    # recovered: the mean error is small next to the interval half-width (~70 Elo)
    assert np.abs(np.mean(errors, axis=0)).max() < 30.0


def test_a_large_first_move_advantage_needs_the_fitted_term():
    # black at +300 Elo (strong Hex players win most games as black): averaging the colour
    # rates shrinks every gap, the fitted first-move term recovers them
    rng = np.random.default_rng(2)
    covered = {"average": [], "advantage": []}
    for _ in range(60):
        games = play_both_colours(TRUE8, *PAIRS8, 30, rng, first_move_elo=300.0)
        for mode in covered:
            r = fit_ratings(NAMES8, games, anchor="a0", colours=mode)
            covered[mode].append((r.lower[1:] <= TRUE8[1:]) & (TRUE8[1:] <= r.upper[1:]))
    coverage = {mode: float(np.mean(c)) for mode, c in covered.items()}
    print(f"coverage with a 300-Elo first-move advantage: {coverage}")
    assert 0.9 <= coverage["advantage"] <= 0.99
    assert coverage["average"] < 0.5


def test_duplicate_agent_does_not_move_the_others():
    rng = np.random.default_rng(1)
    games = play_both_colours(TRUE8, *PAIRS8, 30, rng, first_move_elo=60.0)
    before = fit_ratings(NAMES8, games, anchor="a0")
    # agent 8 is a copy of agent 3 and plays everyone
    true9 = np.r_[TRUE8, TRUE8[3]]
    extra = play_both_colours(true9, np.full(8, 8), np.arange(8), 30, rng, first_move_elo=60.0)
    after = fit_ratings(NAMES8 + ["a3-copy"], games + extra, anchor="a0")
    assert np.all((before.lower <= after.elo[:8]) & (after.elo[:8] <= before.upper))
    assert abs(after.elo[8] - after.elo[3]) < after.sd[8] * 3


def test_the_prior_does_not_compress_a_long_chain():
    # 300 snapshots over 2,000 Elo, each playing its 4 nearest: the spread is known only through
    # the chain, where a per-agent prior pulls hardest; its pull must stay small next to the
    # intervals (a 100x weaker prior is the reference)
    rng = np.random.default_rng(4)
    n = 300
    true = np.linspace(0.0, -2000.0, n)
    a = np.repeat(np.arange(n), 4)
    b = a + np.tile(np.arange(1, 5), n)
    games = play_both_colours(true, a[b < n], b[b < n], 16, rng)
    names = [f"c{k}" for k in range(n)]
    fit = fit_ratings(names, games, anchor=0)
    flat = fit_ratings(names, games, anchor=0, prior_sd=100 * 10_000.0)
    assert np.abs(fit.elo - flat.elo).max() < 0.25 * fit.sd[-1]
    assert abs(fit.elo[-1] - true[-1]) < 2.5 * fit.sd[-1]


def test_unbeaten_agent_has_a_finite_rating_and_is_the_anchor():
    # agent 0 wins every game against 1 and 2; 1 and 2 split theirs
    games = Games.from_rows([(0, 1, 10, 10), (1, 0, 0, 10), (0, 2, 10, 10), (2, 0, 0, 10),
                             (1, 2, 5, 10), (2, 1, 5, 10)])
    r = fit_ratings(["top", "x", "y"], games)
    assert r.anchor == "top" and r.anchor_rule == "strongest"
    assert np.all(np.isfinite(r.elo)) and np.all(np.isfinite(r.width))
    assert r.elo[0] == 0 and r.width[0] == 0
    assert r.elo[1] < -200 and r.elo[2] < -200
    assert all(rec["anchor"] == "top" for rec in r.records())


def test_perfect_agent_is_the_anchor_even_when_not_strongest():
    games = Games.from_rows([(0, 1, 3, 10), (1, 0, 7, 10)])
    r = fit_ratings(["perfect", "lucky"], games, perfect="perfect")
    assert r.anchor == "perfect" and r.anchor_rule == "perfect"
    assert r.elo[0] == 0 and r.elo[1] > 0


def test_first_move_advantage_cancels():
    # black always wins: each agent wins every game as black, so the two are equal
    games = Games.from_rows([(0, 1, 20, 20), (1, 0, 20, 20)])
    r = fit_ratings(["a", "b"], games)
    assert abs(r.elo[1]) < 1e-6


def test_colour_rates_are_averaged_with_harmonic_effective_games():
    games = Games.from_rows([(0, 1, 8, 10), (1, 0, 10, 30)])  # agent 0: 0.8 as black, 20/30 as white
    pairs = pool_pairs(games, 2)
    n_eff = 4 / (1 / 10 + 1 / 30)
    assert pairs.wins[0] == pytest.approx((0.8 + 20 / 30) / 2 * n_eff)
    assert pairs.total[0] == pytest.approx(n_eff)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 7), st.integers(0, 10_000))
def test_ratings_follow_their_agents_under_relabelling(n, seed):
    rng = np.random.default_rng(seed)
    true = rng.normal(0, 300, n)
    i, j = np.triu_indices(n, 1)
    games = play_both_colours(true, i, j, rng.integers(1, 10, len(i)), rng, first_move_elo=50.0)
    perm = rng.permutation(n)            # agent k becomes agent inverse[k]
    inverse = np.argsort(perm)
    relabelled = Games(inverse[games.black], inverse[games.white], games.black_wins, games.games)
    names = [f"p{k}" for k in range(n)]
    a = fit_ratings(names, games, anchor=0)
    b = fit_ratings([names[p] for p in perm], relabelled, anchor=int(inverse[0]))
    np.testing.assert_allclose(b.elo[inverse], a.elo, atol=1e-3)
    np.testing.assert_allclose(b.sd[inverse], a.sd, atol=1e-3)


def test_bad_input_is_named():
    games = Games.from_rows([(0, 1, 3, 10)])
    with pytest.raises(ValueError, match="empty pool"):
        fit_ratings([], Games.empty())
    with pytest.raises(ValueError, match="unknown anchor 'zed'"):
        fit_ratings(["a", "b"], games, anchor="zed")
    with pytest.raises(ValueError, match="outside"):
        fit_ratings(["a"], games)
    with pytest.raises(ValueError, match="black_wins <= games"):
        Games.from_rows([(0, 1, 11, 10)])
    with pytest.raises(ValueError, match="unknown colours mode"):
        fit_ratings(["a", "b"], games, colours="mean")
    with pytest.raises(ValueError, match="itself"):
        Games.from_rows([(1, 1, 1, 2)])
