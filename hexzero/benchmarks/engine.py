"""`hexzero bench engine`: random-play throughput, a win check after every move.

Implementations:
- `hexzero-fused`: `HexGames.play_random`, the whole loop in one compiled kernel (prange over
  games), what bulk random play or random openings cost;
- `hexzero-step`: a Python loop of `random_actions` + `step` + `reset` of finished games, what
  an agent or interactive caller pays per call (B = 1 shows the per-call overhead);
- `python`: the same rules in plain Python (`PythonHex` below), the baseline without numba;
- `pyspiel`: OpenSpiel's C++ Hex through its Python bindings, when `open_spiel` is installed.

The baselines are single-threaded and play their games one after another, so they run on one
core and their batch size changes nothing; they are measured at B = 1 only.
"""
from __future__ import annotations

import random
import statistics
import time

import numba
import numpy as np

from hexzero.hex import BLACK, WHITE, HexGames, neighbour_table, seed_kernels

HELP = "random-play moves/s and games/s of the Hex engine (fused, step-by-step) against pure Python and OpenSpiel"
IMPLS = ["hexzero-fused", "hexzero-step", "python", "pyspiel"]
SINGLE_THREADED = {"python", "pyspiel"}


def add_arguments(parser):
    parser.add_argument("--n", type=int, nargs="+", default=[5, 9, 11], help="board sizes (default 5 9 11)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4096], help="games stepped together (default 1 4096)")
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2], help="numba threads (default 1 2)")
    parser.add_argument("--impl", nargs="+", default=IMPLS, choices=IMPLS, help="implementations (default all)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed repeat (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per setting; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=0)


# ----------------------------------------------------------------------------- timed loops
# Each returns (moves, games finished, seconds taken).

def _time_fused(games: HexGames, steps: int):
    start = time.perf_counter()
    finished = games.play_random(steps)
    return games.batch * steps, finished, time.perf_counter() - start


def _fused_steps(games: HexGames, seconds: float) -> int:
    """Steps per call so that one call of play_random lasts about `seconds`."""
    steps = 8
    while True:
        _, _, took = _time_fused(games, steps)
        if took >= 0.1 * seconds:
            return max(1, int(steps * seconds / took))
        steps *= 4


def _time_step(games: HexGames, seconds: float):
    moves = finished = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(16):  # check the clock every few steps, not every one
            winner = games.step(games.random_actions())
            ended = np.count_nonzero(winner)
            if ended:
                finished += ended
                games.reset(winner != 0)
            moves += games.batch
        now = time.perf_counter()
        if now >= deadline:
            return moves, finished, now - start


class PythonHex:
    """One game of Hex in plain Python: a list board and a flood fill from each new stone,
    with a list of empty cells for uniform random moves."""

    def __init__(self, n: int):
        self.n = n
        self.neighbours = [[int(x) for x in row if x >= 0] for row in neighbour_table(n)]
        self.reset()

    def reset(self):
        self.board = [0] * (self.n * self.n)
        self.empty = list(range(self.n * self.n))
        self.to_play = BLACK

    def play_random(self, rng: random.Random) -> int:
        """Play one uniformly random move; returns the winner (0 while the game goes on)."""
        i = rng.randrange(len(self.empty))
        cell = self.empty[i]
        self.empty[i] = self.empty[-1]
        self.empty.pop()
        colour = self.to_play
        self.board[cell] = colour
        self.to_play = WHITE if colour == BLACK else BLACK
        return colour if self.connects(cell, colour) else 0

    def connects(self, cell: int, colour: int) -> bool:
        n = self.n
        seen = {cell}
        stack = [cell]
        start = end = False
        while stack:
            x = stack.pop()
            coord = x // n if colour == BLACK else x % n
            start |= coord == 0
            end |= coord == n - 1
            if start and end:
                return True
            for y in self.neighbours[x]:
                if y not in seen and self.board[y] == colour:
                    seen.add(y)
                    stack.append(y)
        return False


def _time_python(n: int, seconds: float, rng: random.Random):
    game = PythonHex(n)
    moves = finished = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(64):
            moves += 1
            if game.play_random(rng):
                finished += 1
                game.reset()
        now = time.perf_counter()
        if now >= deadline:
            return moves, finished, now - start


def _time_pyspiel(game, seconds: float, rng: random.Random):
    state = game.new_initial_state()
    moves = finished = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(64):
            state.apply_action(rng.choice(state.legal_actions()))
            moves += 1
            if state.is_terminal():
                finished += 1
                state = game.new_initial_state()
        now = time.perf_counter()
        if now >= deadline:
            return moves, finished, now - start


# ----------------------------------------------------------------------------- driver

def _load_pyspiel():
    try:
        import pyspiel
    except ImportError:
        return None
    return pyspiel


def _settings(args):
    """(impl, n, batch, cores) in the order they run."""
    for impl in args.impl:
        for n in args.n:
            for batch in ([1] if impl in SINGLE_THREADED else args.batch):
                for cores in ([1] if impl in SINGLE_THREADED else args.cores):
                    yield impl, n, batch, cores


def _measure(impl, n, batch, cores, args, pyspiel):
    """A list of (moves, finished, seconds), one per repeat, after a warm-up."""
    rng = random.Random(args.seed)
    if impl in SINGLE_THREADED:
        if impl == "python":
            def once():
                return _time_python(n, args.seconds, rng)
        else:
            game = pyspiel.load_game(f"hex(board_size={n})")

            def once():
                return _time_pyspiel(game, args.seconds, rng)
    else:
        numba.set_num_threads(cores)
        seed_kernels(args.seed)
        games = HexGames(n, batch)
        if impl == "hexzero-fused":
            steps = _fused_steps(games, args.seconds)  # also the warm-up (compilation, caches)

            def once():
                return _time_fused(games, steps)
        else:
            _time_step(games, 0.1 * args.seconds)

            def once():
                return _time_step(games, args.seconds)
    return [once() for _ in range(args.repeats)]


def run(args) -> list[dict]:
    if args.repeats < 1 or args.seconds <= 0:
        raise ValueError("--repeats must be >= 1 and --seconds > 0")
    if any(c < 1 or c > numba.config.NUMBA_NUM_THREADS for c in args.cores):
        raise ValueError(f"--cores must be between 1 and {numba.config.NUMBA_NUM_THREADS} (numba's thread pool)")
    pyspiel = _load_pyspiel() if "pyspiel" in args.impl else None
    records = []
    threads_before = numba.get_num_threads()
    try:
        for impl, n, batch, cores in _settings(args):
            if impl == "pyspiel" and pyspiel is None:
                continue  # optional baseline: `pip install open_spiel` to include it
            runs = _measure(impl, n, batch, cores, args, pyspiel)
            moves_per_s = [m / s for m, _, s in runs]
            games_per_s = [f / s for _, f, s in runs]
            total_moves, total_games = sum(m for m, _, _ in runs), sum(f for _, f, _ in runs)
            records.append({
                "impl": impl, "n": n, "batch": batch, "cores": cores,
                "moves_per_s": statistics.median(moves_per_s),
                "games_per_s": statistics.median(games_per_s),
                "moves_per_game": total_moves / total_games if total_games else None,
                "repeats": len(runs), "seconds_per_repeat": args.seconds,
                "moves_per_s_each": [round(v) for v in moves_per_s],
            })
    finally:
        numba.set_num_threads(threads_before)
    return records
