"""`hexzero bench solver`: how fast the proof search solves n x n positions, in several
variants in the same run (5x5: depth-first search without and with H-search near the root;
6x6: proof-number search with H-search at every node); with `--agent`, the perfect agent's
seconds per move over a tournament's worth of positions instead.

Each case starts from an empty search table (no disk cache, no book): the empty board's value;
the whole opening (every first move proven, what the accuracy measure and the perfect agent
need; one of each pair of first moves the half turn maps onto each other), with each distinct
first move's value, nodes and seconds; and seeded early positions from random play (1 to 3
stones), each solved for every move, timed one by one (median reported). Times are the
process's CPU seconds (the search is one thread), so a busy machine does not inflate them.
`--agent --opponent SNAPSHOT --baseline` times the perfect agent in a tournament batch against
a trained agent, with the draw among proven winning moves (carrier transfer) and, in the same
run, the uniform draw among all winning moves it replaced."""
from __future__ import annotations

import time

import numpy as np

HELP = ("solver: empty board, whole opening (each first move), early positions, per search variant; "
        "--agent: the perfect agent's seconds per move (JSON)")
# variant -> (search method, H-search on positions with at most this many stones; -1: never)
VARIANTS = {"plain": (0, -1), "hsearch": (0, 8), "dfpn": (1, 49), "dfpn-hsearch8": (1, 8)}
DEFAULT_VARIANTS = {6: ["dfpn"]}  # depth-first search does not finish the 6x6 opening


def add_arguments(p):
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--positions", type=int, default=12, help="early positions per variant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variants", nargs="+", default=None, choices=list(VARIANTS),
                   help="default: plain and hsearch up to 5x5, dfpn on 6x6")
    p.add_argument("--node-limit", type=float, default=0, help="give up a case after this many nodes (0: never)")
    p.add_argument("--agent", action="store_true", help="time the perfect agent's moves instead")
    p.add_argument("--games", type=int, default=50, help="--agent: games played")
    p.add_argument("--start-stones", type=int, default=0,
                   help="--agent: random moves before timing starts")
    p.add_argument("--explore", type=float, default=0.25,
                   help="--agent: share of random moves, so play leaves the winning line as in tournaments")
    p.add_argument("--opponent", default=None, metavar="SNAPSHOT",
                   help="--agent: play this snapshot (both colours, as a tournament batch) instead of "
                        "the perfect agent's exploring self")
    p.add_argument("--opponent-nodes", type=int, default=16, help="--opponent: its search nodes per move")
    p.add_argument("--baseline", action="store_true",
                   help="--agent: also time the uniform draw among all winning moves (the agent before "
                        "carrier transfer), same games and seeds")


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


def _fresh(n, variant, node_limit=0):
    from hexzero import solver_search as core
    from hexzero.solver import _SEARCH_LOG2

    method, vc = VARIANTS[variant]
    table = core.new_map(_SEARCH_LOG2[n], core.DFPN_WIDTH if method == core.METHOD_DFPN else 3)
    return np.zeros((2, n * n), dtype=np.int64), table, core.new_stats(vc, int(node_limit), method)


def agent_seconds(n: int, games: int, start_stones: int, explore: float, seed: int, cache_dir=None,
                  opponent: str | None = None, opponent_nodes: int = 16, uniform_draw: bool | None = None) -> dict:
    """The perfect agent's CPU seconds per move, one position at a time, both colours. Either
    in games of the perfect agent against itself with a share `explore` of its moves replaced
    by random ones (tournament opponents are imperfect), after `start_stones` random moves;
    or, with `opponent` (a snapshot file), against that trained agent, the perfect agent black
    in the first half of the games, as in a tournament batch (its opponent's moves untimed).
    One solver for the whole run, its book loaded first, as in a tournament worker.
    uniform_draw: the solver's setting (None: its default for n)."""
    import tempfile

    from hexzero.hex import BLACK, HexGames
    from hexzero.solver import PerfectAgent

    rng = np.random.default_rng(seed)
    other = None
    if opponent is not None:
        from hexzero.agents import make_agent

        other = make_agent({"kind": "snapshot", "path": str(opponent), "nodes": opponent_nodes, "policy": "gumbel"})
        if other.n != n:
            raise ValueError(f"--opponent plays {other.n}x{other.n}, not {n}x{n}")
    with tempfile.TemporaryDirectory() as scratch:
        agent = PerfectAgent(n, seed=seed, cache_dir=cache_dir if cache_dir is not None else scratch)
        if uniform_draw is not None:
            agent.solver.uniform_draw = uniform_draw
        agent.solver._table()
        seconds, perfect_won = [], 0
        for game in range(games):
            perfect_colour = BLACK if game < (games + 1) // 2 else 3 - BLACK
            state = HexGames(n, 1)
            while state.move_count[0] < start_stones:
                trial = state.copy()
                trial.step(np.array([rng.choice(np.flatnonzero(state.board[0] == 0))]))
                if not trial.done[0]:  # random stones that end the game are skipped
                    state = trial
            while not state.done[0]:
                if other is not None and state.to_play[0] != perfect_colour:
                    state.step(other.act(state.board, state.to_play, rng))
                    continue
                started = time.process_time()
                move = agent.act(state.board, state.to_play, rng)
                seconds.append(time.process_time() - started)
                if other is None and rng.random() < explore:
                    move = np.array([rng.choice(np.flatnonzero(state.board[0] == 0))])
                state.step(move)
            perfect_won += int(state.winner[0] == perfect_colour)
    seconds = np.array(seconds)
    record = {"n": n, "agent": "perfect", "draw": "uniform" if agent.solver.uniform_draw else "proven",
              "games": games, "moves": int(seconds.size), "median_s": float(np.median(seconds)),
              "p99_s": float(np.percentile(seconds, 99)), "max_s": float(seconds.max()),
              "total_s": float(seconds.sum())}
    if other is None:
        record.update(start_stones=start_stones, explore=explore)
    else:
        record.update(opponent=str(opponent), opponent_nodes=opponent_nodes, perfect_won=perfect_won)
    return record


