"""Recipes on one Elo scale: the per-recipe law recovers a known slope difference from a
synthetic two-recipe sweep, and a tiny real two-recipe sweep goes end to end (one tournament
per board holding both recipes' snapshots, the overlay figure, the report section)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from elo.db import TournamentDB
from experiments.frontier import ChangePointParams
from experiments.recipes import (Estimate, RunCurve, accuracy_measure, compare_recipes, render_section,
                                 verdict_sentence)


SHARED = dict(m_b_inc=-430.0, m_b_plat=-270.0, c_plat=570.0)
TRUE = {"slow": ChangePointParams(m_flops=500.0, c_inc=-3000.0, **SHARED),
        "steep": ChangePointParams(m_flops=700.0, c_inc=-4500.0, **SHARED)}


def synthetic_sweep(rng: np.random.Generator, seed_sd: float = 20.0, rating_sd: float = 15.0) -> list[RunCurve]:
    """Boards 3 and 4, two recipes with known laws, three widths and two seeds each. A width's
    curve is the law capped below perfect play (small networks plateau early), shifted by a
    per-seed offset; every rating is noisy with the interval it reports."""
    curves = []
    for recipe, law in TRUE.items():
        for board in (3, 4):
            lo = (law.takeoff_log10_compute(board) - 0.7)
            hi = law.perfect_play_log10_compute(board) + 0.7
            x = np.linspace(lo, hi, 12)
            for cap, width in ((-400.0, 4), (-150.0, 8), (0.0, 16)):
                for seed in (0, 1):
                    elo = np.minimum(law.predict(x, board), cap) + rng.normal(0, seed_sd)
                    elo = np.minimum(elo + rng.normal(0, rating_sd, x.size), 0.0)
                    curve = RunCurve.from_arrays(f"{recipe}-b{board}-w{width}-s{seed}", board, width, 2, 10.0 ** x,
                                                 elo, elo - 1.96 * rating_sd, elo + 1.96 * rating_sd)
                    curves.append(RunCurve(curve.name, board, width, 2, curve.points, seed=seed, recipe=recipe))
    return curves


def test_known_slope_difference_is_recovered_with_an_interval():
    curves = synthetic_sweep(np.random.default_rng(1))
    result = compare_recipes(curves, reference="slow", points_per_decade=5, bootstrap=40, confidence=0.9)
    # Each slope comes out somewhat low: a frontier is a max over noisy runs, raised most where
    # most runs tie (near random play), which tilts it; the tilt is alike for both recipes, so
    # the difference is recovered closer than either slope.
    slopes = {r: result.slopes[r].value for r in TRUE}
    assert abs(slopes["slow"] - 500) < 100 and abs(slopes["steep"] - 700) < 100, slopes
    diff = result.slope_difference["steep"]
    assert abs(diff.value - 200) < 50, diff
    assert diff.low < 200 < diff.high and diff.low > 0, diff  # covers the truth, excludes no difference
    verdict = result.verdict("steep")
    assert verdict.startswith("`steep` has a better slope than `slow`"), verdict
    # each recipe's perfect-play compute near the truth (log10, per board)
    for recipe, law in TRUE.items():
        for board in (3, 4):
            e = result.perfect_play_log10[recipe][board]
            assert abs(e.value - law.perfect_play_log10_compute(board)) < 0.3, (recipe, board, e)
    section = render_section(result)
    assert "| steep | +" in section and "better slope" in section


def test_same_slope_recipes_get_an_intercept_or_neither_verdict():
    d = Estimate(12.0, -40.0, 60.0)
    assert "lower intercept" in verdict_sentence("fast", "paper", d, Estimate(2.0, 1.5, 2.5), 0.9)
    assert "100x less compute" in verdict_sentence("fast", "paper", d, Estimate(2.0, 1.5, 2.5), 0.9)
    assert "higher intercept" in verdict_sentence("fast", "paper", d, Estimate(-1.0, -1.5, -0.5), 0.9)
    assert verdict_sentence("fast", "paper", d, Estimate(0.1, -0.5, 0.6), 0.9).startswith("Neither")
    assert "worse slope" in verdict_sentence("fast", "paper", Estimate(-90, -150, -30), Estimate(0, -1, 1), 0.9)
    # a bootstrap slope near 0 puts perfect play beyond any float: still a sentence
    assert "1,000x [1e-1200x, 1e+1300x]" in verdict_sentence("fast", "paper", d, Estimate(3.0, -1200.0, 1300.0), 0.9)


def test_accuracy_measure_is_per_seed():
    class Run:
        def __init__(self, name, recipe, board, seed):
            self.name, self.recipe, self.board, self.seed = name, recipe, board, seed

    runs = [Run("a-s0", "a", 3, 0), Run("a-s1", "a", 3, 1), Run("b-s0", "b", 3, 0)]
    snaps = {"a-s0": [{"compute": 1e8, "accuracy": 0.9, "perfect": False}, {"compute": 1e9, "accuracy": 1.0, "perfect": True}],
             "a-s1": [{"compute": 1e8, "accuracy": 0.995, "perfect": True}],
             "b-s0": [{"compute": 1e8, "accuracy": 0.5, "perfect": False}]}
    rows = {r.recipe: r for r in accuracy_measure(snaps, runs)}
    assert rows["a"].perfect_compute == (1e8, 1e9) and rows["a"].seeds == 2
    assert rows["a"].best_accuracy == 1.0 and rows["a"].best_accuracy_compute == 1e9
    assert rows["b"].perfect_compute == () and rows["b"].best_accuracy == 0.5


TWO_RECIPES = {
    "name": "tiny-recipes",
    "recipes": [
        {"name": "paper", "trainer": {"mode": "paper", "snapshots": 4,
                                      "overrides": {"envs": 32, "batch_size": 256, "evaluate": False}},
         "search": {"policy": "regularized", "nodes": 4, "lambda_form": "paper"}},
        {"name": "fast", "compute_scale": 0.5,
         "trainer": {"mode": "fast", "snapshots": 4, "overrides": {"envs": 32, "evaluate": False}},
         "search": {"policy": "gumbel", "nodes": 4}},
    ],
    "seeds": [0],
    "boards": [
        {"board": 3, "widths": [2, 8], "depths": [1], "compute": [1e5, 3e7], "max_samples": 10000},
        {"board": 4, "widths": [4, 8], "depths": [1], "compute": [1e5, 6e7], "max_samples": 10000},
    ],
    "tournament": {"scheme": "round-robin", "games_per_colour": 2, "nodes": 4},
    "test_time": {"board": 4, "nodes": [1, 4], "snapshots": 2, "games_per_colour": 2},
    "analysis": {"points_per_decade": 5, "bootstrap": 8, "resample": "ratings", "confidence": 0.9},
}


def test_tiny_two_recipe_sweep_rates_both_recipes_in_one_tournament(tmp_path, ray_local):
    from experiments.pipeline import reproduce

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TWO_RECIPES))
    out = tmp_path / "out"
    report = reproduce(config, out, progress=False, skip_tradeoff=True).read_text()

    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == sorted(f"{r}-b{b}-w{w}-d1-s0" for r in ("paper", "fast") for b, ws in ((3, (2, 8)), (4, (4, 8)))
                          for w in ws)
    # fast's budget is half the board's: its recipe's compute_scale
    assert json.loads((out / "runs" / "fast-b3-w2-d1-s0" / "config.json").read_text())["compute"] == 1.5e7
    db = TournamentDB(out / "tournament.sqlite")
    for board in (3, 4):
        # one pool per board holds both recipes' snapshots (recorded by run, the agent plays with
        # its own recipe's search) and they played each other
        rows = db.agents(board)
        snapshots = [r for r in rows if r.kind == "snapshot"]
        recipe = {r.id: r.run.split("-")[0] for r in snapshots}
        assert set(recipe.values()) == {"paper", "fast"}
        for r in snapshots:
            assert r.spec["policy"] == {"paper": "regularized", "fast": "gumbel"}[recipe[r.id]]
        ids = [r.id for r in rows]
        games, _ = db.games(ids)
        across = [(ids[a], ids[b]) for a, b in zip(games.black, games.white)
                  if {recipe.get(ids[a]), recipe.get(ids[b])} == {"paper", "fast"}]
        assert across, f"no game between the recipes on {board}x{board}"
    db.close()

    for suffix in (".png", ".svg"):
        for stem in ("recipes", "model_size"):
            figure = out / "figures" / f"{stem}{suffix}"
            assert figure.is_file() and figure.stat().st_size > 1000, figure
    assert "## Recipes on one Elo scale" in report and "figures/recipes.png" in report
    assert "**Verdict.**" in report and "| fast |" in report
    assert "## Compute-optimal model size" in report and "figures/model_size.png" in report
    results = json.loads((out / "results.json").read_text())
    assert set(results["recipes"]["recipes"]) == {"paper", "fast"}
    assert results["recipes"]["versus_reference"]["fast"]["verdict"]

    # The headline law is the first recipe's alone: a frontier pooled over recipes with
    # different compute ranges drops wherever one recipe's runs end.
    assert "on the `paper` recipe's runs" in report
