"""Recipes on one Elo scale: does a training recipe change the slope of the compute frontier,
or only its intercept?

Read top to bottom: run curves tagged with their recipe -> each recipe's frontier -> the
change-point law with a slope and an intercept per recipe and shared board terms -> bootstrap
(seeds, then ratings) for each recipe's slope and perfect-play compute and for the differences
between recipes -> the one-sentence verdict -> the move-accuracy measure -> the report section
and the overlay figure.

Shared board terms. Every recipe gets its own incline slope m_flops and intercept c_inc; the
board terms are shared:
- the plateau (m_b_plat, c_plat) is random play, one agent rated once in the board's single
  tournament, so it is the same for every recipe by construction;
- m_b_inc (how far the incline moves per board size) is shared because a sweep over two or three
  boards fixes it per recipe from two or three frontier segments only, where it trades off
  against that recipe's intercept; sharing it states the hypothesis under test: recipes differ
  in slope and intercept, the board-size law is the game's.
All recipes' snapshots of a board are rated in one tournament, so their Elo share one scale and
the differences are meaningful.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from experiments import frontier as _frontier
from experiments.frontier import (ELO_PER_NAT, PERFECT_PLAY_ELO, ChangePointParams, Frontier, RunCurve,  # noqa: F401
                                  compute_frontiers, fit_change_point, frontier_points, resample_curves)



def recipe_of(curve) -> str:
    return getattr(curve, "recipe", "") or ""


def recipe_frontiers(curves: list, points_per_decade: int = 10) -> dict[str, dict[int, Frontier]]:
    """Each recipe's frontier per board (all on grids of the same spacing)."""
    by_recipe: dict[str, list] = {}
    for curve in curves:
        by_recipe.setdefault(recipe_of(curve), []).append(curve)
    return {r: compute_frontiers(cs, points_per_decade) for r, cs in by_recipe.items()}


# ----------------------------------------------------------------------------- the law

@dataclass(frozen=True)
class RecipeLaw:
    """The change-point law with a slope and an intercept per recipe, board terms shared
    (module docstring). Elo units."""

    recipes: tuple[str, ...]
    m_flops: tuple[float, ...]
    c_inc: tuple[float, ...]
    m_b_inc: float
    m_b_plat: float
    c_plat: float

    def params(self, recipe: str) -> ChangePointParams:
        """One recipe's law as the frontier module's 5 parameters (its derived figures too)."""
        k = self.recipes.index(recipe)
        return ChangePointParams(self.m_flops[k], self.m_b_inc, self.c_inc[k], self.m_b_plat, self.c_plat)

    def as_array(self) -> np.ndarray:
        return np.array([*self.m_flops, *self.c_inc, self.m_b_inc, self.m_b_plat, self.c_plat], dtype=float)

    @classmethod
    def from_array(cls, recipes, values) -> "RecipeLaw":
        r = len(recipes)
        v = [float(x) for x in values]
        return cls(tuple(recipes), tuple(v[:r]), tuple(v[r:2 * r]), v[2 * r], v[2 * r + 1], v[2 * r + 2])


def _loss_and_grad(theta, k, board, x, y, r):
    """Squared residuals (natural-log Elo) and the exact gradient on the current piece; point i
    belongs to recipe k[i]."""
    m, c = theta[:r], theta[r:2 * r]
    m_b_inc, m_b_plat, c_plat = theta[2 * r:]
    incline = m[k] * x + m_b_inc * board + c[k]
    plateau = m_b_plat * board + c_plat
    on_incline = (incline >= plateau) & (incline < 0.0)
    on_plateau = (plateau > incline) & (plateau < 0.0)
    res = np.minimum(0.0, np.maximum(incline, plateau)) - y
    ri, rp = 2.0 * res * on_incline, 2.0 * res * on_plateau
    grad = np.concatenate([np.bincount(k, ri * x, minlength=r), np.bincount(k, ri, minlength=r),
                           [ri @ board, rp @ board, rp.sum()]])
    return float(res @ res), grad


