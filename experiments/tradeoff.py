"""The train/test compute trade-off (the paper's Figs. 8-9): snapshots re-rated at test-time
node counts 1..512; for each Elo level, the least test compute that reaches it at each train
compute (iso-Elo curves), and the fit log10(test) = a log10(train) + b Elo + c.

Test compute = nodes x forward cost (paper units: parameters per forward pass).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TEST_NODES = tuple(2 ** k for k in range(10))  # 1..512, as the paper
PAPER_TRADEOFF = {"a": -1.2, "b": 0.004, "c": 29.0}


@dataclass(frozen=True)
class TestTimeRating:
    """One snapshot played with `nodes` search nodes per move, and its Elo."""

    __test__ = False  # not a pytest class, despite the name

    snapshot: str
    train_compute: float
    forward_cost: float
    nodes: int
    elo: float
    board: int | None = None  # the trade-off is read on one board size; None: not recorded

    def __post_init__(self):
        if not (math.isfinite(self.train_compute) and self.train_compute > 0):
            raise ValueError(f"{self.snapshot}: train_compute must be positive, got {self.train_compute!r}")
        if not (math.isfinite(self.forward_cost) and self.forward_cost > 0):
            raise ValueError(f"{self.snapshot}: forward_cost must be positive, got {self.forward_cost!r}")
        if isinstance(self.nodes, bool) or int(self.nodes) != self.nodes or self.nodes < 1:
            raise ValueError(f"{self.snapshot}: nodes must be a positive integer, got {self.nodes!r}")
        if not math.isfinite(self.elo):
            raise ValueError(f"{self.snapshot}: Elo must be finite, got {self.elo!r}")

    @property
    def test_compute(self) -> float:
        return self.nodes * self.forward_cost


@dataclass(frozen=True)
class IsoEloCurve:
    """For one Elo level: the (train, test) compute pairs on the minimum-compute front, sorted
    by train compute (test compute falling). `floor` marks points where even one node beat the
    level: their test compute is an upper bound, not a measurement, and the fit leaves them out."""

    elo: float
    log10_train: np.ndarray
    log10_test: np.ndarray
    floor: np.ndarray


def _by_snapshot(ratings: list[TestTimeRating]) -> dict[str, list[TestTimeRating]]:
    if not ratings:
        raise ValueError("no test-time ratings")
    boards = sorted({r.board for r in ratings if r.board is not None})
    if len(boards) > 1:
        raise ValueError(f"test-time ratings of several board sizes {boards}: the trade-off is read per board")
    groups: dict[str, list[TestTimeRating]] = {}
    for r in ratings:
        groups.setdefault(r.snapshot, []).append(r)
    for name, group in groups.items():
        group.sort(key=lambda r: r.nodes)
        if len({r.nodes for r in group}) != len(group):
            raise ValueError(f"snapshot {name} is rated twice at one node count")
        if len({(r.train_compute, r.forward_cost) for r in group}) != 1:
            raise ValueError(f"snapshot {name} has differing train compute or forward cost across node counts")
    return groups


def log10_test_compute_to_reach(group: list[TestTimeRating], elo: float) -> tuple[float, bool] | None:
    """log10 test compute at which this snapshot first reaches `elo` (linear in log test
    compute between node counts), and whether it already did at its fewest nodes; None if it
    never does."""
    x = np.log10([r.test_compute for r in group])
    # the best Elo at this test compute or less: more nodes that play worse are not needed
    y = np.maximum.accumulate([r.elo for r in group])
    if y[-1] < elo:
        return None
    if y[0] >= elo:
        return float(x[0]), True
    i = int(np.argmax(y >= elo))
    t = (elo - y[i - 1]) / (y[i] - y[i - 1])
    return float(x[i - 1] + t * (x[i] - x[i - 1])), False


def iso_elo_curves(ratings: list[TestTimeRating], levels) -> list[IsoEloCurve]:
    """Per Elo level, the Pareto front of (train, test) compute over snapshots reaching it: a
    snapshot stays when no snapshot with less or equal train compute needs less or equal test
    compute."""
    groups = _by_snapshot(ratings)
    curves = []
    for level in levels:
        reached = []
        for group in groups.values():
            hit = log10_test_compute_to_reach(group, float(level))
            if hit is not None:
                reached.append((math.log10(group[0].train_compute), hit[0], hit[1]))
        reached.sort(key=lambda p: (p[0], p[1]))
        front, best = [], math.inf
        for point in reached:
            if point[1] < best:
                front.append(point)
                best = point[1]
        arr = np.array(front, dtype=float).reshape(-1, 3)
        curves.append(IsoEloCurve(float(level), arr[:, 0], arr[:, 1], arr[:, 2].astype(bool)))
    return curves


def default_levels(ratings: list[TestTimeRating], step: float = 100.0) -> np.ndarray:
    """Elo levels at multiples of `step` strictly inside the range the ratings span."""
    elos = np.array([r.elo for r in ratings])
    lo, hi = math.floor(elos.min() / step) + 1, math.ceil(elos.max() / step) - 1
    return np.arange(lo, hi + 1) * step


@dataclass(frozen=True)
class TradeoffFit:
    """log10(test) = a log10(train) + b Elo + c, over the iso-Elo fronts' measured points."""

    a: float
    b: float
    c: float
    points: int
    r2: float

    @property
    def test_saving_per_10x_train(self) -> float:
        """Factor of test compute saved by 10x more train compute at equal Elo."""
        return 10.0 ** -self.a

    def log10_test(self, log10_train, elo):
        return self.a * np.asarray(log10_train) + self.b * np.asarray(elo) + self.c


def fit_tradeoff(curves: list[IsoEloCurve]) -> TradeoffFit:
    rows, target = [], []
    for curve in curves:
        keep = ~curve.floor
        for x, t in zip(curve.log10_train[keep], curve.log10_test[keep]):
            rows.append((x, curve.elo, 1.0))
            target.append(t)
    design, target = np.array(rows).reshape(-1, 3), np.array(target)
    if len(target) < 4 or np.linalg.matrix_rank(design) < 3:
        raise ValueError(f"the trade-off fit needs points at >= 2 Elo levels and >= 2 train computes; got {len(target)} points")
    coef = np.linalg.lstsq(design, target, rcond=None)[0]
    residual = target - design @ coef
    total = target - target.mean()
    return TradeoffFit(a=float(coef[0]), b=float(coef[1]), c=float(coef[2]), points=len(target),
                       r2=float(1.0 - residual @ residual / (total @ total)))


def compare_tradeoff_with_paper(fit: TradeoffFit) -> str:
    """Markdown: our trade-off coefficients beside the paper's (9x9)."""
    paper = PAPER_TRADEOFF
    return "\n".join([
        "| quantity | ours | paper |", "|---|---:|---:|",
        f"| a (per log10 train compute) | {fit.a:.2f} | {paper['a']:.1f} |",
        f"| b (per Elo) | {fit.b:.4f} | {paper['b']:.3f} |",
        f"| c | {fit.c:.1f} | {paper['c']:.0f} |",
        f"| test compute saved per 10x train | {fit.test_saving_per_10x_train:.1f}x | ~15x |",
        f"| R^2 ({fit.points} points) | {fit.r2:.3f} | |",
    ])
