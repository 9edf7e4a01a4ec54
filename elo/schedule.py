"""Which games to play next: round robin, everyone against the top agent, and an adaptive
scheme that spends each batch where it shrinks the rating intervals most.

A scheduler is asked `next_batches(ratings, played)` with the fit of every game so far and the
ids of the batches already recorded, and answers the batches to play now; an empty answer
means stop. Batch ids are deterministic functions of the recorded state, so a tournament that
is killed and restarted asks again and gets the unfinished batches under the same ids (and the
same seeds): a batch is recorded once however often it is played.

Agents are pool indices 0..n-1 here; `ids` (stable agent ids, e.g. database keys) name them
in batch ids. A batch of `games` games is played half with each agent as black.

Stop rules, for every scheme: `target_width` (Elo, the full width of every agent's 95%
interval relative to the anchor) ends a scheme once met (the fixed schemes check it after each
complete round), and `max_games` (games recorded among the pool) caps it: the last wave is cut
to the batches that fit.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from elo.ratings import ELO_PER_NAT, Ratings


@dataclass(frozen=True)
class Batch:
    a: int          # pool index
    b: int
    games: int
    batch_id: str


def _check_games(games: int) -> int:
    if games < 2 or games % 2:
        raise ValueError(f"games per batch must be even and at least 2 (half with each colour), got {games}")
    return games


def target_met(ratings: Ratings, target_width: float | None) -> bool:
    return target_width is not None and ratings.max_width() <= target_width


class Scheduler:
    """Base: holds the pool's ids, the batch size and the stop rules; subclasses `propose` the
    next wave and `next_batches` applies the games budget to it."""

    def __init__(self, ids: list, games: int, target_width: float | None = None, max_games: int | None = None):
        if len(ids) < 2:
            raise ValueError(f"a tournament needs at least 2 agents, got {len(ids)}")
        if len(set(ids)) != len(ids):
            raise ValueError("agent ids in a pool must be unique")
        if target_width is not None and not target_width > 0:
            raise ValueError(f"target width must be positive (Elo), got {target_width}")
        if max_games is not None and max_games < 1:
            raise ValueError(f"max games must be at least 1, got {max_games}")
        self.ids = list(ids)
        self.games = _check_games(games)
        self.target_width, self.max_games = target_width, max_games

    def batch(self, a: int, b: int, tag: str) -> Batch:
        return Batch(a, b, self.games, f"{tag}:{self.ids[a]}:{self.ids[b]}")

    def missing(self, batches: list[Batch], played: set) -> list[Batch]:
        return [x for x in batches if x.batch_id not in played]

    def chain(self, played: set) -> list[Batch]:
        """A first round linking consecutive agents (the caller orders them, e.g. by run and
        compute, so neighbours are close in strength): it connects the pool cheaply."""
        return self.missing([self.batch(k, k + 1, "chain") for k in range(len(self.ids) - 1)], played)

    def next_batches(self, ratings: Ratings, played: set) -> list[Batch]:
        """The batches to play now ([] = stop), given the fit so far and the recorded batch ids."""
        if self.max_games is None:
            return self.propose(ratings, played)
        room = self.max_games - int(ratings.games.sum()) // 2   # each game counts for both its agents
        return self.propose(ratings, played)[:max(0, math.ceil(room / self.games))]

    def propose(self, ratings: Ratings, played: set) -> list[Batch]:
        raise NotImplementedError


class RoundRobin(Scheduler):
    """Every pair, round after round, until `target_width` is met or `rounds` are done."""

    def __init__(self, ids, games: int = 16, rounds: int = 1, target_width: float | None = None,
                 max_games: int | None = None):
        super().__init__(ids, games, target_width, max_games)
        self.rounds = rounds

    def propose(self, ratings, played):
        n = len(self.ids)
        for r in range(self.rounds):
            todo = self.missing([self.batch(i, j, f"rr{r}") for i in range(n) for j in range(i + 1, n)], played)
            if todo:
                return todo
            if target_met(ratings, self.target_width):
                return []
        return []


class VersusTop(Scheduler):
    """The paper's second scheme: every agent plays the top agent (the perfect agent where one
    is in the pool, else the current strongest), after a chain round that links the pool."""

    def __init__(self, ids, games: int = 16, rounds: int = 1, target_width: float | None = None,
                 max_games: int | None = None, perfect: int | None = None):
        super().__init__(ids, games, target_width, max_games)
        self.rounds, self.perfect = rounds, perfect

    def propose(self, ratings, played):
        if self.perfect is None:
            todo = self.chain(played)
            if todo:
                return todo
        top = self.perfect if self.perfect is not None else ratings.anchor_index
        # a round counts each challenger once even if it was resumed after the top changed
        done = {tuple(p.split(":")[:2]) for p in played if p.startswith("top")}
        for r in range(self.rounds):
            todo = [Batch(i, top, self.games, f"top{r}:{self.ids[i]}:{self.ids[top]}")
                    for i in range(len(self.ids)) if i != top and (f"top{r}", str(self.ids[i])) not in done]
            if todo:
                return todo
            if target_met(ratings, self.target_width):
                return []
        return []


class Adaptive(Scheduler):
    """Each wave plays up to `pairs_per_wave` disjoint pairs, chosen greedily by how much one
    batch of games would shrink the summed variance of the agents still wider than the target
    (all agents when there is no target), as the paper's activelo.

    With C the covariance relative to the anchor and u = e_i - e_j, k more games between i and
    j add w u u^T to the information (w = k p (1 - p), p the predicted win rate), and by
    Sherman-Morrison the variance of the agents in D falls by w |D C u|^2 / (1 + w u^T C u).
    This is exact for one pair and vectorised over all n(n-1)/2 pairs."""

    def __init__(self, ids, games: int = 16, target_width: float | None = None, pairs_per_wave: int | None = None,
                 max_games: int | None = None):
        super().__init__(ids, games, target_width, max_games)
        if target_width is None and max_games is None:
            raise ValueError("the adaptive scheme needs a stop rule: target_width or max_games")
        self.pairs_per_wave = pairs_per_wave or max(1, len(ids) // 2)

    def pair_scores(self, ratings: Ratings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, expected variance reduction) for every pair i < j."""
        n = len(self.ids)
        c = ratings.covariance / ELO_PER_NAT ** 2
        wide = ratings.width > (self.target_width if self.target_width is not None else 0.0)
        wide[ratings.anchor_index] = False
        cd = c[:, wide]
        m = cd @ cd.T                       # C D C
        i, j = np.triu_indices(n, 1)
        diag_c, diag_m = np.diag(c), np.diag(m)
        u_c_u = diag_c[i] + diag_c[j] - 2 * c[i, j]
        u_m_u = diag_m[i] + diag_m[j] - 2 * m[i, j]
        d = (ratings.elo[i] - ratings.elo[j]) / ELO_PER_NAT
        p = 1.0 / (1.0 + np.exp(-d))
        w = self.games * p * (1.0 - p)
        return i, j, w * u_m_u / (1.0 + w * u_c_u)

    def propose(self, ratings, played):
        todo = self.chain(played)
        if todo:
            return todo
        if target_met(ratings, self.target_width):
            return []
        i, j, score = self.pair_scores(ratings)
        # how many adaptive batches each pair already has: the next id continues the count
        counts = Counter(p.rsplit(":", 1)[0] for p in played if p.startswith("ad:"))
        used = np.zeros(len(self.ids), dtype=bool)
        chosen = []
        for k in np.argsort(-score, kind="stable"):
            a, b = int(i[k]), int(j[k])
            if used[a] or used[b] or score[k] <= 0:
                continue
            used[a] = used[b] = True
            key = f"ad:{self.ids[a]}:{self.ids[b]}"
            chosen.append(Batch(a, b, self.games, f"{key}:{counts[key]}"))
            if len(chosen) == self.pairs_per_wave:
                break
        return chosen
