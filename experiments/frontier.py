"""The compute frontier and the paper's change-point law.

Read top to bottom: run curves (the data in) -> frontier per board on a common log10-compute
grid -> the 5-parameter change-point model and its least-squares fit -> bootstrap intervals ->
derived figures -> the table beside the paper's values.

Units: compute in the paper's units (samples x nodes x parameters), Elo with 0 = the strongest
agent of a board size: the perfect agent on boards up to 6x6, which the solver reaches.

Runs that stop early. A run ended by its sample cap (a small network that has stopped
learning) holds its last snapshot's Elo up to the board's last snapshot: a larger budget may
still stop where it stopped, so its Elo stays available. The frontier of a board is therefore
its best Elo reachable with at most that compute, never dropping where a capped run ends.

Seeds. A sweep may train every network (a *cell*: board, recipe, width, depth) with several
seeds. A board's frontier is then the mean over seeds of each seed's own frontier (the max over
that seed's runs): the expected frontier of a one-seed sweep, so more seeds narrow the
intervals instead of lifting the frontier (a max over every seed's runs climbs with the number
of seeds, as the max of k noisy curves does). The intervals come from a two-level bootstrap
(`resample_curves`): runs redrawn among the seeds of their cell, then each drawn run's ratings
redrawn from their intervals.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # only speed depends on it
    threadpool_limits = None

# Natural-log Elo: the paper fits in these units; 1 nat = 400 / ln 10 Elo.
ELO_PER_NAT = 400.0 / math.log(10.0)
# The paper calls a frontier point perfect play when it is within 50 Elo of the top agent.
PERFECT_PLAY_ELO = -50.0


# ----------------------------------------------------------------------------- data in

@dataclass(frozen=True)
class CurvePoint:
    """One rated snapshot of a run: its train compute and Elo with the rating's interval."""

    compute: float
    elo: float
    elo_low: float = math.nan
    elo_high: float = math.nan


@dataclass(frozen=True)
class RunCurve:
    """A training run's Elo against compute. Points may come in any order; they are kept sorted
    by compute. `seed` and `recipe` say which replicate of which trainer recipe it is; runs
    differing only in seed are replicates of one cell (`cell`)."""

    name: str
    board: int
    width: int
    depth: int
    points: tuple[CurvePoint, ...]
    seed: int = 0
    recipe: str = ""

    def __post_init__(self):
        points = tuple(p if isinstance(p, CurvePoint) else CurvePoint(*p) for p in self.points)
        if not points:
            raise ValueError(f"run {self.name!r} has no points")
        for p in points:
            if not (math.isfinite(p.compute) and p.compute > 0):
                raise ValueError(f"run {self.name!r}: compute must be positive and finite, got {p.compute!r}")
            if not math.isfinite(p.elo):
                raise ValueError(f"run {self.name!r}: Elo must be finite, got {p.elo!r} at compute {p.compute:g}")
        computes = [p.compute for p in points]
        if len(set(computes)) != len(computes):
            raise ValueError(f"run {self.name!r} has two points at the same compute")
        self._set_points(tuple(sorted(points, key=lambda p: p.compute)))

    def _set_points(self, points: tuple[CurvePoint, ...]) -> None:
        object.__setattr__(self, "points", points)
        # arrays kept beside the points: a bootstrap reads them thousands of times
        arrays = np.array([(p.compute, p.elo, p.elo_low, p.elo_high) for p in points], dtype=float).T
        for name, values in zip(("compute", "elo", "low", "high"), arrays):
            values.flags.writeable = False
            object.__setattr__(self, f"_{name}", values)

    def redrawn(self, elo: np.ndarray | None = None, seed: int | None = None) -> "RunCurve":
        """This run with new Elo values at the same computes and intervals, and/or another seed
        label; no re-validation (the bootstrap's fast path)."""
        curve = object.__new__(RunCurve)
        for f in dataclasses.fields(self):
            object.__setattr__(curve, f.name, getattr(self, f.name))
        if seed is not None:
            object.__setattr__(curve, "seed", int(seed))
        if elo is None:
            for name in ("compute", "elo", "low", "high"):
                object.__setattr__(curve, f"_{name}", getattr(self, f"_{name}"))
        else:
            curve._set_points(tuple(CurvePoint(p.compute, float(e), p.elo_low, p.elo_high)
                                    for p, e in zip(self.points, elo)))
        return curve

    @property
    def cell(self) -> tuple[int, str, int, int]:
        """(board, recipe, width, depth): the network and recipe, whatever the seed."""
        return (self.board, self.recipe, self.width, self.depth)

    @classmethod
    def from_arrays(cls, name: str, board: int, width: int, depth: int, compute, elo, low=None,
                    high=None, seed: int = 0, recipe: str = "") -> "RunCurve":
        """A curve from parallel arrays: compute, Elo and (optionally) each rating's interval."""
        compute, elo = np.asarray(compute, dtype=float), np.asarray(elo, dtype=float)
        low = np.full(compute.shape, math.nan) if low is None else np.asarray(low, dtype=float)
        high = np.full(compute.shape, math.nan) if high is None else np.asarray(high, dtype=float)
        if not (compute.ndim == 1 and compute.shape == elo.shape == low.shape == high.shape):
            raise ValueError(f"run {name!r}: compute, elo, low and high must be 1-d arrays of one length")
        return cls(name, board, width, depth, tuple(CurvePoint(*map(float, row)) for row in zip(compute, elo, low, high)),
                   seed=seed, recipe=recipe)

    @property
    def compute(self) -> np.ndarray:
        return self._compute

    @property
    def log10_compute(self) -> np.ndarray:
        return np.log10(self._compute)

    @property
    def elo(self) -> np.ndarray:
        return self._elo

    @property
    def low(self) -> np.ndarray:
        return self._low

    @property
    def high(self) -> np.ndarray:
        return self._high


