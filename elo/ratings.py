"""Bradley-Terry ratings on the Elo scale, with confidence intervals.

Model (as Jones 2021): P(i beats j) = sigmoid(r_i - r_j) with r in natural units; Elo is
r * 400/ln(10). Each pair's games are pooled over colours so the first-move advantage cancels:
for a pair {i, j} the win rate of i is the mean of its rate as black and its rate as white
(the paper's averaging), carried by an effective game count n_eff (the harmonic form
4 / (1/g_black + 1/g_white), which is the total when both colours got equal games and is what
the variance of the averaged rate supports otherwise). A pair played in one colour order only
uses that order's rate.

Prior: a weak Gaussian on the ratings about their mean (sd `prior_sd` Elo, default
`PRIOR_SD` = 10,000), so an unbeaten agent still has a finite rating, with a wide interval
that says how little its games tell. Not the paper's +1/+1 pseudo-games per pair: those shrink
every lopsided pair toward 50% by an amount that does not fade with the evidence of the other
pairs, which broke the intervals at the game counts an adaptive schedule plays (measured on 8
simulated agents 100 Elo apart: 95% intervals covered 59% at 8 games per colour and 74% at 30).
Why so weak: the prior acts on every agent, so its pull on the spread of a long chain of
agents grows with the pool while the games' information about that spread does not. Measured
on a chain of 300 agents over 2,000 Elo (each playing its 4 nearest, 32 games a pair), the
fitted spread was 49% of the true one at sd 1000, 92% at 3000 and 103% (within the
intervals) at 10,000; on 1,000 agents of `hexzero bench ratings`'s schedule the RMS error fell
from 136 Elo (sd 1000) to 19 (sd 10,000). 8-agent pools cover 93-96% at any of these.

Fit: maximum of the penalised likelihood with scipy's Newton-CG (analytic gradient and sparse
Hessian-vector products). Intervals: the delta method, from the inverse observed Fisher
information of the penalised likelihood with the anchor's rating held fixed (gauge = anchor),
so an interval is the uncertainty of an agent's rating relative to the anchor, whose own
interval is [0, 0]. Anchor: the perfect agent at 0 where one is in the pool, else the
strongest agent (the paper's convention); `Ratings.anchor` names it in every output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse, stats

ELO_PER_NAT = 400.0 / math.log(10.0)
PRIOR_SD = 10000.0
METHOD = ("Bradley-Terry MAP, colours: {colours}, Gaussian prior sd {prior_sd:g} Elo; "
          "{level:.0%} intervals: delta method, inverse observed Fisher information, gauge fixed at the anchor")


@dataclass
class Games:
    """Game results per colour order: agent `black[k]` (black) against `white[k]` (white) won
    `black_wins[k]` of `games[k]`. Rows may repeat a colour order; they are summed."""

    black: np.ndarray
    white: np.ndarray
    black_wins: np.ndarray
    games: np.ndarray

    @classmethod
    def empty(cls) -> "Games":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), z.copy())

    @classmethod
    def from_rows(cls, rows) -> "Games":
        """From (black, white, black_wins, games) tuples."""
        a = np.asarray(list(rows), dtype=np.int64).reshape(-1, 4)
        return cls(a[:, 0], a[:, 1], a[:, 2], a[:, 3])

    def __post_init__(self):
        self.black, self.white, self.black_wins, self.games = (
            np.asarray(x, dtype=np.int64) for x in (self.black, self.white, self.black_wins, self.games))
        if not (self.black.shape == self.white.shape == self.black_wins.shape == self.games.shape):
            raise ValueError("game arrays must have one entry per row")
        if np.any(self.black == self.white):
            raise ValueError("an agent cannot play itself")
        if np.any(self.games < 0) or np.any(self.black_wins < 0) or np.any(self.black_wins > self.games):
            raise ValueError("need 0 <= black_wins <= games in every row")

    def __add__(self, other: "Games") -> "Games":
        return Games(*(np.concatenate([a, b]) for a, b in zip(self.as_tuple(), other.as_tuple())))

    def as_tuple(self):
        return self.black, self.white, self.black_wins, self.games

    def total(self) -> int:
        return int(self.games.sum())

    def check_agents(self, n_agents: int) -> None:
        if len(self.black) and (max(self.black.max(), self.white.max()) >= n_agents
                                or min(self.black.min(), self.white.min()) < 0):
            raise ValueError(f"game rows name agents outside 0..{n_agents - 1}")

    def games_per_agent(self, n_agents: int) -> np.ndarray:
        return (np.bincount(self.black, self.games, n_agents) + np.bincount(self.white, self.games, n_agents)).astype(np.int64)


@dataclass
class PooledPairs:
    """One row per unordered pair that has played: i < j, the colour-averaged wins of i
    (`wins`) and of j (`losses`), in effective games."""

    i: np.ndarray
    j: np.ndarray
    wins: np.ndarray
    losses: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.wins + self.losses


def pool_pairs(games: Games, n_agents: int) -> PooledPairs:
    """Average each pair's win rate as black and as white (see the module docstring)."""
    played = games.games > 0
    b, w, bw, g = (x[played] for x in games.as_tuple())
    lo, hi = np.minimum(b, w), np.maximum(b, w)
    low_black = b == lo  # the lower-indexed agent had black in this row
    pairs, inverse = np.unique(lo * n_agents + hi, return_inverse=True)
    m = len(pairs)
    # wins of the lower-indexed agent, and games, for each colour of that agent
    lo_wins = np.where(low_black, bw, g - bw)
    g_black = np.bincount(inverse[low_black], g[low_black], m)
    w_black = np.bincount(inverse[low_black], lo_wins[low_black], m)
    g_white = np.bincount(inverse[~low_black], g[~low_black], m)
    w_white = np.bincount(inverse[~low_black], lo_wins[~low_black], m)
    both = (g_black > 0) & (g_white > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(both, 0.5 * (w_black / g_black + w_white / g_white),
                        (w_black + w_white) / (g_black + g_white))
        n_eff = np.where(both, 4.0 / (1.0 / g_black + 1.0 / g_white), g_black + g_white)
    return PooledPairs(i=pairs // n_agents, j=pairs % n_agents, wins=rate * n_eff, losses=(1.0 - rate) * n_eff)


def ordered_pairs(games: Games, n_agents: int) -> PooledPairs:
    """Games summed per colour order, unpooled: i is black, `wins` are black's wins (for the
    fit with a first-move parameter)."""
    played = games.games > 0
    b, w, bw, g = (x[played] for x in games.as_tuple())
    keys, inverse = np.unique(b * n_agents + w, return_inverse=True)
    wins = np.bincount(inverse, bw, len(keys))
    return PooledPairs(i=keys // n_agents, j=keys % n_agents, wins=wins, losses=np.bincount(inverse, g, len(keys)) - wins)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class _Objective:
    """Negative log posterior in natural units: Bradley-Terry likelihood of the pairs plus
    sum(x^2) / (2 prior_var) over the parameters x (the ratings, then the first-move advantage
    when `advantage`). Its minimum has sum(r) = 0 (the likelihood is shift invariant), so there
    the penalty on the ratings equals the centred prior sum((r - mean)^2) / (2 prior_var)."""

    def __init__(self, pairs: PooledPairs, n_agents: int, prior_var: float, advantage: bool = False):
        self.p, self.n, self.prior_var = pairs, n_agents, prior_var
        m = len(pairs.i)
        rows = np.r_[np.arange(m), np.arange(m)]
        # incidence matrix: row k is e_i - e_j for pair k (+ e_n, the first-move term)
        cols, vals = np.r_[pairs.i, pairs.j], np.r_[np.ones(m), -np.ones(m)]
        if advantage:
            rows, cols, vals = np.r_[rows, np.arange(m)], np.r_[cols, np.full(m, n_agents)], np.r_[vals, np.ones(m)]
        self.size = n_agents + int(advantage)
        self.B = sparse.csr_matrix((vals, (rows, cols)), shape=(m, self.size))

    def value_grad(self, r):
        d = self.B @ r
        # W log(1 + e^-d) + L log(1 + e^d), stably
        f = self.p.wins @ np.logaddexp(0.0, -d) + self.p.losses @ np.logaddexp(0.0, d)
        dfdd = self.p.total * _sigmoid(d) - self.p.wins
        return f + 0.5 * (r @ r) / self.prior_var, self.B.T @ dfdd + r / self.prior_var

    def pair_weights(self, r):
        s = _sigmoid(self.B @ r)
        return self.p.total * s * (1.0 - s)

    def hessp(self, r, v):
        return self.B.T @ (self.pair_weights(r) * (self.B @ v)) + v / self.prior_var

    def information(self, r) -> np.ndarray:
        """Observed information of the likelihood with the centred prior (shift invariant)."""
        h = (self.B.T @ sparse.diags(self.pair_weights(r)) @ self.B).toarray()
        h[:self.n, :self.n] += (np.eye(self.n) - 1.0 / self.n) / self.prior_var
        h[self.n:, self.n:] += np.eye(self.size - self.n) / self.prior_var
        return h


@dataclass
class Ratings:
    """Fitted ratings, in Elo, relative to `anchor` (whose rating is 0 by definition)."""

    names: list[str]
    elo: np.ndarray
    sd: np.ndarray          # standard error relative to the anchor
    lower: np.ndarray
    upper: np.ndarray
    games: np.ndarray       # real games played by each agent
    anchor: str
    anchor_rule: str        # "perfect", "strongest" or "given"
    method: str
    level: float
    covariance: np.ndarray = field(repr=False)  # Elo^2, relative to the anchor (its row is 0)

    @property
    def width(self) -> np.ndarray:
        return self.upper - self.lower

    @property
    def anchor_index(self) -> int:
        return self.names.index(self.anchor)

    def max_width(self) -> float:
        return float(self.width.max()) if len(self.names) > 1 else 0.0

    def records(self) -> list[dict]:
        return [{"agent": name, "elo": float(e), "lower": float(lo), "upper": float(hi), "sd": float(s),
                 "games": int(g), "anchor": self.anchor, "method": self.method}
                for name, e, lo, hi, s, g in zip(self.names, self.elo, self.lower, self.upper, self.sd, self.games)]


def _resolve(names: list[str], who, what: str) -> int:
    if isinstance(who, (int, np.integer)):
        if not 0 <= who < len(names):
            raise ValueError(f"{what} index {who} is not in a pool of {len(names)} agents")
        return int(who)
    if who not in names:
        raise ValueError(f"unknown {what} {who!r}: not among the {len(names)} agents")
    return names.index(who)


COLOUR_MODES = ("average", "advantage")


def fit_ratings(names: list[str], games: Games, *, perfect=None, anchor=None, prior_sd: float = PRIOR_SD,
                level: float = 0.95, colours: str = "average") -> Ratings:
    """Fit Bradley-Terry ratings to `games` among the agents `names` (rows index into it).

    perfect: the perfect agent (name or index), anchored at 0 when given; anchor: override the
    anchor; otherwise the strongest fitted agent is the anchor. prior_sd: the Gaussian prior's
    sd in Elo. colours: "average" (the paper: win rates as black and as white averaged per
    pair), or "advantage" (every colour order kept, with a fitted first-move term: exact under
    the model, where averaging rates shrinks every difference by sigmoid'(a) / sigmoid'(0),
    about 5% for a first-move advantage a of 80 Elo)."""
    names = list(names)
    n = len(names)
    if n == 0:
        raise ValueError("empty pool: no agents to rate")
    if len(set(names)) != n:
        raise ValueError("agent names must be unique")
    if not prior_sd > 0:
        raise ValueError(f"prior_sd must be positive (Elo), got {prior_sd}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if colours not in COLOUR_MODES:
        raise ValueError(f"unknown colours mode {colours!r}: expected one of {', '.join(COLOUR_MODES)}")
    games.check_agents(n)
    advantage = colours == "advantage"
    pairs = ordered_pairs(games, n) if advantage else pool_pairs(games, n)
    objective = _Objective(pairs, n, (prior_sd / ELO_PER_NAT) ** 2, advantage)
    solution = optimize.minimize(objective.value_grad, np.zeros(objective.size), jac=True, hessp=objective.hessp,
                                 method="Newton-CG", options={"xtol": 1e-9, "maxiter": 500})
    r = solution.x[:n]
    if anchor is not None:
        a, rule = _resolve(names, anchor, "anchor"), "given"
    elif perfect is not None:
        a, rule = _resolve(names, perfect, "perfect agent"), "perfect"
    else:
        a, rule = int(np.argmax(r)), "strongest"
    covariance = anchored_covariance(objective.information(solution.x), a)[:n, :n] * ELO_PER_NAT ** 2
    sd = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    elo = (r - r[a]) * ELO_PER_NAT
    z = stats.norm.ppf(0.5 + level / 2)
    return Ratings(names, elo, sd, elo - z * sd, elo + z * sd, games.games_per_agent(n), names[a], rule,
                   METHOD.format(prior_sd=prior_sd, level=level, colours=colours), level, covariance)


def anchored_covariance(information: np.ndarray, anchor: int) -> np.ndarray:
    """Inverse of the information with the anchor's rating fixed: the covariance of the ratings
    relative to the anchor, with a zero row and column for the anchor."""
    n = information.shape[0]
    keep = np.arange(n) != anchor
    covariance = np.zeros((n, n))
    if n > 1:
        covariance[np.ix_(keep, keep)] = np.linalg.inv(information[np.ix_(keep, keep)])
    return covariance
