"""`hexzero bench perfect`: wall time for the trainer to reach perfect play, per board size.

'Perfect' is the project's definition (hexzero.train.evaluate_network): move accuracy >= 99%
on the solver's position set and no game lost as first player against the perfect agent,
checked at each log-spaced snapshot. The time reported is training time (evaluations
excluded); the run stops at the first perfect snapshot.

With `--deferred` the checks come after training instead: the run trains to its budget (or
--max-seconds), then its snapshots are checked in order up to the first perfect one. The
figures mean the same (training time to the first perfect snapshot), and training can run
while the board's position set is still being solved, or on a machine without it. `--out`
keeps the run folders (DIR/NxN-seedS); a bench started again with the same folder resumes its
runs, so an interrupted or deferred bench loses nothing."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

HELP = "training time to perfect play (fast mode) at board sizes 3, 4, 5, 6"

# Model size, budget and self-play workers per board: the cheapest to perfect play in our runs
# (on 5x5 width 64 plateaus near 98% accuracy; width 128 passes 99%). On 6x6 the fast recipe's
# 16 nodes stalled near 97% at widths 128 and 256; with 64 nodes width 128 reached perfect
# play, and two self-play workers on two cores (the learner beside them) reach each accuracy in
# about half the training time of one (README). 6x6 runs sit within a few positions of 99% for
# hundreds of seconds, so their checks come twice as often (1.14x apart in compute, not 1.31x):
# a check costs under a second of accuracy test (not counted) and a snapshot write (counted).
# Publishing the weights' moving average (decay 0.999 per minibatch, ~10 s of a 6x6 run) takes
# out most of the check-to-check noise: median 354 s over three seeds instead of 656 s (README).
DEFAULT_SNAPSHOTS = 31
DEFAULTS = {3: dict(width=16, depth=2, compute=3e9, compute_start=3e7),
            4: dict(width=32, depth=2, compute=1e11, compute_start=3e8),
            5: dict(width=128, depth=2, compute=3e12, compute_start=3e9),
            6: dict(width=128, depth=2, compute=1e14, compute_start=3e10, search={"nodes": 64}, workers=2,
                    snapshots=61, ema_decay=0.999)}


def add_arguments(p):
    p.add_argument("--n", type=int, nargs="+", default=[3, 4, 5])
    p.add_argument("--mode", choices=["fast", "paper"], default="fast")
    p.add_argument("--workers", type=int, default=None, help="self-play workers (default: the board's, DEFAULTS)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--snapshots", type=int, default=None,
                   help=f"log-spaced checks up to the budget (default: the board's, else {DEFAULT_SNAPSHOTS})")
    p.add_argument("--max-seconds", type=float, default=1800)
    p.add_argument("--deferred", action="store_true", help="train to the budget first, then check the snapshots")
    p.add_argument("--out", default=None, help="keep the run folders here (a second call resumes them)")
    p.add_argument("--width", type=int, default=None, help="network width (default: the board's, DEFAULTS)")
    p.add_argument("--depth", type=int, default=None, help="network depth (default: the board's)")
    p.add_argument("--nodes", type=int, default=None, help="search nodes in training and checks (default: the mode's)")
    p.add_argument("--ema-decay", type=float, default=None,
                   help="publish a moving average of the weights with this decay (default: the board's)")


def run(args) -> list[dict]:
    from hexzero.train import TrainConfig, train

    records = []
    for n in args.n:
        for seed in args.seeds:
            with _run_folder(args.out, n, seed) as out:
                # --max-seconds caps the run's training time, counted over every call
                trained_s = _trained_s(out)
                config = TrainConfig.for_mode(args.mode, board=n, seed=seed,
                                              max_seconds=args.max_seconds - trained_s,
                                              stop_at_perfect=not args.deferred, evaluate=not args.deferred,
                                              **_overrides(args, n))
                summary = train(config, out, progress=False) if trained_s < args.max_seconds else {"train_s": trained_s}
                checks = _check_snapshots(out, config) if args.deferred else _checked_snapshots(out)
                first = next((s for s in checks if s.get("perfect")), None)
                records.append({
                    "n": n, "mode": args.mode, "seed": seed, "width": config.width, "depth": config.depth,
                    "nodes": config.nodes, "ema_decay": config.ema_decay, "snapshots": config.snapshots,
                    "workers": config.workers, "deferred": args.deferred, "perfect": first is not None,
                    "train_s_to_perfect": first["train_s"] if first else None,
                    "wall_s_to_perfect": None if first is None or args.deferred else first["wall_s"],
                    "compute_to_perfect": first["compute"] if first else None,
                    "samples_to_perfect": first["samples"] if first else None,
                    "last_accuracy": checks[-1].get("accuracy") if checks else None,
                    "snapshots_checked": len(checks), "train_s_total": summary.get("train_s")})
    return records


def _overrides(args, n: int) -> dict:
    """The board's defaults with the command line's width, depth, workers, checks, averaging and
    nodes over them."""
    overrides = {"snapshots": DEFAULT_SNAPSHOTS, **DEFAULTS.get(n, {})}
    overrides.update({k: getattr(args, k) for k in ("width", "depth", "workers", "snapshots", "ema_decay")
                      if getattr(args, k) is not None})
    if args.nodes is not None:
        overrides["search"] = {**overrides.get("search", {}), "nodes": args.nodes}
    return overrides


@contextlib.contextmanager
def _run_folder(out, n: int, seed: int):
    if out is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield tmp
    else:
        yield Path(out) / f"{n}x{n}-seed{seed}"


def _trained_s(out) -> float:
    """Training seconds of a kept run, as of its last snapshot (where a resumed run restarts)."""
    from hexzero.storage import list_snapshots

    snaps = list_snapshots(out) if Path(out, "snapshots.jsonl").is_file() else []
    return float(snaps[-1]["train_s"]) if snaps else 0.0


def _checked_snapshots(out) -> list[dict]:
    from hexzero.storage import list_snapshots

    return list_snapshots(out)


def _check_snapshots(out, config) -> list[dict]:
    """The deferred checks: each snapshot in order, stopping at the first perfect one (its
    games against the perfect agent are played only once its accuracy passes)."""
    from hexzero.network import network_from_snapshot
    from hexzero.storage import load_snapshot, list_snapshots
    from hexzero.train import evaluate_network

    checks = []
    for snap in list_snapshots(out):
        network = network_from_snapshot(load_snapshot(snap["path"]))
        checks.append({**snap, **evaluate_network(network, config, games_only_if_accurate=True)})
        if checks[-1]["perfect"]:
            break
    return checks
