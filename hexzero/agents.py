"""Agents: anything that picks moves for a batch of positions (DESIGN.md).

Agents are described by JSON-able specs so a tournament can store them in its database and
rebuild them inside a Ray task on any node:
    {"kind": "random", "n": 5}
    {"kind": "perfect", "n": 5, "seed": 0}
    {"kind": "perfect", "n": 5, "lost": <agent spec>}   (hexzero.guided_perfect)
    {"kind": "snapshot", "path": "runs/x/snapshots/snapshot-07.pt", "nodes": 64,
     "policy": "gumbel", "greedy": true}
    {"kind": "gtp", "n": 5, "command": ["mohex"], "timeout": 30}   (hexzero.external)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from hexzero.hex import EMPTY, check_size


class Agent(Protocol):
    n: int
    name: str

    def act(self, board: np.ndarray, to_play: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """board int8[B, n*n], to_play int8[B] (unfinished positions) -> int64[B] cells."""


class RandomAgent:
    """Uniformly random legal moves."""

    def __init__(self, n: int):
        self.n = check_size(n)
        self.name = "random"

    def act(self, board, to_play, rng):
        # Argmax of uniform noise over the empty cells: one vectorised draw for the batch.
        noise = rng.random(board.shape)
        noise[board != EMPTY] = -1.0
        return noise.argmax(axis=1).astype(np.int64)


AGENT_KINDS = ("random", "perfect", "snapshot", "gtp")


def spec_name(spec: dict) -> str:
    """A short stable name for an agent spec: `random-5`, `perfect-5`, `RUN/snapshot-07@64`."""
    if spec.get("kind") == "snapshot":
        path = Path(spec["path"])
        return f"{path.parent.parent.name}/{path.stem}@{spec.get('nodes', 'cfg')}"
    return f"{spec.get('kind')}-{spec.get('n')}"


def spec_key(spec: dict) -> str:
    """Canonical JSON of a spec: equal specs, equal keys."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def make_agent(spec: dict) -> Agent:
    """Build an agent from its spec (see the module docstring)."""
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"agent spec must be a dict with a 'kind', got {spec!r}")
    kind = spec["kind"]
    if kind == "random":
        return RandomAgent(spec["n"])
    if kind == "perfect" and "lost" in spec:
        from hexzero.guided_perfect import GuidedPerfectAgent

        if not isinstance(spec["lost"], dict):
            raise ValueError(f"the perfect agent's 'lost' must be an agent spec (a dict), got {spec['lost']!r}")
        return GuidedPerfectAgent(spec["n"], make_agent(spec["lost"]), seed=spec.get("seed", 0))
    if kind == "perfect":
        from hexzero.solver import PerfectAgent

        return PerfectAgent(spec["n"], seed=spec.get("seed", 0))
    if kind == "snapshot":
        return load_snapshot_agent(spec)
    if kind == "gtp":
        from hexzero.external import gtp_agent_from_spec

        return gtp_agent_from_spec(spec)
    raise ValueError(f"unknown agent kind {kind!r}: expected one of {', '.join(AGENT_KINDS)}")


def load_snapshot_agent(spec: dict):
    """A search agent from a snapshot spec: {"kind": "snapshot", "path", "nodes", "policy", ...}."""
    from hexzero.mcts import SearchAgent, SearchConfig
    from hexzero.network import network_from_snapshot
    from hexzero.storage import load_snapshot

    data = load_snapshot(spec["path"])
    network = network_from_snapshot(data)
    search = dict(data["train_config"].get("search", {}))
    search.update({k: spec[k] for k in ("nodes", "policy", "greedy", "seed") if k in spec})
    # No exploration noise; moves sampled from the search policy unless the spec says greedy
    # (sampled play gives a tournament distinct games to learn from).
    search.setdefault("greedy", False)
    search["dirichlet_eps"] = 0.0
    agent = SearchAgent(network, SearchConfig(**search))
    agent.name = spec_name(spec)
    return agent
