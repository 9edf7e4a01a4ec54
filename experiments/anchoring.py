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
