"""`hexzero bench perfect`: wall time for the trainer to reach perfect play, per board size.

'Perfect' is the project's definition (hexzero.train._evaluate): move accuracy >= 99% on the
solver's position set and no game lost as first player against the perfect agent, checked at
each log-spaced snapshot. The time reported is training time (evaluations excluded); the run
stops at the first perfect snapshot."""
from __future__ import annotations

import tempfile

HELP = "training time to perfect play (fast mode) at board sizes 3, 4, 5"

# Model size and budget per board: the cheapest to perfect play in our runs (on 5x5 width 64
# plateaus near 98% accuracy; width 128 passes 99%).
DEFAULTS = {3: dict(width=16, depth=2, compute=3e9, compute_start=3e7),
            4: dict(width=32, depth=2, compute=1e11, compute_start=3e8),
            5: dict(width=128, depth=2, compute=3e12, compute_start=3e9)}


def add_arguments(p):
    p.add_argument("--n", type=int, nargs="+", default=[3, 4, 5])
    p.add_argument("--mode", choices=["fast", "paper"], default="fast")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--snapshots", type=int, default=31, help="log-spaced checks up to the budget")
    p.add_argument("--max-seconds", type=float, default=1800)


def run(args) -> list[dict]:
    from hexzero.storage import list_snapshots
    from hexzero.train import TrainConfig, train

    records = []
    for n in args.n:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as out:
                config = TrainConfig.for_mode(args.mode, board=n, seed=seed, workers=args.workers,
                                              snapshots=args.snapshots, max_seconds=args.max_seconds,
                                              stop_at_perfect=True, evaluate=True, **DEFAULTS.get(n, {}))
                summary = train(config, out, progress=False)
                snaps = list_snapshots(out)
                first = next((s for s in snaps if s.get("perfect")), None)
                records.append({
                    "n": n, "mode": args.mode, "seed": seed, "width": config.width, "depth": config.depth,
                    "workers": args.workers, "perfect": first is not None,
                    "train_s_to_perfect": first["train_s"] if first else None,
                    "wall_s_to_perfect": first["wall_s"] if first else None,
                    "compute_to_perfect": first["compute"] if first else None,
                    "samples_to_perfect": first["samples"] if first else None,
                    "last_accuracy": snaps[-1].get("accuracy") if snaps else None,
                    "train_s_total": summary.get("train_s")})
    return records
