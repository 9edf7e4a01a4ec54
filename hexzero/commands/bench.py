"""`hexzero bench WHAT`: run a benchmark and print its records as JSON."""
from __future__ import annotations

import importlib
import json

from hexzero.commands.inputs import output_file

HELP = "run a benchmark (engine, mcts, selfplay, perfect, solver, tournament, ratings, gtp) and print JSON records"
BENCHMARKS = ["engine", "mcts", "selfplay", "perfect", "solver", "tournament", "ratings", "gtp"]


def add_arguments(parser):
    sub = parser.add_subparsers(dest="bench", metavar="WHAT", required=True)
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(f"hexzero.benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hexzero.benchmarks.{name}":
                continue
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        p.add_argument("--output", type=output_file, help="also write the JSON records to this file")
        module.add_arguments(p)
        p.set_defaults(_bench_run=module.run)


def main(args) -> int:
    from hexzero.storage import atomic_write_text

    records = args._bench_run(args)
    text = json.dumps(records, indent=1)
    print(text)
    if args.output:
        atomic_write_text(args.output, text + "\n")
    return 0
