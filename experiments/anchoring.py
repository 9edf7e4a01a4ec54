"""The top of the Elo scale: 0 = perfect play, checked.

On boards the solver covers, every board's pool holds two perfect agents: the solver's own
(`{"kind": "perfect"}`: in lost positions it plays the move leaving the fewest winning
replies), which anchors the tournament, and, added once the tournament has rated the pool, the
dominating one (`{"kind": "perfect", "lost": <the top-rated snapshot's own spec>}`,
hexzero.guided_perfect: in lost positions it plays exactly as the pool's best agent T does).
Both play perfectly (they win every won position); they differ only in how they lose. The
solver's rule is a poor practical one: weak agents find the few winning replies it leaves
more often than they answer a trained agent's moves, so trained agents were rated above it
(+190 Elo on 5x5). The dominating agent wins from every position at least as often as T
against any opponent (won positions it wins; in lost ones it moves as T does, and by induction
over the game the same holds for every position after), so its expected score against the
pool is at least T's. The anchoring rule: 0 = the higher-rated of the two perfect agents over
every game ("after"); the games without the dominating agent, anchored to the solver's, are the
old scale ("before"). `top_of_scale` measures how far any agent is rated above the anchor: the
scale is sound when nobody is above 0 by more than its own interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from experiments.frontier import PAPER_PARAMS, compute_frontiers, resample_curves


@dataclass(frozen=True)
class TopOfScale:
    """The agent rated highest above the anchor (or the best other agent when none is above)."""

    anchor: str
    agent: str
    elo: float          # its rating relative to the anchor
    lower: float        # its interval, relative to the anchor
    upper: float

    @property
    def above_by_more_than_interval(self) -> bool:
        """Rated above perfect play even at the bottom of its interval: the scale is broken."""
        return self.lower > 0.0

    def as_dict(self) -> dict:
        return {"anchor": self.anchor, "agent": self.agent, "elo": self.elo, "lower": self.lower, "upper": self.upper,
                "above_by_more_than_interval": self.above_by_more_than_interval}


def top_of_scale(ratings, exclude: tuple[str, ...] = ()) -> TopOfScale:
    """The highest-rated agent other than the anchor (and `exclude`) in `ratings`
    (elo.ratings.Ratings), relative to the anchor."""
    candidates = [k for k, name in enumerate(ratings.names) if name != ratings.anchor and name not in exclude]
    if not candidates:
        raise ValueError(f"no agent besides the anchor {ratings.anchor!r} to compare with it")
    k = max(candidates, key=lambda i: ratings.elo[i])
    return TopOfScale(ratings.anchor, ratings.names[k], float(ratings.elo[k]), float(ratings.lower[k]),
                      float(ratings.upper[k]))


def higher_rated(ratings, names: tuple[str, ...]) -> str:
    """The anchoring rule: of the perfect agents `names` in `ratings`, the higher-rated."""
    present = [n for n in names if n in ratings.names]
    if not present:
        raise ValueError(f"none of the perfect agents {list(names)} is in the pool")
    return max(present, key=lambda n: ratings.elo[ratings.names.index(n)])


def rate_subpool(db, ids: list[int], perfect_id: int, leave_out: tuple[int, ...] = ()):
    """Ratings of the agents `ids` minus `leave_out` from the games recorded among them in
    `db` (elo.db.TournamentDB), anchored to `perfect_id`: the same tournament data seen
    without one of the two perfect agents."""
    from elo.ratings import fit_ratings

    keep = [i for i in ids if i not in leave_out]
    rows = [db.agent(i) for i in keep]
    games, _ = db.games(keep)
    return fit_ratings([r.name for r in rows], games, perfect=keep.index(perfect_id))


def measured_elo(ratings, name: str) -> dict | None:
    """One agent's rating with its interval, or None when it is not in the pool."""
    if name not in ratings.names:
        return None
    k = ratings.names.index(name)
    return {"elo": float(ratings.elo[k]), "lower": float(ratings.lower[k]), "upper": float(ratings.upper[k]),
            "anchor": ratings.anchor}


# ----------------------------------------------------------------------------- above the solver

# A board above the solver's reach is anchored to its strongest agent, as the paper anchored
# every board to its top agent. That agent is perfect play only if the frontier had stopped
# rising before it: the paper calls a frontier point perfect play within 50 Elo of the top
# agent, so the evidence asked of a top agent is a frontier that gained less than that over its
# last decade of compute, at the upper end of the gain's interval. Without it the board's 0 is
# "the best we trained", and nothing about perfect play may be read off it. A frontier that
# never left the plateau is flat too, so the top agent must also have taken off: the random
# agent rated at least half the paper's random-play gap for the board below it (the gap grows
# with the board: 1,050 Elo on 6x6 by the paper's law; our perfect agents on 3..5 sit further
# above random than the law's gap).
FLAT_DECADE_ELO = 50.0
TAKEOFF_FRACTION_OF_PAPER_GAP = 0.5
# The guided perfect agent (the top of the scale on solved boards) plays the agents rated at
# most this far below the top snapshot T, and the solver's perfect agent. Farther down it
# would win over 97% of its games, which barely move its rating; each of them still costs
# the solver time on 6x6.
GUIDED_OPPONENT_WINDOW = 600.0


