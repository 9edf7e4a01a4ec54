"""The `hexzero` command. Each subcommand lives in its own module under
`hexzero/commands/` exposing `HELP`, `add_arguments(parser)` and `main(args) -> int`; they are
imported only when used, so `hexzero --help` stays fast and a broken optional part cannot
stop the others.

Errors a user can cause end as one line, `hexzero CMD: error: MESSAGE`, and exit status 2:
bad arguments (argparse, and the path checks of hexzero.commands.inputs), and, raised while a
command runs, `USER_ERRORS`: every hexzero error is a ValueError (HexError, SnapshotError,
SolverError, ConfigError, SweepConfigError, TournamentDBError, ...), OSError is a file the
system refused, sqlite3.DatabaseError a damaged database. Anything else is a bug and keeps its
traceback."""
from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys

import hexzero

USER_ERRORS = (ValueError, OSError, sqlite3.DatabaseError)

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


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the usage is one --help away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def user_message(exc: BaseException) -> str:
    """An error as the user should read it, on one line: the cause of an error raised inside a
    Ray task, an OSError as 'PATH: reason'."""
    exc = getattr(exc, "cause", None) or exc  # ray.exceptions.RayTaskError carries the task's error
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror[:1].lower()}{exc.strerror[1:]}"
    if isinstance(exc, sqlite3.DatabaseError):
        return f"database error: {exc}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = Parser(prog="hexzero", description="AlphaZero on Hex, and its scaling laws.")
    parser.add_argument("--version", action="version", version=f"hexzero {hexzero.__version__}")
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 0
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print("interrupted: the run folder holds everything up to the last snapshot", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        print(f"hexzero {args.command}: error: {user_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
