"""Measures of an agent against the truth on solved boards (n <= 5).

- move accuracy: on a fixed, seeded set of positions the side to move can win, the fraction in
  which the agent's move keeps the win. Half the positions come from uniformly random games,
  half from near-perfect self-play (the perfect agent with a share of random moves, so play
  reaches positions a strong agent meets and also leaves the winning line); one position per
  game, at a uniformly random ply, so every phase of the game counts alike. The set is kept in
  a file beside the solver's tables, so it is solved once per machine; the default 5x5 set
  ships with hexzero (`hexzero/data/`).
- win rate against the perfect agent, with equal games as black and as white (the perfect
  agent is made afresh per call, so the same seed plays the same games).
"""
from __future__ import annotations

import functools
import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hexzero.agents import RandomAgent
from hexzero.arena import play_match
from hexzero.hex import EMPTY, NO_MOVE, HexGames, check_size
from hexzero.solver import SHIPPED_DIR, PerfectAgent, get_solver, table_path
from hexzero.storage import atomic_write_bytes

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


POSITIONS_FORMAT = 1  # bump when the sampling changes: older files are then rebuilt
# Position sets are shipped with hexzero beside the solver's tables (SHIPPED_DIR; the default
# 5x5 one takes a few minutes to solve), used when the cache folder has none.


def positions_path(n: int, count: int, seed: int, cache_dir=None) -> Path:
    """Where the position set is kept: beside the solver's tables."""
    return table_path(n, cache_dir).parent / f"positions{n}x{n}-{count}-seed{seed}.npz"


@functools.lru_cache(maxsize=8)
def accuracy_positions(n: int, count: int = DEFAULT_POSITIONS, seed: int = 0, cache_dir=None) -> PositionSet:
    """The fixed position set of the accuracy measure: `count` positions drawn (half random
    play, half exploring perfect play), keeping those the side to move can win. Deterministic in
    (n, count, seed); kept in a file beside the solver's tables (a damaged or outdated file is
    rebuilt with a warning) and cached in memory."""
    n = check_size(n)
    if count < 2:
        raise ValueError(f"count must be at least 2 positions, got {count}")
    path = positions_path(n, count, seed, cache_dir)
    shipped = SHIPPED_DIR / path.name
    for source in (path, shipped):
        if source.is_file():
            try:
                return _read_positions(source, n)
            except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
                warnings.warn(f"position set {source} is unusable ({exc}); rebuilding it", stacklevel=2)
    rng = np.random.default_rng(seed)
    random_board, random_to_play = sample_positions(RandomAgent(n), n, count // 2, 1.0, rng)
    perfect = PerfectAgent(n, seed=seed, cache_dir=cache_dir)
    self_board, self_to_play = sample_positions(perfect, n, count - count // 2, DEFAULT_EXPLORE, rng)
    board = np.concatenate([random_board, self_board])
    to_play = np.concatenate([random_to_play, self_to_play])
    solver = get_solver(n, cache_dir)
    wins = solver.winning_moves_mask(board, to_play)
    solver.save()
    keep = wins.any(axis=1)
    positions = PositionSet(n, board[keep], to_play[keep], wins[keep])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, format=np.array(POSITIONS_FORMAT), n=np.array(n), board=positions.board,
                        to_play=positions.to_play, wins=positions.wins)
    atomic_write_bytes(path, buffer.getvalue())
    return positions


def _read_positions(path: Path, n: int) -> PositionSet:
    with np.load(path) as data:
        if int(data["format"]) != POSITIONS_FORMAT:
            raise ValueError(f"format {int(data['format'])}, this hexzero reads {POSITIONS_FORMAT}")
        board, to_play, wins = data["board"], data["to_play"], data["wins"]
        if int(data["n"]) != n or board.shape[1:] != (n * n,) or wins.shape != board.shape or \
                to_play.shape != board.shape[:1]:
            raise ValueError(f"arrays do not describe {n}x{n} positions")
    if (wins & (board != EMPTY)).any() or not wins.any(axis=1).all():
        raise ValueError("winning moves on occupied cells, or a position without one")
    return PositionSet(n, board.astype(np.int8), to_play.astype(np.int8), wins.astype(bool))


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
