"""Self-play: many games at once, every move chosen by a batched search, producing training
samples in the mover's frame.

A `SelfPlayWorker` is a plain class (testable without Ray); `train.py` wraps it as a Ray actor.
Value targets: the game result from the sample's mover's view when the game ends within
`value_window` moves of the sample; otherwise (the paper's recipe) the search value of the
position `value_window` moves later, signed for the sample's mover.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import torch

from hexzero.agents import RandomAgent
from hexzero.hex import WHITE, HexGames, seed_kernels


@dataclass
class Samples:
    """Training samples, all in the mover's frame: obs float32[S, 2, n, n], policy
    float32[S, A], value float32[S]. (The legal moves are the empty cells of `obs`.)"""

    obs: np.ndarray
    policy: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    @staticmethod
    def concatenate(parts: list["Samples"], n: int) -> "Samples":
        parts = [p for p in parts if len(p)]
        if not parts:
            a = n * n
            return Samples(np.zeros((0, 2, n, n), np.float32), np.zeros((0, a), np.float32), np.zeros(0, np.float32))
        return Samples(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))


FIELDS = ("obs", "policy", "value")


def to_mover_frame(values: np.ndarray, to_play: np.ndarray, n: int) -> np.ndarray:
    """Per-cell arrays [B, n*n] from the board frame to the mover's frame (transpose for
    white); the transpose is its own inverse, so this maps back too."""
    out = values.copy()
    white = to_play == WHITE
    if white.any():
        out[white] = values[white].reshape(-1, n, n).transpose(0, 2, 1).reshape(-1, n * n)
    return out


class SelfPlayWorker:
    """Plays `envs` games at once with `search` and keeps each game's pending samples until
    their value targets are known."""

    def __init__(self, n: int, envs: int, network_config: dict, search_config: dict, seed: int,
                 value_window: int | None = None, random_opening: float = 0.0, torch_threads: int = 1):
        from hexzero.mcts import SearchConfig, SearchTree
        from hexzero.network import network_from_config

        # One thread each for torch and numba: a worker owns one core, and numba's parallel
        # sections stall badly when their threads are descheduled by a busy neighbour.
        torch.set_num_threads(torch_threads)
        numba.set_num_threads(torch_threads)
        self.n, self.envs = n, envs
        self.network = network_from_config(network_config)
        self.network.eval()
        self.search_config = SearchConfig(**search_config)
        self.value_window = value_window
        self.rng = np.random.default_rng(seed)
        self.games = HexGames(n, envs)
        self.tree = SearchTree(n, envs, self.search_config.nodes)
        # Pending samples per env: lists of (obs, policy, mover colour, search value).
        self.pending: list[list[tuple]] = [[] for _ in range(envs)]
        self.evaluations = 0
        # Random openings: each game starts with k ~ U{0..K} uniformly random moves, K =
        # random_opening * n^2. Self-play alone rarely reaches positions its own play avoids
        # (say, white to move after a black blunder), so without them the network never learns
        # to punish mistakes. Opening moves are not searched and are not samples.
        self.max_opening = int(random_opening * n * n)
        self.random_agent = RandomAgent(n)
        self.opening_left = self._draw_openings(envs)

    def _draw_openings(self, count: int) -> np.ndarray:
        return self.rng.integers(0, self.max_opening + 1, size=count)

    def set_weights(self, state: dict) -> None:
        self.network.load_state_dict(state)

    def state(self) -> dict:
        """Everything the next round depends on besides the weights: the random stream, the
        games in flight, their pending samples and opening moves left, and the search tree's
        buffers, which the search reuses from move to move (a child's first backup,
        q += (v - q) / 1, rounds differently from the stale q it overwrites). numba's own RNG
        is reseeded from `rng` every round, so it needs no saving."""
        return {"rng": self.rng.bit_generator.state, "games": self.games.copy(),
                "pending": [list(p) for p in self.pending], "opening_left": self.opening_left.copy(),
                "evaluations": self.evaluations,
                "tree": {k: v.copy() for k, v in vars(self.tree).items() if isinstance(v, np.ndarray)}}

    def restore(self, state: dict) -> None:
        """Continue exactly where `state()` left off."""
        # Copies: a state that came through Ray holds read-only views of its message.
        self.rng.bit_generator.state = state["rng"]
        self.games = state["games"].copy()
        self.pending = [list(p) for p in state["pending"]]
        self.opening_left = state["opening_left"].copy()
        self.evaluations = state["evaluations"]
        for name, saved in state["tree"].items():
            getattr(self.tree, name)[...] = saved  # in place: the tree's torch view shares `obs`

    def play(self, state: dict | None, moves: int) -> tuple[Samples, dict]:
        """Play `moves` moves in every game with the given weights; return the samples whose
        targets became known, and counts (games finished, network evaluations)."""
        from hexzero.mcts import search

        if state is not None:
            self.set_weights(state)
        # numba's kernels draw from their own hidden RNG: seeding it from this worker's stream
        # every round makes a round depend on the worker's state alone (and a resume exact).
        seed_kernels(int(self.rng.integers(2**31)))
        finished_before = 0
        done_samples: list[tuple] = []
        evals_before = self.evaluations
        games, n = self.games, self.n
        positions = 0
        for _ in range(moves):
            actions = np.empty(self.envs, dtype=np.int64)
            opening = self.opening_left > 0
            if opening.any():
                actions[opening] = self.random_agent.act(games.board[opening], games.to_play[opening], self.rng)
                self.opening_left[opening] -= 1
            searched = np.nonzero(~opening)[0]
            if searched.size:
                board, to_play = games.board[searched], games.to_play[searched]
                obs = games.observation()[searched]
                result = search(self.network, board, to_play, self.search_config, self.rng, self.tree)
                # Terminal nodes found in the tree cost no evaluation: count what was spent.
                self.evaluations += int(result.evaluations)
                positions += searched.size
                policy_mover = to_mover_frame(result.policy.astype(np.float32), to_play, n)
                for row, g in enumerate(searched):
                    self.pending[g].append((obs[row], policy_mover[row], int(to_play[row]), float(result.value[row])))
                actions[searched] = result.action
            games.step(actions)
            finished = np.nonzero(games.done)[0]
            for g in finished:
                winner = int(games.winner[g])
                for ob, pol, mover, _ in self.pending[g]:
                    done_samples.append((ob, pol, 1.0 if mover == winner else -1.0))
                self.pending[g] = []
            finished_before += len(finished)
            if len(finished):
                games.reset(games.done.copy())
                self.opening_left[finished] = self._draw_openings(len(finished))
            if self.value_window is not None:
                done_samples.extend(self._bootstrap_expired())
        samples = self._pack(done_samples)
        return samples, {"games": finished_before, "positions": positions,
                         "evaluations": self.evaluations - evals_before}

    def _bootstrap_expired(self) -> list[tuple]:
        # A sample whose game outlives the window takes the search value of the position
        # `value_window` moves later (from that mover's view), signed for its own mover.
        out = []
        w = self.value_window
        for g in range(self.envs):
            pend = self.pending[g]
            if len(pend) > w:
                ob, pol, mover, _ = pend[0]
                later_mover, later_value = pend[w][2], pend[w][3]
                out.append((ob, pol, later_value if later_mover == mover else -later_value))
                self.pending[g] = pend[1:]
        return out

    def _pack(self, rows: list[tuple]) -> Samples:
        if not rows:
            return Samples.concatenate([], self.n)
        obs, policy, value = zip(*rows)
        return Samples(np.stack(obs).astype(np.float32), np.stack(policy).astype(np.float32),
                       np.asarray(value, dtype=np.float32))


def rotate_180(samples: Samples, n: int) -> Samples:
    """Hex's symmetry: a 180-degree rotation maps each side's edges to themselves, so
    positions, policies and values carry over (cell i -> n*n - 1 - i)."""
    return Samples(samples.obs[:, :, ::-1, ::-1].copy(), samples.policy[:, ::-1].copy(), samples.value.copy())
