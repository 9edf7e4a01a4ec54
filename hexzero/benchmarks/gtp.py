"""`hexzero bench gtp`: what playing through GTP costs. For each agent, games/s of a match
against the random agent with the agent in-process and with the same agent behind `hexzero
gtp` as an external engine (hexzero.external.GtpAgent: every move sets the position up with
clear_board and play commands, then genmove). The engine's start (a Python process importing
torch) is left out: one untimed game first. `moves` counts both players' moves, `ms_per_move`
divides the match's time by them; `slowdown` is in-process games/s over GTP games/s."""
from __future__ import annotations

import sys
import time

HELP = "games/s of agents in-process against the same agents behind `hexzero gtp` (the GTP path's cost)"


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=5, help="board size (default 5)")
    parser.add_argument("--games", type=int, default=32, help="games per measurement (default 32)")
    parser.add_argument("--agents", nargs="+", default=["random", "perfect"],
                        help="agents: random, perfect, or snapshot files (default random perfect)")
    parser.add_argument("--nodes", type=int, default=None, help="search nodes of snapshot agents (default: their own)")
    parser.add_argument("--seed", type=int, default=0)


def agent_spec(name: str, args) -> dict:
    if name in ("random", "perfect"):
        return {"kind": name, "n": args.n, "seed": args.seed}
    spec = {"kind": "snapshot", "path": name, "greedy": True, "seed": args.seed}
    if args.nodes is not None:
        spec["nodes"] = args.nodes
    return spec


def timed_match(opponent, agent, games: int, seed: int) -> tuple[float, int]:
    from hexzero.arena import play_match

    start = time.perf_counter()
    result = play_match(opponent, agent, games, seed=seed)
    return time.perf_counter() - start, int(result.length.sum())


def run(args) -> list[dict]:
    import json

    from hexzero.agents import RandomAgent, make_agent
    from hexzero.external import GtpAgent

    records = []
    for name in args.agents:
        spec = agent_spec(name, args)
        inprocess = make_agent(spec)
        n = inprocess.n
        command = [sys.executable, "-m", "hexzero.cli", "gtp", json.dumps(spec)]
        external = GtpAgent(command, n, timeout=600)
        try:
            for label, agent in (("in-process", inprocess), ("gtp", external)):
                timed_match(RandomAgent(n), agent, 1, args.seed)   # warm-up: engine start, numba, tables
                seconds, moves = timed_match(RandomAgent(n), agent, args.games, args.seed)
                records.append({"agent": name, "path": label, "n": n, "games": args.games, "seconds": seconds,
                                "games_per_s": args.games / seconds, "moves": moves,
                                "ms_per_move": 1000 * seconds / moves})
        finally:
            external.close()
        slow, fast = records[-1], records[-2]
        slow["slowdown"] = fast["games_per_s"] / slow["games_per_s"]
    return records
