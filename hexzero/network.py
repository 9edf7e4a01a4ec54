"""Policy-value networks: the paper's fully connected ReZero model and a small conv ResNet.

Every network maps mover's-view observations float32[B, 2, n, n] (DESIGN.md: plane 0 the
mover's stones, plane 1 the opponent's) to
    log_probs float32[B, n*n]  in the MOVER's frame, illegal (occupied) cells at log 0 mass;
    value     float32[B]       in [-1, 1], +1 = the side to move wins.
The legal mask is read off the observation itself (a cell is legal when both planes are 0), so
callers pass nothing else.

Compute accounting (the paper's units and true FLOPs) lives next to each architecture:
- `parameter_count()`: weights and biases, one unit each, as the paper counts. The ReZero
  gains (one scalar per block) are NOT counted: the paper's check figure, 9x9 width 1024
  depth 4 -> 4,449,362, is exactly weights + biases, so `sum(p.numel())` = this + depth.
- `forward_compute()`: multiply-accumulates per position, a bias counting as one. For the
  fully connected model this equals `parameter_count()` (the paper's compute unit).
- `forward_flops()`: 2 per multiply-accumulate plus element-wise activations (formulas on
  each class).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NETWORK_KINDS = ("mlp", "conv")

# Element-wise FLOPs of the masked log-softmax per move: mask select, max subtract, exp, sum,
# log-sum subtract.
_SOFTMAX_FLOPS_PER_MOVE = 5


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" -> CUDA when available, else CPU; anything else as torch reads it."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def masked_log_softmax(logits: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """log-probabilities over the empty cells of `obs` (float32[B, 2, n, n]); occupied cells get
    exp(log p) = 0. A board with no empty cell (never sent by the search) gets a uniform row
    instead of NaNs."""
    legal = (obs[:, 0] + obs[:, 1]).flatten(1) == 0
    masked = torch.where(legal, logits, torch.finfo(logits.dtype).min)
    return F.log_softmax(masked, dim=1)


class HexNetwork(nn.Module):
    """Shared interface; subclasses set `kind` and build `trunk`/`policy_logits`/`value_head`."""

    kind = ""

    def __init__(self, n: int, width: int, depth: int):
        super().__init__()
        for name, v, lo in (("n", n, 2), ("width", width, 1), ("depth", depth, 0)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"network {name} must be an integer >= {lo}, got {v!r}")
        self.n, self.width, self.depth = n, width, depth

    def config(self) -> dict:
        return {"kind": self.kind, "n": self.n, "width": self.width, "depth": self.depth}

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if obs.dim() != 4 or obs.shape[1:] != (2, self.n, self.n):
            raise ValueError(f"observations must be [B, 2, {self.n}, {self.n}], got {tuple(obs.shape)}")
        logits, value = self.heads(obs)
        return masked_log_softmax(logits, obs), torch.tanh(value)

    def total_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class ReZeroBlock(nn.Module):
    """x + alpha * Linear(relu(x)), alpha a learnable scalar starting at 0 (Bachlechner et al.
    2020), orthogonal weights as the paper's code."""

    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)
        nn.init.orthogonal_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.alpha * self.linear(F.relu(x))


class MLPNetwork(HexNetwork):
    """The paper's model: 2*n*n inputs -> Linear(width) -> depth ReZero blocks -> policy
    Linear(width, n*n) and value Linear(width, 1), both reading the residual stream."""

    kind = "mlp"

    def __init__(self, n: int, width: int, depth: int):
        super().__init__(n, width, depth)
        a = n * n
        self.embed = nn.Linear(2 * a, width)
        self.blocks = nn.Sequential(*(ReZeroBlock(width) for _ in range(depth)))
        self.policy = nn.Linear(width, a)
        self.value = nn.Linear(width, 1)

    def heads(self, obs):
        x = self.blocks(self.embed(obs.flatten(1)))
        return self.policy(x), self.value(x).squeeze(1)

    def parameter_count(self) -> int:
        # embed + blocks + policy head + value head, weights and biases.
        a, w, d = self.n * self.n, self.width, self.depth
        return (2 * a * w + w) + d * (w * w + w) + (w * a + a) + (w + 1)

    def forward_compute(self) -> int:
        return self.parameter_count()

    def forward_flops(self) -> int:
        # 2 per weight (multiply + add; the bias is the first add) + per block relu, alpha
        # scale, residual add (3w) + masked log-softmax (5 per move) + tanh.
        a, w, d = self.n * self.n, self.width, self.depth
        macs = 2 * a * w + d * w * w + w * a + w
        return 2 * macs + 3 * w * d + _SOFTMAX_FLOPS_PER_MOVE * a + 1


