"""The reproduction's figures, each saved as PNG and SVG (atomically): run curves with the
frontier (paper Fig. 5), frontier with the fitted law (Fig. 6), Elo against test-time compute
(Fig. 8), the train/test trade-off (Fig. 9), and a board picture.

Figures are built on matplotlib's Figure directly (rendered by Agg for PNG), never pyplot, so
nothing here touches a global backend or leaks figures in a long-running process.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from experiments.frontier import ChangePointParams, Frontier, RunCurve
from experiments.tradeoff import IsoEloCurve, TestTimeRating, TradeoffFit
from hexzero.storage import atomic_write_bytes

TRAIN_COMPUTE_LABEL = "train compute (samples x nodes x params)"
TEST_COMPUTE_LABEL = "test compute per move (nodes x params)"
ELO_LABEL = "Elo (0 = perfect play)"
FORMATS = ("png", "svg")

# The report's captions: what every marker and line style means.
RUNS_CAPTION = (
    "Every run's Elo against train compute (paper Fig. 5), one panel per board: thin lines are runs (colour = "
    "network width, line style = depth; one line per seed), the wide pale band is the board's frontier (per grid "
    "point, the mean over seeds of each seed's best run), drawn under the runs so they stay visible. Elo 0 is "
    "perfect play on boards up to 6x6 (the guided perfect agent), the best agent above.")
FRONTIER_FIT_CAPTION = (
    "Frontiers with the fitted change-point law (paper Fig. 6): points joined by solid lines are each board's "
    "frontier, dashed lines the fitted law min(0, max(incline, plateau)) over the same compute range; colour = "
    "board size.")
TEST_TIME_CAPTION = (
    "Elo against test-time compute (paper Fig. 8): each line is one snapshot re-rated at every search node count "
    "(points), coloured by the snapshot's train compute.")
TRADEOFF_CAPTION = (
    "Train/test compute trade-off (paper Fig. 9): per Elo level (colour), the least test compute that reaches it "
    "at each train compute; filled points are measured, hollow points are snapshots that already reach the level "
    "at one search node (an upper bound on the test compute needed); dashed lines are the log-linear fit.")


def save_figure(fig, stem: str | Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg; returns the paths."""
    paths = []
    for fmt in FORMATS:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=120)  # the constrained layout already fits the labels
        path = Path(f"{stem}.{fmt}")
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    return paths


def _figure(panels: int = 1, panel_size=(5.0, 3.6)):
    from matplotlib.figure import Figure

    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def _no_minor_labels(ax):
    """Log axes spanning under a decade label their minor ticks too, and those overlap."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def _pale_end_cut(name: str):
    """A colormap without its last 15%, too pale to see on white (plasma's yellow)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps[name](np.linspace(0.0, 0.85, 256)))


def _board_colours(boards):
    cmap = _pale_end_cut("viridis")
    boards = sorted(boards)
    return {b: cmap(i / max(1, len(boards) - 1)) for i, b in enumerate(boards)}


def plot_run_curves(curves: list[RunCurve], frontiers: dict[int, Frontier], stem) -> list[Path]:
    """Fig. 5: one panel per board; every run's Elo against train compute (colour = width,
    line style = depth) and the frontier over them."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    boards = sorted(frontiers)
    fig, axes = _figure(len(boards))
    widths = [c.width for c in curves]
    norm = LogNorm(min(widths), max(max(widths), min(widths) * 2))
    cmap = _pale_end_cut("plasma")
    depths = sorted({c.depth for c in curves})
    style = {d: ("-", "--", ":", "-.")[i % 4] for i, d in enumerate(depths)}
    for ax, board in zip(axes, boards):
        # the frontier first, wide and pale: the runs it is made of stay visible on top of it
        x, y = frontiers[board].points()
        ax.plot(10.0 ** x, y, color="0.55", linewidth=7, alpha=0.35, solid_capstyle="round", zorder=1)
        for curve in (c for c in curves if c.board == board):
            ax.plot(curve.compute, curve.elo, style[curve.depth], color=cmap(norm(curve.width)), linewidth=1,
                    alpha=0.9, zorder=2)
        ax.set_xscale("log")
        ax.set_title(f"{board}x{board}")
        ax.set_xlabel(TRAIN_COMPUTE_LABEL)
        ax.set_ylabel(ELO_LABEL)
        ax.grid(True, which="major", alpha=0.3)
    seeds = len({c.seed for c in curves})
    handles = [Line2D([], [], color="0.55", linewidth=7, alpha=0.35,
                      label="frontier" + (f" (mean of {seeds} seeds)" if seeds > 1 else ""))]
    handles += [Line2D([], [], color="grey", linestyle=style[d], linewidth=1, label=f"run, depth {d}") for d in depths]
    axes[0].legend(handles=handles, loc="lower right", fontsize="small")
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), label="network width")
    bar.set_ticks(sorted(set(widths)), labels=[str(w) for w in sorted(set(widths))])
    bar.minorticks_off()
    return save_figure(fig, stem)


def plot_frontier_fit(frontiers: dict[int, Frontier], params: ChangePointParams, stem) -> list[Path]:
    """Fig. 6: every board's frontier (solid, points) with the fitted change-point law (dashed)."""
    fig, (ax,) = _figure(1, panel_size=(7.0, 4.8))
    colours = _board_colours(frontiers)
    for board, frontier in sorted(frontiers.items()):
        x, y = frontier.points()
        ax.plot(10.0 ** x, y, "o-", markersize=2.5, linewidth=1.2, color=colours[board], alpha=0.8, label=f"{board}x{board}")
        span = np.linspace(x.min(), x.max(), 200)
        ax.plot(10.0 ** span, params.predict(span, board), "--", color=colours[board], linewidth=1.8)
    ax.set_xscale("log")
    ax.set_xlabel(TRAIN_COMPUTE_LABEL)
    ax.set_ylabel(ELO_LABEL)
    ax.set_title(f"fitted law: {params.m_flops:.0f} Elo per 10x train compute")
    ax.grid(True, alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colours[b], marker="o", markersize=2.5, label=f"{b}x{b} frontier")
               for b in sorted(frontiers)]
    handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1.8, label="fitted law"))
    ax.legend(handles=handles, fontsize="small", loc="lower right")
    return save_figure(fig, stem)


