"""`hexzero bench tournament`: games/s of a round-robin tournament on Ray (local, 2 CPUs by
default) with a fresh SQLite database, per kind of pool on one board size.

Pools: `random` (random agents: the baseline of the machinery alone), `search` (the snapshots
of a tiny training run, made here in a temporary folder, width `--width` depth `--depth`, a few
seconds, played at `--nodes` search nodes as `hexzero tournament` plays them), `perfect`
(perfect vs random; the solver's first 5x5 solves are slow until its tables are cached).
Reported: wall seconds of the whole tournament (Ray tasks, agent building, database writes,
refits) and the seconds inside play_match summed over tasks. A short untimed random
tournament first starts Ray's workers and loads the numba kernels in them."""
from __future__ import annotations

import tempfile
from pathlib import Path

HELP = "games/s of a round-robin tournament (random, perfect, trained snapshots at N nodes) on local Ray"
POOLS = ["random", "perfect", "search"]


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=5, help="board size (default 5)")
    parser.add_argument("--pool", nargs="+", choices=POOLS, default=["random", "search"], help="pools (default random search)")
    parser.add_argument("--agents", type=int, default=3, help="agents per pool (default 3)")
    parser.add_argument("--games", type=int, default=32, help="games per batch (default 32, as hexzero tournament)")
    parser.add_argument("--rounds", type=int, default=4, help="round-robin rounds (default 4)")
    parser.add_argument("--nodes", type=int, default=64, help="search nodes of the snapshot agents (default 64)")
    parser.add_argument("--width", type=int, default=16, help="network width of the snapshot agents (default 16)")
    parser.add_argument("--depth", type=int, default=4, help="network depth of the snapshot agents (default 4)")
    parser.add_argument("--train-compute", type=float, default=1e8,
                        help="training compute of the tiny run, paper units (default 1e8: a few seconds)")
    parser.add_argument("--ray-address", default=None)


def tiny_run(folder: Path, args) -> list[dict]:
    """Train a tiny run whose `args.agents` snapshots become the search pool."""
    from hexzero.storage import list_snapshots
    from hexzero.train import TrainConfig, train

    config = TrainConfig.for_mode("fast", board=args.n, width=args.width, depth=args.depth,
                                  compute=args.train_compute, compute_start=args.train_compute / 10,
                                  snapshots=args.agents, envs=32, search={"nodes": 8})
    train(config, folder / "tiny", progress=False, use_ray=False)
    return list_snapshots(folder / "tiny")


def pool_specs(pool: str, args, folder: Path | None) -> list[dict]:
    if pool == "random":
        return [{"kind": "random", "n": args.n, "tag": k} for k in range(args.agents)]
    if pool == "perfect":
        return [{"kind": "perfect", "n": args.n}, {"kind": "random", "n": args.n}]
    return [{"kind": "snapshot", "path": rec["path"], "nodes": args.nodes} for rec in tiny_run(folder, args)]


def run(args) -> list[dict]:
    from elo.db import TournamentDB
    from elo.tournament import run_tournament

    records = []
    with tempfile.TemporaryDirectory(prefix="hexzero-bench-tournament-") as tmp:
        with TournamentDB(Path(tmp) / "warmup.sqlite") as db:
            ids = [db.add_agent(spec, args.n, name=f"warmup{k}") for k, spec in enumerate(pool_specs("random", args, None))]
            run_tournament(db, ids, scheme="round-robin", games=2, ray_address=args.ray_address)
        for pool in args.pool:
            folder = Path(tmp) / pool
            with TournamentDB(folder / "tournament.sqlite") as db:
                ids = [db.add_agent(spec, args.n, name=f"{pool}{k}") for k, spec in enumerate(pool_specs(pool, args, folder))]
                report = run_tournament(db, ids, scheme="round-robin", games=args.games, rounds=args.rounds,
                                        ray_address=args.ray_address)
            records.append({
                "pool": pool, "n": args.n, "agents": len(ids), "nodes": args.nodes if pool == "search" else None,
                "games": report.games_played, "batches": report.batches_played, "wall_s": report.seconds,
                "games_per_s": report.games_played / report.seconds,
                "games_per_task_s": report.games_played / report.game_seconds if report.game_seconds else None,
            })
    return records
