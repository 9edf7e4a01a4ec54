"""`hexzero reproduce`: the scaling reproduction end to end (experiments.pipeline)."""
from __future__ import annotations

HELP = "train a sweep, rate every snapshot, fit the compute frontier, plot, and write a report"


def add_arguments(p):
    p.add_argument("--preset", default="quick", help="quick (under 30 min on 2 cores), standard, or paper")
    p.add_argument("--config", default=None, help="a sweep config JSON file instead of a preset")
    p.add_argument("--out", default=None, help="output folder (default: runs/PRESET)")
    p.add_argument("--ray-address", default=None, help="run on this Ray cluster instead of a local Ray")
    p.add_argument("--shared-fs", action="store_true",
                   help="every cluster node sees --out at the same path: runs write there directly "
                        "(checked at start) instead of sending results through Ray")
    p.add_argument("--skip-tradeoff", action="store_true", help="leave out the test-time re-rating")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def main(args) -> int:
    from experiments.pipeline import reproduce

    source = args.config or args.preset
    out = args.out or f"runs/{args.preset if not args.config else 'custom'}"
    report = reproduce(source, out, progress=not args.quiet, ray_address=args.ray_address,
                       skip_tradeoff=args.skip_tradeoff, shared_fs=args.shared_fs)
    print(f"report: {report}")
    return 0
