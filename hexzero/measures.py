"""Measures of an agent against the truth on solved boards (n <= 5).

- move accuracy: on a fixed, seeded set of positions the side to move can win, the fraction in
  which the agent's move keeps the win. Half the positions come from uniformly random games,
  half from near-perfect self-play (the perfect agent with a share of random moves, so play
  reaches positions a strong agent meets and also leaves the winning line); one position per
  game, at a uniformly random ply, so every phase of the game counts alike. The set is kept in
  a file beside the solver's tables, so it is solved once per machine; the default 5x5 and 6x6
  sets ship with hexzero (`hexzero/data/`).
  On 6x6 positions are drawn from ply FIRST_PLY[6] = 4 on, and the self-play half's games open
  with PERFECT_FROM[6] = 8 random moves before the perfect agent takes over: every winning move
  of a 2- or 3-stone 6x6 position takes the solver minutes (one 2-stone position over 4 min),
  and the perfect agent must prove a lost position lost before it moves (every move refuted):
  with 4 random moves, its first ply over 500 games ran for over 14 minutes; with 8, a ply takes
  about 2 minutes. From ply 0 the set would cost an estimated ~10 CPU hours. The
  opening is what the games against the perfect agent test (the trainer's perfect-play check
  needs both). A 6x6 position whose winning moves take the search more than NODE_BUDGET[6]
  nodes (minutes) is left out of the set and counted (`PositionSet.unsolved`): rare, but one
  such position ran for over 20 minutes.
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
FIRST_PLY = {6: 4}  # positions are drawn from this ply on (see the module's docstring)
PERFECT_FROM = {6: 8}  # the self-play half's opening: this many random moves
NODE_BUDGET = {6: 400_000}  # search nodes per position of a set (~2 min on one core); none below 6x6
SOLVE_CHUNK = 50  # positions solved between two saves of the solver's table: a stopped build resumes


@dataclass(frozen=True)
class PositionSet:
    """Positions the side to move can win: board int8[P, n*n], to_play int8[P], and
    wins bool[P, n*n] (the winning moves of each); `unsolved`: drawn positions left out because
    the solver's node budget did not settle them."""

    n: int
    board: np.ndarray
    to_play: np.ndarray
    wins: np.ndarray
    unsolved: int = 0

    def __len__(self) -> int:
        return int(self.board.shape[0])


def sample_positions(agent, n: int, games: int, explore: float, rng: np.random.Generator, first_ply: int = 0,
                     random_plies: int = 0, progress: bool = False, on_ply=None):
    """Play `games` games of `agent` against itself, each move replaced by a uniformly random one
    with probability `explore` (every move of the first `random_plies`), and return one position
    of each game at a uniformly random ply from `first_ply` on:
    (board int8[games, n*n], to_play int8[games]). `on_ply()` is called after every ply."""
    state = HexGames(n, games)
    random_agent = RandomAgent(n)
    boards, players = [], []
    bar = _bar(progress, n * n, f"{n}x{n} positions: playing {agent.name}", "ply")
    while not state.done.all():
        boards.append(state.board.copy())
        players.append(state.to_play.copy())
        idx = np.nonzero(~state.done)[0]
        if len(boards) <= random_plies:
            chosen = random_agent.act(state.board[idx], state.to_play[idx], rng)
        else:
            chosen = agent.act(state.board[idx], state.to_play[idx], rng)
            if explore > 0:
                noise = random_agent.act(state.board[idx], state.to_play[idx], rng)
                chosen = np.where(rng.random(idx.size) < explore, noise, chosen)
        actions = np.full(games, NO_MOVE, dtype=np.int64)
        actions[idx] = chosen
        state.step(actions)
        if on_ply is not None:
            on_ply()
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    if (state.move_count <= first_ply).any():
        raise ValueError(f"a {n}x{n} game ended before ply {first_ply}")
    # game g lasted move_count[g] moves: plies first_ply..move_count-1 are the unfinished
    # positions it may give
    span = state.move_count - first_ply
    ply = first_ply + (rng.random(games) * span).astype(np.int64)
    game = np.arange(games)
    return np.stack(boards)[ply, game], np.stack(players)[ply, game]


def _bar(progress: bool, total: int, desc: str, unit: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)


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
    first, opening = FIRST_PLY.get(n, 0), PERFECT_FROM.get(n, 0)
    progress = n >= 6  # minutes to an hour of solving: show it
    random_board, random_to_play = sample_positions(RandomAgent(n), n, count // 2, 1.0, rng, first)
    perfect = PerfectAgent(n, seed=seed, cache_dir=cache_dir)
    solver = get_solver(n, cache_dir)
    # the solver's table and proofs are saved as it goes: a stopped build starts again faster
    self_board, self_to_play = sample_positions(perfect, n, count - count // 2, DEFAULT_EXPLORE, rng, first, opening,
                                                progress=progress, on_ply=solver.save if progress else None)
    board = np.concatenate([random_board, self_board])
    to_play = np.concatenate([random_to_play, self_to_play])
    wins = np.zeros(board.shape, dtype=bool)
    solved = np.ones(len(board), dtype=bool)
    bar = _bar(progress, len(board), f"{n}x{n} positions: solving", "position")
    for start in range(0, len(board), SOLVE_CHUNK):
        part = slice(start, start + SOLVE_CHUNK)
        if n in NODE_BUDGET:
            wins[part], solved[part] = solver.winning_moves_mask_within(board[part], to_play[part], NODE_BUDGET[n])
        else:
            wins[part] = solver.winning_moves_mask(board[part], to_play[part])
        solver.save()
        if bar is not None:
            bar.update(len(board[part]))
            bar.set_postfix_str(f"{int((~solved[:start + SOLVE_CHUNK]).sum())} over budget", refresh=False)
    if bar is not None:
        bar.close()
    keep = wins.any(axis=1)
    positions = PositionSet(n, board[keep], to_play[keep], wins[keep], int((~solved).sum()))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, format=np.array(POSITIONS_FORMAT), n=np.array(n), board=positions.board,
                        to_play=positions.to_play, wins=positions.wins, unsolved=np.array(positions.unsolved))
    atomic_write_bytes(path, buffer.getvalue())
    return positions


def _read_positions(path: Path, n: int) -> PositionSet:
    with np.load(path) as data:
        if int(data["format"]) != POSITIONS_FORMAT:
            raise ValueError(f"format {int(data['format'])}, this hexzero reads {POSITIONS_FORMAT}")
        board, to_play, wins = data["board"], data["to_play"], data["wins"]
        unsolved = int(data["unsolved"]) if "unsolved" in data.files else 0
        if int(data["n"]) != n or board.shape[1:] != (n * n,) or wins.shape != board.shape or \
                to_play.shape != board.shape[:1]:
            raise ValueError(f"arrays do not describe {n}x{n} positions")
    if (wins & (board != EMPTY)).any() or not wins.any(axis=1).all():
        raise ValueError("winning moves on occupied cells, or a position without one")
    return PositionSet(n, board.astype(np.int8), to_play.astype(np.int8), wins.astype(bool), unsolved)


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
