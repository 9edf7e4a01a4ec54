"""The `hexzero` command. Each subcommand lives in its own module under
`hexzero/commands/` exposing `HELP`, `add_arguments(parser)` and `main(args) -> int`; they are
imported only when used, so `hexzero --help` stays fast and a broken optional part cannot
stop the others."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "reproduce": "hexzero.commands.reproduce",
    "train": "hexzero.commands.train",
    "play": "hexzero.commands.play",
    "solve": "hexzero.commands.solve",
    "measure": "hexzero.commands.measure",
    "tournament": "hexzero.commands.tournament",
    "ratings": "hexzero.commands.ratings",
    "bench": "hexzero.commands.bench",
    "show": "hexzero.commands.show",
    "gtp": "hexzero.commands.gtp",
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hexzero", description="AlphaZero on Hex, and its scaling laws.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, module_name in COMMANDS.items():
        if wanted is not None and wanted != name:
            # Register a stub so `hexzero --help` lists it without importing it.
            sub.add_parser(name, help="", add_help=False)
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not built yet
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print("interrupted: the run folder holds everything up to the last snapshot", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"hexzero {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
