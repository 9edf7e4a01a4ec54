"""The numba core of the Hex solver: bitboards, hash tables in numpy arrays, a proof search
that prunes with the carriers of losing proofs (the "mustplay" region), and a complete
enumeration for the boards small enough to tabulate.

A position is two uint64 bitboards in the side to move's view, `me` and `op` (bit = cell,
cell = row * n + col), plus `side` (0: the mover is black and joins top-bottom, 1: white,
left-right). Its table key is one uint64: black bits | white bits << 32 | side << 63 (n*n <= 25,
so both colours fit); the side is in the key because with the swap rule the stone counts do
not say who moves.

Why the search finishes 5x5 quickly: every proven result carries its *carrier*, the set of
empty cells the winner's strategy needs; the winner still wins if the loser is handed every
empty cell outside it. So once one move m of the side to move is refuted with carrier C, any
other move outside C is refuted by the same strategy (an extra loser stone outside the carrier
is harmless, and m left empty only helps the winner), and only moves in C remain to be tried.
Intersecting those regions over the refuted moves (Hayward et al.'s "mustplay") cuts the
losing side's branching factor from ~n*n to a handful. Immediate wins (a cell that joins both
edge-connected groups, found with shift-and-mask flood fills), the opponent's immediate
threats (one: it is the only move; two: the position is lost) and double threats are read off
the bitboards before any recursion.
"""
from __future__ import annotations

import numpy as np
from numba import njit

ONE = np.uint64(1)
ZERO = np.uint64(0)
EMPTY_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)  # no position has bits 25..31 set
WIN_BIT = np.uint64(1 << 63)  # search-table values: carrier | WIN_BIT for a win
CELL_BITS = np.uint64(0xFFFFFFFF)
_HASH = np.uint64(0x9E3779B97F4A7C15)

# stats: int64 array shared by a search and its caller.
STAT_NODES, STAT_LIMIT, STAT_ABORTED, STAT_STORED, STAT_REPLACED = 0, 1, 2, 3, 4
NUM_STATS = 5


def board_masks(n: int) -> np.ndarray:
    """uint64[7]: full board, not-column-0, not-column-(n-1), top row, bottom row, left
    column, right column."""
    full = notc0 = notcl = top = bottom = left = right = 0
    for r in range(n):
        for c in range(n):
            bit = 1 << (r * n + c)
            full |= bit
            notc0 |= bit if c != 0 else 0
            notcl |= bit if c != n - 1 else 0
            top |= bit if r == 0 else 0
            bottom |= bit if r == n - 1 else 0
            left |= bit if c == 0 else 0
            right |= bit if c == n - 1 else 0
    return np.array([full, notc0, notcl, top, bottom, left, right], dtype=np.uint64)


def centre_order(n: int) -> np.ndarray:
    """Cells from the centre outwards (hex distance on the rhombus): the static move order,
    since central moves win most often on small boards."""
    centre = (n - 1) / 2.0

    def distance(cell):
        dr, dc = cell // n - centre, cell % n - centre
        return (abs(dr) + abs(dc) + abs(dr + dc)) / 2.0

    return np.array(sorted(range(n * n), key=lambda cell: (distance(cell), cell)), dtype=np.int64)


def new_map(capacity_log2: int) -> tuple[np.ndarray, np.ndarray]:
    """An empty open-addressing hash map uint64 key -> uint64 value of 2**capacity_log2 slots."""
    size = 1 << capacity_log2
    return np.full(size, EMPTY_KEY, dtype=np.uint64), np.zeros(size, dtype=np.uint64)


# ----------------------------------------------------------------------------- bitboards

@njit(cache=True, inline="always")
def _expand(x, n, m):
    """x plus every neighbour of x."""
    full, notc0, notcl = m[0], m[1], m[2]
    s = np.uint64(n)
    s1 = np.uint64(n - 1)
    y = x | ((x << ONE) & notc0) | ((x >> ONE) & notcl) | (x << s) | (x >> s)
    y |= ((x >> s1) & notc0) | ((x << s1) & notcl)
    return y & full


@njit(cache=True, inline="always")
def _flood(seed, own, n, m):
    """The stones of `own` connected to `seed` (seed must be a subset of own)."""
    reach = seed
    while True:
        grown = _expand(reach, n, m) & own
        if grown == reach:
            return reach
        reach = grown


@njit(cache=True)
def connected(own, start, end, n, m):
    """Do the stones `own` join the edge rows/columns `start` and `end`?"""
    return (_flood(own & start, own, n, m) & end) != ZERO


@njit(cache=True)
def winning_cells(own, empty, start, end, n, m):
    """Empty cells where one more stone of `own` joins its two edges."""
    touch_start = start | _expand(_flood(own & start, own, n, m), n, m)
    touch_end = end | _expand(_flood(own & end, own, n, m), n, m)
    return empty & touch_start & touch_end