def opening(n: int, variant: str, node_limit: float = 0) -> dict:
    """Every first move's value, nodes and CPU seconds, proven one after the other in one
    search table (as the book is built), one of each half-turn pair."""
    from hexzero import solver_search as core
    from hexzero.hex import cell_name
    from hexzero.solver import Solver

    helper = Solver(n)  # only for its masks and move order: nothing is loaded
    history, tt, stats = _fresh(n, variant, node_limit)
    moves, started_all = [], time.process_time()
    for cell in range(n * n):
        image = n * n - 1 - cell
        if image < cell:
            continue
        nodes, started = int(stats[core.STAT_NODES]), time.process_time()
        white_wins, _ = core.prove(np.uint64(0), np.uint64(1) << np.uint64(cell), 1, n, helper._m, helper._order,
                                   history, tt, stats)
        aborted = bool(stats[core.STAT_ABORTED])
        stats[core.STAT_ABORTED] = 0
        moves.append({"moves": sorted({cell_name(cell, n), cell_name(image, n)}),
                      "black": None if aborted else ("loses" if white_wins else "wins"),
                      "nodes": int(stats[core.STAT_NODES]) - nodes, "s": time.process_time() - started})
        if node_limit:
            stats[core.STAT_NODES] = 0  # the limit is per first move
    wins = sorted(c for move in moves if move["black"] == "wins" for c in move["moves"])
    return {"n": n, "variant": variant, "opening_s": time.process_time() - started_all,
            "opening_nodes": sum(move["nodes"] for move in moves), "winning_openings": len(wins), "black_wins_with": wins,
            "unproven": sum(move["black"] is None for move in moves), "first_moves": moves}


def run(args) -> list[dict]:
    if args.agent:
        settings = dict(opponent=args.opponent, opponent_nodes=args.opponent_nodes)
        records = [agent_seconds(args.n, args.games, args.start_stones, args.explore, args.seed, **settings)]
        if args.baseline:
            records.append(agent_seconds(args.n, args.games, args.start_stones, args.explore, args.seed,
                                         uniform_draw=True, **settings))
            records.append({"n": args.n, "speedup_total": records[1]["total_s"] / max(records[0]["total_s"], 1e-9),
                            "speedup_p99": records[1]["p99_s"] / max(records[0]["p99_s"], 1e-9)})
        return records
    from hexzero import solver_search as core
    from hexzero.solver import MAX_SEARCH_SIZE, Solver

    n = args.n
    if n > MAX_SEARCH_SIZE:
        raise ValueError(f"the solver handles boards up to {MAX_SEARCH_SIZE}x{MAX_SEARCH_SIZE}, got {n}x{n}")
    variants = args.variants or DEFAULT_VARIANTS.get(n, ["plain", "hsearch"])
    board, to_play = early_positions(n, args.positions, args.seed)
    helper = Solver(n)  # only for its masks, move order and key packing: nothing is loaded
    keys = helper.keys(board, to_play)
    m, order = helper._m, helper._order
    small = Solver(3)
    for variant in variants:  # compile outside the timings
        core.win_masks(np.zeros((1, 2), dtype=np.uint64), 3, small._m, small._order, *_fresh(3, variant))
    records = []
    for variant in variants:
        method, vc = VARIANTS[variant]
        record = {"n": n, "variant": variant, "method": ["depth-first", "dfpn"][method], "vc_max_stones": vc}
        history, tt, stats = _fresh(n, variant, args.node_limit)
        started = time.process_time()
        win, _ = core.prove(np.uint64(0), np.uint64(0), 0, n, m, order, history, tt, stats)
        record.update(empty_value_s=time.process_time() - started, empty_value_nodes=int(stats[core.STAT_NODES]),
                      first_player_wins=None if stats[core.STAT_ABORTED] else bool(win))
        record.update(opening(n, variant, args.node_limit))
        seconds, nodes = [], []
        for key in keys:
            history, tt, stats = _fresh(n, variant, args.node_limit)
            started = time.process_time()
            core.win_masks(key[None], n, m, order, history, tt, stats)
            seconds.append(time.process_time() - started)
            nodes.append(int(stats[core.STAT_NODES]))
        record.update(early_positions=len(keys), early_median_s=float(np.median(seconds)),
                      early_max_s=float(np.max(seconds)), early_median_nodes=float(np.median(nodes)))
        records.append(record)
    if len(records) == 2:
        records.append({"n": n, "speedup_opening": records[0]["opening_s"] / max(records[1]["opening_s"], 1e-9),
                        "speedup_early_median": records[0]["early_median_s"] / max(records[1]["early_median_s"], 1e-9)})
    return records
