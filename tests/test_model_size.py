"""The compute-optimal model size: the power-law fit recovers a known exponent from synthetic
frontiers, and the Fig. 5-style figure marks the optimal networks."""
from __future__ import annotations

import numpy as np

from experiments.model_size import fit_model_size, optimal_sizes, parameter_count, plot_model_size, render_section
from experiments.frontier import RunCurve

EXPONENT = 0.6
# log10 compute where the optimal network would have 1 parameter; with x in [11, 15.5] the
# optimum stays inside the widths' range (an optimum clamped at the smallest or largest network
# would flatten the fitted exponent)
CENTRE = {3: 7.0, 4: 7.5}


def synthetic_runs(rng, rating_sd: float = 10.0) -> list[RunCurve]:
    """Width-w, depth-1 networks whose Elo at compute C peaks, over model sizes, at
    log10 N = EXPONENT (log10 C - CENTRE[board]): each run is the same incline minus a penalty
    quadratic in the distance of its log size from the optimum; two seeds each."""
    x = np.linspace(11.0, 15.5, 23)
    curves = []
    for board, centre in CENTRE.items():
        for width in (2, 4, 8, 16, 32, 64, 128, 256, 512):
            log_n = np.log10(parameter_count(board, width, 1))
            for seed in (0, 1):
                elo = 300 * (x - 16) - 400 * (log_n - EXPONENT * (x - centre)) ** 2 + rng.normal(0, rating_sd, x.size)
                curve = RunCurve.from_arrays(f"b{board}-w{width}-s{seed}", board, width, 1, 10.0 ** x, elo,
                                             elo - 1.96 * rating_sd, elo + 1.96 * rating_sd)
                curves.append(RunCurve(curve.name, board, width, 1, curve.points, seed=seed, recipe="r"))
    return curves


def test_known_exponent_is_recovered_with_an_interval(tmp_path):
    curves = synthetic_runs(np.random.default_rng(0))
    fit = fit_model_size(curves, points_per_decade=5, bootstrap=30, confidence=0.9)
    assert abs(fit.exponent - EXPONENT) < 0.04, fit.exponent
    # the interval covers the truth up to the widths' quantisation (a doubling of width is a
    # 2-4x step in parameters)
    assert fit.interval[0] - 0.03 < EXPONENT < fit.interval[1] + 0.03, fit.interval
    assert fit.interval[1] - fit.interval[0] < 0.2, fit.interval
    # the optimum moves to bigger networks with compute on each board
    for board in CENTRE:
        params = [s.params for s in fit.sizes if s.board == board]
        assert params[-1] > 100 * params[0], params
        assert all(b >= a for a, b in zip(params, params[1:])), params
    # a recipe without a fit still gets its panels, and the reason in the section
    fits = {"r": fit, "q": "too few points"}
    paths = plot_model_size(curves, fits, tmp_path / "model_size")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)
    text = render_section(fits)
    assert f"| r | {fit.exponent:.2f} |" in text and "| q | not fitted: too few points |" in text


def test_points_where_models_tie_are_left_out():
    # two networks that reach perfect play at once: nothing to choose, no optimal-size point
    x = 10.0 ** np.linspace(8, 10, 11)
    elo = np.zeros(11)
    curves = [RunCurve.from_arrays(f"w{w}", 3, w, 1, x, elo) for w in (4, 8)]
    assert optimal_sizes(curves, points_per_decade=5) == []