def _train_norm(ratings: list[TestTimeRating]):
    from matplotlib.colors import LogNorm

    train = [r.train_compute for r in ratings]
    return LogNorm(min(train), max(max(train), min(train) * 10))


def plot_test_time(ratings: list[TestTimeRating], stem) -> list[Path]:
    """Fig. 8: each snapshot's Elo against its test compute (1..512 nodes), coloured by its
    train compute."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    fig, (ax,) = _figure(1, panel_size=(7.0, 4.8))
    norm, cmap = _train_norm(ratings), colormaps["viridis"]
    snapshots: dict[str, list[TestTimeRating]] = {}
    for r in ratings:
        snapshots.setdefault(r.snapshot, []).append(r)
    for group in snapshots.values():
        group.sort(key=lambda r: r.nodes)
        ax.plot([r.test_compute for r in group], [r.elo for r in group], "o-", markersize=2.5, linewidth=1,
                color=cmap(norm(group[0].train_compute)))
    ax.set_xscale("log")
    _no_minor_labels(ax)
    ax.set_xlabel(TEST_COMPUTE_LABEL)
    ax.set_ylabel(ELO_LABEL)
    nodes = sorted({r.nodes for r in ratings})
    ax.set_title(f"Elo against test-time compute ({nodes[0]}..{nodes[-1]} search nodes)")
    ax.grid(True, alpha=0.3)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=TRAIN_COMPUTE_LABEL)
    return save_figure(fig, stem)


def plot_tradeoff(curves: list[IsoEloCurve], fit: TradeoffFit | None, stem) -> list[Path]:
    """Fig. 9: per Elo level, the least test compute at each train compute (points and lines;
    hollow = already beaten at one node, an upper bound) and the log-linear fit (dashed)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig, (ax,) = _figure(1, panel_size=(7.0, 4.8))
    levels = [c.elo for c in curves]
    norm, cmap = Normalize(min(levels), max(max(levels), min(levels) + 1)), _pale_end_cut("plasma")
    for curve in curves:
        if not curve.log10_train.size:
            continue
        colour = cmap(norm(curve.elo))
        train, test = 10.0 ** curve.log10_train, 10.0 ** curve.log10_test
        ax.plot(train, test, "-", color=colour, linewidth=1.2)
        ax.plot(train[~curve.floor], test[~curve.floor], "o", color=colour, markersize=3.5)
        ax.plot(train[curve.floor], test[curve.floor], "o", markerfacecolor="none", color=colour, markersize=3.5)
        if fit is not None:
            span = np.linspace(curve.log10_train.min(), curve.log10_train.max(), 50)
            ax.plot(10.0 ** span, 10.0 ** fit.log10_test(span, curve.elo), "--", color=colour, linewidth=0.9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(TRAIN_COMPUTE_LABEL)
    ax.set_ylabel(TEST_COMPUTE_LABEL)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="grey", marker="o", linestyle="none", markersize=3.5, label="least test compute"),
               Line2D([], [], color="grey", marker="o", markerfacecolor="none", linestyle="none", markersize=3.5,
                      label="reached at 1 node (upper bound)")]
    if fit is not None:
        handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=0.9, label="log-linear fit"))
    ax.legend(handles=handles, fontsize="small", loc="upper right")
    if fit is not None:
        ax.set_title(f"fit: log10 test = {fit.a:.2f} log10 train + {fit.b:.4f} Elo + {fit.c:.1f}", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="Elo level")
    return save_figure(fig, stem)


def plot_board(board_row, n: int, stem, title=None, last_move=None) -> list[Path]:
    """A Hex position as PNG and SVG (drawn by `hexzero.draw.draw_board`)."""
    from hexzero.draw import draw_board

    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        draw_board(board_row, n, path, title=title, last_move=last_move)
        paths.append(path)
    return paths
