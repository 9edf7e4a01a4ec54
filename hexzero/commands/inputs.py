"""What a user hands a command, checked in the user's terms.

Path arguments: argparse `type=` functions that check a path is the kind of thing the argument
wants (an existing file, an existing folder, a file to write, a folder to fill), so a wrong
one is a one-line usage error before anything slow starts. Their error is both argparse's
ArgumentTypeError (argparse prints its message as it is) and a ValueError (a command calling
them on a default value gets the CLI's one-line error too).

Move lists: replayed one move at a time, an illegal move named with its reason.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hexzero.hex import BLACK, HexError, HexGames, cell_name, parse_cell, parse_moves

AGENT_NAMES = ("random", "perfect")


class PathKindError(argparse.ArgumentTypeError, ValueError):
    """A path argument that is missing or the wrong kind of file."""


def existing_file(text: str) -> Path:
    """A file that must exist (an input)."""
    path = Path(text)
    if path.is_dir():
        raise PathKindError(f"{text} is a folder, not a file")
    if not path.exists():
        raise PathKindError(f"{text} does not exist")
    return path


def existing_folder(text: str) -> Path:
    """A folder that must exist (an input)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise PathKindError(f"{text} is a file, not a folder")
    if not path.exists():
        raise PathKindError(f"{text} does not exist")
    return path


def output_file(text: str) -> Path:
    """A file to write (replaced if it exists); its folder is created when missing."""
    path = Path(text)
    if path.is_dir():
        raise PathKindError(f"{text} is a folder, not a file to write")
    _check_parents(path, text)
    return path


def output_folder(text: str) -> Path:
    """A folder to fill: an existing folder (a run continues in it) or a new one."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise PathKindError(f"{text} is a file, not a folder")
    _check_parents(path, text)
    return path


def database_file(text: str) -> Path:
    """A database to open or create: not a folder (whether a file is a database is elo.db's
    to say)."""
    return output_file(text)


def agent_or_snapshot(text: str) -> str:
    """`random`, `perfect`, or a snapshot file that exists."""
    if text in AGENT_NAMES:
        return text
    path = Path(text)
    if path.is_dir():
        raise PathKindError(f"{text} is a folder, not a snapshot file (or one of {', '.join(AGENT_NAMES)})")
    if not path.exists():
        raise PathKindError(f"snapshot {text} does not exist (an agent is {', '.join(AGENT_NAMES)} or a .pt file)")
    return text


def _check_parents(path: Path, text: str) -> None:
    # A file on the way (out/x where out is a file) would fail later with a bare OSError.
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise PathKindError(f"{text}: {parent} is a file, not a folder")
            return


# ----------------------------------------------------------------------------- moves

def check_move(games: HexGames, cell: int) -> None:
    """HexError in the player's terms when `cell` is not a legal move in game 0."""
    name = cell_name(cell, games.n)
    if games.done[0]:
        winner = "black" if games.winner[0] == BLACK else "white"
        raise HexError(f"illegal move {name}: the game is already over ({winner} has won)")
    if not games.legal_mask()[0, cell]:
        raise HexError(f"illegal move {name}: the cell is occupied")


def play_move(games: HexGames, cell: int) -> None:
    check_move(games, cell)
    games.step(np.array([cell], dtype=np.int64))


def replay_moves(n: int, moves, swap: bool = False) -> HexGames:
    """One game after a move list (text, or cells), each move checked in the player's terms."""
    games = HexGames(n, 1, swap=swap)
    for cell in parse_moves(moves, n) if isinstance(moves, str) else moves:
        play_move(games, parse_cell(cell, n) if isinstance(cell, str) else int(cell))
    return games
