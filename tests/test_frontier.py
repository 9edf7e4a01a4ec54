"""Frontier construction on hand-made curves, and the change-point fit recovering known
parameters from synthetic sweeps."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.frontier import (PAPER_PARAMS, PARAM_NAMES, ChangePointParams, CurvePoint, RunCurve,
                                  DERIVED_FIGURES, compare_with_paper, compute_frontiers, fit_change_point, fit_frontier,
                                  frontier_points, incline_r2, interpolate_curve, log_grid, per_board_table)


def _soft_max(a, b, softness):
    return softness * np.logaddexp(a / softness, b / softness)


def synthetic_curves(params: ChangePointParams = PAPER_PARAMS, boards=range(3, 10), runs_per_board: int = 4,
                     snapshots: int = 21, noise: float = 30.0, softness: float = 10.0, lag: float = 1.0,
                     seed: int = 0) -> list[RunCurve]:
    """A sweep whose frontier is `params`' law, with Gaussian noise on every rating. Per board,
    run r owns one band of Elo (the bands split plateau..0 evenly; the last run reaches perfect
    play): inside its band it follows the law's incline, above it it levels off at the band's
    top, below it it trails the incline (by `lag` x its distance under the band, as bigger
    models start slower) until it meets the plateau. So each run is a sigmoid in log compute,
    and the max over runs is exactly the law (up to the `softness` of the smoothed kinks).
    Runs after the first start where they leave the plateau: the max of several noisy runs
    all at the plateau would lift the frontier's plateau by ~1 noise sd, a bias of the
    max-over-runs estimator, not of the fit under test."""
    rng = np.random.default_rng(seed)
    curves = []
    for b in boards:
        plateau = float(params.plateau(b))
        x = np.linspace(params.takeoff_log10_compute(b) - 1.0, params.perfect_play_log10_compute(b) + 1.0, snapshots)
        incline = params.incline(x, b)
        for r in range(runs_per_board):
            band_low = plateau * (1.0 - r / runs_per_board)
            band_top = plateau * (1.0 - (r + 1) / runs_per_board)
            rising = incline - lag * np.maximum(0.0, band_low - incline)
            elo = _soft_max(-_soft_max(-rising, -band_top, softness), plateau, softness)
            elo = elo + rng.normal(0.0, noise, size=x.size)
            keep = (r == 0) | (rising > plateau)
            points = [CurvePoint(10.0 ** xi, float(e), float(e) - 1.96 * noise, float(e) + 1.96 * noise)
                      for xi, e in zip(x[keep], elo[keep])]
            curves.append(RunCurve(f"b{b}-r{r}", b, 2 ** r, 1, tuple(points)))
    return curves


# ----------------------------------------------------------------------------- frontier

def test_log_grid_covers_runs_on_round_points():
    a = RunCurve("a", 3, 1, 1, ((1e10, -500.0), (1e11, -100.0)))
    b = RunCurve("b", 3, 2, 1, ((3e10, -400.0), (2e12, 0.0)))
    grid = log_grid([a, b], points_per_decade=4)
    assert grid[0] == 10.0 and grid[-1] == pytest.approx(12.5)
    np.testing.assert_allclose(np.diff(grid), 0.25)


def test_interpolation_is_linear_in_log_compute_and_never_extrapolates():
    curve = RunCurve("a", 3, 1, 1, ((1e11, -100.0), (1e10, -500.0)))  # unsorted on purpose
    grid = np.array([9.5, 10.0, 10.25, 10.5, 11.0, 11.5])
    got = interpolate_curve(curve, grid)
    np.testing.assert_allclose(got[1:5], [-500.0, -400.0, -300.0, -100.0])
    assert math.isnan(got[0]) and math.isnan(got[5])
    held = interpolate_curve(curve, grid, hold_until=11.25)  # holds its last Elo, no further
    np.testing.assert_allclose(held[1:5], got[1:5])
    assert math.isnan(held[0]) and math.isnan(held[5])
    np.testing.assert_allclose(interpolate_curve(curve, grid, hold_until=12.0)[5], -100.0)


def test_a_capped_run_holds_its_last_elo_so_the_frontier_never_drops_where_it_ends():
    # small: capped at 1e10 at -100; big: -600 at 1e10 rising to 0 at 1e12 (passes -100 at 1e11.75)
    small = RunCurve("small", 4, 1, 1, ((1e9, -400.0), (1e10, -100.0)))
    big = RunCurve("big", 4, 8, 1, ((1e10, -600.0), (1e12, 0.0)))
    f = compute_frontiers([small, big], points_per_decade=2)[4]
    np.testing.assert_allclose(f.log10_compute, [9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0])
    np.testing.assert_allclose(f.elo, [-400.0, -250.0, -100.0, -100.0, -100.0, -100.0, 0.0])
    assert f.best_run == ("small",) * 6 + ("big",)
    # Never past the board's own last snapshot, though another board's grid goes further.
    other = RunCurve("other", 5, 1, 1, ((1e12, -900.0), (1e13, -100.0)))
    f = compute_frontiers([small, big, other], points_per_decade=2)[4]
    assert np.isnan(f.elo[f.log10_compute > 12.0]).all()


def test_frontier_is_max_over_runs_with_exact_values():
    # a: -600 at 1e10 rising to -200 at 1e12; b: -800 at 1e11 rising to 0 at 1e12, passing a
    # between 1e11.5 (a -300, b -400) and 1e12 (a -200, b 0)
    a = RunCurve("a", 4, 1, 1, ((1e10, -600.0), (1e12, -200.0)))
    b = RunCurve("b", 4, 8, 1, ((1e11, -800.0), (1e12, 0.0)))
    c = RunCurve("c", 5, 1, 1, ((1e11, -900.0), (1e13, -100.0)))
    frontiers = compute_frontiers([a, b, c], points_per_decade=2)
    f4 = frontiers[4]
    np.testing.assert_allclose(f4.log10_compute, [10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0])
    np.testing.assert_allclose(f4.elo[:5], [-600.0, -500.0, -400.0, -300.0, 0.0])
    assert np.isnan(f4.elo[5:]).all()
    assert f4.best_run == ("a", "a", "a", "a", "b", None, None)
    f5 = frontiers[5]
    np.testing.assert_allclose(f5.elo, [np.nan, np.nan, -900.0, -700.0, -500.0, -300.0, -100.0])
    board, x, y = frontier_points(frontiers)
    assert board.tolist() == [4.0] * 5 + [5.0] * 5
    assert y.tolist() == [-600.0, -500.0, -400.0, -300.0, 0.0, -900.0, -700.0, -500.0, -300.0, -100.0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(8, 16), st.floats(-3000, 0)), min_size=1, max_size=6,
                         unique_by=lambda p: round(p[0], 6)), min_size=1, max_size=4))
def test_frontier_dominates_every_run_and_touches_one(runs):
    curves = [RunCurve(f"r{i}", 5, 1, 1, tuple((10.0 ** round(x, 6), y) for x, y in pts)) for i, pts in enumerate(runs)]
    frontier = compute_frontiers(curves, points_per_decade=5)[5]
    end = max(c.log10_compute[-1] for c in curves)
    table = np.stack([interpolate_curve(c, frontier.log10_compute, hold_until=end) for c in curves])
    for i, curve in enumerate(curves):
        covered = np.isfinite(table[i])
        assert (frontier.elo[covered] >= table[i][covered] - 1e-9).all()
    covered = np.isfinite(frontier.elo)
    assert (np.isfinite(table).any(axis=0) == covered).all()
    np.testing.assert_allclose(frontier.elo[covered], np.nanmax(table[:, covered], axis=0))


def test_curve_from_arrays_sorts_and_keeps_intervals():
    curve = RunCurve.from_arrays("a", 3, 2, 4, [1e11, 1e10], [-100.0, -500.0], low=[-150.0, -560.0], high=[-50.0, -440.0])
    np.testing.assert_allclose(curve.compute, [1e10, 1e11])
    np.testing.assert_allclose(curve.log10_compute, [10.0, 11.0])
    np.testing.assert_allclose(curve.elo, [-500.0, -100.0])
    np.testing.assert_allclose(curve.low, [-560.0, -150.0])
    np.testing.assert_allclose(curve.high, [-440.0, -50.0])
    assert np.isnan(RunCurve.from_arrays("b", 3, 2, 4, [1e10], [-1.0]).low).all()
    with pytest.raises(ValueError, match="'c'.*one length"):
        RunCurve.from_arrays("c", 3, 2, 4, [1e10, 1e11], [-1.0])


def test_bad_curves_are_rejected_by_name():
    with pytest.raises(ValueError, match="'x'.*no points"):
        RunCurve("x", 3, 1, 1, ())
    with pytest.raises(ValueError, match="compute must be positive"):
        RunCurve("x", 3, 1, 1, ((0.0, -1.0),))
    with pytest.raises(ValueError, match="Elo must be finite"):
        RunCurve("x", 3, 1, 1, ((1e10, math.nan),))
    with pytest.raises(ValueError, match="same compute"):
        RunCurve("x", 3, 1, 1, ((1e10, -1.0), (1e10, -2.0)))
    with pytest.raises(ValueError, match="at least 5"):
        fit_change_point([3, 3], [10, 11], [-100, 0])


# ----------------------------------------------------------------------------- the fit

def test_fit_is_exact_on_noiseless_model_points():
    rng = np.random.default_rng(1)
    board = np.repeat(np.arange(3, 10), 40).astype(float)
    x = np.concatenate([np.linspace(PAPER_PARAMS.takeoff_log10_compute(b) - 1,
                                    PAPER_PARAMS.perfect_play_log10_compute(b) + 1, 40) for b in range(3, 10)])
    y = PAPER_PARAMS.predict(x, board)
    fitted = fit_change_point(board, x, y, seed=int(rng.integers(1000)))
    np.testing.assert_allclose(fitted.as_array(), PAPER_PARAMS.as_array(), rtol=1e-6, atol=1e-4)
    assert incline_r2(fitted, board, x, y) == pytest.approx(1.0)


# absolute tolerances per parameter: intercepts are extrapolations to board 0, so looser
TOLERANCE = {"m_flops": 40.0, "m_b_inc": 40.0, "c_inc": 400.0, "m_b_plat": 30.0, "c_plat": 150.0}


def test_fit_recovers_paper_parameters_from_noisy_sweep():
    curves = synthetic_curves(noise=30.0, seed=0)
    fit = fit_frontier(curves, bootstrap=40, confidence=0.95, seed=0)
    true = PAPER_PARAMS.as_array()
    for i, name in enumerate(PARAM_NAMES):
        got = getattr(fit.params, name)
        lo, hi = fit.interval(name)
        print(f"{name}: true {true[i]:.0f} fitted {got:.1f} [{lo:.1f}, {hi:.1f}]")
        assert abs(got - true[i]) <= TOLERANCE[name], name
        assert lo <= true[i] <= hi, name
    assert fit.r2_incline > 0.95
    assert fit.boards == tuple(range(3, 10))
    assert fit.params.perfect_play_growth == pytest.approx(PAPER_PARAMS.perfect_play_growth, rel=0.25)
    # The growth factors get intervals from the same draws, and they hold the true law's values.
    derived = fit.derived()
    for name in ("perfect_play_growth", "takeoff_growth", "random_gap_growth", "slope"):
        figure, true_value = derived[name], DERIVED_FIGURES[name](PAPER_PARAMS)
        assert figure["low"] < figure["value"] < figure["high"], name
        assert figure["low"] <= true_value <= figure["high"], name
    growth = derived["perfect_play_growth"]
    row = f"| perfect-play compute growth per board | {growth['value']:.1f}x | [{growth['low']:.1f}x, {growth['high']:.1f}x] | 7.0x |"
    assert row in compare_with_paper(fit)
    # Per board, the perfect-play compute's interval brackets the fitted value.
    for line in per_board_table(fit).splitlines()[2:]:
        value, within = line.split("|")[2].strip().split(" ", 1)
        lo, hi = (float(v) for v in within.strip("[]").split(", "))
        assert lo < float(value) < hi, line


def test_a_sweep_that_never_shows_random_play_leaves_the_plateau_unmeasured():
    # every board's first snapshot already beats random play: the plateau line is not in the data
    rng = np.random.default_rng(0)
    curves = []
    for b in (3, 4, 5):
        x = np.linspace(PAPER_PARAMS.takeoff_log10_compute(b) + 0.3, PAPER_PARAMS.perfect_play_log10_compute(b) + 0.7, 11)
        elo = PAPER_PARAMS.predict(x, b) + rng.normal(0.0, 30.0, x.size)
        curves.append(RunCurve.from_arrays(f"b{b}", b, 4, 2, 10.0 ** x, elo, elo - 60.0, elo + 60.0))
    fit = fit_frontier(curves, bootstrap=5)
    assert fit.plateau_boards == 0 and not fit.plateau_identified
    assert fit.pieces["plateau"] == 0 and sum(fit.pieces.values()) == fit.points
    assert fit.params.m_flops == pytest.approx(510.0, abs=60.0)  # the incline is still measured
    table, boards = compare_with_paper(fit), per_board_table(fit)
    assert "| m_b_plat (Elo) | n/m | n/m | -270 |" in table and "not measured" in table
    assert f"| m_flops (Elo) | {fit.params.m_flops:.0f} |" in table
    assert boards.count("n/m") == 2 * 3  # takeoff and random-play gap of each board
    assert "| takeoff compute growth per board | n/m | n/m | 2.0x |" in table
    assert fit.derived()["takeoff_growth"] is None and fit.derived()["slope"] is not None

    full = fit_frontier(synthetic_curves(boards=range(3, 6), seed=0), bootstrap=0)
    assert full.plateau_boards == 3 and full.plateau_identified
    assert "n/m" not in compare_with_paper(full) + per_board_table(full)
