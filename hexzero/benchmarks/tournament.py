"""`hexzero bench tournament`: games/s of a round-robin tournament on Ray (local, 2 CPUs by
default) with a fresh SQLite database, per kind of pool on one board size.

Pools: `random` (random agents), `perfect` (perfect vs random; the solver's first 5x5 solves
are slow until its tables are cached), `search` (snapshot agents at `--nodes` search nodes:
untrained networks written as snapshots in a temporary run, which cost the same to search as
trained ones of the same size). Reported: wall seconds of the whole tournament (Ray tasks,
agent building, database writes) and the seconds inside play_match summed over tasks."""
from __future__ import annotations

import tempfile
from pathlib import Path

HELP = "games/s of a round-robin tournament (random, perfect, snapshot agents at N nodes) on local Ray"
POOLS = ["random", "perfect", "search"]


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=5, help="board size (default 5)")
    parser.add_argument("--pool", nargs="+", choices=POOLS, default=["random", "search"], help="pools (default random search)")
    parser.add_argument("--agents", type=int, default=3, help="agents per pool (default 3)")
    parser.add_argument("--games", type=int, default=16, help="games per batch (default 16)")
    parser.add_argument("--rounds", type=int, default=2, help="round-robin rounds (default 2)")
    parser.add_argument("--nodes", type=int, default=64, help="search nodes of the snapshot agents (default 64)")
    parser.add_argument("--width", type=int, default=16, help="network width of the snapshot agents (default 16)")
    parser.add_argument("--depth", type=int, default=4, help="network depth of the snapshot agents (default 4)")
    parser.add_argument("--ray-address", default=None)


def synthetic_snapshot(folder: Path, n: int, width: int, depth: int, index: int) -> str:
    import torch

    from hexzero.network import make_network, network_snapshot
    from hexzero.storage import SNAPSHOT_FORMAT, SNAPSHOT_VERSION, atomic_save_torch, snapshot_path

    torch.manual_seed(index)
    path = snapshot_path(folder, index)
    atomic_save_torch(path, {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "index": index, "compute": 0.0,
                             "train_config": {"search": {"policy": "gumbel"}},
                             **network_snapshot(make_network("mlp", n, width, depth))})
    return str(path)


def pool_specs(pool: str, args, folder: Path) -> list[dict]:
    if pool == "random":
        return [{"kind": "random", "n": args.n, "tag": k} for k in range(args.agents)]
    if pool == "perfect":
        return [{"kind": "perfect", "n": args.n}, {"kind": "random", "n": args.n}]
    return [{"kind": "snapshot", "path": synthetic_snapshot(folder, args.n, args.width, args.depth, k),
             "nodes": args.nodes, "greedy": False} for k in range(args.agents)]


def run(args) -> list[dict]:
    from elo.db import TournamentDB
    from elo.tournament import run_tournament

    records = []
    with tempfile.TemporaryDirectory(prefix="hexzero-bench-tournament-") as tmp:
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