def _region_refine(theta, k, board, x, y, r, max_iter: int = 50):
    """Alternate: assign points to incline / plateau / perfect, solve each linear piece exactly
    (as frontier._region_least_squares, with per-recipe slope and intercept columns)."""
    theta = np.array(theta, dtype=float)
    onehot = (k[:, None] == np.arange(r)[None, :]).astype(float)
    previous = None
    for _ in range(max_iter):
        m, c = theta[:r], theta[r:2 * r]
        incline = m[k] * x + theta[2 * r] * board + c[k]
        plateau = theta[2 * r + 1] * board + theta[2 * r + 2]
        on_incline = (incline >= plateau) & (incline < 0.0)
        on_plateau = (plateau > incline) & (plateau < 0.0)
        assignment = (on_incline.tobytes(), on_plateau.tobytes())
        if assignment == previous:
            break
        previous = assignment
        candidate = theta.copy()
        design = np.column_stack([onehot * x[:, None], onehot, board])[on_incline]
        if np.linalg.matrix_rank(design) == 2 * r + 1:
            sol = np.linalg.lstsq(design, y[on_incline], rcond=None)[0]
            candidate[:2 * r + 1] = sol
        design = np.column_stack([board, np.ones_like(x)])[on_plateau]
        if np.linalg.matrix_rank(design) == 2:
            candidate[2 * r + 1:] = np.linalg.lstsq(design, y[on_plateau], rcond=None)[0]
        if _loss_and_grad(candidate, k, board, x, y, r)[0] > _loss_and_grad(theta, k, board, x, y, r)[0]:
            break
        theta = candidate
    return theta


def _points(frontiers: dict[str, dict[int, Frontier]], recipes: tuple[str, ...]):
    ks, boards, xs, ys = [], [], [], []
    for i, recipe in enumerate(recipes):
        b, x, y = frontier_points(frontiers[recipe])
        ks.append(np.full(x.size, i, dtype=int))
        boards.append(b)
        xs.append(x)
        ys.append(y)
    return np.concatenate(ks), np.concatenate(boards), np.concatenate(xs), np.concatenate(ys)


def _refine_from(start_elo: np.ndarray, k, board, x, y_nats, r) -> tuple[np.ndarray, float]:
    result = minimize(_loss_and_grad, start_elo / ELO_PER_NAT, args=(k, board, x, y_nats, r), jac=True,
                      method="L-BFGS-B")
    theta = _region_refine(result.x, k, board, x, y_nats, r)
    return theta, _loss_and_grad(theta, k, board, x, y_nats, r)[0]


def fit_recipe_law(frontiers: dict[str, dict[int, Frontier]], recipes: tuple[str, ...] | None = None,
                   starts: int = 8, seed: int = 0) -> RecipeLaw:
    """Least squares over every recipe's frontier points (natural-log Elo, L-BFGS then exact
    piecewise refinement), from several starts: the pooled 5-parameter fit for every recipe,
    each recipe's own fit, and random perturbations; the best is kept."""
    recipes = tuple(recipes or sorted(frontiers))
    missing = [r for r in recipes if r not in frontiers]
    if missing:
        raise ValueError(f"no frontier for recipe(s) {', '.join(missing)}")
    k, board, x, y = _points(frontiers, recipes)
    r = len(recipes)
    if x.size < 2 * r + 3:
        raise ValueError(f"need at least {2 * r + 3} frontier points to fit {r} recipes, got {x.size}")
    pooled = fit_change_point(board, x, y, starts=starts, seed=seed)
    shared = [pooled.m_b_inc, pooled.m_b_plat, pooled.c_plat]
    bases = [np.array([pooled.m_flops] * r + [pooled.c_inc] * r + shared)]
    own_m, own_c = [], []
    for i in range(r):
        mask = k == i
        try:
            own = fit_change_point(board[mask], x[mask], y[mask], starts=4, seed=seed)
            own_m.append(own.m_flops)
            # the recipe's intercept re-expressed with the shared board term, at its mean board
            own_c.append(own.c_inc + (own.m_b_inc - pooled.m_b_inc) * board[mask].mean())
        except ValueError:  # too few points for its own fit
            own_m.append(pooled.m_flops)
            own_c.append(pooled.c_inc)
    bases.append(np.array(own_m + own_c + shared))
    rng = np.random.default_rng(seed)
    candidates = list(bases)
    for i in range(max(0, starts - len(bases))):
        candidates.append(bases[i % len(bases)] * rng.uniform(0.8, 1.2, size=bases[0].size))
    y_nats = y / ELO_PER_NAT
    best, best_loss = None, math.inf
    for start in candidates:
        theta, loss = _refine_from(start, k, board, x, y_nats, r)
        if loss < best_loss:
            best, best_loss = theta, loss
    return RecipeLaw.from_array(recipes, best * ELO_PER_NAT)


