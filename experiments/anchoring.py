"""The top of the Elo scale: 0 = perfect play, checked.

On boards the solver covers, every board's pool holds two perfect agents: the solver's own
(`{"kind": "perfect"}`: in lost positions it plays the move leaving the fewest winning
replies) and the guided one (`{"kind": "perfect", "lost": <the board's strongest snapshot>}`,
hexzero.guided_perfect: in lost positions it plays what that snapshot's search prefers). Both
play perfectly (they win every won position); they differ only in how they lose, so either
may be the better practical player: the guided one when the guide is strong (trained agents
rated up to +190 above the solver's on 5x5), the solver's when every snapshot is still weak.
The anchoring rule: 0 = the higher-rated of the two, over every game ("after"); the games
without the guided agent, anchored to the solver's, are the old scale ("before").
`top_of_scale` measures how far any agent is rated above the anchor: the scale is sound when
nobody is above 0 by more than its own interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


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


def strongest_snapshot(snapshots: list[dict]) -> dict | None:
    """The snapshot to guide the perfect agent in lost positions, chosen before any game is
    played: the highest move accuracy against the solver (measured when the snapshot was
    taken, on solved boards), ties to the most train compute, then the most parameters."""
    if not snapshots:
        return None

    def key(s):
        accuracy = s.get("accuracy")
        return (accuracy if accuracy is not None and math.isfinite(accuracy) else -1.0, s.get("compute", 0.0),
                s.get("params", 0))

    return max(snapshots, key=key)
