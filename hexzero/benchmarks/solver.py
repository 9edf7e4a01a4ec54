"""`hexzero bench solver`: how fast the proof search solves 5x5 (or n x n) positions, with
H-search near the root (the default) against the plain search in the same run; with `--agent`,
the perfect agent's seconds per move over a tournament's worth of positions instead.

Each case starts from an empty search table (no disk cache, no book): the empty board's value;
the whole opening (every first move proven, what the accuracy measure and the perfect agent
need); and seeded early positions from random play (1 to 3 stones, the hardest after the
empty board), each solved for every move, timed one by one (median reported). Times are the
process's CPU seconds (the search is one thread), so a busy machine does not inflate them."""
from __future__ import annotations

import time

import numpy as np

HELP = ("5x5 solver: empty board, whole opening, early positions; with and without H-search; "
        "--agent: the perfect agent's seconds per move (JSON)")


def add_arguments(p):
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--positions", type=int, default=12, help="early positions per variant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variants", nargs="+", default=["plain", "hsearch"], choices=["plain", "hsearch"])
    p.add_argument("--agent", action="store_true", help="time the perfect agent's moves instead")
    p.add_argument("--games", type=int, default=50, help="--agent: games played")
    p.add_argument("--start-stones", type=int, default=0,
                   help="--agent: random moves before timing starts (6x6 openings are beyond the search)")
    p.add_argument("--explore", type=float, default=0.25,
                   help="--agent: share of random moves, so play leaves the winning line as in tournaments")


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


def agent_seconds(n: int, games: int, start_stones: int, explore: float, seed: int, cache_dir=None) -> dict:
    """The perfect agent's CPU seconds per move, one position at a time, both colours, in games
    of the perfect agent against itself with a share `explore` of its moves replaced by random
    ones (tournament opponents are imperfect), after `start_stones` random moves. One solver
    for the whole run, its book loaded first, as in a tournament worker."""
    import tempfile

    from hexzero.hex import HexGames
    from hexzero.solver import PerfectAgent

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as scratch:
        agent = PerfectAgent(n, seed=seed, cache_dir=cache_dir if cache_dir is not None else scratch)
        agent.solver._table()
        seconds = []
        for _ in range(games):
            state = HexGames(n, 1)
            while state.move_count[0] < start_stones:
                trial = state.copy()
                trial.step(np.array([rng.choice(np.flatnonzero(state.board[0] == 0))]))
                if not trial.done[0]:  # random stones that end the game are skipped
                    state = trial
            while not state.done[0]:
                started = time.process_time()
                move = agent.act(state.board, state.to_play, rng)
                seconds.append(time.process_time() - started)
                if rng.random() < explore:
                    move = np.array([rng.choice(np.flatnonzero(state.board[0] == 0))])
                state.step(move)
    seconds = np.array(seconds)
    return {"n": n, "agent": "perfect", "games": games, "start_stones": start_stones, "explore": explore,
            "moves": int(seconds.size), "median_s": float(np.median(seconds)),
            "p99_s": float(np.percentile(seconds, 99)), "max_s": float(seconds.max()),
            "total_s": float(seconds.sum())}


def run(args) -> list[dict]:
    from hexzero.solver import MAX_SOLVED_SIZE

    if args.agent:
        return [agent_seconds(args.n, args.games, args.start_stones, args.explore, args.seed)]
    if args.n > MAX_SOLVED_SIZE:
        raise ValueError(f"the {args.n}x{args.n} opening is beyond the search; time the agent from the "
                         f"middle game instead (--agent --start-stones 12)")
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
