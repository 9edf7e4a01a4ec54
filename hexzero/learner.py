"""The learner: Adam on policy cross-entropy + value MSE over a buffer of recent samples."""
from __future__ import annotations

import copy

import numpy as np
import torch

from hexzero.config import ConfigError, TrainConfig
from hexzero.selfplay import FIELDS, Samples, rotate_180


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


class Learner:
    """Adam on policy cross-entropy + value MSE (equal weights, as the paper) over a buffer of
    the most recent samples.

    `published` is the network the rest of the run sees (self-play, snapshots, measures): the
    trained weights, or with `config.ema_decay` their exponential moving average over
    minibatches. Averaging smooths out the step-to-step noise of Adam at a high learning rate,
    which otherwise moves a late 6x6 network's move accuracy by +-0.5% from one check to the
    next (README, time to perfect play)."""

    def __init__(self, network, config: TrainConfig, device: torch.device, rng: np.random.Generator):
        self.network = network.to(device)
        self.rng = rng
        self.device = device
        self.config = config
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr)
        self.buffer: Samples | None = None
        self.owed = 0.0  # learner samples owed by the replay ratio, carried between rounds
        self.average = copy.deepcopy(self.network).eval() if config.ema_decay else None
        self.steps = 0  # minibatches trained, over the whole run

    @property
    def published(self) -> torch.nn.Module:
        return self.network if self.average is None else self.average

    def add(self, samples: Samples) -> None:
        n = self.config.board
        if self.config.augment and len(samples):
            # Each new position joins in one of its two orientations, chosen at random, so
            # the buffer holds both without doubling.
            flip = self.rng.random(len(samples)) < 0.5
            rotated = rotate_180(samples, n)
            samples = Samples(*(np.where(flip.reshape((-1,) + (1,) * (getattr(samples, f).ndim - 1)),
                                         getattr(rotated, f), getattr(samples, f))
                                for f in FIELDS))
        merged = samples if self.buffer is None else Samples.concatenate([self.buffer, samples], n)
        keep = self.config.buffer_size
        self.buffer = Samples(*(getattr(merged, f)[-keep:] for f in FIELDS))
        self.owed += self.config.replay_ratio * len(samples)

    def train(self) -> dict:
        """Spend the samples owed: minibatches drawn uniformly from the buffer."""
        stats = {"policy_loss": [], "value_loss": []}
        bs = self.config.batch_size
        trained = 0
        self.network.train()
        while self.buffer is not None and self.owed >= min(bs, len(self.buffer)) > 0:
            size = min(bs, len(self.buffer))
            idx = self.rng.integers(0, len(self.buffer), size)
            obs = torch.from_numpy(self.buffer.obs[idx]).to(self.device)
            target_pi = torch.from_numpy(self.buffer.policy[idx]).to(self.device)
            target_v = torch.from_numpy(self.buffer.value[idx]).to(self.device)
            log_pi, value = self.network(obs)
            # Occupied cells have log-probability ~ -3e38 and target 0: drop them explicitly.
            occupied = (obs[:, 0] + obs[:, 1]).flatten(1) > 0
            policy_loss = -(target_pi * log_pi.masked_fill(occupied, 0.0)).sum(dim=1).mean()
            value_loss = ((value - target_v) ** 2).mean()
            self.optimizer.zero_grad(set_to_none=True)
            (policy_loss + value_loss).backward()
            self.optimizer.step()
            self.steps += 1
            self._update_average()
            stats["policy_loss"].append(policy_loss.item())
            stats["value_loss"].append(value_loss.item())
            self.owed -= size
            trained += size
        self.network.eval()
        return {"trained": trained, **{k: (float(np.mean(v)) if v else None) for k, v in stats.items()}}

    def _update_average(self) -> None:
        if self.average is None:
            return
        # The decay warms up (TensorFlow's rule): over a short run the average spans the steps
        # taken so far instead of staying near the initial weights.
        decay = min(self.config.ema_decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            for average, current in zip(self.average.state_dict().values(), self.network.state_dict().values()):
                if average.is_floating_point():
                    average.lerp_(current, 1.0 - decay)
                else:
                    average.copy_(current)

    def weights(self) -> dict:
        """The published network's weights, on the CPU."""
        return _cpu_copy(self.published)

    def state(self) -> dict:
        """Everything the next round depends on, for the resume point."""
        state = {"network_state": _cpu_copy(self.network), "optimizer_state": self.optimizer.state_dict(),
                 "buffer": self.buffer, "owed": self.owed, "rng": self.rng.bit_generator.state, "steps": self.steps}
        if self.average is not None:
            state["average_state"] = _cpu_copy(self.average)
        return state

    def restore(self, state: dict) -> None:
        self.network.load_state_dict(state["network_state"])
        if self.average is not None:
            self.average.load_state_dict(state["average_state"])
        self.steps = state.get("steps", 0)  # resume points written before the average held no count
        self.optimizer.load_state_dict(state["optimizer_state"])
        self.buffer = state["buffer"]
        self.owed = state["owed"]
        self.rng.bit_generator.state = state["rng"]


def _cpu_copy(module: torch.nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