def log_grid(curves: list[RunCurve], points_per_decade: int = 10) -> np.ndarray:
    """log10-compute grid points at multiples of 1/points_per_decade covering every run."""
    if not curves:
        raise ValueError("no run curves")
    if points_per_decade < 1:
        raise ValueError(f"points_per_decade must be >= 1, got {points_per_decade}")
    lo = min(c.log10_compute[0] for c in curves)
    hi = max(c.log10_compute[-1] for c in curves)
    # round() first so a compute of exactly 1e11 lands on its grid point, not one step out
    k_lo = math.floor(round(lo * points_per_decade, 9))
    k_hi = math.ceil(round(hi * points_per_decade, 9))
    return np.arange(k_lo, k_hi + 1) / points_per_decade


def interpolate_curve(curve: RunCurve, grid: np.ndarray, hold_until: float | None = None) -> np.ndarray:
    """The run's Elo at each grid point, linear in log10 compute; NaN before its first snapshot,
    and after its last one NaN too, unless `hold_until` (log10 compute) is given: up to there
    the run holds its last snapshot's Elo. Never extrapolated along its slope."""
    x, y = curve.log10_compute, curve.elo
    tol = 1e-9
    end = x[-1] if hold_until is None else max(x[-1], hold_until)
    inside = (grid >= x[0] - tol) & (grid <= end + tol)
    out = np.full(grid.shape, np.nan)
    out[inside] = np.interp(grid[inside], x, y)  # np.interp holds y[-1] beyond x[-1]
    return out


def board_end(curves: list[RunCurve]) -> float:
    """log10 compute of the last snapshot of a board's runs: how far its frontier reaches."""
    return max(c.log10_compute[-1] for c in curves)


@dataclass(frozen=True)
class Frontier:
    """One board's frontier on the common grid: the best Elo reached by any of a seed's runs,
    averaged over the seeds covering the point (NaN where no run does), and the run rated
    highest there over all seeds."""

    board: int
    log10_compute: np.ndarray
    elo: np.ndarray
    best_run: tuple[str | None, ...]
    seeds: tuple[int, ...] = (0,)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The covered grid points: (log10 compute, Elo)."""
        keep = np.isfinite(self.elo)
        return self.log10_compute[keep], self.elo[keep]


def _max_over_runs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per grid column of a [runs, grid] table with NaN gaps: (max, row of the max; -1 and NaN
    where no row covers the column)."""
    covered = np.isfinite(table).any(axis=0)
    best = np.where(covered, np.argmax(np.where(np.isfinite(table), table, -np.inf), axis=0), -1)
    return np.where(covered, table[best, np.arange(table.shape[1])], np.nan), best


def compute_frontiers(curves: list[RunCurve], points_per_decade: int = 10) -> dict[int, Frontier]:
    """The frontier of each board, all on one common grid (seeds: see the module docstring)."""
    grid = log_grid(curves, points_per_decade)
    frontiers = {}
    for board in sorted({c.board for c in curves}):
        runs = [c for c in curves if c.board == board]
        # A run that stopped early (its sample cap) holds its last Elo up to the board's
        # last snapshot: with a larger budget one may still stop there. Without the hold the
        # frontier drops wherever a capped small network ends before a larger one has
        # overtaken it, which no change-point law describes.
        end = board_end(runs)
        table = np.stack([interpolate_curve(c, grid, hold_until=end) for c in runs])
        seeds = sorted({c.seed for c in runs})
        seed_of = np.array([c.seed for c in runs])
        per_seed = np.stack([_max_over_runs(table[seed_of == s])[0] for s in seeds])
        covered = np.isfinite(per_seed).any(axis=0)
        elo = np.full(grid.size, np.nan)
        elo[covered] = np.nanmean(per_seed[:, covered], axis=0)
        best = _max_over_runs(table)[1]
        names = tuple(runs[i].name if i >= 0 else None for i in best)
        frontiers[board] = Frontier(board, grid, elo, names, tuple(seeds))
    return frontiers


