"""`hexzero reproduce`: the scaling reproduction end to end (experiments.pipeline)."""
from __future__ import annotations

from hexzero.commands.inputs import existing_file, output_folder

HELP = "train a sweep, rate every snapshot, fit the compute frontier, plot, and write a report"


def add_arguments(p):
    p.add_argument("--preset", default="quick", help="quick (under 20 min on 2 cores), standard, paper, or recipes")
    p.add_argument("--config", type=existing_file, default=None, help="a sweep config JSON file instead of a preset")
    p.add_argument("--out", type=output_folder, default=None, help="output folder (default: runs/PRESET, "
                                                                  "runs/PRESET-offsetK with --seed-offset K)")
    p.add_argument("--seed-offset", type=int, default=0, metavar="K",
                   help="rerun with fresh seeds: seed s becomes s + K x (max seed + 1), so offsets 0, 1, 2 never "
                        "share a seed; to check that a rerun's slope lands inside the first run's interval")
    p.add_argument("--ray-address", default=None, help="run on this Ray cluster instead of a local Ray")
    p.add_argument("--shared-fs", action="store_true",
                   help="every cluster node sees --out at the same path: runs write there directly "
                        "(checked at start) instead of sending results through Ray")
    p.add_argument("--skip-tradeoff", action="store_true", help="leave out the test-time re-rating")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def main(args) -> int:
    import time

    if args.seed_offset < 0:
        raise ValueError(f"--seed-offset must be >= 0, got {args.seed_offset}")
    source = args.config or args.preset
    name = args.preset if not args.config else "custom"
    if args.seed_offset:
        name += f"-offset{args.seed_offset}"
    out = args.out or output_folder(f"runs/{name}")
    # The pipeline's imports (torch, Ray, scipy) take 5-15 s before its first line: say so.
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {source} -> {out}: loading torch, Ray and scipy", flush=True)
    from experiments.pipeline import reproduce

    report = reproduce(source, out, progress=not args.quiet, ray_address=args.ray_address,
                       skip_tradeoff=args.skip_tradeoff, seed_offset=args.seed_offset, shared_fs=args.shared_fs)
    print(f"report: {report}")
    return 0
