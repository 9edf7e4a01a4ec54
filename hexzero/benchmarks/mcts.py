"""`hexzero bench mcts`: batched search throughput, and where its time goes.

For each (policy, n, width, batch) of the grid: one full search of B positions (random
openings) with `nodes` nodes, repeated; records the median simulations/s (B * nodes per
search: the root's evaluation plus nodes - 1 descents), the median seconds in tree kernels
(tree_s) and in the network (net_s) per search, and, measured in the same run at the same
batch, the network alone (net_evals_per_s: positions evaluated per second, one forward pass
of B). sims_per_s cannot exceed net_evals_per_s; their ratio is the search's overhead.
cpu_s is the process CPU time per search (all threads): on cores shared with other work, wall
times swing with the neighbours' load while cpu_s shows the search's own cost; load_avg is the
machine's 1-minute load average when the grid point finished (above the core count, every
figure of that point is inflated by other processes).

Comparisons on a shared machine: every policy (and, with --baseline FILE, the same policies run
by an earlier copy of hexzero/mcts.py, e.g. `git show main:hexzero/mcts.py > /tmp/mcts_main.py`)
is timed interleaved, one search each per round, so a neighbour's burst of load hits them all
alike; records say which search ran ("search": "current" or the baseline file).
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from hexzero.hex import HexGames, seed_kernels
from hexzero.mcts import PARALLEL_MIN_BATCH, POLICIES, evaluate
from hexzero.network import make_network

HELP = "simulations/s of the batched search per policy, board size, width and batch"


def add_arguments(parser):
    parser.add_argument("--policy", nargs="+", choices=POLICIES, default=list(POLICIES))
    parser.add_argument("--n", nargs="+", type=int, default=[5, 9])
    parser.add_argument("--width", nargs="+", type=int, default=[16, 128])
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batch", nargs="+", type=int, default=[1, 256, 1024])
    parser.add_argument("--nodes", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="searches per grid point (median reported)")
    parser.add_argument("--kind", default="mlp", help="network architecture (mlp, conv)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch.set_num_threads (default 1: small nets gain nothing from more, and on busy "
                             "cores a second thread stalls every call)")
    parser.add_argument("--parallel", choices=("auto", "on", "off"), default="auto",
                        help="tree kernels over numba's threads (auto: from mcts.PARALLEL_MIN_BATCH trees)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="an earlier copy of hexzero/mcts.py to time interleaved with the current search")


def _load_baseline(path: Path):
    """The search module in `path` (a copy of hexzero/mcts.py from another commit)."""
    if not path.is_file():
        raise ValueError(f"--baseline {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"hexzero_mcts_baseline_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    for name in ("search", "SearchConfig", "SearchTree"):
        if not hasattr(module, name):
            raise ValueError(f"--baseline {path}: not a search module (no {name})")
    return module


def _positions(n: int, batch: int, seed: int) -> HexGames:
    # Random openings of about n moves, so trees start from varied, unfinished positions.
    seed_kernels(seed)
    games = HexGames(n, batch)
    games.play_random(n)
    return games


def _network_rate(network, obs: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        evaluate(network, obs, "cpu")
        times.append(time.perf_counter() - t0)
    return obs.shape[0] / statistics.median(times)


def run(args) -> list[dict]:
    import hexzero.mcts as current

    torch.set_num_threads(args.torch_threads)
    parallel = {"auto": None, "on": True, "off": False}[args.parallel]
    searches = {"current": current}
    if args.baseline is not None:
        searches[str(args.baseline)] = _load_baseline(args.baseline)
    torch.manual_seed(args.seed)
    records = []
    for n in args.n:
        for width in args.width:
            network = make_network(args.kind, n, width, args.depth).eval()
            for batch in args.batch:
                games = _positions(n, batch, args.seed)
                net_rate = _network_rate(network, torch.from_numpy(games.observation()), args.repeats)
                runs = []  # (search name, policy, module, config, tree, rng, timings)
                for policy in args.policy:
                    for name, module in searches.items():
                        config = module.SearchConfig(policy=policy, nodes=args.nodes)
                        tree = module.SearchTree(n, batch, args.nodes)
                        rng = np.random.default_rng(args.seed)
                        # warm-up, compiles
                        module.search(network, games.board, games.to_play, config, rng, tree, parallel=parallel)
                        runs.append((name, policy, module, config, tree, rng, {"wall": [], "cpu": [], "tree": [], "net": []}))
                for _ in range(args.repeats):
                    for name, policy, module, config, tree, rng, timings in runs:
                        t0, c0 = time.perf_counter(), time.process_time()
                        result = module.search(network, games.board, games.to_play, config, rng, tree, parallel=parallel)
                        timings["wall"].append(time.perf_counter() - t0)
                        timings["cpu"].append(time.process_time() - c0)
                        timings["tree"].append(result.tree_s)
                        timings["net"].append(result.net_s)
                for name, policy, module, config, tree, rng, timings in runs:
                    wall = statistics.median(timings["wall"])
                    records.append({
                        "search": name, "policy": policy, "n": n, "kind": args.kind, "width": width,
                        "depth": args.depth, "nodes": args.nodes, "batch": batch,
                        "sims_per_s": round(batch * args.nodes / wall),
                        "search_s": round(wall, 5),
                        "cpu_s": round(statistics.median(timings["cpu"]), 5),
                        "tree_s": round(statistics.median(timings["tree"]), 5),
                        "net_s": round(statistics.median(timings["net"]), 5),
                        "net_evals_per_s": round(net_rate),
                        "torch_threads": torch.get_num_threads(),
                        "parallel": args.parallel if args.parallel != "auto" else batch >= PARALLEL_MIN_BATCH,
                        "repeats": args.repeats,
                        "load_avg": round(os.getloadavg()[0], 2),
                    })
    return records
