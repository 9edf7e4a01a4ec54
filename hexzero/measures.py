"""Measures of an agent against the truth on solved boards (n <= 5).

- move accuracy: on a fixed, seeded set of positions the side to move can win, the fraction in
  which the agent's move keeps the win. Half the positions come from uniformly random games,
  half from near-perfect self-play (the perfect agent with a share of random moves, so play
  reaches positions a strong agent meets and also leaves the winning line); one position per
  game, at a uniformly random ply, so every phase of the game counts alike.
- win rate against the perfect agent, with equal games as black and as white (the perfect
  agent is made afresh per call, so the same seed plays the same games).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from hexzero.agents import RandomAgent
from hexzero.arena import play_match
from hexzero.hex import NO_MOVE, HexGames, check_size
from hexzero.solver import PerfectAgent, get_solver

DEFAULT_POSITIONS = 1000
DEFAULT_EXPLORE = 0.25  # share of random moves in the self-play half


@dataclass(frozen=True)
class PositionSet:
    """Positions the side to move can win: board int8[P, n*n], to_play int8[P], and
    wins bool[P, n*n] (the winning moves of each)."""

    n: int
    board: np.ndarray
    to_play: np.ndarray
    wins: np.ndarray

    def __len__(self) -> int:
        return int(self.board.shape[0])


def sample_positions(agent, n: int, games: int, explore: float, rng: np.random.Generator):
    """Play `games` games of `agent` against itself, each move replaced by a uniformly random one
    with probability `explore`, and return one position of each game at a uniformly random ply:
    (board int8[games, n*n], to_play int8[games])."""
    state = HexGames(n, games)
    random_agent = RandomAgent(n)
    boards, players = [], []
    while not state.done.all():
        boards.append(state.board.copy())
        players.append(state.to_play.copy())
        idx = np.nonzero(~state.done)[0]
        chosen = agent.act(state.board[idx], state.to_play[idx], rng)
        if explore > 0:
            noise = random_agent.act(state.board[idx], state.to_play[idx], rng)
            chosen = np.where(rng.random(idx.size) < explore, noise, chosen)
        actions = np.full(games, NO_MOVE, dtype=np.int64)
        actions[idx] = chosen
        state.step(actions)
    # game g lasted move_count[g] moves: plies 0..move_count-1 are its unfinished positions
    ply = (rng.random(games) * state.move_count).astype(np.int64)
    game = np.arange(games)
    return np.stack(boards)[ply, game], np.stack(players)[ply, game]


@functools.lru_cache(maxsize=8)
def accuracy_positions(n: int, count: int = DEFAULT_POSITIONS, seed: int = 0, cache_dir=None) -> PositionSet:
    """The fixed position set of the accuracy measure: `count` positions drawn (half random
    play, half exploring perfect play), keeping those the side to move can win. Deterministic in
    (n, count, seed); cached in memory."""
    n = check_size(n)
    if count < 2:
        raise ValueError(f"count must be at least 2 positions, got {count}")
    rng = np.random.default_rng(seed)
    random_board, random_to_play = sample_positions(RandomAgent(n), n, count // 2, 1.0, rng)
    perfect = PerfectAgent(n, seed=seed, cache_dir=cache_dir)
    self_board, self_to_play = sample_positions(perfect, n, count - count // 2, DEFAULT_EXPLORE, rng)
    board = np.concatenate([random_board, self_board])
    to_play = np.concatenate([random_to_play, self_to_play])
    wins = get_solver(n, cache_dir).winning_moves_mask(board, to_play)
    keep = wins.any(axis=1)
    return PositionSet(n, board[keep], to_play[keep], wins[keep])


def move_accuracy(agent, n: int, positions: PositionSet | None = None, seed: int = 0, count: int = DEFAULT_POSITIONS,
                  cache_dir=None) -> float:
    """Fraction of the winnable positions in which `agent`'s move keeps the win."""
    if positions is None:
        positions = accuracy_positions(check_size(n), count, seed, cache_dir)
    if agent.n != positions.n:
        raise ValueError(f"agent {agent.name} plays {agent.n}x{agent.n}, the positions are {positions.n}x{positions.n}")
    moves = agent.act(positions.board, positions.to_play, np.random.default_rng(seed))
    return float(positions.wins[np.arange(len(positions)), moves].mean())


def win_rate_vs_perfect(agent, n: int, games: int = 200, seed: int = 0, cache_dir=None) -> float:
    """Fraction of `games` games `agent` wins against the perfect agent, half as black and
    half as white."""
    if agent.n != check_size(n):
        raise ValueError(f"agent {agent.name} plays {agent.n}x{agent.n}, asked for {n}x{n}")
    if games < 2 or games % 2:
        raise ValueError(f"games must be a positive even number (equal games per colour), got {games}")
    result = play_match(agent, PerfectAgent(n, seed=seed, cache_dir=cache_dir), games, seed=seed)
    get_solver(n, cache_dir).save()
    return float(result.a_won.mean())
