"""`hexzero bench solver`: how fast the proof search solves 5x5 (or n x n) positions, with
H-search near the root (the default) against the plain search in the same run.

Each case starts from an empty search table (no disk cache, no book): the empty board's value;
the whole opening (every first move proven, what the accuracy measure and the perfect agent
need); and seeded early positions from random play (1 to 3 stones, the hardest after the
empty board), each solved for every move, timed one by one (median reported). Times are the
process's CPU seconds (the search is one thread), so a busy machine does not inflate them."""
from __future__ import annotations

import time

import numpy as np

HELP = "5x5 solver: empty board, whole opening, early positions; with and without H-search (JSON)"


def add_arguments(p):
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--positions", type=int, default=12, help="early positions per variant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variants", nargs="+", default=["plain", "hsearch"], choices=["plain", "hsearch"])


def early_positions(n: int, count: int, seed: int):
    """`count` unfinished positions after 1-3 random moves: (board int8[count, n*n], to_play)."""
    from hexzero.hex import HexGames

    rng = np.random.default_rng(seed)
    games = HexGames(n, count)
    stones = rng.integers(1, 4, size=count)
    for ply in range(3):
        moving = stones > ply
        actions = np.array([rng.choice(np.flatnonzero(row == 0)) for row in games.board], dtype=np.int64)
        games.step(np.where(moving, actions, -1))
    return games.board.copy(), games.to_play.copy()


def _fresh(n, vc_max_stones):
    from hexzero import solver_search as core
    from hexzero.solver import _SEARCH_LOG2

    return np.zeros((2, n * n), dtype=np.int64), core.new_map(_SEARCH_LOG2[n]), core.new_stats(vc_max_stones)


def run(args) -> list[dict]:
    from hexzero import solver_search as core
    from hexzero.solver import Solver

    n = args.n
    board, to_play = early_positions(n, args.positions, args.seed)
    helper = Solver(n)  # only for its masks, move order and key packing: nothing is loaded
    keys = helper.keys(board, to_play)
    m, order = helper._m, helper._order
    # compile outside the timings
    core.win_masks(keys[:1], n, m, order, *_fresh(n, core.VC_MAX_STONES))
    records = []
    for variant in args.variants:
        vc = core.VC_MAX_STONES if variant == "hsearch" else -1
        record = {"n": n, "variant": variant, "vc_max_stones": vc}
        history, tt, stats = _fresh(n, vc)
        started = time.process_time()
        win, _ = core.search(np.uint64(0), np.uint64(0), 0, n, m, order, history, tt, stats)
        record.update(empty_value_s=time.process_time() - started, empty_value_nodes=int(stats[core.STAT_NODES]),
                      first_player_wins=bool(win))
        history, tt, stats = _fresh(n, vc)
        started = time.process_time()
        root = core.win_masks(np.zeros((1, 2), dtype=np.uint64), n, m, order, history, tt, stats)
        record.update(opening_s=time.process_time() - started, opening_nodes=int(stats[core.STAT_NODES]),
                      winning_openings=int(bin(int(root[0])).count("1")))
        seconds, nodes = [], []
        for key in keys:
            history, tt, stats = _fresh(n, vc)
            started = time.process_time()
            core.win_masks(key[None], n, m, order, history, tt, stats)
            seconds.append(time.process_time() - started)
            nodes.append(int(stats[core.STAT_NODES]))
        record.update(early_positions=len(keys), early_median_s=float(np.median(seconds)),
                      early_max_s=float(np.max(seconds)), early_median_nodes=float(np.median(nodes)))
        records.append(record)
    if len(records) == 2:
        records.append({"n": n, "speedup_opening": records[0]["opening_s"] / records[1]["opening_s"],
                        "speedup_early_median": records[0]["early_median_s"] / records[1]["early_median_s"]})
    return records
