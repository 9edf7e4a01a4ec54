"""`hexzero train`: train one agent to a compute budget, snapshotting along the way."""
from __future__ import annotations

import json

from hexzero.commands.inputs import output_folder

HELP = "train an AlphaZero agent on one board size to a compute budget (resumes if the folder has a run)"


def add_arguments(p):
    from hexzero.config import DEVICES, MODES
    from hexzero.hex import MAX_SIZE, MIN_SIZE
    from hexzero.mcts import POLICIES

    p.add_argument("--board", type=int, default=5, help=f"board size n ({MIN_SIZE}..{MAX_SIZE})")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--arch", default="mlp", help="network architecture (mlp, as the paper, or conv)")
    p.add_argument("--compute", type=float, default=1e12, help="budget in paper units: samples x nodes x parameters")
    p.add_argument("--compute-start", type=float, default=None, help="compute of the first snapshot")
    p.add_argument("--snapshots", type=int, default=21, help="log-spaced snapshots up to the budget")
    p.add_argument("--mode", choices=list(MODES), default="fast")
    p.add_argument("--policy", choices=POLICIES, help="search policy (default: the mode's)")
    p.add_argument("--nodes", type=int, help="search nodes per move (default: the mode's)")
    p.add_argument("--envs", type=int, help="games played at once per worker")
    p.add_argument("--workers", type=int, default=1, help="self-play Ray actors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ema-decay", type=float, default=None,
                   help="self-play and snapshots use a moving average of the weights with this decay per minibatch "
                        "(default: the mode's; 0: the weights themselves)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--max-seconds", type=float, default=None, help="stop this invocation after this much wall time (run again to continue)")
    p.add_argument("--ray-address", default=None, help="join this Ray cluster instead of starting a local one")
    p.add_argument("--no-ray", action="store_true", help="play in-process (debugging)")
    p.add_argument("--no-eval", action="store_true", help="skip the measures against perfect play at snapshots")
    p.add_argument("--stop-at-perfect", action="store_true",
                   help="end at the first snapshot that plays perfectly (accuracy >= 99%%, no loss as black)")
    p.add_argument("--tensorboard", action="store_true", help="also log to OUT/tensorboard")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, type=output_folder, help="run folder")


def config_from_args(args):
    from hexzero.config import TrainConfig

    search = {k: v for k, v in (("policy", args.policy), ("nodes", args.nodes)) if v is not None}
    overrides = dict(board=args.board, width=args.width, depth=args.depth, arch=args.arch,
                     compute=args.compute, compute_start=args.compute_start, snapshots=args.snapshots,
                     workers=args.workers, seed=args.seed, device=args.device, max_seconds=args.max_seconds,
                     evaluate=not args.no_eval, stop_at_perfect=args.stop_at_perfect, search=search)
    for name in ("envs", "ema_decay"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return TrainConfig.for_mode(args.mode, **overrides)


def main(args) -> int:
    from hexzero.train import train

    config = config_from_args(args)
    summary = train(config, args.out, progress=not args.quiet, use_ray=not args.no_ray,
                    ray_address=args.ray_address, tensorboard=args.tensorboard)
    print(json.dumps(summary, indent=1))
    return 0
