"""The compute-optimal model size: at each board and compute level, which network (width and
depth) is on the frontier, and a power law of the optimal parameter count against compute
(Neumann & Gros 2023 fit N_opt ~ C^0.62 on Connect Four and Pentago; the paper's Fig. 5 shows
the same drift to bigger models but never fits it).

Read top to bottom: each (width, depth) cell's mean curve over its seeds -> the best cell at
each grid point where the frontier is on its incline -> log10 N_opt = a log10 C + k_board by
least squares -> bootstrap (seeds, then ratings) for the exponent -> the Fig. 5-style figure.

Why the mean over seeds and only the incline: the optimal size is a property of the model, not
of its luckiest seed, so cells compete with their seed means; on the random-play plateau and at
perfect play every model ties, and the argmax there is rating noise, so those grid points are
left out (the incline as the frontier fit places it). Where the optimum is the sweep's
smallest or largest network it bounds the true optimum from one side only, which flattens the
exponent; the report counts those points.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from experiments.frontier import ChangePointParams, board_end, interpolate_curve, log_grid


@lru_cache(maxsize=None)
def parameter_count(board: int, width: int, depth: int, arch: str = "mlp") -> int:
    """Weights and biases of the sweep's network (hexzero.network)."""
    from hexzero.network import make_network

    return int(make_network(arch, board, width, depth).parameter_count())


@dataclass(frozen=True)
class OptimalSize:
    """The best (width, depth) cell at one board and compute level."""

    board: int
    log10_compute: float
    width: int
    depth: int
    params: int
    elo: float


def optimal_sizes(curves: list, points_per_decade: int = 10, laws: dict[int, ChangePointParams] | None = None,
                  law: ChangePointParams | None = None) -> list[OptimalSize]:
    """At each grid point of each board where two cells at least cover it and the frontier of
    cell means is on its incline (by `law`, or `laws[board]`; with neither, every grid point
    below perfect play counts), the cell with the best seed-mean Elo."""
    from experiments.frontier import PERFECT_PLAY_ELO

    grid = log_grid(curves, points_per_decade)
    out = []
    for board in sorted({c.board for c in curves}):
        cells: dict[tuple[int, int], list[np.ndarray]] = {}
        runs = [c for c in curves if c.board == board]
        for curve in runs:  # capped runs hold their last Elo, as on the frontier
            cells.setdefault((curve.width, curve.depth), []).append(
                interpolate_curve(curve, grid, hold_until=board_end(runs)))
        keys = sorted(cells)
        with np.errstate(all="ignore"):
            # a cell's mean where all its seeds cover the point
            table = np.stack([np.mean(np.stack(cells[k]), axis=0) for k in keys])
        covered = np.isfinite(table).sum(axis=0)
        filled = np.where(np.isfinite(table), table, -np.inf)
        best = np.argmax(filled, axis=0)
        elo = filled[best, np.arange(grid.size)]
        board_law = (laws or {}).get(board, law)
        if board_law is not None:
            keep = board_law.on_incline(grid, board)
        else:
            keep = elo < PERFECT_PLAY_ELO
        keep &= covered >= 2
        for i in np.flatnonzero(keep):
            width, depth = keys[best[i]]
            out.append(OptimalSize(board, float(grid[i]), width, depth, parameter_count(board, width, depth),
                                   float(elo[i])))
    return out


def fit_power_law(sizes: list[OptimalSize]) -> tuple[float, dict[int, float]]:
    """log10 N_opt = exponent * log10 C + offset[board], least squares: one exponent for every
    board, an offset per board (its input and output layers differ in size)."""
    boards = sorted({s.board for s in sizes})
    x = np.array([s.log10_compute for s in sizes])
    y = np.log10([s.params for s in sizes])
    design = np.column_stack([x] + [np.array([s.board == b for s in sizes], dtype=float) for b in boards])
    if len(sizes) < len(boards) + 2 or np.linalg.matrix_rank(design) < len(boards) + 1:
        raise ValueError(f"need optimal sizes at two compute levels at least on some board, got {len(sizes)} points")
    sol = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(sol[0]), {b: float(v) for b, v in zip(boards, sol[1:])}


@dataclass(frozen=True)
class ModelSizeFit:
    exponent: float
    interval: tuple[float, float]
    offsets: dict[int, float]
    confidence: float
    sizes: list[OptimalSize]
    bootstrap: np.ndarray = field(repr=False)
    at_edge: int = 0   # points whose optimum is the board's smallest or largest network

    def optimal_params(self, log10_compute, board: int):
        return 10.0 ** (self.exponent * np.asarray(log10_compute) + self.offsets[board])


def fit_model_size(curves: list, points_per_decade: int = 10, laws: dict[int, ChangePointParams] | None = None,
                   law: ChangePointParams | None = None, bootstrap: int = 200, confidence: float = 0.9,
                   seed: int = 0, resample=None) -> ModelSizeFit:
    """The power law of the optimal parameter count and a percentile interval of its exponent
    over `bootstrap` replicates of `resample` (default: the two-level seeds-then-ratings
    bootstrap); the incline mask stays the full fit's."""
    if resample is None:
        from experiments.frontier import resample_curves as resample
    sizes = optimal_sizes(curves, points_per_decade, laws, law)
    exponent, offsets = fit_power_law(sizes)
    extremes = {}
    for c in curves:
        n = parameter_count(c.board, c.width, c.depth)
        lo, hi = extremes.get(c.board, (n, n))
        extremes[c.board] = (min(lo, n), max(hi, n))
    at_edge = sum(s.params in extremes[s.board] for s in sizes)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(bootstrap):
        try:
            draws.append(fit_power_law(optimal_sizes(resample(curves, rng), points_per_decade, laws, law))[0])
        except ValueError:
            continue
    draws = np.array(draws)
    tail = (1.0 - confidence) / 2.0
    interval = tuple(float(v) for v in np.quantile(draws, [tail, 1 - tail])) if draws.size else (math.nan, math.nan)
    return ModelSizeFit(exponent, interval, offsets, confidence, sizes, draws, at_edge)


