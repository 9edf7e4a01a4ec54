"""Perfect play on small boards: the game-theoretic value and every winning move of any
position up to 6x6, and an agent that plays perfectly.

Hex has no draws, so a position's value is +1 (the side to move wins) or -1, and it wins exactly
when it has a winning move: one table of winning-move bitmasks holds both. 3x3 and 4x4 are
tabulated completely (every position reachable from the empty board, by plain minimax); 5x5
keeps a book (the empty board and black's winning openings) and solves anything else on demand
with the proof search of `hexzero.solver_search`, remembering what it solved so `save()` can add
it to the book. 6x6 works the same way with proof-number search (its book, the whole opening,
ships with hexzero: the 18 distinct first moves take ~10 CPU minutes to prove); the perfect
agent's dearest moves were black's second ones, after an opening and any white answer: the
shipped proofs name a winning reply to 831 of those 840 positions by carrier transfer
(solver_search.transferred_wins), where searching one took up to minutes. Tables live on disk
in a versioned, checksummed file under the cache folder (`cache_dir` argument, else
$HEXZERO_CACHE/solver, else ~/.cache/hexzero/solver); a missing, corrupt or outdated file is
rebuilt with a warning, never trusted. Beside each table, a proofs file keeps the proven
positions of the search (value and carrier, up to PROOF_MAX_STONES stones) for the next
process's searches.
"""
from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from hexzero import solver_search as core
from hexzero.hex import BLACK, EMPTY, WHITE, check_size
from hexzero.storage import atomic_write_bytes

# The solver takes boards up to MAX_SEARCH_SIZE (keys hold n <= 7, solver_search.MAX_KEY_SIZE;
# 7x7 is far out of the search's reach). Perfect play is *supplied* (perfect agent in
# tournaments, accuracy measures, training scores) up to MAX_SOLVED_SIZE. On 6x6 most positions
# take milliseconds, but a position of 2-4 stones off the shipped proofs can take minutes: the
# 6x6 accuracy set starts at ply 4 (hexzero.measures) and the trainer's checks play their games
# against the perfect agent only once a snapshot is accurate (hexzero.train).
MAX_SEARCH_SIZE = 6
MAX_SOLVED_SIZE = 6
COMPLETE_SIZES = (2, 3, 4)  # boards tabulated completely
OPENING_BOOK_SIZES = (5, 6)  # boards whose whole opening the search proves when the book is built (5x5: ~3 s)
FORMAT_MAGIC = b"HEXZSOLV"
FORMAT_VERSION = 2  # 2: two-word keys (64-bit bitboards per colour) and 64-bit masks
_HEADER = struct.Struct("<8sIIQI")  # magic, version, n, count, crc32 of the arrays
# Hash-table sizes (log2 slots): the complete tables must fit at 3/4 load; the search table
# only gets slower when full. 24 bytes a slot (48 for proof-number search): 2**23 slots = 192 MiB.
_COMPLETE_LOG2 = {2: 6, 3: 14, 4: 24}
_SEARCH_LOG2 = {2: 8, 3: 12, 4: 20, 5: 23, 6: 22}
# How each board is searched. Depth-first with H-search up to 8 stones is fastest to 5x5; on
# 6x6 depth-first search does not finish the opening, proof-number search with H-search at
# every node does (measured on the a1 opening: H-search up to 8 stones 567,000 nodes and 33 s,
# at every node 1,800 nodes and 0.6 s).
SEARCH_METHODS = {6: core.METHOD_DFPN}
VC_MAX_STONES = {6: 36}
# Proven positions (value and carrier) with at most this many stones are kept on disk by
# `save()` beside the table, and loaded into the search table: the proofs the opening's
# search found make later searches near the opening cheap.
PROOF_MAX_STONES = 12
SHIPPED_PROOF_MAX_STONES = 8  # in the proofs shipped with hexzero: 6x6, 68,000 positions, 350 kB
# Tables shipped with hexzero: used to build a missing table file when present (the 6x6
# opening's proofs take minutes to find).
SHIPPED_DIR = Path(__file__).resolve().parent / "data"
# Lost positions with fewer stones are out of reach of the perfect agent's fewest-replies
# count (counting the winning replies to every move of an early 6x6 position takes many
# minutes); there it draws uniformly among all moves, which all lose against perfect play.
FEWEST_REPLIES_MIN_STONES = {6: 12}
# Up to this board the perfect agent's winning move is a uniform draw among all winning moves.
# Beyond, among those the proofs at hand show (solver_search.cheap_win_mask), the uniform draw
# only when there are none: drawing among all of them means disproving every losing move ahead
# of the first winner in a random order, each one a proof; on 6x6 that took up to 189 s for
# one move at 2 stones, in a tournament batch of a trained agent against the perfect agent.
UNIFORM_DRAW_MAX_SIZE = 5


