"""The perfect agent with a practical player's moves in lost positions.

A perfect agent wins every won position; in a lost one any move loses against perfect play,
and which loss it picks only matters against imperfect opponents. The solver's default (the
move leaving the fewest winning replies, hexzero.solver.PerfectAgent) is a poor practical
choice: weak and middling agents find those few replies more often than they find the
answers to a trained agent's moves, so in a tournament pool trained agents scored more
against the pool than the perfect agent did and were rated up to +190 Elo above "perfect
play" (5x5, quick preset). Letting a guide (the strongest search agent available, e.g. the
board's best snapshot) choose in lost positions makes the perfect agent at least as strong a
practical player as that guide in every position, so 0 = perfect play stays at the top of
the scale. Spec: {"kind": "perfect", "n": 5, "lost": <the guide's agent spec>}.
"""
from __future__ import annotations

import numpy as np

from hexzero.solver import PerfectAgent


class GuidedPerfectAgent(PerfectAgent):
    """A winning move whenever one exists (drawn by the solver, as PerfectAgent's); in lost
    positions, the move `guide` plays. Random choices use the agent's own Generator seeded
    with `seed`, or the `rng` passed to act when seed is None."""

    def __init__(self, n: int, guide, seed: int | None = 0, cache_dir=None):
        super().__init__(n, seed, cache_dir)
        if guide.n != self.n:
            raise ValueError(f"the perfect agent's guide for lost positions plays {guide.n}x{guide.n}, "
                             f"not {self.n}x{self.n}")
        self.guide = guide
        self.name = f"perfect+{guide.name}"

    def lost_moves(self, board, to_play, rng) -> np.ndarray:
        return np.asarray(self.guide.act(board, to_play, rng), dtype=np.int64)