def render_section(fits: dict[str, ModelSizeFit | str]) -> str:
    """Markdown: the exponent per recipe beside Neumann & Gros's, and the optimal network per
    board and compute decade. A recipe whose fit failed maps to the reason."""
    lines = ["## Compute-optimal model size", "",
             "At each board and compute level on the incline, the network (width x depth) whose seed-mean Elo is "
             "highest; fitted log10 N_opt = a log10 C + k_board (one exponent a, an offset per board).", "",
             "Points whose optimum is the sweep's smallest or largest network bound it from one side only "
             "(they flatten the exponent).", "",
             "| recipe | exponent a | interval | optimal-size points | of which at the sweep's smallest/largest network |",
             "|---|---:|---:|---:|---:|"]
    for recipe, fit in fits.items():
        if isinstance(fit, str):
            lines.append(f"| {recipe or 'all runs'} | not fitted: {fit} | | | |")
            continue
        pct = round(fit.confidence * 100)
        lines.append(f"| {recipe or 'all runs'} | {fit.exponent:.2f} | {pct}%: [{fit.interval[0]:.2f}, "
                     f"{fit.interval[1]:.2f}] | {len(fit.sizes)} | {fit.at_edge} |")
    lines += ["| (Neumann & Gros 2023, Connect Four / Pentago; recalled, unverified) | 0.62 | | | |", "",
              "| recipe | board | compute | optimal network (width x depth) | parameters |", "|---|---:|---:|---|---:|"]
    for recipe, fit in fits.items():
        if isinstance(fit, str):
            continue
        seen = set()
        for s in fit.sizes:
            decade = (s.board, math.floor(s.log10_compute))
            if decade in seen:
                continue
            seen.add(decade)
            lines.append(f"| {recipe or 'all runs'} | {s.board} | {10.0 ** s.log10_compute:.2g} | {s.width} x {s.depth} "
                         f"| {s.params:,} |")
    return "\n".join(lines) + "\n"


def plot_model_size(curves: list, fits: dict[str, ModelSizeFit | str], stem) -> list:
    """The paper's Fig. 5 per board and recipe (every run's Elo against compute, colour =
    parameter count), with the compute-optimal network marked on the frontier (stars, coloured
    by its size), and a last panel: the optimal parameter count against compute with the fitted
    power law (or why there is none)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    from experiments.plots import ELO_LABEL, TRAIN_COMPUTE_LABEL, save_figure

    boards = sorted({c.board for c in curves})
    recipes = list(fits)
    fig = Figure(figsize=(4.6 * (len(boards) + 1), 3.6 * len(recipes)), layout="constrained")
    axes = fig.subplots(len(recipes), len(boards) + 1, squeeze=False)
    params = [parameter_count(c.board, c.width, c.depth) for c in curves]
    norm = LogNorm(min(params), max(max(params), 2 * min(params)))
    cmap = "viridis"
    colour = colormaps[cmap]
    for row, recipe in enumerate(recipes):
        fit = fits[recipe]
        for col, board in enumerate(boards):
            ax = axes[row, col]
            for c in curves:
                if c.board == board and (not recipe or getattr(c, "recipe", "") == recipe):
                    ax.plot(c.compute, c.elo, "-", color=colour(norm(parameter_count(board, c.width, c.depth))),
                            linewidth=0.8, alpha=0.7)
            marks = [] if isinstance(fit, str) else [s for s in fit.sizes if s.board == board]
            if marks:
                ax.scatter([10.0 ** s.log10_compute for s in marks], [s.elo for s in marks],
                           c=[s.params for s in marks], cmap=cmap, norm=norm, marker="*", s=40, edgecolors="black",
                           linewidths=0.4, zorder=3, label="compute-optimal network")
                ax.legend(fontsize=7, loc="lower right")
            ax.set_xscale("log")
            ax.set_title(f"{board}x{board}{f' ({recipe})' if recipe else ''}: runs and optimal size", fontsize=9)
            ax.set_xlabel(TRAIN_COMPUTE_LABEL, fontsize=8)
            ax.set_ylabel(ELO_LABEL, fontsize=8)
        ax = axes[row, len(boards)]
        if isinstance(fit, str):
            ax.text(0.5, 0.5, "no optimal-size fit:\n" + textwrap.fill(fit, 40), ha="center", va="center", fontsize=8,
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        for i, board in enumerate(boards):
            marks = [s for s in fit.sizes if s.board == board]
            if not marks:
                continue
            x = np.array([s.log10_compute for s in marks])
            ax.plot(10.0 ** x, [s.params for s in marks], "o", ms=3, color=f"C{i}", label=f"{board}x{board}")
            line = np.linspace(x.min(), x.max(), 50)
            ax.plot(10.0 ** line, fit.optimal_params(line, board), "-", color=f"C{i}", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"optimal parameters ~ C^{fit.exponent:.2f} [{fit.interval[0]:.2f}, {fit.interval[1]:.2f}]",
                     fontsize=9)
        ax.set_xlabel(TRAIN_COMPUTE_LABEL, fontsize=8)
        ax.set_ylabel("parameters of the optimal network", fontsize=8)
        ax.legend(fontsize=7)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes.ravel().tolist(), label="parameters (runs and stars)",
                 shrink=0.8)
    return save_figure(fig, stem)
