"""`hexzero reproduce`: the scaling reproduction end to end (experiments.pipeline)."""
from __future__ import annotations

HELP = "train a sweep, rate every snapshot, fit the compute frontier, plot, and write a report"


def add_arguments(p):
    p.add_argument("--preset", default="quick", help="quick (under 20 min on 2 cores), standard, or paper")
    p.add_argument("--config", default=None, help="a sweep config JSON file instead of a preset")
    p.add_argument("--out", default=None, help="output folder (default: runs/PRESET, runs/PRESET-offsetK with "
                                               "--seed-offset K)")
    p.add_argument("--seed-offset", type=int, default=0, metavar="K",
                   help="rerun with fresh seeds: seed s becomes s + K x (max seed + 1), so offsets 0, 1, 2 never "
                        "share a seed; to check that a rerun's slope lands inside the first run's interval")
    p.add_argument("--ray-address", default=None, help="run on this Ray cluster instead of a local Ray")
    p.add_argument("--skip-tradeoff", action="store_true", help="leave out the test-time re-rating")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def main(args) -> int:
    if args.seed_offset < 0:
        raise ValueError(f"--seed-offset must be >= 0, got {args.seed_offset}")
    # the first words within a second: loading torch and Ray takes a while on a busy machine
    print("[reproduce] loading hexzero (torch, Ray) ...", flush=True)
    from experiments.pipeline import reproduce

    source = args.config or args.preset
    out = args.out or f"runs/{args.preset if not args.config else 'custom'}"
    if args.seed_offset and not args.out:
        out += f"-offset{args.seed_offset}"
    report = reproduce(source, out, progress=not args.quiet, ray_address=args.ray_address,
                       skip_tradeoff=args.skip_tradeoff, seed_offset=args.seed_offset)
    print(f"report: {report}")
    return 0
