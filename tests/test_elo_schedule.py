"""Schedulers: what they ask for, stop rules, and the adaptive scheme's savings."""
from __future__ import annotations

import numpy as np
import pytest

from elo.ratings import Games, fit_ratings
from elo.schedule import Adaptive, RoundRobin, VersusTop
from elo.simulate import run_simulated

# snapshots of a training run: spread from random play to the top, unevenly
TRUE12 = np.sort(np.random.default_rng(5).uniform(-1500.0, 0.0, 12))[::-1]


def prior_only(n, perfect=None):
    return fit_ratings([f"s{k}" for k in range(n)], Games.empty(), perfect=perfect)


def test_round_robin_asks_every_pair_once_per_round_and_resumes():
    s = RoundRobin([10, 11, 12, 13], games=8, rounds=2)
    first = s.next_batches(prior_only(4), set())
    assert sorted((b.a, b.b) for b in first) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert first[0].batch_id == "rr0:10:11" and all(b.games == 8 for b in first)
    # half of round 0 recorded: the other half comes back under the same ids
    played = {b.batch_id for b in first[:3]}
    assert [b.batch_id for b in s.next_batches(prior_only(4), played)] == [b.batch_id for b in first[3:]]
    played |= {b.batch_id for b in first}
    assert all(b.batch_id.startswith("rr1:") for b in s.next_batches(prior_only(4), played))


def test_versus_top_plays_everyone_against_the_perfect_agent():
    s = VersusTop(list(range(5)), games=4, rounds=1, perfect=2)
    batches = s.next_batches(prior_only(5, perfect=2), set())
    assert sorted(b.a for b in batches) == [0, 1, 3, 4] and {b.b for b in batches} == {2}
    assert s.next_batches(prior_only(5, perfect=2), {b.batch_id for b in batches}) == []


def test_adaptive_prefers_uncertain_close_pairs():
    # 0-1 played a lot, 2 never met anyone but 1; the best next pair involves agent 2
    games = Games.from_rows([(0, 1, 200, 400), (1, 0, 200, 400), (1, 2, 1, 2), (2, 1, 1, 2)])
    ratings = fit_ratings(["a", "b", "c"], games)
    s = Adaptive([0, 1, 2], games=16, target_width=10.0, pairs_per_wave=1)
    (batch,) = s.next_batches(ratings, {"chain:0:1", "chain:1:2"})
    assert 2 in (batch.a, batch.b) and batch.batch_id.endswith(":0")


def test_adaptive_reaches_the_target_with_clearly_fewer_games_than_round_robin():
    target = 200.0
    ids = list(range(len(TRUE12)))
    totals = {"adaptive": [], "round-robin": []}
    for seed in range(3):
        r, g, _ = run_simulated(Adaptive(ids, 16, target_width=target), TRUE12, np.random.default_rng(seed), 60.0)
        assert r.max_width() <= target
        totals["adaptive"].append(g)
        r, g, _ = run_simulated(RoundRobin(ids, 16, rounds=100, target_width=target), TRUE12,
                                np.random.default_rng(seed), 60.0)
        assert r.max_width() <= target
        totals["round-robin"].append(g)
    ratio = np.median(totals["adaptive"]) / np.median(totals["round-robin"])
    print(f"games to a {target:.0f}-Elo max interval width, 12 agents: {totals}; adaptive/round-robin = {ratio:.2f}")
    assert ratio <= 0.8


def test_adaptive_stops_at_max_games():
    ids = list(range(6))
    _, g, _ = run_simulated(Adaptive(ids, 8, max_games=200), TRUE12[:6], np.random.default_rng(0))
    assert 200 <= g < 200 + 8 * 3


def test_games_budget_cuts_every_scheme():
    # 6 agents, 15 round-robin pairs of 8 games: a budget of 60 games is 8 batches (the last
    # one partly over), then nothing
    for scheduler in (RoundRobin(list(range(6)), 8, rounds=3, max_games=60),
                      VersusTop(list(range(6)), 8, rounds=3, max_games=60, perfect=0)):
        ratings, g, waves = run_simulated(scheduler, TRUE12[:6], np.random.default_rng(0), perfect=0)
        assert g == 64, type(scheduler).__name__


def test_bad_schedules_are_named():
    with pytest.raises(ValueError, match="at least 2 agents"):
        RoundRobin([1], games=8)
    with pytest.raises(ValueError, match="even"):
        RoundRobin([1, 2], games=7)
    with pytest.raises(ValueError, match="stop rule"):
        Adaptive([1, 2], games=8)
    with pytest.raises(ValueError, match="unique"):
        RoundRobin([1, 1], games=8)
    with pytest.raises(ValueError, match="target width must be positive"):
        RoundRobin([1, 2], games=8, target_width=0)
    with pytest.raises(ValueError, match="max games"):
        VersusTop([1, 2], games=8, max_games=0)