def frontier_points(frontiers: dict[int, Frontier]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All frontiers' covered points flattened: (board, log10 compute, Elo)."""
    boards, xs, ys = [], [], []
    for board, frontier in sorted(frontiers.items()):
        x, y = frontier.points()
        boards.append(np.full(x.size, board, dtype=float))
        xs.append(x)
        ys.append(y)
    return np.concatenate(boards), np.concatenate(xs), np.concatenate(ys)


# ----------------------------------------------------------------------------- the model

PARAM_NAMES = ("m_flops", "m_b_inc", "c_inc", "m_b_plat", "c_plat")


@dataclass(frozen=True)
class ChangePointParams:
    """incline(C, b) = m_flops log10 C + m_b_inc b + c_inc; plateau(b) = m_b_plat b + c_plat;
    Elo = min(0, max(incline, plateau)). Elo units."""

    m_flops: float
    m_b_inc: float
    c_inc: float
    m_b_plat: float
    c_plat: float

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, n) for n in PARAM_NAMES], dtype=float)

    @classmethod
    def from_array(cls, values) -> "ChangePointParams":
        return cls(*(float(v) for v in values))

    def incline(self, log10_compute, board):
        return self.m_flops * np.asarray(log10_compute) + self.m_b_inc * np.asarray(board) + self.c_inc

    def plateau(self, board):
        return self.m_b_plat * np.asarray(board) + self.c_plat

    def predict(self, log10_compute, board):
        return np.minimum(0.0, np.maximum(self.incline(log10_compute, board), self.plateau(board)))

    def on_incline(self, log10_compute, board) -> np.ndarray:
        """Where the model is on its incline: above the plateau and below perfect play."""
        incline = self.incline(log10_compute, board)
        return (incline > self.plateau(board)) & (incline < 0.0)

    def on_plateau(self, log10_compute, board) -> np.ndarray:
        """Where the model is on its plateau (random play): above the incline, below 0."""
        plateau = self.plateau(board) * np.ones_like(np.asarray(log10_compute, dtype=float))
        return (plateau > self.incline(log10_compute, board)) & (plateau < 0.0)

    # derived figures
    def perfect_play_log10_compute(self, board, threshold: float = PERFECT_PLAY_ELO):
        """log10 compute where the incline reaches `threshold` Elo."""
        return (threshold - self.m_b_inc * np.asarray(board) - self.c_inc) / self.m_flops

    def takeoff_log10_compute(self, board):
        """log10 compute where the incline leaves the plateau."""
        return ((self.m_b_plat - self.m_b_inc) * np.asarray(board) + self.c_plat - self.c_inc) / self.m_flops

    def random_play_gap(self, board):
        """Elo between perfect play and the plateau (random play)."""
        return -self.plateau(board)

    @property
    def perfect_play_growth(self) -> float:
        """Factor of compute for perfect play per +1 board size."""
        return 10.0 ** (-self.m_b_inc / self.m_flops)

    @property
    def takeoff_growth(self) -> float:
        """Factor of takeoff compute per +1 board size."""
        return 10.0 ** ((self.m_b_plat - self.m_b_inc) / self.m_flops)

    @property
    def random_gap_growth(self) -> float:
        """Elo added to the random-play gap per +1 board size."""
        return -self.m_b_plat

    @property
    def double_compute_win_rate(self) -> float:
        """Chance that an agent on the incline beats one with half its compute."""
        return 1.0 / (1.0 + 10.0 ** (-self.m_flops * math.log10(2.0) / 400.0))