@dataclass(frozen=True)
class TopAgentEvidence:
    """Whether a board's top agent (its Elo anchor) is plausibly perfect play: the frontier's
    Elo gain over its last decade of compute, with a seed-aware bootstrap interval."""

    board: int
    agent: str                  # the anchor: the board's top-rated agent
    compute: float | None       # its training compute (None if it is no snapshot)
    random: dict | None         # the random agent's rating relative to it: the top agent's level
    decade: tuple[float, float]  # log10 compute of the last decade the frontier covers
    gain: float                 # frontier Elo at decade[1] minus at decade[0] (NaN: under a decade covered)
    lower: float
    upper: float
    confidence: float

    @property
    def flattened(self) -> bool:
        return math.isfinite(self.upper) and self.upper < FLAT_DECADE_ELO

    @property
    def takeoff_gap(self) -> float:
        """How far below the top agent the random agent must be rated: it took off."""
        return -TAKEOFF_FRACTION_OF_PAPER_GAP * float(PAPER_PARAMS.plateau(self.board))

    @property
    def took_off(self) -> bool:
        return self.random is not None and self.random["upper"] < -self.takeoff_gap

    @property
    def perfect_play(self) -> bool:
        """The evidence that the top agent plays perfectly: it took off, and the frontier
        stopped rising before it."""
        return self.flattened and self.took_off

    @property
    def reason(self) -> str:
        if not math.isfinite(self.gain):
            return "the frontier covers less than a decade of compute"
        if not self.flattened:
            return (f"the frontier still gained {self.gain:.0f} Elo [{self.lower:.0f}, {self.upper:.0f}] over its "
                    "last decade")
        if not self.took_off:
            level = "not rated" if self.random is None else f"{self.random['elo']:.0f} Elo"
            return (f"the frontier is flat, but on the plateau: random play is {level} below the top agent, "
                    f"under the {self.takeoff_gap:.0f} Elo a take-off needs")
        return (f"the frontier gained under {FLAT_DECADE_ELO:.0f} Elo over its last decade, "
                f"{-self.random['elo']:.0f} Elo above random play")

    def as_dict(self) -> dict:
        return {"agent": self.agent, "compute": self.compute, "random": self.random,
                "decade": list(self.decade), "gain": self.gain, "lower": self.lower, "upper": self.upper,
                "confidence": self.confidence, "flattened": self.flattened, "took_off": self.took_off,
                "perfect_play": self.perfect_play, "reason": self.reason}


def _last_decade_gain(frontier, decade: tuple[float, float]) -> float:
    x, y = frontier.points()
    return float(np.interp(decade[1], x, y) - np.interp(decade[0], x, y))


def top_agent_evidence(curves, board: int, agent: str, compute: float | None, random: dict | None,
                       points_per_decade: int = 10, bootstrap: int = 200, confidence: float = 0.9,
                       seed: int = 0) -> TopAgentEvidence:
    """The evidence for board `board` (its runs' `curves`, experiments.frontier.RunCurve, rated
    on a scale anchored to its top agent `agent`): the frontier's gain over the last decade of
    compute it covers, and a percentile interval from the two-level bootstrap of the frontier fit
    (seeds, then ratings: experiments.frontier.resample_curves)."""
    curves = [c for c in curves if c.board == board]
    if not curves:
        raise ValueError(f"no runs of board {board} to judge its top agent by")
    frontier = compute_frontiers(curves, points_per_decade)[board]
    x, _ = frontier.points()
    top = float(x.max())
    decade = (top - 1.0, top)
    if x.min() > decade[0] + 1e-9:
        nan = math.nan
        return TopAgentEvidence(board, agent, compute, random, decade, nan, nan, nan, confidence)
    gain = _last_decade_gain(frontier, decade)
    rng = np.random.default_rng(seed)
    draws = [_last_decade_gain(compute_frontiers(resample_curves(curves, rng), points_per_decade)[board], decade)
             for _ in range(bootstrap)]
    tail = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(draws, [tail, 1.0 - tail]) if draws else (math.nan, math.nan)
    return TopAgentEvidence(board, agent, compute, random, decade, gain, float(lower), float(upper), confidence)
