"""`hexzero bench ratings`: seconds to fit Bradley-Terry ratings with intervals for pools of
snapshots under a realistic sparse schedule.

Pool: agents spread from random play to the top (uniform over `--spread` Elo), each playing
`--partners` opponents close to it in strength (the pairs an adaptive schedule picks) plus the
top agent, `--games` games per pair, outcomes drawn from the Bradley-Terry model with a
first-move advantage (80 Elo). Timed: `fit_ratings` (Newton-CG fit + the dense inverse of the
information for the intervals); the median of `--repeats` fits is reported, with the error
and 95%-interval coverage of the ratings relative to the anchor, per way of treating colours
(the paper's averaging shrinks long chains: ~5% of each gap at 80 Elo of first-move
advantage; the fitted first-move term does not)."""
from __future__ import annotations

import statistics
import time

import numpy as np

from elo.ratings import COLOUR_MODES, fit_ratings
from elo.simulate import play_both_colours

HELP = "seconds to fit ratings with intervals for 100 and 1,000 agents on sparse simulated schedules"


def add_arguments(parser):
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000], help="pool sizes (default 100 1000)")
    parser.add_argument("--partners", type=int, default=8, help="near-strength opponents per agent (default 8)")
    parser.add_argument("--games", type=int, default=32, help="games per pair, half each colour (default 32)")
    parser.add_argument("--spread", type=float, default=2000.0, help="Elo from weakest to strongest (default 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed fits; the median is reported (default 5)")
    parser.add_argument("--colours", nargs="+", choices=COLOUR_MODES, default=list(COLOUR_MODES),
                        help="how the fit treats colours (default: both)")
    parser.add_argument("--seed", type=int, default=0)


def sparse_pool(n: int, partners: int, games: int, spread: float, rng: np.random.Generator):
    true = np.sort(rng.uniform(-spread, 0.0, n))[::-1]          # index 0 is the top agent
    a = np.repeat(np.arange(n), partners)
    offsets = rng.integers(1, 3 * partners, a.size) * rng.choice([-1, 1], a.size)
    b = np.clip(a + offsets, 0, n - 1)
    a, b = np.r_[a, np.arange(1, n)], np.r_[b, np.zeros(n - 1, dtype=np.int64)]   # everyone also meets the top
    keep = a != b
    return true, play_both_colours(true, a[keep], b[keep], games // 2, rng, first_move_elo=80.0)


def run(args) -> list[dict]:
    records = []
    for n in args.agents:
        names = [f"agent{k}" for k in range(n)]
        results = {colours: {"seconds": [], "errors": [], "covered": [], "widths": []} for colours in args.colours}
        for repeat in range(args.repeats):
            # a fresh draw each repeat: one draw's errors are correlated along the schedule's
            # chains, so coverage is pooled over draws
            true, games = sparse_pool(n, args.partners, args.games, args.spread,
                                      np.random.default_rng([args.seed, repeat]))
            for colours, out in results.items():
                start = time.perf_counter()
                ratings = fit_ratings(names, games, colours=colours)
                out["seconds"].append(time.perf_counter() - start)
                relative = true - true[ratings.anchor_index]
                out["errors"].append(ratings.elo - relative)
                out["covered"].append((ratings.lower <= relative) & (relative <= ratings.upper))
                out["widths"].append(ratings.width)
        for colours, out in results.items():
            records.append({
                "agents": n, "colours": colours, "games": games.total(), "repeats": args.repeats,
                "seconds_median": statistics.median(out["seconds"]), "seconds_min": min(out["seconds"]),
                "anchor_rule": ratings.anchor_rule, "median_interval_width": float(np.median(out["widths"])),
                "rms_error_elo": float(np.sqrt(np.mean(np.square(out["errors"])))),
                "coverage": float(np.mean(out["covered"])),
            })
    return records
