"""Game records as other Hex tools exchange them: SGF files (`GM[11]`, as HexGui writes them)
and trmph links (`https://trmph.com/hex/board#5,c3b4d2`).

Conventions (DESIGN.md, /work/shared/reference/hex-interop.md): cells are named column letter
then row number, `a1` top-left; black moves first and joins top to bottom. A record's moves are
(colour, move) pairs where move is a cell index or one of the special moves `swap-pieces`,
`swap-sides`, `resign`, `forfeit`.

Positions for the rest of hexzero are (n, cells): a list of cell indices in the order played,
a swap-pieces written as black's first cell played again, which is exactly how the engine's
swap rule takes it, so `HexGames.from_moves(n, cells, swap=True)` replays any record (a list
without a swap plays the same with or without the rule).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hexzero.hex import BLACK, EMPTY, WHITE, HexError, HexGames, cell_name, check_size, parse_cell, parse_moves

SWAP_PIECES, SWAP_SIDES, RESIGN, FORFEIT = "swap-pieces", "swap-sides", "resign", "forfeit"
SPECIAL_MOVES = (SWAP_PIECES, SWAP_SIDES, RESIGN, FORFEIT)
COLOUR_LETTER = {BLACK: "B", WHITE: "W"}
LETTER_COLOUR = {"B": BLACK, "W": WHITE}
TRMPH_PREFIX = "https://trmph.com/hex/board#"
DEFAULT_SGF_SIZE = 11  # SGF's default for GM[11] when SZ is missing


@dataclass
class GameRecord:
    """One game: board size, moves as (colour, cell index or special move), optional setup
    stones (SGF AB/AW), player names and result (`B+`, `W+`, `B+R` for a resignation)."""

    n: int
    moves: list = field(default_factory=list)
    black: str = ""
    white: str = ""
    result: str = ""
    setup_black: list = field(default_factory=list)
    setup_white: list = field(default_factory=list)
    comment: str = ""

    def cells(self) -> list[int]:
        """The record as a move list of cell indices (module docstring): setup stones first,
        alternating colours; a swap-pieces as black's first cell again; the game's end
        (resign, forfeit) and swap-sides, which changes who holds which colour but not the
        board, leave no cell. Raises HexError naming the first move that does not fit."""
        cells = interleave_setup(self.setup_black, self.setup_white, self.n)
        games = HexGames.from_moves(self.n, cells, swap=True)
        for k, (colour, move) in enumerate(self.moves, 1):
            if move in (RESIGN, FORFEIT):
                break
            if move == SWAP_SIDES:
                continue
            if games.done[0]:
                raise HexError(f"move {k} ({COLOUR_LETTER[colour]} {move_name(move, self.n)}) comes after the game ended")
            if colour != games.to_play[0]:
                raise HexError(f"move {k} is {COLOUR_LETTER[colour]} {move_name(move, self.n)} but "
                               f"{COLOUR_LETTER[int(games.to_play[0])]} is to play")
            if move == SWAP_PIECES:
                if int(games.move_count[0]) != 1 or len(cells) != 1:
                    raise HexError(f"move {k}: swap-pieces is only allowed as the second move")
                move = cells[0]
            elif games.board[0, move] != EMPTY:   # not a swap: SGF writes swaps as swap-pieces
                raise HexError(f"move {k}: cell {cell_name(move, self.n)} is occupied")
            try:
                games.step(np.array([move], dtype=np.int64))
            except HexError as exc:
                raise HexError(f"move {k}: {str(exc).removeprefix('game 0: ')}") from None
            cells.append(int(move))
        return cells


def move_name(move, n: int) -> str:
    return move if isinstance(move, str) else cell_name(move, n)


def parse_move(text: str, n: int):
    """A cell index or a special move from its name (case-insensitive)."""
    name = text.strip().lower()
    if name in SPECIAL_MOVES:
        return name
    return parse_cell(name, n)


def interleave_setup(blacks, whites, n: int) -> list[int]:
    """Setup stones as an alternating move list (b, w, b, ...): possible when black has as
    many stones as white or one more. Hex has no captures and more stones never undo a
    connection, so when the whole position has no winner no prefix has one either."""
    blacks, whites = list(blacks), list(whites)
    if not blacks and not whites:
        return []
    if len(blacks) - len(whites) not in (0, 1):
        raise HexError(f"setup stones ({len(blacks)} black, {len(whites)} white) are not a position reachable "
                       "by alternating moves")
    cells = []
    for k, b in enumerate(blacks):
        cells.append(int(b))
        if k < len(whites):
            cells.append(int(whites[k]))
    return cells


# ----------------------------------------------------------------------------- SGF

def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("]", "\\]")


def sgf_text(record: GameRecord, application: str | None = None) -> str:
    """The record as an SGF game: `(;FF[4]GM[11]SZ[n]...;B[c3];W[swap-pieces];...)`."""
    from hexzero import __version__

    n = check_size(record.n)
    root = [f"FF[4]GM[11]SZ[{n}]AP[{_escape(application or f'hexzero:{__version__}')}]"]
    for key, value in (("PB", record.black), ("PW", record.white), ("RE", record.result), ("GC", record.comment)):
        if value:
            root.append(f"{key}[{_escape(value)}]")
    for key, stones in (("AB", record.setup_black), ("AW", record.setup_white)):
        if stones:
            root.append(key + "".join(f"[{cell_name(c, n)}]" for c in stones))
    nodes = "".join(f";{COLOUR_LETTER[colour]}[{move_name(move, n)}]" for colour, move in record.moves)
    return f"(;{''.join(root)}{nodes})\n"


_SGF_TOKEN = re.compile(r"\s*(?:(\()|(\))|(;)|([A-Za-z]+)\s*((?:\[(?:[^\]\\]|\\.)*\]\s*)+))", re.S)
_SGF_VALUE = re.compile(r"\[((?:[^\]\\]|\\.)*)\]", re.S)


def _sgf_main_line(text: str) -> list[dict]:
    """The nodes of the first game's main line as {property: [values]} dicts. A game tree is
    `(` nodes, then its variations `(...)`; the main line follows each first variation, so it
    is every node read before the first `)`."""
    start = text.find("(")
    if start < 0 or not text[start + 1:].lstrip().startswith(";"):
        raise HexError("not an SGF game: expected it to start with '(;'")
    nodes, pos = [], start
    while True:
        m = _SGF_TOKEN.match(text, pos)
        if not m:
            rest = text[pos:].strip()
            raise HexError(f"malformed SGF near {rest[:30]!r}" if rest else "malformed SGF: the game is not closed by ')'")
        pos = m.end()
        if m.group(2):
            return nodes
        if m.group(3):
            nodes.append({})
        elif m.group(4):
            if not nodes:
                raise HexError("malformed SGF: a property before the first node")
            values = [re.sub(r"\\(.)", r"\1", v, flags=re.S) for v in _SGF_VALUE.findall(m.group(5))]
            nodes[-1].setdefault(m.group(4).upper(), []).extend(values)


def parse_sgf(text: str) -> GameRecord:
    """Read the first game of an SGF text (Hex, GM[11]). Raises HexError naming the problem."""
    nodes = _sgf_main_line(text)
    if not nodes:
        raise HexError("SGF holds no game")
    root = nodes[0]
    game = root.get("GM", ["11"])[0].strip()
    if game != "11":
        raise HexError(f"SGF game type GM[{game}] is not Hex (GM[11])")
    size = root.get("SZ", [str(DEFAULT_SGF_SIZE)])[0].strip()
    if ":" in size:
        cols, rows = size.split(":", 1)
        if cols.strip() != rows.strip():
            raise HexError(f"SGF board SZ[{size}] is not square: hexzero plays n x n boards")
        size = cols
    if not size.isdigit():
        raise HexError(f"SGF board size SZ[{size}] is not a number")
    n = check_size(int(size))
    record = GameRecord(n, black=root.get("PB", [""])[0], white=root.get("PW", [""])[0],
                        result=root.get("RE", [""])[0], comment=root.get("GC", [""])[0])
    for k, node in enumerate(nodes):
        for key, stones in (("AB", record.setup_black), ("AW", record.setup_white)):
            if key in node:
                if k != 0 or record.moves:
                    raise HexError("SGF setup stones (AB/AW) after the first move are not supported")
                stones.extend(parse_cell(v, n) for v in node[key])
        for key in ("B", "W"):
            for value in node.get(key, []):
                try:
                    record.moves.append((LETTER_COLOUR[key], parse_move(value, n)))
                except HexError as exc:
                    raise HexError(f"SGF move {len(record.moves) + 1} {key}[{value}]: {exc}") from None
    return record


def write_sgf(path, record: GameRecord) -> Path:
    """Write a record as SGF atomically (hexzero.storage)."""
    from hexzero.storage import atomic_write_text

    atomic_write_text(path, sgf_text(record))
    return Path(path)


def record_from_cells(n: int, cells, black: str = "", white: str = "", comment: str = "") -> GameRecord:
    """A record of a game played from the empty board (cells in order; a swap as black's first
    cell again), with its result when it has ended."""
    cells = [int(c) for c in cells]
    games = HexGames.from_moves(n, cells, swap=True)
    # Colours alternate even across a swap: white swaps, then black moves.
    moves = [(BLACK if k % 2 == 0 else WHITE, SWAP_PIECES if k == 1 and cell == cells[0] else cell)
             for k, cell in enumerate(cells)]
    winner = int(games.winner[0])
    result = f"{COLOUR_LETTER[winner]}+" if winner else ""
    return GameRecord(n, moves, black=black, white=white, result=result, comment=comment)


# ----------------------------------------------------------------------------- trmph

_TRMPH = re.compile(r"^(?:(?:https?://)?(?:www\.)?trmph\.com/hex/board)?#?(\d+),([a-z0-9]*)$")
_TRMPH_CELL = re.compile(r"[a-z]\d+")


def trmph_link(n: int, cells) -> str:
    """A trmph link for a move list (a swap as the first cell repeated, as trmph shows it)."""
    n = check_size(n)
    return f"{TRMPH_PREFIX}{n},{''.join(cell_name(c, n) for c in cells)}"


def is_trmph(text: str) -> bool:
    return bool(_TRMPH.match(text.strip().lower()))


def parse_trmph(text: str) -> tuple[int, list[int]]:
    """(n, cells) from a trmph link (`https://trmph.com/hex/board#5,c3b4`, or just `5,c3b4`).
    Cells are split on their letters, so two-digit rows (`g10`) read correctly."""
    m = _TRMPH.match(text.strip().lower())
    if not m:
        raise HexError(f"not a trmph link: {text.strip()[:60]!r} (expected {TRMPH_PREFIX}N,c3b4...)")
    n = check_size(int(m.group(1)))
    body = m.group(2)
    names = _TRMPH_CELL.findall(body)
    if "".join(names) != body:
        raise HexError(f"malformed trmph moves {body!r}: expected cells like c3 and g10 run together")
    cells = [parse_cell(name, n) for name in names]
    HexGames.from_moves(n, cells, swap=True)  # legal, or HexError naming the move
    return n, cells


# ----------------------------------------------------------------------------- positions

def _read_if_file(text_or_path) -> str:
    if isinstance(text_or_path, Path):
        return text_or_path.read_text(encoding="utf-8", errors="replace")
    text = str(text_or_path)
    stripped = text.strip()
    if stripped and "\n" not in stripped and (stripped.lower().endswith(".sgf") or os.path.isfile(stripped)):
        path = Path(stripped)
        if not path.is_file():
            raise FileNotFoundError(f"no SGF file at {stripped}")
        return path.read_text(encoding="utf-8", errors="replace")
    return text


def is_record(text_or_path) -> bool:
    """Whether a position argument is a game record (an SGF file or text, a trmph link) rather
    than a move list."""
    text = str(text_or_path).strip()
    return (isinstance(text_or_path, Path) or text.lower().endswith(".sgf") or text.startswith("(;")
            or is_trmph(text) or ("\n" not in text and os.path.isfile(text)))


def parse_position(text_or_path, n: int | None = None) -> tuple[int, list[int]]:
    """A position as (n, cells) from an SGF file or text, a trmph link, or a move list ('c3 b4',
    which needs n). When n is given and the record says another size, HexError names both.
    Replay the cells with `HexGames.from_moves(n, cells, swap=True)` (module docstring)."""
    text = _read_if_file(text_or_path)
    stripped = text.strip()
    if stripped.startswith("(") and ";" in stripped:
        record = parse_sgf(stripped)
        size, cells = record.n, record.cells()
        source = "the SGF game"
    elif is_trmph(stripped):
        size, cells = parse_trmph(stripped)
        source = "the trmph link"
    else:
        if n is None:
            raise HexError("a move list needs a board size (--board N)")
        return n, parse_moves(stripped, n) if stripped else []
    if n is not None and n != size:
        raise HexError(f"board size {n} given, but {source} is {size}x{size}")
    return size, cells


def position_board(n: int, cells) -> HexGames:
    """The single game after a parsed position's cells (swap rule on, see the module doc)."""
    return HexGames.from_moves(n, list(cells), swap=True)



def write_batch_games(folder, n: int, batch_id: str, name_a: str, name_b: str, batch: dict, seed: int | None = None
                      ) -> list[Path]:
    """Write each game of a tournament batch as its own SGF file (HexGui opens one game per
    file): FOLDER/<batch id>-<game>.sgf, the players named by colour. `batch` holds the
    games' `moves` (int[games, plies], -1 past a game's end) and `a_black` (bool[games]), as
    elo.tournament.play_batch returns them with keep_moves."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", batch_id)   # batch ids hold ':'
    paths = []
    for k, (plies, a_black) in enumerate(zip(batch["moves"], batch["a_black"])):
        cells = [c for c in plies if c >= 0]
        black, white = (name_a, name_b) if a_black else (name_b, name_a)
        record = record_from_cells(n, cells, black=black, white=white,
                                   comment=f"tournament batch {batch_id}, seed {seed}, game {k}")
        paths.append(write_sgf(folder / f"{stem}-{k:03d}.sgf", record))
    return paths
