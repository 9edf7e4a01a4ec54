"""Seeds in the frontier's intervals: the two-level bootstrap (experiments.frontier.resample_curves)
on synthetic sweeps with known training (seed) variance covers the true slope at about its
nominal rate, where resampling ratings alone does not."""
from __future__ import annotations

import numpy as np
import pytest

from experiments.frontier import (ChangePointParams, RunCurve, bootstrap_params, compute_frontiers, fit_change_point,
                                  fit_frontier, frontier_points, per_seed_fits, percentile_intervals, resample_curves)

# A long incline (plateaus 1,100-1,700 Elo down, as our quick sweeps show) so every run has
# several snapshots on it.
TRUE = ChangePointParams(m_flops=500.0, m_b_inc=-430.0, c_inc=-4400.0, m_b_plat=-300.0, c_plat=-200.0)
BOARDS, WIDTHS, SNAPSHOTS, POINTS_PER_DECADE = (3, 4, 5), 2, 12, 5


def seeded_sweep(rng: np.random.Generator, seeds: int, slope_sd: float = 80.0, rating_sd: float = 15.0) -> list[RunCurve]:
    """Per board, WIDTHS networks; network r owns the r-th band of Elo between the plateau and
    0, climbing the law's incline inside it and levelling off above it. Each run (seed) draws
    its own slope (sd `slope_sd`, pivoting at the middle of the board's incline: training luck),
    and every rating gets Gaussian noise of `rating_sd` with the matching 95% interval."""
    curves = []
    for b in BOARDS:
        plateau = float(TRUE.plateau(b))
        lo, hi = TRUE.takeoff_log10_compute(b), TRUE.perfect_play_log10_compute(b)
        x = np.linspace(lo - 0.4, hi + 0.4, SNAPSHOTS)
        for r in range(WIDTHS):
            band_low, band_top = plateau * (1 - r / WIDTHS), plateau * (1 - (r + 1) / WIDTHS)
            for s in range(seeds):
                slope = TRUE.m_flops + rng.normal(0.0, slope_sd)
                incline = TRUE.incline((lo + hi) / 2, b) + slope * (x - (lo + hi) / 2)
                rising = incline - np.maximum(0.0, band_low - incline)  # bigger nets start slower
                elo = np.minimum(band_top, np.maximum(plateau, rising)) + rng.normal(0.0, rating_sd, x.size)
                curves.append(RunCurve.from_arrays(f"b{b}-w{r}-s{s}", b, 2 ** r, 1, 10.0 ** x, elo,
                                                   elo - 1.96 * rating_sd, elo + 1.96 * rating_sd, seed=s))
    return curves


def true_slope(rng) -> float:
    """The slope of the expected frontier: the law fitted to the frontier of a noiseless
    200-seed sweep. (Not exactly TRUE.m_flops: averaging runs of different slopes rounds the
    kinks, which the fit sees as a slightly flatter incline.)"""
    board, x, y = frontier_points(compute_frontiers(seeded_sweep(rng, 200, rating_sd=0.0), POINTS_PER_DECADE))
    return fit_change_point(board, x, y).m_flops


def coverage(resample: str, replications: int, seeds: int = 3, draws: int = 20, confidence: float = 0.9):
    rng = np.random.default_rng(12)
    truth = true_slope(rng)
    hits = 0
    for _ in range(replications):
        curves = seeded_sweep(rng, seeds)
        board, x, y = frontier_points(compute_frontiers(curves, POINTS_PER_DECADE))
        params = fit_change_point(board, x, y, starts=2)
        # the cheap refit: piece-wise least squares from the full fit, enough near the answer
        sample = bootstrap_params(curves, params, draws, rng, POINTS_PER_DECADE, resample, refit="pieces")
        lo, hi = percentile_intervals(sample, confidence)["m_flops"]
        hits += lo <= truth <= hi
    return hits / replications, truth


def test_two_level_bootstrap_covers_the_true_slope_at_about_the_nominal_rate():
    rate, truth = coverage("two-level", replications=100)
    # 100 replications: binomial sd 3%. Three seeds per network leave few degrees of freedom
    # for the seed variance (a t, not a normal, quantile would be exact), so it runs a little
    # low: ~82% here, against ~10% for ratings alone (below).
    assert 0.75 <= rate <= 0.98, f"two-level 90% intervals covered the true slope {truth:.0f} in {rate:.0%} of 100 sweeps"


def test_resampling_ratings_alone_misses_training_variance():
    rate, truth = coverage("ratings", replications=20)
    assert rate <= 0.5, f"ratings-only 90% intervals covered the true slope {truth:.0f} in {rate:.0%} of 20 sweeps"


def test_resample_curves_draws_within_cells_and_relabels_slots():
    rng = np.random.default_rng(0)
    curves = seeded_sweep(rng, 3)
    for _ in range(5):
        drawn = resample_curves(curves, rng)
        assert len(drawn) == len(BOARDS) * WIDTHS * 2  # k - 1 = 2 draws per cell of 3 seeds
        for curve in drawn:
            source = next(c for c in curves if c.name == curve.name)
            assert curve.cell == source.cell
            np.testing.assert_array_equal(curve.compute, source.compute)
            assert np.abs(curve.elo - source.elo).max() < 5 * 15.0  # ratings redrawn within their noise
        slots = {}
        for curve in drawn:
            slots.setdefault(curve.cell, []).append(curve.seed)
        assert all(sorted(s) == [0, 1] for s in slots.values())
    one_seed = [c for c in curves if c.seed == 0]
    drawn = resample_curves(one_seed, rng)
    assert sorted(c.name for c in drawn) == sorted(c.name for c in one_seed)  # one seed: the run itself


def test_frontier_averages_seeds_and_fit_reports_per_seed_slopes():
    a0 = RunCurve("a0", 3, 1, 1, ((1e10, -400.0), (1e11, -100.0)), seed=0)
    a1 = RunCurve("a1", 3, 1, 1, ((1e10, -200.0), (1e11, -100.0)), seed=1)
    frontier = compute_frontiers([a0, a1], points_per_decade=1)[3]
    np.testing.assert_allclose(frontier.elo, [-300.0, -100.0])
    assert frontier.seeds == (0, 1)

    curves = seeded_sweep(np.random.default_rng(3), 2)
    fit = fit_frontier(curves, points_per_decade=POINTS_PER_DECADE, bootstrap=5)
    assert fit.seeds == (0, 1) and fit.intervals_include_seeds
    slopes = {s: p.m_flops for s, p in per_seed_fits(curves, POINTS_PER_DECADE).items()}
    assert sorted(slopes) == [0, 1] and all(300 < m < 700 for m in slopes.values())
    assert not fit_frontier([c for c in curves if c.seed == 0], POINTS_PER_DECADE, bootstrap=2).intervals_include_seeds
    with pytest.raises(ValueError, match="resample must be one of"):
        fit_frontier(curves, resample="runs")