# ----------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class Estimate:
    """A statistic and its percentile-bootstrap interval."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, value: float, draws, confidence: float) -> "Estimate":
        draws = np.asarray(draws, dtype=float)
        draws = draws[np.isfinite(draws)]
        if draws.size == 0:
            return cls(float(value), math.nan, math.nan)
        tail = (1.0 - confidence) / 2.0
        lo, hi = np.quantile(draws, [tail, 1.0 - tail])
        return cls(float(value), float(lo), float(hi))

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class RecipeComparison:
    """Each recipe's slope (Elo per 10x compute) and perfect-play compute (log10, per board),
    and for each recipe against the reference (the sweep's first recipe): the slope difference
    (Elo per decade) and the compute shift (log10 of the reference's perfect-play compute over
    this recipe's, averaged over boards: > 0 means this recipe gets there with less)."""

    law: RecipeLaw
    reference: str
    boards: tuple[int, ...]
    confidence: float
    slopes: dict[str, Estimate]
    perfect_play_log10: dict[str, dict[int, Estimate]]
    slope_difference: dict[str, Estimate]
    compute_shift_log10: dict[str, Estimate]
    bootstrap: int
    frontiers: dict[str, dict[int, Frontier]] = field(repr=False)

    def verdict(self, recipe: str) -> str:
        return verdict_sentence(recipe, self.reference, self.slope_difference[recipe], self.compute_shift_log10[recipe],
                                self.confidence)


def _statistics(law: RecipeLaw, reference: str, boards) -> np.ndarray:
    """[slopes..., perfect-play log10 per recipe x board..., slope differences..., shifts...]."""
    out = list(law.m_flops)
    pp = {r: np.array([law.params(r).perfect_play_log10_compute(b) for b in boards]) for r in law.recipes}
    for r in law.recipes:
        out += list(pp[r])
    ref = law.recipes.index(reference)
    for i, r in enumerate(law.recipes):
        out.append(law.m_flops[i] - law.m_flops[ref])
    for r in law.recipes:
        out.append(float(np.mean(pp[reference] - pp[r])))
    return np.array(out, dtype=float)


def compare_recipes(curves: list, reference: str | None = None, recipes: tuple[str, ...] | None = None,
                    points_per_decade: int = 10, bootstrap: int = 200, confidence: float = 0.9, seed: int = 0,
                    resample=None, progress: bool = False) -> RecipeComparison:
    """Fit the recipe law on the curves' frontiers and bootstrap every statistic: each replicate
    redraws the curves (`resample`, default the two-level seeds-then-ratings bootstrap), rebuilds
    each recipe's frontiers and refits from the full fit."""
    resample = resample or resample_curves
    frontiers = recipe_frontiers(curves, points_per_decade)
    recipes = tuple(recipes or sorted(frontiers))
    if len(recipes) < 2:
        raise ValueError(f"comparing recipes needs two at least, got {list(recipes)}")
    reference = reference or recipes[0]
    if reference not in recipes:
        raise ValueError(f"reference recipe {reference!r} is not one of {list(recipes)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    boards = tuple(sorted({b for f in frontiers.values() for b in f}))
    with _frontier._one_blas_thread():
        law = fit_recipe_law(frontiers, recipes, seed=seed)
        rng = np.random.default_rng(seed)
        r = len(recipes)
        draws = []
        iterator = range(bootstrap)
        if progress:
            from tqdm import tqdm

            iterator = tqdm(iterator, desc="recipe bootstrap", unit="fit")
        for _ in iterator:
            sample = recipe_frontiers(resample(curves, rng), points_per_decade)
            if any(recipe not in sample for recipe in recipes):
                continue
            k, board, x, y = _points(sample, recipes)
            theta, _ = _refine_from(law.as_array(), k, board, x, y / ELO_PER_NAT, r)
            draws.append(_statistics(RecipeLaw.from_array(recipes, theta * ELO_PER_NAT), reference, boards))
    full = _statistics(law, reference, boards)
    draws = np.array(draws).reshape(-1, full.size)
    nb = len(boards)

    def est(i):
        return Estimate.of(full[i], draws[:, i], confidence)

    slopes = {rec: est(i) for i, rec in enumerate(recipes)}
    perfect = {rec: {b: est(r + i * nb + j) for j, b in enumerate(boards)} for i, rec in enumerate(recipes)}
    base = r + r * nb
    difference = {rec: est(base + i) for i, rec in enumerate(recipes) if rec != reference}
    shift = {rec: est(base + r + i) for i, rec in enumerate(recipes) if rec != reference}
    return RecipeComparison(law=law, reference=reference, boards=boards, confidence=confidence, slopes=slopes,
                            perfect_play_log10=perfect, slope_difference=difference, compute_shift_log10=shift,
                            bootstrap=len(draws), frontiers=frontiers)


def verdict_sentence(recipe: str, reference: str, slope_difference: Estimate, compute_shift_log10: Estimate,
                     confidence: float) -> str:
    """One sentence: a better (or worse) slope when the difference's interval excludes 0; else
    the same slope with a lower (or higher) intercept when the compute shift's does; else
    neither, at the stated confidence."""
    pct = f"{round(confidence * 100)}%"
    d = slope_difference
    diff = f"{d.value:+.0f} Elo per 10x compute [{d.low:+.0f}, {d.high:+.0f}]"
    s = compute_shift_log10
    factor = power_of_ten(abs(s.value), 3)
    span = f"[{power_of_ten(s.low, 3)}x, {power_of_ten(s.high, 3)}x]"
    if d.low > 0:
        return f"`{recipe}` has a better slope than `{reference}`: {diff} at {pct} confidence."
    if d.high < 0:
        return f"`{recipe}` has a worse slope than `{reference}`: {diff} at {pct} confidence."
    if s.low > 0:
        return (f"`{recipe}` has the same slope as `{reference}` within the data's {pct} confidence ({diff}) and a "
                f"lower intercept: it reaches perfect play with {factor}x less compute (ratio {span}).")
    if s.high < 0:
        return (f"`{recipe}` has the same slope as `{reference}` within the data's {pct} confidence ({diff}) and a "
                f"higher intercept: it needs {factor}x more compute for perfect play (ratio {span}).")
    return (f"Neither: at {pct} confidence the data separate `{recipe}` from `{reference}` in neither slope ({diff}) "
            f"nor intercept (perfect-play compute ratio {power_of_ten(s.value, 3)}x {span}).")


# ----------------------------------------------------------------------------- move accuracy

@dataclass(frozen=True)
class AccuracyRow:
    """The trainer's own measure against the solver, per recipe and board: per seed, the least
    compute at which any of the seed's runs passed the perfect-play test (accuracy >= 99% and
    no loss as black against the perfect agent), and the best move accuracy reached."""

    recipe: str
    board: int
    seeds: int
    perfect_compute: tuple[float, ...]   # one per seed that passed
    best_accuracy: float
    best_accuracy_compute: float


def accuracy_measure(snapshots_by_run: dict[str, list[dict]], runs) -> list[AccuracyRow]:
    """`snapshots_by_run`: run name -> its snapshot records (hexzero.storage.list_snapshots);
    `runs`: the sweep's planned runs (name, recipe, board, seed)."""
    groups: dict[tuple[str, int], dict[int, list[dict]]] = {}
    for run in runs:
        records = snapshots_by_run.get(run.name, [])
        groups.setdefault((run.recipe, run.board), {}).setdefault(run.seed, []).extend(records)
    rows = []
    for (recipe, board), by_seed in sorted(groups.items()):
        scored = [rec for recs in by_seed.values() for rec in recs if rec.get("accuracy") is not None]
        if not scored:
            continue
        perfect = []
        for recs in by_seed.values():
            passed = [rec["compute"] for rec in recs if rec.get("perfect")]
            if passed:
                perfect.append(float(min(passed)))
        best = max(scored, key=lambda rec: (rec["accuracy"], -rec["compute"]))
        rows.append(AccuracyRow(recipe, board, len(by_seed), tuple(sorted(perfect)), float(best["accuracy"]),
                                float(best["compute"])))
    return rows


# ----------------------------------------------------------------------------- report and figure

def _interval(e: Estimate, fmt: str = "{:.0f}") -> str:
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return "n/a"
    return f"[{fmt.format(e.low)}, {fmt.format(e.high)}]"


def power_of_ten(log10_value: float, digits: int = 2) -> str:
    """10**v as text, for any v (a bootstrap slope near 0 puts perfect play at 10**1000)."""
    if not math.isfinite(log10_value):
        return "n/a"
    if 2 <= log10_value < 6:  # 100 to 1,000,000 in full: "1e+03" reads badly in a sentence
        return f"{10.0 ** log10_value:,.0f}"
    if abs(log10_value) < 300:
        return f"{10.0 ** log10_value:.{digits}g}"
    return f"1e{log10_value:+.0f}"


def _compute(e: Estimate) -> tuple[str, str]:
    return power_of_ten(e.value), f"[{power_of_ten(e.low)}, {power_of_ten(e.high)}]"


def render_section(comparison: RecipeComparison, accuracy: list[AccuracyRow] = (), paper_slope: float = 510.0) -> str:
    """Markdown: the recipes' slopes and perfect-play compute on one Elo scale, the slope
    differences, the verdicts, and the move-accuracy measure."""
    c = comparison
    pct = round(c.confidence * 100)
    law = c.law
    lines = ["## Recipes on one Elo scale", "",
             f"All recipes' snapshots of a board are rated in one tournament. Fit: the change-point law with a "
             f"slope and an intercept per recipe; the plateau (random play, one agent for every recipe) and the "
             f"incline's shift per board size are shared ({law.m_b_inc:.0f} Elo per board; with few boards a "
             f"per-recipe value trades off against the recipe's intercept). Intervals: {pct}%, {c.bootstrap} "
             "bootstrap refits over seeds, then ratings.", "",
             f"| recipe | slope (Elo per 10x compute) | {pct}% interval | "
             + " | ".join(f"perfect-play compute {b}x{b} | interval" for b in c.boards) + " |",
             "|---|---:|---:|" + "---:|---:|" * len(c.boards)]
    for recipe in law.recipes:
        s = c.slopes[recipe]
        cells = []
        for b in c.boards:
            cells += list(_compute(c.perfect_play_log10[recipe][b]))
        lines.append(f"| {recipe} | {s.value:.0f} | {_interval(s)} | " + " | ".join(cells) + " |")
    lines.append(f"| (paper, Jones 2021) | {paper_slope:.0f} | | "
                 + " | ".join(f"{_frontier.PAPER_PERFECT_PLAY_COMPUTE.get(b, math.nan):.2g} | " for b in c.boards)
                 + " |")
    lines += ["", f"| recipe vs `{c.reference}` | slope difference (Elo per 10x) | {pct}% interval "
                  "| perfect-play compute ratio (reference / recipe) | interval |", "|---|---:|---:|---:|---:|"]
    for recipe, d in c.slope_difference.items():
        s = c.compute_shift_log10[recipe]
        ratio = _compute(s)
        lines.append(f"| {recipe} | {d.value:+.0f} | {_interval(d, '{:+.0f}')} | {ratio[0]}x | {ratio[1]} |")
    lines += ["", "**Verdict.** " + " ".join(c.verdict(r) for r in c.slope_difference), ""]
    if accuracy:
        lines += ["Move accuracy against the solver (the trainer's measure, no tournament): per recipe and board, "
                  "the least compute at which a seed's runs passed the perfect-play test (accuracy >= 99%, no loss "
                  "as black against the perfect agent), and the best accuracy reached.", "",
                  "| recipe | board | seeds passing | perfect-play compute (median, range) | best accuracy | at compute |",
                  "|---|---:|---:|---:|---:|---:|"]
        for row in accuracy:
            if row.perfect_compute:
                pc = np.array(row.perfect_compute)
                perfect = f"{np.median(pc):.2g} [{pc.min():.2g}, {pc.max():.2g}]"
            else:
                perfect = "not reached"
            lines.append(f"| {row.recipe} | {row.board} | {len(row.perfect_compute)}/{row.seeds} | {perfect} "
                         f"| {row.best_accuracy:.3f} | {row.best_accuracy_compute:.2g} |")
        lines.append("")
    return "\n".join(lines)


def plot_overlay(comparison: RecipeComparison, stem) -> list:
    """One panel per board: each recipe's frontier (dots) and its fitted law (line), one colour
    per recipe, on the board's one Elo scale."""
    from matplotlib.figure import Figure

    from experiments.plots import ELO_LABEL, TRAIN_COMPUTE_LABEL, save_figure

    boards = comparison.boards
    law = comparison.law
    fig = Figure(figsize=(5.0 * len(boards), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(boards), squeeze=False)[0])
    colours = {r: f"C{i}" for i, r in enumerate(law.recipes)}
    for ax, board in zip(axes, boards):
        for recipe in law.recipes:
            f = comparison.frontiers[recipe].get(board)
            if f is None:
                continue
            x, y = f.points()
            ax.plot(10.0 ** x, y, "o", ms=3, color=colours[recipe], alpha=0.6)
            grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 200)
            slope = comparison.slopes[recipe].value
            ax.plot(10.0 ** grid, law.params(recipe).predict(grid, board), "-", color=colours[recipe],
                    label=f"{recipe}: {slope:.0f} Elo/10x")
        ax.axhline(PERFECT_PLAY_ELO, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_title(f"{board}x{board}: recipes' frontiers (dots) and fitted laws (lines)", fontsize=9)
        ax.set_xlabel(TRAIN_COMPUTE_LABEL, fontsize=8)
        ax.set_ylabel(ELO_LABEL, fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, stem)


def comparison_results(comparison: RecipeComparison, accuracy: list[AccuracyRow] = ()) -> dict:
    """Every number of the section, JSON-able (for results.json)."""
    c = comparison

    def e(x: Estimate):
        return {"value": x.value, "low": x.low, "high": x.high}

    return {
        "reference": c.reference, "confidence": c.confidence, "bootstrap": c.bootstrap,
        "shared": {"m_b_inc": c.law.m_b_inc, "m_b_plat": c.law.m_b_plat, "c_plat": c.law.c_plat},
        "recipes": {r: {"m_flops": c.law.m_flops[i], "c_inc": c.law.c_inc[i], "slope": e(c.slopes[r]),
                        "perfect_play_log10_compute": {str(b): e(v) for b, v in c.perfect_play_log10[r].items()}}
                    for i, r in enumerate(c.law.recipes)},
        "versus_reference": {r: {"slope_difference": e(c.slope_difference[r]),
                                 "compute_shift_log10": e(c.compute_shift_log10[r]), "verdict": c.verdict(r)}
                             for r in c.slope_difference},
        "accuracy": [row.__dict__ for row in accuracy],
    }


# ----------------------------------------------------------------------------- the pipeline's stage

@dataclass
class RecipeAnalysis:
    """What the reproduction adds for recipes and model size: report sections, figures
    (caption -> files) and results.json entries."""

    sections: list[str] = field(default_factory=list)
    figures: dict[str, list] = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def analyse_recipes(curves: list, config, snapshots_by_run: dict[str, list[dict]], pooled_law: ChangePointParams,
                    figures_dir, progress: bool = False) -> RecipeAnalysis:
    """The recipes comparison (when the sweep has two recipes or more) and the compute-optimal
    model size (per recipe, on the incline of its law), each skipped with a reason when the data
    cannot carry it (too few frontier points, one network size)."""
    from pathlib import Path

    from experiments import model_size

    a = config.analysis
    names = tuple(r.name for r in config.recipes)
    out = RecipeAnalysis()
    laws = {name: pooled_law for name in names}
    if len(names) > 1:
        try:
            comparison = compare_recipes(curves, reference=names[0], recipes=names,
                                         points_per_decade=a.points_per_decade, bootstrap=a.bootstrap,
                                         confidence=a.confidence, progress=progress)
        except ValueError as exc:
            out.skipped.append(f"recipe comparison: {exc}")
        else:
            accuracy = accuracy_measure(snapshots_by_run, config.runs())
            out.sections.append(render_section(comparison, accuracy))
            out.figures["Each recipe's frontier and fitted law, per board, on one Elo scale"] = plot_overlay(
                comparison, Path(figures_dir) / "recipes")
            out.results["recipes"] = comparison_results(comparison, accuracy)
            laws = {name: comparison.law.params(name) for name in names}
    fits = {}
    for name in names:
        mine = [c for c in curves if recipe_of(c) in (name, "")]
        try:
            fits[name if len(names) > 1 else ""] = model_size.fit_model_size(
                mine, a.points_per_decade, law=laws[name], bootstrap=a.bootstrap, confidence=a.confidence)
        except ValueError as exc:  # the figure still shows the runs; the section says why
            fits[name if len(names) > 1 else ""] = str(exc)
            out.skipped.append(f"optimal model size ({name}): {exc}")
    out.sections.append(model_size.render_section(fits))
    out.figures["Every run with the compute-optimal network marked, and its power law (paper Fig. 5 style)"] = \
        model_size.plot_model_size(curves, fits, Path(figures_dir) / "model_size")
    out.results["model_size"] = {
        r or "all": {"not_fitted": f} if isinstance(f, str) else
        {"exponent": f.exponent, "interval": list(f.interval), "offsets": {str(b): v for b, v in f.offsets.items()},
         "points": len(f.sizes), "at_edge": f.at_edge} for r, f in fits.items()}
    return out