# Table III of the paper, and the values the reference states or its table implies.
PAPER_PARAMS = ChangePointParams(m_flops=510.0, m_b_inc=-430.0, c_inc=-4400.0, m_b_plat=-270.0, c_plat=570.0)
PAPER_PERFECT_PLAY_COMPUTE = {3: 1.4e11, 4: 1.0e12, 5: 7.0e12, 6: 4.9e13, 7: 3.4e14, 8: 2.4e15, 9: 1.6e16}
# Figures derived from the law, each a function of the parameters (so the bootstrap's draws give
# its interval); PAPER_DERIVED holds the paper's values under the same names.
DERIVED_FIGURES = {
    "slope": lambda p: p.m_flops,
    "double_compute_win_rate": lambda p: p.double_compute_win_rate,
    "perfect_play_growth": lambda p: p.perfect_play_growth,
    "takeoff_growth": lambda p: p.takeoff_growth,
    "random_gap_growth": lambda p: p.random_gap_growth,
}
PLATEAU_FIGURES = ("takeoff_growth", "random_gap_growth")
PAPER_DERIVED = {
    "slope": 500.0,                  # Elo per 10x compute, as stated
    "perfect_play_growth": 7.0,      # x compute per +1 board size
    "takeoff_growth": 2.0,           # the table implies ~2x (the text says ~4x)
    "random_gap_growth": 270.0,      # Elo per +1 board size from the table (the text says ~500)
    "double_compute_win_rate": 2 / 3,
}


# ----------------------------------------------------------------------------- the fit

def _one_blas_thread():
    """L-BFGS-B calls BLAS on 5x5 matrices thousands of times; OpenBLAS threads spin-waiting on
    a busy 2-core machine made a bootstrap ~30x slower (14.5 s vs 0.5 s), so fits run on one."""
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _loss_and_grad(theta_nats: np.ndarray, board: np.ndarray, x: np.ndarray, y_nats: np.ndarray):
    """Sum of squared residuals (natural-log Elo units) and its gradient. The model is
    piecewise linear in the parameters, so on each piece the gradient is exact."""
    m_flops, m_b_inc, c_inc, m_b_plat, c_plat = theta_nats
    incline = m_flops * x + m_b_inc * board + c_inc
    plateau = m_b_plat * board + c_plat
    on_incline = (incline >= plateau) & (incline < 0.0)
    on_plateau = (plateau > incline) & (plateau < 0.0)
    pred = np.minimum(0.0, np.maximum(incline, plateau))
    r = pred - y_nats
    ri, rp = 2.0 * r * on_incline, 2.0 * r * on_plateau
    grad = np.array([ri @ x, ri @ board, ri.sum(), rp @ board, rp.sum()])
    return float(r @ r), grad


def _region_least_squares(theta_nats, board, x, y_nats, max_iter: int = 50) -> np.ndarray:
    """Refine by alternating: assign each point to incline / plateau / perfect under the current
    parameters, then solve each linear piece exactly; repeat until the assignment stops changing.
    Lands exactly on the minimum of the piece L-BFGS stopped near."""
    theta = np.array(theta_nats, dtype=float)
    previous = None
    for _ in range(max_iter):
        incline = theta[0] * x + theta[1] * board + theta[2]
        plateau = theta[3] * board + theta[4]
        on_incline = (incline >= plateau) & (incline < 0.0)
        on_plateau = (plateau > incline) & (plateau < 0.0)
        assignment = (on_incline.tobytes(), on_plateau.tobytes())
        if assignment == previous:
            break
        previous = assignment
        candidate = theta.copy()
        design = np.column_stack([x, board, np.ones_like(x)])[on_incline]
        if np.linalg.matrix_rank(design) == 3:
            candidate[:3] = np.linalg.lstsq(design, y_nats[on_incline], rcond=None)[0]
        design = np.column_stack([board, np.ones_like(x)])[on_plateau]
        if np.linalg.matrix_rank(design) == 2:
            candidate[3:] = np.linalg.lstsq(design, y_nats[on_plateau], rcond=None)[0]
        if _loss_and_grad(candidate, board, x, y_nats)[0] > _loss_and_grad(theta, board, x, y_nats)[0]:
            break
        theta = candidate
    return theta


