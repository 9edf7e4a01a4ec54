"""`hexzero bench selfplay`: end-to-end self-play throughput (search + network + sample
bookkeeping on Ray workers, weights shipped through the object store) in samples/s."""
from __future__ import annotations

import statistics
import time

HELP = "self-play samples/s end to end at n = 5 and 9 with 1 and 2 Ray workers"


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


def run(args) -> list[dict]:
    import ray

    from hexzero.network import make_network, network_config
    from hexzero.train import TrainConfig, make_workers

    if not ray.is_initialized():
        ray.init(num_cpus=max(2, max(args.workers)), include_dashboard=False, log_to_driver=False)
    records = []
    for n in args.n:
        for workers in args.workers:
            search = {"nodes": args.nodes} if args.nodes else {}
            config = TrainConfig.for_mode(args.mode, board=n, width=args.width, depth=args.depth,
                                          envs=args.envs, workers=workers, search=search)
            network = make_network("mlp", n, args.width, args.depth)
            actors = make_workers(config, network_config(network), use_ray=True)
            weights = ray.put(network.state_dict())
            ray.get([a.play.remote(weights, 1) for a in actors])  # compile and warm up
            rates = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                results = ray.get([a.play.remote(weights, args.moves) for a in actors])
                elapsed = time.perf_counter() - start
                # Every position searched is a sample (some still wait for their game's result),
                # so count searched positions, not emitted samples; random opening moves are
                # neither searched nor samples.
                rates.append(sum(counts["positions"] for _, counts in results) / elapsed)
            for a in actors:
                ray.kill(a)
            records.append({"n": n, "workers": workers, "width": args.width, "depth": args.depth,
                            "nodes": config.search.get("nodes"), "policy": config.search.get("policy"),
                            "envs": args.envs, "samples_per_s": statistics.median(rates),
                            "samples_per_s_all": rates})
    return records
