"""The train/test trade-off: test compute to reach an Elo, iso-Elo fronts, and the log-linear
fit recovering known coefficients."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.tradeoff import (PAPER_TRADEOFF, TEST_NODES, TestTimeRating, compare_tradeoff_with_paper,
                                  default_levels, fit_tradeoff, iso_elo_curves, log10_test_compute_to_reach)


def synthetic_ratings(a=-1.2, b=0.004, c=29.0, noise=0.0, seed=0, forward_cost=4e6,
                      train=np.logspace(14, 17, 13)) -> list[TestTimeRating]:
    """Snapshots whose Elo follows log10(test) = a log10(train) + b Elo + c exactly (plus noise)."""
    rng = np.random.default_rng(seed)
    ratings = []
    for i, t in enumerate(train):
        for nodes in TEST_NODES:
            elo = (math.log10(nodes * forward_cost) - a * math.log10(t) - c) / b
            ratings.append(TestTimeRating(f"s{i}", float(t), forward_cost, nodes, elo + rng.normal(0.0, noise)))
    return ratings


def test_test_compute_to_reach_interpolates_in_log_compute():
    group = [TestTimeRating("s", 1e12, 100.0, n, e) for n, e in ((1, -500.0), (2, -300.0), (4, -350.0), (8, -100.0))]
    x, floor = log10_test_compute_to_reach(group, -400.0)
    assert x == pytest.approx(2.0 + 0.5 * math.log10(2)) and not floor
    # 4 nodes (-350) play worse than 2 (-300): the curve counts the best so far, -300 up to 4 nodes
    assert log10_test_compute_to_reach(group, -300.0)[0] == pytest.approx(math.log10(200))
    assert log10_test_compute_to_reach(group, -200.0)[0] == pytest.approx(math.log10(400) + (100 / 200) * math.log10(2))
    assert log10_test_compute_to_reach(group, -600.0) == (2.0, True)
    assert log10_test_compute_to_reach(group, 0.0) is None


def test_iso_elo_front_keeps_only_undominated_snapshots():
    ratings = [
        TestTimeRating("small", 1e12, 10.0, 1, -400.0), TestTimeRating("small", 1e12, 10.0, 4, -200.0),
        TestTimeRating("bad", 1e13, 10.0, 1, -500.0), TestTimeRating("bad", 1e13, 10.0, 4, -250.0),
        TestTimeRating("big", 1e14, 10.0, 1, -300.0), TestTimeRating("big", 1e14, 10.0, 4, -100.0),
    ]
    (curve,) = iso_elo_curves(ratings, [-200.0])
    # small reaches -200 at 40; bad never does; big at 10**(1 + 0.5 log10 4) = 20
    np.testing.assert_allclose(curve.log10_train, [12.0, 14.0])
    np.testing.assert_allclose(curve.log10_test, [math.log10(40), math.log10(20)])
    assert curve.floor.tolist() == [False, False]
    (curve,) = iso_elo_curves(ratings, [-350.0])  # big beats it at one node: a floor point
    assert curve.floor.tolist() == [False, True]


def test_fit_recovers_paper_coefficients_exactly_and_with_noise():
    exact = fit_tradeoff(iso_elo_curves(synthetic_ratings(), default_levels(synthetic_ratings(), step=100)))
    assert (exact.a, exact.b, exact.c) == pytest.approx((-1.2, 0.004, 29.0), rel=1e-6)
    assert exact.test_saving_per_10x_train == pytest.approx(10 ** 1.2)
    noisy_ratings = synthetic_ratings(noise=20.0, seed=3)
    noisy = fit_tradeoff(iso_elo_curves(noisy_ratings, default_levels(noisy_ratings, step=100)))
    print(f"trade-off fit with 20 Elo noise: a {noisy.a:.3f} b {noisy.b:.5f} c {noisy.c:.2f} R^2 {noisy.r2:.3f}")
    assert noisy.a == pytest.approx(-1.2, abs=0.1)
    assert noisy.b == pytest.approx(0.004, abs=0.0004)
    assert noisy.c == pytest.approx(29.0, abs=1.5)
    table = compare_tradeoff_with_paper(noisy)
    assert f"{noisy.a:.2f}" in table and str(PAPER_TRADEOFF["a"]) in table


def test_other_coefficients_are_recovered_too():
    ratings = synthetic_ratings(a=-0.7, b=0.002, c=12.0, train=np.logspace(10, 13, 10))
    fit = fit_tradeoff(iso_elo_curves(ratings, default_levels(ratings, step=50)))
    assert (fit.a, fit.b, fit.c) == pytest.approx((-0.7, 0.002, 12.0), rel=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="nodes must be a positive integer"):
        TestTimeRating("s", 1e12, 10.0, 0, -1.0)
    with pytest.raises(ValueError, match="train_compute"):
        TestTimeRating("s", -1.0, 10.0, 1, -1.0)
    with pytest.raises(ValueError, match="rated twice"):
        iso_elo_curves([TestTimeRating("s", 1e12, 10.0, 1, -1.0)] * 2, [-1.0])
    with pytest.raises(ValueError, match=r"several board sizes \[5, 7\]"):
        iso_elo_curves([TestTimeRating("s", 1e12, 10.0, 1, -1.0, board=5),
                        TestTimeRating("t", 1e12, 10.0, 1, -1.0, board=7)], [-1.0])
    with pytest.raises(ValueError, match="no test-time ratings"):
        iso_elo_curves([], [0.0])
    with pytest.raises(ValueError, match="needs points"):
        fit_tradeoff(iso_elo_curves([TestTimeRating("s", 1e12, 10.0, 1, -100.0),
                                     TestTimeRating("s", 1e12, 10.0, 2, 0.0)], [-50.0]))