@njit(cache=True)
def popcount(x):
    count = 0
    while x:
        x &= x - ONE
        count += 1
    return count


@njit(cache=True, inline="always")
def _lowest(x):
    return x & (~x + ONE)


@njit(cache=True, inline="always")
def _two(x):
    """The two lowest cells of x when it has at least two, else nothing."""
    first = _lowest(x)
    second = _lowest(x & ~first)
    return first | second if second != ZERO else ZERO


@njit(cache=True, inline="always")
def _edges(side, m):
    """(mover's start, mover's end, opponent's start, opponent's end) edge masks."""
    if side == 0:
        return m[3], m[4], m[5], m[6]
    return m[5], m[6], m[3], m[4]


@njit(cache=True, inline="always")
def position_key(me, op, side):
    if side == 0:
        return me | (op << np.uint64(32))
    return op | (me << np.uint64(32)) | WIN_BIT


@njit(cache=True, inline="always")
def key_position(key):
    """(me, op, side) of a key."""
    black = key & CELL_BITS
    white = (key >> np.uint64(32)) & np.uint64(0x7FFFFFFF)
    if key & WIN_BIT:
        return white, black, 1
    return black, white, 0


@njit(cache=True)
def finished_keys(keys, n, m):
    """bool[B]: has either colour already joined its edges?"""
    out = np.zeros(keys.shape[0], dtype=np.bool_)
    for i in range(keys.shape[0]):
        black = keys[i] & CELL_BITS
        white = (keys[i] >> np.uint64(32)) & np.uint64(0x7FFFFFFF)
        out[i] = connected(black, m[3], m[4], n, m) or connected(white, m[5], m[6], n, m)
    return out


# ----------------------------------------------------------------------------- hash maps

@njit(cache=True, inline="always")
def _slot(key, size_mask):
    h = key * _HASH
    h ^= h >> np.uint64(31)
    return np.int64(h & size_mask)


@njit(cache=True)
def map_find(keys, key):
    """Slot of `key` in the map, or -1."""
    size_mask = np.uint64(keys.shape[0] - 1)
    i = _slot(key, size_mask)
    while keys[i] != EMPTY_KEY:
        if keys[i] == key:
            return i
        i = (i + 1) & np.int64(size_mask)
    return -1


@njit(cache=True)
def map_put(keys, values, stats, key, value, replace_when_full):
    """Insert or overwrite. At 3/4 full, new entries either replace the one in their home slot
    (a search table: correct without any entry, only slower) or abort (stats[STAT_ABORTED] = 1:
    a complete table that was sized too small)."""
    size_mask = np.uint64(keys.shape[0] - 1)
    i = _slot(key, size_mask)
    while keys[i] != EMPTY_KEY:
        if keys[i] == key:
            values[i] = value
            return
        i = (i + 1) & np.int64(size_mask)
    if stats[STAT_STORED] * 4 >= keys.shape[0] * 3:
        if not replace_when_full:
            stats[STAT_ABORTED] = 1
            return
        # Overwrite the home slot: it stays occupied, so no probe chain breaks.
        i = _slot(key, size_mask)
        stats[STAT_REPLACED] += 1
        stats[STAT_STORED] -= 1
    keys[i] = key
    values[i] = value
    stats[STAT_STORED] += 1


# ----------------------------------------------------------------------------- search

