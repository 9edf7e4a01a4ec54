"""`hexzero gtp AGENT`: an agent as a GTP engine on stdin/stdout, for HexGui, Benzene's tools or
another program (hexzero.gtp). AGENT: a snapshot file, `random`, `perfect`, or an agent spec
as JSON (as tournaments store them)."""
from __future__ import annotations

import json
import sys

HELP = "run an agent (snapshot, random, perfect or a JSON agent spec) as a GTP engine on stdin/stdout, for HexGui"


def add_arguments(p):
    p.add_argument("agent", help="a snapshot file, 'random', 'perfect', or a JSON agent spec like "
                                 "'{\"kind\": \"snapshot\", \"path\": \"s.pt\", \"nodes\": 64}'")
    p.add_argument("--board", type=int, default=None,
                   help="starting board size (default: the snapshot's, 11 for random, 5 for perfect); "
                        "GUIs set it with boardsize")
    p.add_argument("--nodes", type=int, default=None, help="search nodes per move of a snapshot (default: its own)")
    p.add_argument("--policy", default=None, help="search policy of a snapshot (default: its own)")
    p.add_argument("--sample", action="store_true", help="a snapshot samples its moves (default: greedy)")
    p.add_argument("--seed", type=int, default=0, help="seed of the agent's random choices")
    p.add_argument("--name", default="hexzero", help="the name the engine reports (default hexzero)")


def agent_spec(args) -> dict:
    """The agent spec the command line describes."""
    text = args.agent.strip()
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"agent spec is not valid JSON: {exc}") from None
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError(f"agent spec must be a JSON object with a 'kind', got {text[:80]!r}")
        return spec
    if text in ("random", "perfect"):
        from hexzero.solver import MAX_SOLVED_SIZE

        default = MAX_SOLVED_SIZE if text == "perfect" else 11
        return {"kind": text, "n": args.board or default, "seed": args.seed}
    spec = {"kind": "snapshot", "path": text, "greedy": not args.sample, "seed": args.seed}
    spec.update({k: v for k, v in (("nodes", args.nodes), ("policy", args.policy)) if v is not None})
    return spec


def agent_factory(spec: dict):
    """(agent_for(n), n): agents whose spec names a board size are rebuilt for any size the
    kind plays; others (snapshots) play their own size only."""
    from hexzero.agents import make_agent

    agent = make_agent(spec)
    if "n" not in spec:
        def fixed(n):
            if n != agent.n:
                raise ValueError(f"{agent.name} plays {agent.n}x{agent.n} only")
            return agent
        return fixed, agent.n

    def sized(n):
        if n == agent.n:
            return agent
        if spec["kind"] == "perfect":
            from hexzero.solver import MAX_SOLVED_SIZE

            if n > MAX_SOLVED_SIZE:
                raise ValueError(f"the perfect agent plays boards up to {MAX_SOLVED_SIZE}x{MAX_SOLVED_SIZE}")
        return make_agent({**spec, "n": n})
    return sized, agent.n


def main(args, stdin=None, stdout=None) -> int:
    from hexzero.gtp import GtpEngine, serve

    spec = agent_spec(args)
    agent_for, n = agent_factory(spec)
    if args.board is not None:
        agent_for(args.board)  # a clear error now rather than a `?` later
        n = args.board
    out = stdout or sys.stdout
    real_stdout, sys.stdout = sys.stdout, sys.stderr   # stray prints must not corrupt the protocol
    try:
        engine = GtpEngine(agent_for, n, name=args.name, seed=args.seed)
        return serve(engine, stdin, out)
    finally:
        sys.stdout = real_stdout