class SolverError(ValueError):
    """A position the solver cannot take: the message names the problem."""


def default_cache_dir() -> Path:
    root = os.environ.get("HEXZERO_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "hexzero") / "solver"


def table_path(n: int, cache_dir=None, kind: str = "table") -> Path:
    """The table file (kind "table": winning-move masks) or the proofs file (kind "proofs":
    search-table values, the value and carrier of proven positions); the name carries the
    format version, so hexzero versions sharing a cache folder do not rebuild each other's."""
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"hex{n}x{n}-v{FORMAT_VERSION}.{kind}"


def shipped_path(n: int, kind: str = "table") -> Path:
    return SHIPPED_DIR / f"hex{n}x{n}-v{FORMAT_VERSION}.{kind}"


# ----------------------------------------------------------------------------- table files

def sort_table(keys: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys uint64[count, 2] and masks uint64[count] in the order `sorted_lookup` searches:
    by white word, then black word."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64).reshape(-1, 2)
    masks = np.asarray(masks, dtype=np.uint64)
    order = np.lexsort((keys[:, 0], keys[:, 1]))
    return np.ascontiguousarray(keys[order]), masks[order]


def encode_table(n: int, keys: np.ndarray, masks: np.ndarray) -> bytes:
    """File bytes of a table: header, then zlib of the white words' deltas (sorted, they
    compress well), the black words and the masks."""
    keys, masks = sort_table(keys, masks)
    raw = keys.tobytes() + masks.tobytes()
    white_deltas = np.diff(keys[:, 1], prepend=np.uint64(0))
    header = _HEADER.pack(FORMAT_MAGIC, FORMAT_VERSION, n, keys.shape[0], zlib.crc32(raw))
    return header + zlib.compress(white_deltas.tobytes() + keys[:, 0].tobytes() + masks.tobytes(), 6)


def decode_table(data: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted keys uint64[count, 2], masks uint64[count]) from file bytes; ValueError naming
    what is wrong."""
    if len(data) < _HEADER.size:
        raise ValueError(f"truncated header ({len(data)} bytes)")
    magic, version, file_n, count, crc = _HEADER.unpack_from(data)
    if magic != FORMAT_MAGIC:
        raise ValueError(f"not a solver table (magic {magic!r})")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version}, this hexzero reads {FORMAT_VERSION}")
    if file_n != n:
        raise ValueError(f"table for {file_n}x{file_n}, wanted {n}x{n}")
    try:
        body = zlib.decompress(data[_HEADER.size:])
    except zlib.error as exc:
        raise ValueError(f"corrupt payload ({exc})") from None
    if len(body) != count * 24:
        raise ValueError(f"payload holds {len(body)} bytes, {count} entries need {count * 24}")
    keys = np.empty((count, 2), dtype=np.uint64)
    keys[:, 1] = np.cumsum(np.frombuffer(body, dtype=np.uint64, count=count), dtype=np.uint64)
    keys[:, 0] = np.frombuffer(body, dtype=np.uint64, count=count, offset=count * 8)
    masks = np.frombuffer(body, dtype=np.uint64, count=count, offset=count * 16).copy()
    if zlib.crc32(keys.tobytes() + masks.tobytes()) != crc:
        raise ValueError("checksum mismatch")
    return keys, masks


# ----------------------------------------------------------------------------- solver

class Solver:
    """Values and winning moves of n x n positions (n <= 6). Boards are int8[n*n] rows in
    the engine's layout; `to_play` is BLACK or WHITE; positions must be unfinished."""

    def __init__(self, n: int, cache_dir=None, vc_max_stones: int | None = None, method: int | None = None):
        self.n = check_size(n)
        if self.n > MAX_SEARCH_SIZE:
            raise SolverError(f"the solver handles boards up to {MAX_SEARCH_SIZE}x{MAX_SEARCH_SIZE}, got {n}x{n}")
        # H-search on positions with at most this many stones; the search method
        self.vc_max_stones = vc_max_stones if vc_max_stones is not None else VC_MAX_STONES.get(self.n, core.VC_MAX_STONES)
        self.method = method if method is not None else SEARCH_METHODS.get(self.n, core.METHOD_DEPTH_FIRST)
        self.path = table_path(self.n, cache_dir)
        self.proofs_path = table_path(self.n, cache_dir, "proofs")
        self._m = core.board_masks(self.n)
        self._order = core.centre_order(self.n)
        self._weights = np.uint64(1) << np.arange(self.n * self.n, dtype=np.uint64)
        self._keys: np.ndarray | None = None  # the table on disk, loaded on first use
        self._masks: np.ndarray | None = None
        self._found: dict[tuple[int, int], int] = {}  # key words -> mask solved since loading
        self._search = None  # (tt, history, stats), made on first search
        # random_winning_moves: a uniform draw among all winning moves, or among those the
        # proofs at hand show (see UNIFORM_DRAW_MAX_SIZE)
        self.uniform_draw = self.n <= UNIFORM_DRAW_MAX_SIZE

    # --- public API

    def value(self, board_row, to_play) -> int:
        """+1 if the side to move wins with best play, else -1."""
        return 1 if self.winning_moves_mask(np.asarray(board_row)[None], [to_play])[0].any() else -1

    def winning_moves(self, board_row, to_play) -> np.ndarray:
        """The cells (int64, ascending) where the side to move keeps the win; empty if it loses."""
        return np.flatnonzero(self.winning_moves_mask(np.asarray(board_row)[None], [to_play])[0]).astype(np.int64)

    def winning_moves_mask(self, boards, to_play) -> np.ndarray:
        """bool[B, n*n]: which moves keep the win for the side to move, for a batch."""
        masks = self.masks_of_keys(self.keys(boards, to_play))
        return ((masks[:, None] >> np.arange(self.n * self.n, dtype=np.uint64)) & np.uint64(1)).astype(bool)

    def keys(self, boards, to_play) -> np.ndarray:
        """Table keys (uint64[B, 2]: black word, white word | side bit) of a batch of positions, checking they are positions."""
        n2 = self.n * self.n
        boards = np.asarray(boards)
        to_play = np.asarray(to_play).reshape(-1)
        if boards.ndim != 2 or boards.shape[1] != n2:
            raise SolverError(f"boards must have shape [B, {n2}] for {self.n}x{self.n}, got {boards.shape}")
        if boards.shape[0] != to_play.shape[0]:
            raise SolverError(f"{boards.shape[0]} boards but {to_play.shape[0]} to_play entries")
        if not np.isin(boards, (EMPTY, BLACK, WHITE)).all():
            raise SolverError("board cells must be 0 (empty), 1 (black) or 2 (white)")
        if not np.isin(to_play, (BLACK, WHITE)).all():
            raise SolverError(f"to_play must be {BLACK} (black) or {WHITE} (white), got {np.unique(to_play)}")
        black = ((boards == BLACK) * self._weights).sum(axis=1, dtype=np.uint64)
        white = ((boards == WHITE) * self._weights).sum(axis=1, dtype=np.uint64)
        side = (to_play == WHITE).astype(np.uint64) << np.uint64(63)
        keys = np.stack([black, white | side], axis=1)
        finished = core.finished_keys(keys, self.n, self._m)
        if finished.any():
            raise SolverError(f"position {int(np.argmax(finished))} of the batch is already won: nothing to solve")
        return keys

    def known_masks(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(masks uint64[B], known bool[B]): the winning-move bitmasks the table file or this
        session's solving already holds, without solving anything."""
        table_keys, table_masks = self._table()
        out, hit = core.sorted_lookup(table_keys, table_masks, keys)
        for i in np.flatnonzero(~hit):
            known = self._found.get((int(keys[i, 0]), int(keys[i, 1])))
            if known is not None:
                out[i], hit[i] = known, True
        return out, hit

    def masks_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """Winning-move bitmasks (uint64) of unfinished position keys: from the table, else
        from the positions solved since loading, else solved now."""
        out, hit = self.known_masks(keys)
        missing = np.unique(keys[~hit], axis=0)
        if missing.shape[0]:
            solved = self._solve(missing)
            self._found.update(zip(map(tuple, missing.tolist()), solved.tolist()))
            out[~hit] = [self._found[black, white] for black, white in keys[~hit].tolist()]
        return out

    def winning_moves_mask_within(self, boards, to_play, node_budget: int) -> tuple[np.ndarray, np.ndarray]:
        """(wins bool[B, n*n], solved bool[B]): `winning_moves_mask` giving each position not
        yet known at most `node_budget` search nodes; a position that needs more is left
        unsolved (its row all False). For building sets of positions, where a rare 6x6 one kept
        the search busy for over 20 minutes."""
        keys = self.keys(boards, to_play)
        masks, solved = self.known_masks(keys)
        tt, history, stats = self._search_state()
        try:
            for i in np.flatnonzero(~solved):
                found = self._found.get((int(keys[i, 0]), int(keys[i, 1])))
                if found is None:
                    stats[core.STAT_LIMIT] = stats[core.STAT_NODES] + node_budget
                    found = int(self._solve(keys[i:i + 1])[0])
                    if stats[core.STAT_ABORTED]:
                        stats[core.STAT_ABORTED] = 0
                        continue
                    self._found[int(keys[i, 0]), int(keys[i, 1])] = found
                masks[i], solved[i] = found, True
        finally:
            stats[core.STAT_LIMIT] = 0
        wins = ((masks[:, None] >> np.arange(self.n * self.n, dtype=np.uint64)) & np.uint64(1)).astype(bool)
        wins[~solved] = False
        return wins, solved

    def random_winning_moves(self, boards, to_play, rng: np.random.Generator) -> np.ndarray:
        """For each position, a winning move drawn uniformly among all of them, or -1 where the
        side to move loses. Known positions draw from their mask; the others try the empty
        cells in a random order and stop at the first that wins (a uniform draw too), which
        skips proving every other move. Without `uniform_draw` (above 5x5), the draw is among
        the winning moves the proofs at hand show, when there are any."""
        keys = self.keys(boards, to_play)
        masks, known = self.known_masks(keys)
        n2 = self.n * self.n
        order = np.argsort(rng.random((keys.shape[0], n2)), axis=1)  # a random order of cells
        cells = (masks[:, None] >> order.astype(np.uint64)) & np.uint64(1)
        first = np.where(cells.any(axis=1), order[np.arange(keys.shape[0]), cells.argmax(axis=1)], -1)
        if (~known).any():
            first[~known] = self._search_call(core.first_winning_moves, keys[~known], order[~known],
                                              exhaustive=self.uniform_draw)
        return first.astype(np.int64)

    def fewest_reply_moves(self, boards, to_play) -> np.ndarray:
        """bool[B, n*n]: for lost positions, the moves after which the opponent has the fewest
        winning replies (what the perfect agent plays when it cannot win)."""
        masks = self._search_call(core.fewest_reply_moves, self.keys(boards, to_play))
        return ((masks[:, None] >> np.arange(self.n * self.n, dtype=np.uint64)) & np.uint64(1)).astype(bool)

    def save(self) -> bool:
        """Add the positions solved since loading to the table file, and write the proofs
        file: the proven positions of the search table with at most PROOF_MAX_STONES
        stones (those loaded from it included). Returns whether it wrote."""
        wrote = self._write_proofs()
        if not self._found:
            return wrote
        keys, masks = self._table()
        extra = np.array(list(self._found.keys()), dtype=np.uint64).reshape(-1, 2)
        extra_masks = np.fromiter(self._found.values(), dtype=np.uint64, count=len(self._found))
        self._write(np.concatenate([keys, extra]), np.concatenate([masks, extra_masks]))
        self._found.clear()
        return True

    def write_shipped(self) -> None:
        """Write this solver's table and proofs (up to SHIPPED_PROOF_MAX_STONES stones) into
        the package's data folder, from which a missing table is built: how the 6x6 book is
        made (`Solver(6, tmp)._table()` proves the opening first)."""
        keys, masks = self._table()
        atomic_write_bytes(shipped_path(self.n), encode_table(self.n, keys, masks))
        proofs, values = core.proven_entries(self._search_state()[0], SHIPPED_PROOF_MAX_STONES)
        atomic_write_bytes(shipped_path(self.n, "proofs"), encode_table(self.n, proofs, values))

    # --- internals

    def _search_call(self, function, *args, **settings):
        """Run a search kernel with this solver's search table, history and settings."""
        tt, history, stats = self._search_state()
        return function(*args, self.n, self._m, self._order, history, tt, stats, **settings)

    def _search_state(self):
        """(search table, history, stats), made on first use with the proofs file loaded
        into the table."""
        if self._search is None:
            width = core.DFPN_WIDTH if self.method == core.METHOD_DFPN else 3
            tt = core.new_map(_SEARCH_LOG2[self.n], width)
            history = np.zeros((2, self.n * self.n), dtype=np.int64)
            stats = core.new_stats(self.vc_max_stones, 0, self.method)
            keys, values = self._read_proofs()
            core.map_put_all(tt, stats, keys, values)
            self._search = (tt, history, stats)
        return self._search

    def _read_proofs(self) -> tuple[np.ndarray, np.ndarray]:
        """The proofs file's (keys, values), else the shipped one's, else none. A damaged file
        is ignored with a warning: proofs only save search, and `save()` rewrites it."""
        for path in (self.proofs_path, shipped_path(self.n, "proofs")):
            if path.is_file():
                try:
                    return decode_table(path.read_bytes(), self.n)
                except (ValueError, OSError) as exc:
                    warnings.warn(f"solver proofs {path} are unusable ({exc}); searching without them", stacklevel=4)
        return np.zeros((0, 2), dtype=np.uint64), np.zeros(0, dtype=np.uint64)

    def _write_proofs(self) -> bool:
        if self._search is None:
            return False
        keys, values = core.proven_entries(self._search[0], PROOF_MAX_STONES)
        if not keys.shape[0]:
            return False
        atomic_write_bytes(self.proofs_path, encode_table(self.n, keys, values))
        return True

    def _solve(self, keys: np.ndarray) -> np.ndarray:
        return self._search_call(core.win_masks, keys)

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None:
            self._keys, self._masks = self._load_or_build()
        return self._keys, self._masks

    def _load_or_build(self) -> tuple[np.ndarray, np.ndarray]:
        """The table file; when it is missing or unusable, the shipped table, else a new one
        built now (and the proofs found building it saved)."""
        for path in (self.path, shipped_path(self.n)):
            if path.is_file():
                try:
                    keys, masks = decode_table(path.read_bytes(), self.n)
                except (ValueError, OSError) as exc:
                    warnings.warn(f"solver table {path} is unusable ({exc}); rebuilding it", stacklevel=3)
                    continue
                return (keys, masks) if path == self.path else self._write(keys, masks)
        keys, masks = self._build()
        self._write_proofs()
        return self._write(keys, masks)

    def _write(self, keys, masks) -> tuple[np.ndarray, np.ndarray]:
        data = encode_table(self.n, keys, masks)
        atomic_write_bytes(self.path, data)
        self._keys, self._masks = decode_table(data, self.n)
        return self._keys, self._masks

    def _build(self) -> tuple[np.ndarray, np.ndarray]:
        if self.n in COMPLETE_SIZES:
            table = core.new_map(_COMPLETE_LOG2[self.n])
            stats = core.new_stats()
            core.solve_all(np.uint64(0), np.uint64(0), 0, self.n, self._m, table, stats)
            if stats[core.STAT_ABORTED]:
                raise RuntimeError(f"the {self.n}x{self.n} table outgrew its hash map")  # a sizing bug
            used = table[:, 1] != core.EMPTY_KEY
            return table[used, :2], table[used, 2]
        if self.n not in OPENING_BOOK_SIZES:
            return np.zeros((0, 2), dtype=np.uint64), np.zeros(0, dtype=np.uint64)
        # The book: the empty board, and the openings it proves lost for white (mask 0, free
        # from the root's proof). Everything else is solved on demand and kept by `save()`.
        root = self.keys(np.zeros((1, self.n * self.n), dtype=np.int8), [BLACK])
        root_mask = int(self._solve(root)[0])
        openings = np.flatnonzero([(root_mask >> c) & 1 for c in range(self.n * self.n)])
        boards = np.zeros((openings.size, self.n * self.n), dtype=np.int8)
        boards[np.arange(openings.size), openings] = BLACK
        keys = np.concatenate([root, self.keys(boards, np.full(openings.size, WHITE))])
        return keys, np.concatenate([[root_mask], np.zeros(openings.size, dtype=np.uint64)]).astype(np.uint64)


_SOLVERS: dict[tuple[int, str], Solver] = {}


def get_solver(n: int, cache_dir=None) -> Solver:
    """The process's shared solver for n and cache folder (its tables and search memory are
    worth keeping between agents and measures)."""
    key = (check_size(n), str(table_path(n, cache_dir)))
    if key not in _SOLVERS:
        _SOLVERS[key] = Solver(n, cache_dir)
    return _SOLVERS[key]


# ----------------------------------------------------------------------------- agent

class PerfectAgent:
    """Plays perfectly: a winning move whenever one exists, uniformly among them (above 5x5,
    among those the proofs at hand show: Solver.uniform_draw). When every
    move loses, the move after which the opponent has the FEWEST winning replies (the fewest
    ways to go on winning, so the most ways to go wrong; on 6x6 only from 12 stones on, any
    move before), ties broken uniformly. Random choices
    use the agent's own Generator seeded with `seed`, or the `rng` passed to act when seed is
    None."""

    def __init__(self, n: int, seed: int | None = 0, cache_dir=None):
        self.n = check_size(n)
        self.name = "perfect"
        self.solver = get_solver(self.n, cache_dir)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def act(self, board, to_play, rng):
        rng = self._rng if self._rng is not None else rng
        board = np.asarray(board, dtype=np.int8)
        to_play = np.asarray(to_play, dtype=np.int8)
        moves = self.solver.random_winning_moves(board, to_play, rng)
        lost = np.flatnonzero(moves < 0)
        if lost.size:
            moves[lost] = self.lost_moves(board[lost], to_play[lost], rng)
        return moves

    def lost_moves(self, board, to_play, rng) -> np.ndarray:
        """The moves in lost positions (every move loses against perfect play): here the one
        leaving the fewest winning replies (any move, before FEWEST_REPLIES_MIN_STONES);
        hexzero.guided_perfect lets a strong agent choose."""
        choices = board == EMPTY
        counted = (board != EMPTY).sum(axis=1) >= FEWEST_REPLIES_MIN_STONES.get(self.n, 0)
        if counted.any():
            choices[counted] = self.solver.fewest_reply_moves(board[counted], to_play[counted])
        noise = rng.random(choices.shape)
        noise[~choices] = -1.0
        return noise.argmax(axis=1)
