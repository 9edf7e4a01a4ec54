"""What a training run is asked to do: `TrainConfig`, the two recipes (`MODES`), and the one
place each of the trainer's choices and ranges is declared (board sizes come from the engine).

A run folder stores its config (config.json); a resumed run must ask for exactly the same one,
except the fields in `PER_INVOCATION_FIELDS`, which say how this invocation runs, not what the
run computes.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from hexzero.hex import check_size

DEVICES = ("auto", "cpu", "cuda")

# The paper's compute range per board size (paper units), the lower end of the snapshot grid.
PAPER_COMPUTE_RANGE = {3: (1e10, 5e11), 4: (1e10, 1e13), 5: (1e11, 3e13), 6: (1e11, 4e14),
                       7: (1e11, 1e16), 8: (1e11, 3e16), 9: (1e12, 1e17)}

# The two recipes. `paper`: the paper's hyperparameters (reference/jones2021.md). `fast`: what
# reached perfect play with the least wall time on a 2-core CPU in our measurements (README).
MODES = {
    "paper": dict(search=dict(policy="regularized", nodes=64, c=1 / 16, lambda_form="paper",
                              dirichlet_eps=0.25, greedy=False),
                  replay_ratio=1.0, augment=False, value_window=64, batch_size=1024, lr=1e-3),
    "fast": dict(search=dict(policy="gumbel", nodes=16, greedy=False),
                 replay_ratio=4.0, augment=True, value_window=None, batch_size=256, lr=3e-3,
                 random_opening=0.5),
}

# Fields a resumed run may change: they bound or place this invocation's work and leave every
# number the run computes as it was (on CPU; a run moved to CUDA keeps its state but CUDA's
# kernels are not bit-identical to the CPU's).
PER_INVOCATION_FIELDS = ("max_seconds", "device")


class ConfigError(ValueError):
    """A training configuration that cannot run: the message names the field."""


@dataclass
class TrainConfig:
    board: int = 5
    width: int = 16
    depth: int = 4
    arch: str = "mlp"
    compute: float = 1e12            # budget in paper units (samples x nodes x parameters)
    compute_start: float | None = None  # first snapshot; default: the paper's lower bound
    snapshots: int = 21
    mode: str = "fast"
    search: dict = field(default_factory=dict)
    envs: int = 256                  # games played at once per worker
    moves_per_round: int = 4         # moves per game per worker round
    workers: int = 1
    batch_size: int = 512
    lr: float = 1e-3
    replay_ratio: float = 1.0        # learner samples drawn per new sample
    buffer_size: int = 50_000
    ema_decay: float = 0.0           # publish an exponential moving average of the weights (per
                                     # minibatch) to self-play and snapshots; 0: the weights
    augment: bool = True
    value_window: int | None = None
    random_opening: float = 0.0      # games open with up to this fraction of n^2 random moves
    seed: int = 0
    device: str = "auto"
    learner_threads: int = 1
    max_samples: int | None = None   # the paper's sample cap: the run ends here even under budget
    max_seconds: float | None = None  # stop this invocation after so long (a resumed run gets it anew)
    evaluate: bool | None = None     # measure against perfect play at snapshots; None: wherever
                                     # the solver reaches (boards up to 6x6)
    eval_games: int = 64             # games as black against the perfect agent per snapshot
    stop_at_perfect: bool = False    # end the run at the first snapshot that plays perfectly

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        try:
            check_size(self.board)
        except ValueError as exc:
            raise ConfigError(f"board: {exc}") from None
        for name in ("width", "depth", "snapshots", "envs", "moves_per_round", "workers", "batch_size", "buffer_size",
                     "learner_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.compute, (int, float)) and math.isfinite(self.compute) and self.compute > 0):
            raise ConfigError(f"compute must be a positive number, got {self.compute!r}")
        if self.max_samples is not None and (isinstance(self.max_samples, bool) or not isinstance(self.max_samples, int)
                                             or self.max_samples < 1):
            raise ConfigError(f"max_samples must be a positive integer, got {self.max_samples!r}")
        if self.compute_start is not None and not (0 < self.compute_start <= self.compute):
            raise ConfigError(f"compute_start must be in (0, compute], got {self.compute_start!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.lr > 0 or not self.replay_ratio > 0:
            raise ConfigError("lr and replay_ratio must be positive")
        if isinstance(self.ema_decay, bool) or not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")

    @classmethod
    def for_mode(cls, mode: str = "fast", **overrides) -> "TrainConfig":
        """A config with the mode's recipe, then the caller's overrides (search merged)."""
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        base = dict(MODES[mode])
        search = {**base.pop("search"), **overrides.pop("search", {})}
        board = overrides.get("board", cls.board)
        if mode == "paper":
            search.setdefault("dirichlet_alpha", 10.0 / board**2)
        return cls(mode=mode, search=search, **{**base, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def nodes(self) -> int:
        """Search nodes per move: the compute ledger's multiplier."""
        return int(self.search.get("nodes", 64))


def config_differences(stored: dict, asked: TrainConfig) -> list[str]:
    """Every field (search fields as `search.NAME`) where the asked config differs from the
    stored one, as "name: stored X, asked Y", the per-invocation fields left out. A field the
    stored config lacks was added to TrainConfig after the run began: the run used its default."""
    # Compare as config.json holds them, so a float 1e9 and an int 1000000000 agree.
    asked_dict = json.loads(json.dumps(asked.to_dict()))
    stored = {**json.loads(json.dumps(_field_defaults())), **stored}
    stored_flat, asked_flat = _flatten(stored), _flatten(asked_dict)
    differences = []
    for key in sorted(set(stored_flat) | set(asked_flat)):
        if key in PER_INVOCATION_FIELDS:
            continue
        old, new = stored_flat.get(key, "(unset)"), asked_flat.get(key, "(unset)")
        if old != new:
            differences.append(f"{key}: stored {_show(old)}, asked {_show(new)}")
    return differences


def _field_defaults() -> dict:
    return {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}


def _flatten(config: dict) -> dict:
    flat = {k: v for k, v in config.items() if k != "search"}
    flat.update({f"search.{k}": v for k, v in (config.get("search") or {}).items()})
    return flat


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
