"""Hex rules for many games at once: flat numpy arrays and numba kernels.

Layout and conventions are in DESIGN.md: cell = row * n + col, black (1) moves first and joins
top to bottom, white (2) joins left to right. Win detection is incremental: each game keeps a
union-find forest over its cells plus four virtual edge nodes, so a move costs a handful of
`find`s instead of a flood fill of the board.
"""
from __future__ import annotations

import re

import numpy as np
from numba import njit, prange

EMPTY, BLACK, WHITE = 0, 1, 2
MIN_SIZE, MAX_SIZE = 2, 19
NO_MOVE = -1  # an action of -1 leaves that game untouched

# Offsets of the six neighbours of (r, c): (dr, dc).
NEIGHBOUR_DR = np.array([-1, -1, 0, 0, 1, 1], dtype=np.int64)
NEIGHBOUR_DC = np.array([0, 1, -1, 1, -1, 0], dtype=np.int64)

# Error codes from the step kernel's validation pass (0 = fine).
_ERR_RANGE, _ERR_OCCUPIED, _ERR_FINISHED = 1, 2, 3


class HexError(ValueError):
    """Invalid input to the Hex engine: the message names the problem."""


def check_size(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise HexError(f"board size must be an integer, got {n!r}")
    if not MIN_SIZE <= int(n) <= MAX_SIZE:
        raise HexError(f"board size must be between {MIN_SIZE} and {MAX_SIZE}, got {n}")
    return int(n)


# ----------------------------------------------------------------------------- kernels

@njit(cache=True, inline="always")
def _find(parent, x):
    # Path halving: every other node on the way up points to its grandparent.
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, inline="always")
def _union(parent, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        # Keep the virtual edge nodes (the largest indices) as roots: shorter paths to them.
        if ra > rb:
            parent[rb] = ra
        else:
            parent[ra] = rb


def neighbour_table(n: int) -> np.ndarray:
    """int64[n*n, 6]: the neighbours of each cell, -1 where the board ends."""
    table = np.full((n * n, 6), -1, dtype=np.int64)
    for cell in range(n * n):
        r, c = divmod(cell, n)
        for k in range(6):
            rr, cc = r + NEIGHBOUR_DR[k], c + NEIGHBOUR_DC[k]
            if 0 <= rr < n and 0 <= cc < n:
                table[cell, k] = rr * n + cc
    return table


_NEIGHBOUR_TABLES = {}


def _neighbours(n: int) -> np.ndarray:
    if n not in _NEIGHBOUR_TABLES:
        table = neighbour_table(n)
        table.flags.writeable = False  # shared by every HexGames of this size
        _NEIGHBOUR_TABLES[n] = table
    return _NEIGHBOUR_TABLES[n]


@njit(cache=True)
def _place(board, parent, nbrs, n, cell, colour):
    """Put a stone of `colour` on `cell` of one game and join it to its group. Returns True
    when the move connects the colour's two edges."""
    a = n * n
    board[cell] = colour
    for k in range(6):
        nb = nbrs[cell, k]
        if nb >= 0 and board[nb] == colour:
            _union(parent, cell, nb)
    r = cell // n
    if colour == BLACK:
        if r == 0:
            _union(parent, cell, a)
        if r == n - 1:
            _union(parent, cell, a + 1)
        return _find(parent, a) == _find(parent, a + 1)
    else:
        c = cell - r * n
        if c == 0:
            _union(parent, cell, a + 2)
        if c == n - 1:
            _union(parent, cell, a + 3)
        return _find(parent, a + 2) == _find(parent, a + 3)


@njit(cache=True)
def _reset_game(board, parent, n):
    for i in range(board.shape[0]):
        board[i] = EMPTY
    for i in range(parent.shape[0]):
        parent[i] = i


@njit(cache=True)
def _swap_first_stone(board, parent, nbrs, n, cell):
    """Pie rule: black's only stone at (r, c) becomes a white stone at (c, r)."""
    _reset_game(board, parent, n)
    r = cell // n
    c = cell - r * n
    return _place(board, parent, nbrs, n, c * n + r, WHITE)


@njit(cache=True)
def _validate(board, winner, move_count, first_move, actions, swap):
    b, a = board.shape
    for g in range(b):
        act = actions[g]
        if act == NO_MOVE:
            continue
        if act < 0 or act >= a:
            return _ERR_RANGE, g
        if winner[g] != 0:
            return _ERR_FINISHED, g
        if board[g, act] != EMPTY and not (swap and move_count[g] == 1 and act == first_move[g]):
            return _ERR_OCCUPIED, g
    return 0, -1


# Each batched kernel comes in two loops over the same per-game body: prange for big batches,
# a plain loop below HexGames.PARALLEL_MIN_BATCH, where starting the thread pool costs far
# more (tens of microseconds) than the work.

@njit(cache=True, parallel=True)
def _step_parallel(board, parent, nbrs, to_play, winner, move_count, first_move, actions, n, swap):
    err, bad = _validate(board, winner, move_count, first_move, actions, swap)
    if err:
        return err, bad  # before any game changes
    for g in prange(board.shape[0]):
        _step_one(board[g], parent[g], nbrs, to_play, winner, move_count, first_move, actions[g], n, swap, g)
    return 0, -1


@njit(cache=True)
def _step_serial(board, parent, nbrs, to_play, winner, move_count, first_move, actions, n, swap):
    err, bad = _validate(board, winner, move_count, first_move, actions, swap)
    if err:
        return err, bad
    for g in range(board.shape[0]):
        _step_one(board[g], parent[g], nbrs, to_play, winner, move_count, first_move, actions[g], n, swap, g)
    return 0, -1


@njit(cache=True, inline="always")
def _step_one(board, parent, nbrs, to_play, winner, move_count, first_move, act, n, swap, g):
    if act == NO_MOVE:
        return
    colour = to_play[g]
    if swap and move_count[g] == 1 and act == first_move[g]:
        won = _swap_first_stone(board, parent, nbrs, n, act)
    else:
        won = _place(board, parent, nbrs, n, act, colour)
    if move_count[g] == 0:
        first_move[g] = act
    move_count[g] += 1
    if won:
        winner[g] = colour
    to_play[g] = WHITE if colour == BLACK else BLACK


@njit(cache=True, inline="always")
def _reset_one(board, parent, to_play, winner, move_count, first_move, n, g):
    _reset_game(board[g], parent[g], n)
    to_play[g] = BLACK
    winner[g] = 0
    move_count[g] = 0
    first_move[g] = -1


@njit(cache=True, parallel=True)
def _reset_parallel(board, parent, to_play, winner, move_count, first_move, mask, n):
    for g in prange(board.shape[0]):
        if mask[g]:
            _reset_one(board, parent, to_play, winner, move_count, first_move, n, g)


@njit(cache=True)
def _reset_serial(board, parent, to_play, winner, move_count, first_move, mask, n):
    for g in range(board.shape[0]):
        if mask[g]:
            _reset_one(board, parent, to_play, winner, move_count, first_move, n, g)


@njit(cache=True)
def winning_move(board_row, n, cell, colour):
    """Does the `colour` stone on `cell` join `colour`'s two edges? A flood fill from `cell`
    over same-coloured stones; for callers (search trees) that keep no union-find."""
    a = n * n
    seen = np.zeros(a, dtype=np.uint8)
    stack = np.empty(a, dtype=np.int64)
    top = 0
    stack[top] = cell
    top += 1
    seen[cell] = 1
    touch_start = False
    touch_end = False
    while top > 0:
        top -= 1
        x = stack[top]
        r = x // n
        c = x - r * n
        coord = r if colour == BLACK else c
        if coord == 0:
            touch_start = True
        if coord == n - 1:
            touch_end = True
        if touch_start and touch_end:
            return True
        for k in range(6):
            rr = r + NEIGHBOUR_DR[k]
            cc = c + NEIGHBOUR_DC[k]
            if 0 <= rr < n and 0 <= cc < n:
                nb = rr * n + cc
                if seen[nb] == 0 and board_row[nb] == colour:
                    seen[nb] = 1
                    stack[top] = nb
                    top += 1
    return False


@njit(cache=True, inline="always")
def _observe_one(board, to_play, n, out, g):
    # Plane 0: the mover's stones, plane 1: the opponent's, in the mover's frame (transposed
    # for white, so every mover joins top to bottom).
    me = to_play[g]
    white = me == WHITE
    for r in range(n):
        for c in range(n):
            v = board[g, c * n + r] if white else board[g, r * n + c]
            out[g, 0, r, c] = 1.0 if v == me else 0.0
            out[g, 1, r, c] = 1.0 if (v != EMPTY and v != me) else 0.0


@njit(cache=True, parallel=True)
def _observe_parallel(board, to_play, n, out):
    for g in prange(board.shape[0]):
        _observe_one(board, to_play, n, out, g)


@njit(cache=True)
def _observe_serial(board, to_play, n, out):
    for g in range(board.shape[0]):
        _observe_one(board, to_play, n, out, g)


@njit(cache=True)
def _random_legal(board, winner, out):
    """A uniformly random empty cell per unfinished game (rejection sampling: the expected
    number of draws over a whole game is about ln(cells) per move)."""
    b, a = board.shape
    for g in range(b):
        if winner[g] != 0:
            out[g] = NO_MOVE
            continue
        while True:
            x = np.random.randint(0, a)
            if board[g, x] == EMPTY:
                out[g] = x
                break


@njit(cache=True, parallel=True)
def _random_play(board, parent, nbrs, to_play, move_count, first_move, order, n, steps):
    """`steps` moves of uniformly random play in every game, checking for a win after every
    move and starting a new game when one ends; the whole loop stays in compiled code.
    `order[g]` holds the game's cells with the empty ones after the first move_count[g]
    entries: one step of Fisher-Yates per move picks a uniform empty cell with one draw.
    Returns the number of games finished per game slot."""
    b, a = board.shape
    finished = np.zeros(b, dtype=np.int64)
    for g in prange(b):
        for _ in range(steps):
            k = move_count[g]
            j = np.random.randint(k, a)
            x = order[g, j]
            order[g, j] = order[g, k]
            order[g, k] = x
            colour = to_play[g]
            if k == 0:
                first_move[g] = x
            move_count[g] = k + 1
            to_play[g] = WHITE if colour == BLACK else BLACK
            if _place(board[g], parent[g], nbrs, n, x, colour):
                finished[g] += 1
                _reset_game(board[g], parent[g], n)
                to_play[g] = BLACK
                move_count[g] = 0
    return finished


@njit(cache=True)
def _empties_first(board, move_count, order):
    # Arrange each game's cells as [occupied..., empty...] for _random_play.
    b, a = board.shape
    for g in range(b):
        lo = 0
        hi = a - 1
        for cell in range(a):
            if board[g, cell] != EMPTY:
                order[g, lo] = cell
                lo += 1
            else:
                order[g, hi] = cell
                hi -= 1
        move_count[g] = lo


@njit(cache=True)
def seed_kernels(seed):
    """numba's RNG is separate from numpy's: seed it for the kernels that draw."""
    np.random.seed(seed)


# ----------------------------------------------------------------------------- batched state

def _as_actions(actions, batch) -> np.ndarray:
    if isinstance(actions, np.ndarray) and actions.dtype == np.int64 and actions.shape == (batch,):
        return actions  # the common case, checked in the fewest steps
    arr = np.asarray(actions)
    if arr.shape != (batch,):
        raise HexError(f"actions must have shape ({batch},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise HexError(f"actions must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


class HexGames:
    """`batch` games of Hex on an n x n board, stepped together.

    Arrays (read them, do not write them): board int8[B, n*n], to_play int8[B],
    winner int8[B] (0 while running), move_count int16[B].
    """

    PARALLEL_MIN_BATCH = 64  # below this the thread hand-off costs more than it saves

    def __init__(self, n: int, batch: int = 1, swap: bool = False):
        self.n = check_size(n)
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise HexError(f"batch must be a positive integer, got {batch!r}")
        self.batch = int(batch)
        self.swap = bool(swap)
        self._parallel = self.batch >= self.PARALLEL_MIN_BATCH
        self._nbrs = _neighbours(self.n)  # shared, read-only
        a = self.n * self.n
        self.board = np.zeros((self.batch, a), dtype=np.int8)
        self.parent = np.empty((self.batch, a + 4), dtype=np.int16)
        self.to_play = np.empty(self.batch, dtype=np.int8)
        self.winner = np.empty(self.batch, dtype=np.int8)
        self.move_count = np.empty(self.batch, dtype=np.int16)
        self.first_move = np.empty(self.batch, dtype=np.int16)
        self.reset()

    @property
    def num_cells(self) -> int:
        return self.n * self.n

    @property
    def done(self) -> np.ndarray:
        return self.winner != 0

    def reset(self, mask=None) -> None:
        """Start new games where `mask` is true (all games when None)."""
        if mask is None:
            mask = np.ones(self.batch, dtype=np.bool_)
        mask = np.asarray(mask)
        if mask.shape != (self.batch,) or mask.dtype != np.bool_:
            raise HexError(f"reset mask must be bool with shape ({self.batch},), got {mask.dtype} {mask.shape}")
        kernel = _reset_parallel if self._parallel else _reset_serial
        kernel(self.board, self.parent, self.to_play, self.winner, self.move_count, self.first_move, mask, self.n)

    def legal_mask(self) -> np.ndarray:
        """bool[B, n*n]: empty cells of unfinished games (plus the swap move where allowed)."""
        legal = (self.board == EMPTY) & (self.winner == 0)[:, None]
        if self.swap:
            can_swap = (self.move_count == 1) & (self.winner == 0)
            rows = np.nonzero(can_swap)[0]
            legal[rows, self.first_move[rows]] = True
        return legal

    def step(self, actions) -> np.ndarray:
        """Play one move in every game (NO_MOVE = -1 skips a game). Returns the winner array.
        Raises HexError, leaving every game unchanged, if any move is illegal."""
        acts = _as_actions(actions, self.batch)
        kernel = _step_parallel if self._parallel else _step_serial
        err, g = kernel(self.board, self.parent, self._nbrs, self.to_play, self.winner, self.move_count,
                        self.first_move, acts, self.n, self.swap)
        if err:
            a = int(acts[g])
            if err == _ERR_RANGE:
                raise HexError(f"game {g}: action {a} is off the {self.n}x{self.n} board (0..{self.num_cells - 1})")
            if err == _ERR_FINISHED:
                raise HexError(f"game {g}: move {cell_name(a, self.n)} after the game ended")
            raise HexError(f"game {g}: cell {cell_name(a, self.n)} is occupied")
        return self.winner

    def observation(self, out=None) -> np.ndarray:
        """float32[B, 2, n, n] planes from the mover's view (DESIGN.md)."""
        if out is None:
            out = np.empty((self.batch, 2, self.n, self.n), dtype=np.float32)
        (_observe_parallel if self._parallel else _observe_serial)(self.board, self.to_play, self.n, out)
        return out

    def random_actions(self) -> np.ndarray:
        """A uniformly random legal cell for each unfinished game, NO_MOVE for finished ones
        (numba's RNG: seed it with `seed_kernels`). Ignores the swap move."""
        out = np.empty(self.batch, dtype=np.int64)
        _random_legal(self.board, self.winner, out)
        return out

    def play_random(self, steps: int) -> int:
        """Advance every game by `steps` uniformly random moves inside one compiled loop (a win
        is checked after every move; finished games restart at once). Returns how many games
        finished. For random-play throughput and random openings; ignores the swap move."""
        if np.any(self.winner != 0):
            raise HexError("play_random needs unfinished games: reset the finished ones first")
        if self.swap and np.any(self.move_count == 1):
            raise HexError("play_random does not play the swap move: start from an empty board or after move 2")
        order = np.empty(self.board.shape, dtype=np.int16)
        _empties_first(self.board, self.move_count, order)
        return int(_random_play(self.board, self.parent, self._nbrs, self.to_play, self.move_count,
                                self.first_move, order, self.n, int(steps)).sum())

    def copy(self) -> "HexGames":
        other = object.__new__(HexGames)
        other.__dict__.update({k: (v.copy() if isinstance(v, np.ndarray) and k != "_nbrs" else v)
                               for k, v in self.__dict__.items()})
        return other

    @classmethod
    def from_moves(cls, n: int, moves, swap: bool = False) -> "HexGames":
        """One game after a move list (cell names or indices)."""
        games = cls(n, 1, swap=swap)
        for cell in parse_moves(moves, n) if isinstance(moves, str) else moves:
            if isinstance(cell, str):
                cell = parse_cell(cell, n)
            games.step(np.array([cell], dtype=np.int64))
        return games

    @classmethod
    def from_boards(cls, board, to_play) -> "HexGames":
        """Games in the given positions (e.g. agent inputs); winners are recomputed."""
        board = np.asarray(board)
        to_play = np.asarray(to_play)
        if board.ndim != 2 or board.dtype != np.int8:
            raise HexError(f"board must be int8[B, n*n], got {board.dtype} with shape {board.shape}")
        n = int(round(np.sqrt(board.shape[1])))
        if n * n != board.shape[1]:
            raise HexError(f"board rows have {board.shape[1]} cells, not a square number")
        if to_play.shape != (board.shape[0],) or not np.isin(to_play, (BLACK, WHITE)).all():
            raise HexError("to_play must hold BLACK (1) or WHITE (2) for each board")
        if not np.isin(board, (EMPTY, BLACK, WHITE)).all():
            raise HexError("board cells must be EMPTY (0), BLACK (1) or WHITE (2)")
        games = cls(n, board.shape[0])
        _load_boards(board, games.board, games.parent, games._nbrs, games.winner, n)
        games.to_play[:] = to_play
        games.move_count[:] = (board != EMPTY).sum(axis=1)
        return games


@njit(cache=True)
def _load_boards(src, board, parent, nbrs, winner, n):
    for g in range(src.shape[0]):
        for cell in range(src.shape[1]):
            colour = src[g, cell]
            if colour != EMPTY and _place(board[g], parent[g], nbrs, n, cell, colour):
                winner[g] = colour


def mover_to_board(actions, to_play, n: int) -> np.ndarray:
    """Map actions in the mover's frame to board cells (the transpose for white)."""
    actions = np.asarray(actions, dtype=np.int64)
    white = np.asarray(to_play) == WHITE
    transposed = (actions % n) * n + actions // n
    return np.where(white & (actions >= 0), transposed, actions)


board_to_mover = mover_to_board  # the transpose is its own inverse


# ----------------------------------------------------------------------------- text forms

_CELL_RE = re.compile(r"^([a-z])(\d{1,2})$")


def cell_name(cell: int, n: int) -> str:
    r, c = divmod(int(cell), n)
    return f"{chr(ord('a') + c)}{r + 1}"


def parse_cell(text: str, n: int) -> int:
    m = _CELL_RE.match(text.strip().lower())
    if not m:
        raise HexError(f"malformed cell name {text!r}: expected a column letter and a row number, like 'c3'")
    c = ord(m.group(1)) - ord("a")
    r = int(m.group(2)) - 1
    if not (0 <= c < n and 0 <= r < n):
        raise HexError(f"cell {text!r} is off the {n}x{n} board (a1..{cell_name(n * n - 1, n)})")
    return r * n + c


def parse_moves(text: str, n: int) -> list[int]:
    return [parse_cell(tok, n) for tok in re.split(r"[\s,;]+", text.strip()) if tok]


def moves_text(cells, n: int) -> str:
    return " ".join(cell_name(c, n) for c in cells)


_SYMBOL = {EMPTY: ".", BLACK: "X", WHITE: "O"}


def board_text(board_row, n: int) -> str:
    """An ASCII board: X black (top-bottom), O white (left-right), rows indented as on the
    rhombus. `parse_board_text` reads it back."""
    board_row = np.asarray(board_row)
    lines = ["  " + " ".join(chr(ord("a") + c) for c in range(n))]
    for r in range(n):
        cells = " ".join(_SYMBOL[int(board_row[r * n + c])] for c in range(n))
        lines.append(f"{' ' * r}{r + 1:>2} {cells}")
    return "\n".join(lines)


def parse_board_text(text: str) -> tuple[np.ndarray, int]:
    """Read a board written by `board_text` (or any rows of X/O/. symbols). Returns
    (board int8[n*n], to_play), to_play inferred from the stone counts."""
    rows = []
    for line in text.strip().splitlines():
        symbols = [ch for ch in line if ch in "XO.xo"]
        if line.strip() and not line.strip()[0].isdigit() and not symbols:
            continue
        if symbols and (line.strip()[0].isdigit() or set(line.strip()) <= set("XOxo. ")):
            rows.append([{"x": BLACK, "o": WHITE, ".": EMPTY}[s.lower()] for s in symbols])
    n = len(rows)
    if n == 0 or any(len(r) != n for r in rows):
        raise HexError(f"board text must have n rows of n cells, got rows of lengths {[len(r) for r in rows]}")
    check_size(n)
    board = np.array(rows, dtype=np.int8).reshape(-1)
    blacks, whites = int((board == BLACK).sum()), int((board == WHITE).sum())
    if blacks - whites not in (0, 1):
        raise HexError(f"impossible position: {blacks} black and {whites} white stones")
    return board, (BLACK if blacks == whites else WHITE)
