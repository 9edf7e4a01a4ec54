"""`hexzero measure AGENT --board N`: score an agent against the truth (boards up to 6x6).

AGENT is `random`, `perfect` or a snapshot file (played by its search, greedy unless --sample).
Prints JSON: move accuracy on the solver's seeded position set and the win rate against the
perfect agent over both colours (with the wins as black and as white apart)."""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from hexzero.commands.inputs import agent_or_snapshot, output_folder

HELP = "move accuracy and win rate against perfect play of an agent (random, perfect or a snapshot)"


def add_arguments(parser):
    parser.add_argument("agent", type=agent_or_snapshot, help="random, perfect, or a snapshot file (.pt)")
    parser.add_argument("--board", type=int, default=None, help="board size (a snapshot says its own)")
    parser.add_argument("--nodes", type=int, default=None, help="search nodes per move for a snapshot")
    parser.add_argument("--sample", action="store_true", help="a snapshot samples its moves from the search policy")
    parser.add_argument("--positions", type=int, default=None, help="size of the position set (default 1000)")
    parser.add_argument("--games", type=int, default=200, help="games against the perfect agent (even)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=output_folder, default=None, help="solver table folder")


def _agent(args):
    from hexzero.agents import make_agent
    from hexzero.storage import load_snapshot

    if args.agent in ("random", "perfect"):
        if args.board is None:
            raise ValueError(f"--board N is needed for the {args.agent} agent")
        return make_agent({"kind": args.agent, "n": args.board, "seed": args.seed})
    board = int(load_snapshot(args.agent)["train_config"]["board"])
    if args.board is not None and args.board != board:
        raise ValueError(f"--board {args.board} but {args.agent} plays {board}x{board}")
    spec = {"kind": "snapshot", "path": args.agent, "greedy": not args.sample}
    if args.nodes is not None:
        spec["nodes"] = args.nodes
    return make_agent(spec)


def main(args) -> int:
    from hexzero.arena import play_match
    from hexzero.measures import DEFAULT_POSITIONS, accuracy_positions, move_accuracy
    from hexzero.solver import MAX_SOLVED_SIZE, PerfectAgent, SolverError, get_solver

    if args.games < 2 or args.games % 2:
        raise ValueError(f"--games must be a positive even number, got {args.games}")
    agent = _agent(args)
    n = agent.n
    if n > MAX_SOLVED_SIZE:
        raise SolverError(f"perfect play is known up to {MAX_SOLVED_SIZE}x{MAX_SOLVED_SIZE}, not {n}x{n}")
    started = time.perf_counter()
    print(f"solving the {n}x{n} position set (fast once the solver table holds it)...", file=sys.stderr)
    positions = accuracy_positions(n, args.positions or DEFAULT_POSITIONS, args.seed, args.cache)
    accuracy = move_accuracy(agent, n, positions, seed=args.seed)
    set_s = time.perf_counter() - started
    print(f"playing {args.games} games against the perfect agent...", file=sys.stderr)
    half = args.games // 2
    a_black = np.arange(args.games) < half
    result = play_match(agent, PerfectAgent(n, seed=args.seed, cache_dir=args.cache), args.games, seed=args.seed,
                        a_black=a_black)
    get_solver(n, args.cache).save()
    won = result.a_won
    print(json.dumps({
        "agent": getattr(agent, "name", args.agent), "n": n, "positions": len(positions), "accuracy": accuracy,
        "games": args.games, "win_rate_vs_perfect": float(won.mean()),
        "win_rate_as_black": float(won[:half].mean()), "win_rate_as_white": float(won[half:].mean()),
        "positions_s": round(set_s, 2), "total_s": round(time.perf_counter() - started, 2)}, indent=1))
    return 0