@njit(cache=True)
def search(me, op, side, n, m, order, history, tt_keys, tt_values, stats):
    """Does the side to move win? Returns (win, carrier). The position must be unfinished.
    Gives up (stats[STAT_ABORTED] = 1, result meaningless) after stats[STAT_LIMIT] nodes
    when that limit is positive."""
    stats[STAT_NODES] += 1
    if stats[STAT_LIMIT] > 0 and stats[STAT_NODES] > stats[STAT_LIMIT]:
        stats[STAT_ABORTED] = 1
        return False, ZERO
    key = position_key(me, op, side)
    i = map_find(tt_keys, key)
    if i >= 0:
        return (tt_values[i] & WIN_BIT) != ZERO, tt_values[i] & ~WIN_BIT
    me_start, me_end, op_start, op_end = _edges(side, m)
    empty = m[0] & ~(me | op)
    mine = winning_cells(me, empty, me_start, me_end, n, m)
    if mine != ZERO:
        return True, _lowest(mine)  # not stored: cheaper to recompute than to probe for
    threats = winning_cells(op, empty, op_start, op_end, n, m)
    if popcount(threats) >= 2:
        return False, _two(threats)
    # Cells still worth trying, and the union of the refutations met so far.
    candidates = empty
    proof = ZERO
    if threats != ZERO:
        candidates = threats  # any other move lets the opponent win at once
        proof = threats
    # A move leaving two winning cells wins (the opponent can neither block both nor, by the
    # exclusivity of Hex connections, win first); with one threat only its cell can do this.
    rest = candidates
    while rest != ZERO:
        c = _lowest(rest)
        rest &= ~c
        double = _two(winning_cells(me | c, empty & ~c, me_start, me_end, n, m))
        if double != ZERO:
            return True, c | double
    # The opponent's double threats, as if we passed: each one's carrier must be entered.
    if threats == ZERO:
        rest = empty
        while rest != ZERO and candidates != ZERO:
            c = _lowest(rest)
            rest &= ~c
            double = _two(winning_cells(op | c, empty & ~c, op_start, op_end, n, m))
            if double != ZERO:
                candidates &= c | double
                proof |= c | double
        if candidates == ZERO:
            map_put(tt_keys, tt_values, stats, key, proof, True)
            return False, proof
    # Children already proven lost for the opponent win at once; proven wins for the opponent
    # narrow the candidates without a search.
    for k in range(order.shape[0]):
        bit = ONE << np.uint64(order[k])
        if candidates & bit:
            j = map_find(tt_keys, position_key(op, me | bit, 1 - side))
            if j >= 0:
                carrier = tt_values[j] & ~WIN_BIT
                if not (tt_values[j] & WIN_BIT):
                    return True, carrier | bit
                candidates &= carrier
                proof |= carrier | bit
    # Moves in order of how often they won before for this colour (the history heuristic),
    # centre first among equals.
    tried = ZERO
    while True:
        move = ZERO
        best = -1
        cell = -1
        for k in range(order.shape[0]):
            bit = ONE << np.uint64(order[k])
            if (candidates & bit) and not (tried & bit) and history[side, order[k]] > best:
                move = bit
                best = history[side, order[k]]
                cell = order[k]
        if move == ZERO:
            break
        tried |= move
        they_win, carrier = search(op, me | move, 1 - side, n, m, order, history, tt_keys, tt_values, stats)
        if stats[STAT_ABORTED]:
            return False, ZERO
        if not they_win:
            history[side, cell] += popcount(empty) ** 2
            carrier |= move
            map_put(tt_keys, tt_values, stats, key, carrier | WIN_BIT, True)
            return True, carrier
        candidates &= carrier
        proof |= carrier | move
    map_put(tt_keys, tt_values, stats, key, proof, True)
    return False, proof


@njit(cache=True)
def win_mask(me, op, side, n, m, order, history, tt_keys, tt_values, stats):
    """Bitmask of the moves that keep the win for the side to move (0 when it loses)."""
    win, _ = search(me, op, side, n, m, order, history, tt_keys, tt_values, stats)
    if not win or stats[STAT_ABORTED]:
        return ZERO
    me_start, me_end, op_start, op_end = _edges(side, m)
    empty = m[0] & ~(me | op)
    mask = winning_cells(me, empty, me_start, me_end, n, m)
    rest = empty & ~mask
    while rest != ZERO:
        move = _lowest(rest)
        rest &= ~move
        they_win, _ = search(op, me | move, 1 - side, n, m, order, history, tt_keys, tt_values, stats)
        if stats[STAT_ABORTED]:
            return ZERO
        if not they_win:
            mask |= move
    return mask


@njit(cache=True)
def win_masks(keys, n, m, order, history, tt_keys, tt_values, stats):
    """win_mask of each (unfinished) position key."""
    out = np.zeros(keys.shape[0], dtype=np.uint64)
    for i in range(keys.shape[0]):
        me, op, side = key_position(keys[i])
        out[i] = win_mask(me, op, side, n, m, order, history, tt_keys, tt_values, stats)
        if stats[STAT_ABORTED]:
            break
    return out


@njit(cache=True)
def solve_all(me, op, side, n, m, table_keys, table_values, stats):
    """Plain minimax over every position reachable from (me, op, side), storing each
    unfinished one's winning-move mask in the table (which must start empty, so an entry means
    its whole subtree is stored; stats[STAT_ABORTED] = 1 if it fills). Used for the complete
    3x3 and 4x4 tables. Returns whether the side to move wins."""
    key = position_key(me, op, side)
    i = map_find(table_keys, key)
    if i >= 0:
        return table_values[i] != ZERO
    stats[STAT_NODES] += 1
    me_start, me_end, _, _ = _edges(side, m)
    empty = m[0] & ~(me | op)
    mask = ZERO
    rest = empty
    while rest != ZERO:
        move = _lowest(rest)
        rest &= ~move
        if connected(me | move, me_start, me_end, n, m):
            mask |= move
        elif not solve_all(op, me | move, 1 - side, n, m, table_keys, table_values, stats):
            mask |= move
    map_put(table_keys, table_values, stats, key, mask, False)
    return mask != ZERO
