"""`hexzero bench selfplay`: self-play throughput, and where its time goes.

Two kinds of record per board size, from one run:
- "split" (one worker in this process, one core): the worker's `play` timed with its parts:
  network forward passes (net_s) and tree kernels (tree_s) as the search reports them, the
  search's own Python glue (search_other_s: root noise, argument checks, result arrays), the
  engine (engine_s: stepping, resets, observations, random opening moves) and the rest
  (other_s: the worker's Python bookkeeping of samples and targets). Beside it, the network
  alone at the same batch (net_evals_per_s: positions per second, one forward pass over `envs`
  positions), and the search's actual rate inside self-play (selfplay_sims_per_s: searched
  positions x nodes per second of `play`), so `net_gap` = net_evals_per_s /
  selfplay_sims_per_s is how far self-play runs from the network's limit.
- "ray" (1 and 2 Ray workers): end-to-end samples/s with the weights shipped through the
  object store; ray_overhead_s is a round's wall time on one Ray worker minus the split's
  in-process `play` time for the same moves (object store, scheduling, process hand-offs).
The split times the worker's calls by wrapping the search function the worker imports and its
engine's methods (the worker itself is unchanged); it refuses to report if a wrapper saw no
call, rather than print a split that misses a part.
"""
from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict

HELP = "self-play samples/s (1 and 2 Ray workers) and its time split: network, tree, engine, overhead"


def add_arguments(p):
    p.add_argument("--n", type=int, nargs="+", default=[5, 9])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--nodes", type=int, default=None, help="search nodes (default: the mode's)")
    p.add_argument("--mode", choices=["fast", "paper"], default="fast")
    p.add_argument("--envs", type=int, default=256)
    p.add_argument("--moves", type=int, default=8, help="moves per game per timed round")
    p.add_argument("--repeats", type=int, default=5)


def _timed(function, totals: dict, part: str, calls: dict):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[part] += time.perf_counter() - start
            calls[part] += 1
    return wrapper


def _split(config, network, args) -> dict:
    """One in-process worker's `play`, timed by part (medians over the repeats)."""
    import torch

    import hexzero.mcts as mcts
    from hexzero.network import network_config
    from hexzero.train import make_workers

    worker = make_workers(config, network_config(network), use_ray=False)[0]
    weights = network.state_dict()
    worker.play(weights, 1)  # compile and warm up
    totals, calls = defaultdict(float), defaultdict(int)
    search_parts = {"tree_s": 0.0, "net_s": 0.0}
    original_search = mcts.search

    def search(*a, **k):
        result = _timed(original_search, totals, "search", calls)(*a, **k)
        search_parts["tree_s"] += result.tree_s
        search_parts["net_s"] += result.net_s
        return result

    games = worker.games
    for name in ("step", "reset", "observation"):
        setattr(games, name, _timed(getattr(games, name), totals, "engine", calls))
    worker.random_agent.act = _timed(worker.random_agent.act, totals, "engine", calls)
    rounds = defaultdict(list)
    mcts.search = search
    try:
        for _ in range(args.repeats):
            totals.clear()
            search_parts.update(tree_s=0.0, net_s=0.0)
            start = time.perf_counter()
            _, counts = worker.play(weights, args.moves)
            play_s = time.perf_counter() - start
            if not calls["search"] or not calls["engine"]:
                raise RuntimeError("bench selfplay: the worker no longer calls hexzero.mcts.search or its games' "
                                   "methods as this benchmark expects; its time split needs updating")
            rounds["play_s"].append(play_s)
            rounds["net_s"].append(search_parts["net_s"])
            rounds["tree_s"].append(search_parts["tree_s"])
            rounds["search_other_s"].append(totals["search"] - search_parts["net_s"] - search_parts["tree_s"])
            rounds["engine_s"].append(totals["engine"])
            rounds["other_s"].append(play_s - totals["search"] - totals["engine"])
            rounds["positions"].append(counts["positions"])
    finally:
        mcts.search = original_search
    obs = torch.from_numpy(worker.games.observation())
    net_times = []
    for _ in range(max(args.repeats, 5)):
        start = time.perf_counter()
        mcts.evaluate(worker.network, obs, "cpu")
        net_times.append(time.perf_counter() - start)
    nodes = worker.search_config.nodes
    play_s = statistics.median(rounds["play_s"])
    out = {name: round(statistics.median(values), 5) for name, values in rounds.items() if name != "positions"}
    positions = statistics.median(rounds["positions"])
    selfplay_sims = positions * nodes / play_s
    net_rate = obs.shape[0] / statistics.median(net_times)
    out.update({"fractions": {k: round(out[k] / play_s, 3) for k in
                              ("net_s", "tree_s", "search_other_s", "engine_s", "other_s")},
                "samples_per_s": round(positions / play_s), "selfplay_sims_per_s": round(selfplay_sims),
                "net_evals_per_s": round(net_rate), "net_gap": round(net_rate / selfplay_sims, 2)})
    return out


def run(args) -> list[dict]:
    import ray

    from hexzero.network import make_network, network_config
    from hexzero.train import TrainConfig, make_workers

    if not ray.is_initialized():
        # A Ray of its own ("local"), never another process's cluster on this machine.
        ray.init(address="local", num_cpus=max(2, max(args.workers)), include_dashboard=False, log_to_driver=False)
    records = []
    for n in args.n:
        search = {"nodes": args.nodes} if args.nodes else {}
        config = TrainConfig.for_mode(args.mode, board=n, width=args.width, depth=args.depth,
                                      envs=args.envs, workers=1, search=search)
        network = make_network("mlp", n, args.width, args.depth)
        common = {"n": n, "width": args.width, "depth": args.depth, "nodes": config.search.get("nodes"),
                  "policy": config.search.get("policy"), "envs": args.envs, "moves": args.moves}
        split = _split(config, network, args)
        records.append({"kind": "split", **common, "workers": 1, **split,
                        "load_avg": round(os.getloadavg()[0], 2)})
        for workers in args.workers:
            config = TrainConfig.for_mode(args.mode, board=n, width=args.width, depth=args.depth,
                                          envs=args.envs, workers=workers, search=search)
            actors = make_workers(config, network_config(network), use_ray=True)
            weights = ray.put(network.state_dict())
            ray.get([a.play.remote(weights, 1) for a in actors])  # compile and warm up
            rates, walls = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                results = ray.get([a.play.remote(weights, args.moves) for a in actors])
                elapsed = time.perf_counter() - start
                # Every position searched is a sample (some still wait for their game's result),
                # so count searched positions, not emitted samples; random opening moves are
                # neither searched nor samples.
                rates.append(sum(counts["positions"] for _, counts in results) / elapsed)
                walls.append(elapsed)
            for a in actors:
                ray.kill(a)
            record = {"kind": "ray", **common, "workers": workers, "samples_per_s": statistics.median(rates),
                      "samples_per_s_all": rates, "round_s": round(statistics.median(walls), 5),
                      "load_avg": round(os.getloadavg()[0], 2)}
            if workers == 1:
                record["ray_overhead_s"] = round(statistics.median(walls) - split["play_s"], 5)
            records.append(record)
    return records