class ConvBlock(nn.Module):
    """x + alpha * conv(relu(conv(relu(x)))), 3x3 convolutions (a hex cell's six neighbours lie
    in its 3x3 window), ReZero gain starting at 0 so a deep stack starts as the identity."""

    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.alpha * self.conv2(F.relu(self.conv1(F.relu(x))))


class ConvNetwork(HexNetwork):
    """A small convolutional ResNet: 3x3 conv 2 -> width channels, `depth` two-conv residual
    blocks, policy = 1x1 conv to one logit per cell, value = Linear(width, 1) of the mean over
    cells. Board-size agnostic weights, but built (and checked) for one n."""

    kind = "conv"

    def __init__(self, n: int, width: int, depth: int):
        super().__init__(n, width, depth)
        self.embed = nn.Conv2d(2, width, 3, padding=1)
        self.blocks = nn.Sequential(*(ConvBlock(width) for _ in range(depth)))
        self.policy = nn.Conv2d(width, 1, 1)
        self.value = nn.Linear(width, 1)

    def heads(self, obs):
        x = self.blocks(self.embed(obs))
        return self.policy(x).flatten(1), self.value(x.mean(dim=(2, 3))).squeeze(1)

    def parameter_count(self) -> int:
        w, d = self.width, self.depth
        return (2 * 9 * w + w) + d * 2 * (9 * w * w + w) + (w + 1) + (w + 1)

    def forward_compute(self) -> int:
        # Multiply-accumulates: every conv weight and bias is applied at all n*n cells.
        a, w, d = self.n * self.n, self.width, self.depth
        return a * ((2 * 9 * w + w) + d * 2 * (9 * w * w + w) + (w + 1)) + (w + 1)

    def forward_flops(self) -> int:
        # 2 per multiply-accumulate (zero padding counted as real work, as a dense conv does
        # it) + per block two relus, alpha scale, residual add (4 per cell and channel) + mean
        # pool (a*w adds) + masked log-softmax + tanh.
        a, w, d = self.n * self.n, self.width, self.depth
        return 2 * self.forward_compute() + 4 * a * w * d + a * w + _SOFTMAX_FLOPS_PER_MOVE * a + 1


_KINDS = {"mlp": MLPNetwork, "conv": ConvNetwork}


def make_network(kind: str, n: int, width: int, depth: int) -> HexNetwork:
    if kind not in _KINDS:
        raise ValueError(f"unknown network kind {kind!r}: expected one of {', '.join(NETWORK_KINDS)}")
    return _KINDS[kind](n, width, depth)


def network_config(network: HexNetwork) -> dict:
    """JSON-able architecture description: `network_from_config` rebuilds the module."""
    return network.config()


def network_from_config(cfg: dict) -> HexNetwork:
    missing = {"kind", "n", "width", "depth"} - set(cfg)
    if missing:
        raise ValueError(f"network config lacks {', '.join(sorted(missing))}: {cfg!r}")
    return make_network(cfg["kind"], cfg["n"], cfg["width"], cfg["depth"])


def network_from_snapshot(data: dict, device: str | torch.device = "cpu") -> HexNetwork:
    """Rebuild the network of a snapshot (`storage.load_snapshot`'s dict), in eval mode on
    `device`."""
    network = network_from_config(data["network_config"])
    network.load_state_dict(data["network_state"])
    return network.to(resolve_device(device)).eval()
