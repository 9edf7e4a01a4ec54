"""Compute accounting: what a run has spent (`ComputeLedger`), where its snapshots fall
(`snapshot_points`), and how many samples its budget buys (`target_samples`)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hexzero.config import PAPER_COMPUTE_RANGE, TrainConfig


def snapshot_points(config: TrainConfig) -> np.ndarray:
    """Compute (paper units) at which snapshots are taken: `snapshots` points log-spaced from
    the start (the paper's per-board lower bound, capped at the budget) to the budget."""
    start = config.compute_start
    if start is None:
        start = min(PAPER_COMPUTE_RANGE.get(config.board, (1e10,))[0], config.compute / 100)
    return np.logspace(math.log10(start), math.log10(config.compute), config.snapshots)


def target_samples(config: TrainConfig, macs_per_forward: int) -> int:
    """Self-play samples the run will take: the budget's worth (compute / (nodes x MACs per
    evaluation)), or the sample cap when that comes first."""
    budget = math.ceil(config.compute / (config.nodes * macs_per_forward))
    return budget if config.max_samples is None else min(budget, config.max_samples)


@dataclass
class ComputeLedger:
    """Everything spent so far. `paper` = self-play samples x nodes x parameters (the paper's
    measure); `flops` = true FLOPs of every forward pass of self-play plus the learner's forward
    and backward passes (backward counted as 2x forward)."""

    samples: int = 0          # self-play positions searched (each becomes a training sample
                              # once its game's result is known)
    games: int = 0
    evaluations: int = 0      # network forward passes in self-play, per position
    trained: int = 0          # samples passed through the learner
    wall_s: float = 0.0       # wall time of the run, evaluations included
    eval_s: float = 0.0       # of which measuring snapshots against perfect play

    @property
    def train_s(self) -> float:
        return self.wall_s - self.eval_s

    def paper(self, nodes: int, macs_per_forward: int) -> float:
        return float(self.samples) * nodes * macs_per_forward

    def flops(self, flops_per_forward: int) -> float:
        return float(self.evaluations) * flops_per_forward + 3.0 * self.trained * flops_per_forward

    def add_round(self, counts: dict) -> None:
        """Count one worker's round: {"games", "evaluations", "positions"}."""
        self.games += counts["games"]
        self.evaluations += counts["evaluations"]
        self.samples += counts["positions"]