def _data_start(board: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A starting point read off the data (Elo units): the plateau through each board's lowest
    point, the incline through the points clearly between plateau and top."""
    boards = np.unique(board)
    lows = np.array([y[board == b].min() for b in boards])
    if boards.size >= 2:
        m_b_plat, c_plat = np.polyfit(boards, lows, 1)
    else:
        m_b_plat, c_plat = 0.0, float(lows[0])
    plateau = m_b_plat * board + c_plat
    # plateau < 0: keep points from 80% down to 10% down the way to it, off both kinks
    middle = (y > 0.8 * plateau) & (y < 0.1 * plateau)
    design = np.column_stack([x, board, np.ones_like(x)])[middle]
    if middle.sum() >= 3 and np.linalg.matrix_rank(design) == 3:
        m_flops, m_b_inc, c_inc = np.linalg.lstsq(design, y[middle], rcond=None)[0]
        if m_flops > 0:
            return np.array([m_flops, m_b_inc, c_inc, m_b_plat, c_plat])
    return np.concatenate([PAPER_PARAMS.as_array()[:3], [m_b_plat, c_plat]])


def fit_change_point(board, log10_compute, elo, starts: int = 8, seed: int = 0) -> ChangePointParams:
    """Least-squares fit of the change-point model over the points of all boards (L-BFGS in
    natural-log Elo units, as the paper), from several starting points (the data's own guess,
    the paper's parameters, and random perturbations of both), keeping the best."""
    board = np.asarray(board, dtype=float)
    x = np.asarray(log10_compute, dtype=float)
    y = np.asarray(elo, dtype=float)
    if not (board.shape == x.shape == y.shape) or board.ndim != 1:
        raise ValueError("board, log10_compute and elo must be 1-d arrays of one length")
    if x.size < len(PARAM_NAMES):
        raise ValueError(f"need at least {len(PARAM_NAMES)} frontier points to fit 5 parameters, got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("frontier points must be finite")
    y_nats = y / ELO_PER_NAT
    rng = np.random.default_rng(seed)
    bases = [_data_start(board, x, y), PAPER_PARAMS.as_array()]
    candidates = list(bases)
    for i in range(max(0, starts - len(bases))):
        base = bases[i % len(bases)]
        candidates.append(base * rng.uniform(0.5, 1.5, size=base.size))
    best, best_loss = None, math.inf
    for start in candidates:
        result = minimize(_loss_and_grad, start / ELO_PER_NAT, args=(board, x, y_nats), jac=True,
                          method="L-BFGS-B")
        theta = _region_least_squares(result.x, board, x, y_nats)
        loss = _loss_and_grad(theta, board, x, y_nats)[0]
        if loss < best_loss:
            best, best_loss = theta, loss
    return ChangePointParams.from_array(best * ELO_PER_NAT)


def incline_r2(params: ChangePointParams, board, log10_compute, elo) -> float:
    """R^2 of the model on the points where it is on its incline (NaN if fewer than 3)."""
    board, x, y = (np.asarray(a, dtype=float) for a in (board, log10_compute, elo))
    mask = params.on_incline(x, board)
    if mask.sum() < 3:
        return math.nan
    residual = y[mask] - params.predict(x[mask], board[mask])
    total = y[mask] - y[mask].mean()
    return float(1.0 - residual @ residual / (total @ total))


@dataclass(frozen=True)
class FrontierFit:
    """The fitted law, its bootstrap intervals and the data it came from."""

    params: ChangePointParams
    intervals: dict[str, tuple[float, float]]
    bootstrap: np.ndarray              # [resamples, 5] parameter draws, Elo units
    confidence: float
    r2_incline: float
    boards: tuple[int, ...]
    points: int
    pieces: dict[str, int]             # frontier points on the plateau, the incline, at perfect play
    plateau_boards: int                # boards with a frontier point on the plateau
    frontiers: dict[int, Frontier] = field(repr=False)
    seeds: tuple[int, ...] = (0,)      # the seeds of the sweep
    resample: str = "two-level"        # how the intervals were bootstrapped
    # Boards of the fit whose Elo 0 is not known to be perfect play (anchored to a top agent
    # without evidence that the frontier flattened: experiments.anchoring): perfect-play
    # figures are not read off them.
    unanchored: tuple[int, ...] = ()
    recipe: str = ""                   # the recipe whose runs it was fitted to ("": every run)

    @property
    def intervals_include_seeds(self) -> bool:
        """Whether the intervals carry training (seed) variance: two-level resampling of a
        sweep with at least two seeds."""
        return self.resample == "two-level" and len(self.seeds) >= 2

    def interval(self, name: str) -> tuple[float, float]:
        return self.intervals[name]

    def derived_interval(self, figure) -> tuple[float, float]:
        """Percentile interval of a figure derived from the law (a function of ChangePointParams,
        e.g. `lambda p: p.perfect_play_growth`), read off the bootstrap's parameter draws the way
        the parameters' own intervals are."""
        if not len(self.bootstrap):
            return (math.nan, math.nan)
        values = np.array([figure(ChangePointParams.from_array(draw)) for draw in self.bootstrap], dtype=float)
        tail = (1.0 - self.confidence) / 2.0
        lo, hi = np.quantile(values, [tail, 1.0 - tail])
        return (float(lo), float(hi))

    def derived(self) -> dict[str, dict[str, float | None]]:
        """The law's derived figures (DERIVED_FIGURES) with their intervals; a figure the data
        does not fix (plateau figures without plateau points, perfect-play growth without two
        anchored boards) is None."""
        figures = {}
        for name, figure in DERIVED_FIGURES.items():
            fixed = ((name not in PLATEAU_FIGURES or self.plateau_identified)
                     and (name != "perfect_play_growth" or self.perfect_play_identified))
            if fixed:
                lo, hi = self.derived_interval(figure)
                figures[name] = {"value": float(figure(self.params)), "low": lo, "high": hi}
            else:
                figures[name] = None
        return figures

    @property
    def plateau_identified(self) -> bool:
        """The plateau's line (m_b_plat, c_plat) needs frontier points on it on two boards at
        least; without them it, the takeoff and the random-play gap are not measured (a sweep
        whose first snapshots already beat random play)."""
        return self.plateau_boards >= 2

    @property
    def perfect_play_identified(self) -> bool:
        """The perfect-play growth per board needs two boards whose 0 is perfect play."""
        return len(set(self.boards) - set(self.unanchored)) >= 2


# ----------------------------------------------------------------------------- intervals

RESAMPLING = ("two-level", "ratings", "points")


def _redraw_ratings(curve: RunCurve, rng: np.random.Generator) -> RunCurve:
    """The run with every snapshot's Elo redrawn from a normal with the spread of its rating
    interval (taken as 95%)."""
    sd = (curve.high - curve.low) / (2 * 1.96)
    return curve.redrawn(elo=curve.elo + rng.normal(0.0, 1.0, size=sd.size) * sd)


def resample_curves(curves: list[RunCurve], rng: np.random.Generator) -> list[RunCurve]:
    """One draw of the two-level bootstrap of a sweep.

    Level 1, seeds: within each cell (board, recipe, width, depth) holding k >= 2 seeds, k - 1
    runs are drawn with replacement among its k. Training luck is the largest source of
    variation between reruns of a sweep (two quick runs differed by more than the interval of
    ratings alone), and the only estimate of it is the spread between seeds of one cell. k - 1
    draws, not k: the frontier averages over seeds, and the mean of k - 1 draws from k values
    has exactly the variance s^2 / k of a k-seed mean (s^2 the seeds' sample variance), where k
    draws understate it by (k - 1) / k, which at the 2 or 3 seeds a sweep affords makes 90%
    intervals cover ~75-80%. Drawn runs take the seed labels of the cell's first k - 1 seeds
    (replicate slots), so each slot's frontier keeps one run per cell; a run drawn twice
    counts twice in the mean over slots. A cell with one seed keeps its run: the draw then has
    no training variance in it, and the intervals only measure rating noise.
    Level 2, ratings: every drawn run's Elo redrawn from its rating interval (normal, interval
    taken as 95%): the tournament's noise, which a cell with one seed still has. With several
    seeds the run-to-run spread already contains it, so the two levels together err on the
    wide side.
    Runs without rating intervals are kept as they are at level 2."""
    cells: dict[tuple, list[RunCurve]] = {}
    for curve in curves:
        cells.setdefault(curve.cell, []).append(curve)
    out = []
    for runs in cells.values():
        runs = sorted(runs, key=lambda c: c.seed)
        if len(runs) > 1:
            picks = rng.integers(0, len(runs), size=len(runs) - 1)
            runs = [runs[i].redrawn(seed=runs[slot].seed) for slot, i in enumerate(picks)]
        out += [_redraw_ratings(c, rng) if np.isfinite(c.high - c.low).all() else c for c in runs]
    return out


def _stratified_resample(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with replacement within each group, so every board stays in the sample."""
    picks = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        picks.append(rng.choice(members, size=members.size, replace=True))
    return np.concatenate(picks)


def _resampled_points(curves, points_per_decade, resample, rng, full_points):
    if resample == "points":
        board, x, y = full_points
        idx = _stratified_resample(board, rng)
        return board[idx], x[idx], y[idx]
    if resample == "ratings":
        return frontier_points(compute_frontiers([_redraw_ratings(c, rng) for c in curves], points_per_decade))
    return frontier_points(compute_frontiers(resample_curves(curves, rng), points_per_decade))


def bootstrap_params(curves: list[RunCurve], params: ChangePointParams, resamples: int, rng: np.random.Generator,
                     points_per_decade: int = 10, resample: str = "two-level", refit: str = "full") -> np.ndarray:
    """[resamples, 5] parameter draws (Elo units), each a refit from `params` on one resample.
    refit="full": L-BFGS then exact least squares per linear piece; "pieces": the piece-wise
    least squares alone (a few lstsq calls, ~20x cheaper: enough when the draws stay near
    `params`, as in simulation studies)."""
    if refit not in ("full", "pieces"):
        raise ValueError(f"refit must be 'full' or 'pieces', got {refit!r}")
    full_points = frontier_points(compute_frontiers(curves, points_per_decade)) if resample == "points" else None
    draws = [_refit_near(params, *_resampled_points(curves, points_per_decade, resample, rng, full_points),
                         polish_only=refit == "pieces") for _ in range(resamples)]
    return np.array(draws).reshape(-1, len(PARAM_NAMES))


def percentile_intervals(draws: np.ndarray, confidence: float) -> dict[str, tuple[float, float]]:
    tail = (1.0 - confidence) / 2.0
    intervals = {}
    for i, name in enumerate(PARAM_NAMES):
        if len(draws):
            lo, hi = np.quantile(draws[:, i], [tail, 1.0 - tail])
            intervals[name] = (float(lo), float(hi))
        else:
            intervals[name] = (math.nan, math.nan)
    return intervals


def fit_frontier(curves: list[RunCurve], points_per_decade: int = 10, bootstrap: int = 200,
                 resample: str = "two-level", confidence: float = 0.9, seed: int = 0, starts: int = 8,
                 progress: bool = False) -> FrontierFit:
    """Frontiers of every board, the joint change-point fit, and percentile bootstrap intervals.
    resample="two-level" (the default): `resample_curves`, seeds and ratings. "ratings" redraws
    ratings only (a sweep's training variance left out: too narrow whenever the sweep could be
    rerun). "points" redraws frontier grid points within each board (quick, but grid points
    between two snapshots are correlated, so its intervals come out too narrow)."""
    if resample not in RESAMPLING:
        raise ValueError(f"resample must be one of {', '.join(RESAMPLING)}, got {resample!r}")
    if resample == "ratings":
        missing = [c.name for c in curves if not np.isfinite(c.high - c.low).all()]
        if missing:
            raise ValueError(f"resample='ratings' needs every point's Elo interval; runs without: {', '.join(missing[:5])}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")
    with _one_blas_thread():
        return _fit_frontier(curves, points_per_decade, bootstrap, resample, confidence, seed, starts, progress)


def _fit_frontier(curves, points_per_decade, bootstrap, resample, confidence, seed, starts, progress) -> FrontierFit:
    frontiers = compute_frontiers(curves, points_per_decade)
    board, x, y = frontier_points(frontiers)
    params = fit_change_point(board, x, y, starts=starts, seed=seed)
    rng = np.random.default_rng(seed)
    if progress and bootstrap:
        from tqdm import tqdm

        with tqdm(total=bootstrap, desc="bootstrap", unit="fit") as bar:
            draws = []
            for _ in range(bootstrap):
                draws.append(bootstrap_params(curves, params, 1, rng, points_per_decade, resample))
                bar.update(1)
            draws = np.concatenate(draws)
    else:
        draws = bootstrap_params(curves, params, bootstrap, rng, points_per_decade, resample)
    on_plateau, on_incline = params.on_plateau(x, board), params.on_incline(x, board)
    pieces = {"plateau": int(on_plateau.sum()), "incline": int(on_incline.sum()),
              "perfect": int((~on_plateau & ~on_incline).sum())}
    return FrontierFit(params=params, intervals=percentile_intervals(draws, confidence), bootstrap=draws,
                       confidence=confidence, r2_incline=incline_r2(params, board, x, y),
                       boards=tuple(sorted(frontiers)), points=int(x.size), pieces=pieces,
                       plateau_boards=int(np.unique(board[on_plateau]).size), frontiers=frontiers,
                       seeds=tuple(sorted({c.seed for c in curves})), resample=resample)


def _refit_near(params: ChangePointParams, board, x, y, polish_only: bool = False) -> np.ndarray:
    y_nats = y / ELO_PER_NAT
    start = params.as_array() / ELO_PER_NAT
    if not polish_only:
        start = minimize(_loss_and_grad, start, args=(board, x, y_nats), jac=True, method="L-BFGS-B").x
    return _region_least_squares(start, board, x, y_nats) * ELO_PER_NAT


def per_seed_fits(curves: list[RunCurve], points_per_decade: int = 10, starts: int = 8) -> dict[int, ChangePointParams]:
    """The change-point law fitted to each seed's runs alone (seeds with too few frontier
    points to fit are left out): how far one seed's answer strays from the pooled one."""
    fits = {}
    with _one_blas_thread():
        for s in sorted({c.seed for c in curves}):
            board, x, y = frontier_points(compute_frontiers([c for c in curves if c.seed == s], points_per_decade))
            if x.size >= len(PARAM_NAMES):
                fits[s] = fit_change_point(board, x, y, starts=starts)
    return fits


NOT_MEASURED = "n/m"
NOT_MEASURED_NOTE = (f"{NOT_MEASURED}: not measured: the frontier has points on the plateau (random play) on fewer "
                     "than two boards, so the plateau line, the takeoff and the random-play gap are not fixed by "
                     "the data.")
NOT_ANCHORED_NOTE = (f"Perfect-play growth {NOT_MEASURED}: fewer than two boards of the fit have perfect play at 0 "
                     "(an exact anchor, or a top agent on a frontier that flattened: see 'Boards above the "
                     "solver's reach').")
PLATEAU_DEPENDENT = ("m_b_plat", "c_plat")


# The derived figures' rows in the comparison table: name, label, number format.
DERIVED_ROWS = (
    ("slope", "slope (Elo per 10x compute)", "{:.0f}"),
    ("double_compute_win_rate", "2x compute beats 1x", "{:.2f}"),
    ("perfect_play_growth", "perfect-play compute growth per board", "{:.1f}x"),
    ("takeoff_growth", "takeoff compute growth per board", "{:.1f}x"),
    ("random_gap_growth", "random-play gap growth per board (Elo)", "{:.0f}"),
)


def compare_with_paper(fit: FrontierFit) -> str:
    """Markdown: our fitted parameters and derived figures beside the paper's; figures the data
    does not fix (the plateau's, when no frontier point lies on it) read n/m."""
    p, paper = fit.params, PAPER_PARAMS
    measured = fit.plateau_identified

    def ours(name: str, text: str) -> str:
        return text if measured or name not in PLATEAU_DEPENDENT else NOT_MEASURED

    pct = round(fit.confidence * 100)
    lines = [f"| quantity | ours | {pct}% interval | paper |", "|---|---:|---:|---:|"]
    for name in PARAM_NAMES:
        lo, hi = fit.intervals[name]
        lines.append(f"| {name} (Elo) | {ours(name, f'{getattr(p, name):.0f}')} | {ours(name, f'[{lo:.0f}, {hi:.0f}]')} "
                     f"| {getattr(paper, name):.0f} |")
    derived = fit.derived()
    for name, label, form in DERIVED_ROWS:
        figure = derived[name]
        value = interval = NOT_MEASURED
        if figure is not None:
            value = form.format(figure["value"])
            interval = "" if math.isnan(figure["low"]) else \
                f"[{form.format(figure['low'])}, {form.format(figure['high'])}]"
        lines.append(f"| {label} | {value} | {interval} | {form.format(PAPER_DERIVED[name])} |")
    lines.append(f"\nFrontier points on the plateau / incline / at perfect play: {fit.pieces['plateau']} / "
                 f"{fit.pieces['incline']} / {fit.pieces['perfect']} (plateau points on {fit.plateau_boards} boards).")
    if not measured:
        lines.append(f"\n{NOT_MEASURED_NOTE}")
    if not fit.perfect_play_identified:
        lines.append(f"\n{NOT_ANCHORED_NOTE}")
    return "\n".join(lines)


def per_board_table(fit: FrontierFit) -> str:
    """Markdown: per board size, perfect-play compute (with its bootstrap interval) and takeoff
    compute and the random-play gap, ours beside the paper's law."""
    p, paper = fit.params, PAPER_PARAMS
    lines = ["| board | perfect-play compute (ours) | (paper) | takeoff compute (ours) | (paper) "
             "| random-play gap, Elo (ours) | (paper) |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for b in fit.boards:
        paper_perfect = PAPER_PERFECT_PLAY_COMPUTE.get(b, 10.0 ** paper.perfect_play_log10_compute(b))
        takeoff, gap = f"{10.0 ** p.takeoff_log10_compute(b):.2g}", f"{p.random_play_gap(b):.0f}"
        if not fit.plateau_identified:
            takeoff = gap = NOT_MEASURED
        perfect = NOT_MEASURED
        if b not in fit.unanchored:
            lo, hi = fit.derived_interval(lambda q: q.perfect_play_log10_compute(b))
            within = "" if math.isnan(lo) else f" [{10.0 ** lo:.2g}, {10.0 ** hi:.2g}]"
            perfect = f"{10.0 ** p.perfect_play_log10_compute(b):.2g}{within}"
        lines.append(f"| {b} | {perfect} | {paper_perfect:.2g} "
                     f"| {takeoff} | {10.0 ** paper.takeoff_log10_compute(b):.2g} | {gap} | {paper.random_play_gap(b):.0f} |")
    return "\n".join(lines)
