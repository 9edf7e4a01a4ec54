"""The numba core of the Hex solver: bitboards, hash tables in numpy arrays, a proof search
that prunes with the carriers of losing proofs (the "mustplay" region), and a complete
enumeration for the boards small enough to tabulate.

A position is two uint64 bitboards in the side to move's view, `me` and `op` (bit = cell,
cell = row * n + col, so n <= 8 fits), plus `side` (0: the mover is black and joins
top-bottom, 1: white, left-right). Its table key is two uint64 words, `(black, white | side <<
63)` (n*n <= 49 leaves bit 63 of the white word free; n <= 7); the side is in the key because
with the swap rule the stone counts do not say who moves. Hash maps keep a slot as three
words (key, key, value) in one row, so a probe touches one cache line.

Why the search finishes 5x5 quickly: every proven result carries its *carrier*, the set of
empty cells the winner's strategy needs; the winner still wins if the loser is handed every
empty cell outside it. So once one move m of the side to move is refuted with carrier C, any
other move outside C is refuted by the same strategy (an extra loser stone outside the carrier
is harmless, and m left empty only helps the winner), and only moves in C remain to be tried.
Intersecting those regions over the refuted moves (Hayward et al.'s "mustplay") cuts the
losing side's branching factor from ~n*n to a handful. Immediate wins (a cell that joins both
edge-connected groups, found with shift-and-mask flood fills), the opponent's immediate
threats (one: it is the only move; two: the position is lost) and double threats are read off
the bitboards before any recursion. Near the root, virtual connections (`solver_vc`, an
H-search) end the search many moves before a chain is complete: a VC of the player not to move
has won, a VC or semi-connection of the mover wins, and the opponent's semi-connections narrow
the mover's candidates to the cells common to all of their carriers. With them the whole 5x5
opening (every first move proven) takes 25x fewer nodes and 8x less time.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from hexzero.solver_bits import ONE, ZERO, _lowest, _two, board_masks, connected, popcount, winning_cells  # noqa: F401
from hexzero.solver_vc import edge_connections

MAX_KEY_SIZE = 7  # boards whose keys fit: n*n cells and the side bit in 64 bits
EMPTY_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)  # an empty slot's white word: bits 49..62 are never cells
SIDE_BIT = np.uint64(1 << 63)  # in the key's white word: white to move
WIN_BIT = np.uint64(1 << 63)  # search-table values: carrier | WIN_BIT for a win
_HASH = np.uint64(0x9E3779B97F4A7C15)
_HASH2 = np.uint64(0xC2B2AE3D27D4EB4F)

# stats: int64 array shared by a search and its caller: counters, and two settings (the node
# limit, and the most stones a position may hold for the search to run H-search on it).
STAT_NODES, STAT_LIMIT, STAT_ABORTED, STAT_STORED, STAT_REPLACED, STAT_VC_STONES = 0, 1, 2, 3, 4, 5
NUM_STATS = 6
# H-search costs tens to hundreds of us a position on 5x5, a plain node ~1 us: it pays near the
# root, where it cuts whole subtrees, and not deep down, where the subtrees are small. On early
# 5x5 positions 8 stones was the fastest cut-off of those tried (4 to 12).
VC_MAX_STONES = 8


def new_stats(vc_max_stones: int = VC_MAX_STONES, node_limit: int = 0) -> np.ndarray:
    stats = np.zeros(NUM_STATS, dtype=np.int64)
    stats[STAT_VC_STONES] = vc_max_stones
    stats[STAT_LIMIT] = node_limit
    return stats


def centre_order(n: int) -> np.ndarray:
    """Cells from the centre outwards (hex distance on the rhombus): the static move order,
    since central moves win most often on small boards."""
    centre = (n - 1) / 2.0

    def distance(cell):
        dr, dc = cell // n - centre, cell % n - centre
        return (abs(dr) + abs(dc) + abs(dr + dc)) / 2.0

    return np.array(sorted(range(n * n), key=lambda cell: (distance(cell), cell)), dtype=np.int64)


def new_map(capacity_log2: int) -> np.ndarray:
    """An empty open-addressing hash map (two-word key -> uint64 value) of 2**capacity_log2
    slots: uint64[size, 3], a row per slot (black word, white word, value)."""
    slots = np.zeros((1 << capacity_log2, 3), dtype=np.uint64)
    slots[:, 1] = EMPTY_KEY
    return slots


@njit(cache=True, inline="always")
def _edges(side, m):
    """(mover's start, mover's end, opponent's start, opponent's end) edge masks."""
    if side == 0:
        return m[3], m[4], m[5], m[6]
    return m[5], m[6], m[3], m[4]


@njit(cache=True, inline="always")
def position_key(me, op, side):
    """The key's two words (black, white | side bit)."""
    if side == 0:
        return me, op
    return op, me | SIDE_BIT


@njit(cache=True, inline="always")
def key_position(black, white_side):
    """(me, op, side) of a key's two words."""
    if white_side & SIDE_BIT:
        return white_side & ~SIDE_BIT, black, 1
    return black, white_side, 0


@njit(cache=True)
def finished_keys(keys, n, m):
    """bool[B]: has either colour already joined its edges? (keys uint64[B, 2])"""
    out = np.zeros(keys.shape[0], dtype=np.bool_)
    for i in range(keys.shape[0]):
        black, white = keys[i, 0], keys[i, 1] & ~SIDE_BIT
        out[i] = connected(black, m[3], m[4], n, m) or connected(white, m[5], m[6], n, m)
    return out


@njit(cache=True)
def sorted_lookup(table_keys, table_values, keys):
    """(values uint64[B], found bool[B]) of keys uint64[B, 2] in a table sorted by (white
    word, black word): binary search."""
    out = np.zeros(keys.shape[0], dtype=np.uint64)
    found = np.zeros(keys.shape[0], dtype=np.bool_)
    for i in range(keys.shape[0]):
        black, white = keys[i, 0], keys[i, 1]
        lo, hi = 0, table_keys.shape[0]
        while lo < hi:
            mid = (lo + hi) >> 1
            if table_keys[mid, 1] < white or (table_keys[mid, 1] == white and table_keys[mid, 0] < black):
                lo = mid + 1
            else:
                hi = mid
        if lo < table_keys.shape[0] and table_keys[lo, 0] == black and table_keys[lo, 1] == white:
            out[i] = table_values[lo]
            found[i] = True
    return out, found


# ----------------------------------------------------------------------------- hash maps

@njit(cache=True, inline="always")
def _slot(black, white, size_mask):
    h = black * _HASH ^ white * _HASH2
    h ^= h >> np.uint64(31)
    h *= _HASH
    h ^= h >> np.uint64(29)
    return np.int64(h & size_mask)


@njit(cache=True)
def map_find(slots, black, white):
    """Slot of key (black, white) in the map, or -1."""
    size_mask = np.uint64(slots.shape[0] - 1)
    i = _slot(black, white, size_mask)
    while slots[i, 1] != EMPTY_KEY:
        if slots[i, 0] == black and slots[i, 1] == white:
            return i
        i = (i + 1) & np.int64(size_mask)
    return -1


@njit(cache=True)
def map_put(slots, stats, black, white, value, replace_when_full):
    """Insert or overwrite. At 3/4 full, new entries either replace the one in their home slot
    (a search table: correct without any entry, only slower) or abort (stats[STAT_ABORTED] = 1:
    a complete table that was sized too small)."""
    size_mask = np.uint64(slots.shape[0] - 1)
    i = _slot(black, white, size_mask)
    while slots[i, 1] != EMPTY_KEY:
        if slots[i, 0] == black and slots[i, 1] == white:
            slots[i, 2] = value
            return
        i = (i + 1) & np.int64(size_mask)
    if stats[STAT_STORED] * 4 >= slots.shape[0] * 3:
        if not replace_when_full:
            stats[STAT_ABORTED] = 1
            return
        # Overwrite the home slot: it stays occupied, so no probe chain breaks.
        i = _slot(black, white, size_mask)
        stats[STAT_REPLACED] += 1
        stats[STAT_STORED] -= 1
    slots[i, 0] = black
    slots[i, 1] = white
    slots[i, 2] = value
    stats[STAT_STORED] += 1


# ----------------------------------------------------------------------------- search

@njit(cache=True)
def search(me, op, side, n, m, order, history, tt, stats):
    """Does the side to move win? Returns (win, carrier). The position must be unfinished.
    Gives up (stats[STAT_ABORTED] = 1, result meaningless) after stats[STAT_LIMIT] nodes
    when that limit is positive."""
    stats[STAT_NODES] += 1
    if stats[STAT_LIMIT] > 0 and stats[STAT_NODES] > stats[STAT_LIMIT]:
        stats[STAT_ABORTED] = 1
        return False, ZERO
    kb, kw = position_key(me, op, side)
    i = map_find(tt, kb, kw)
    if i >= 0:
        return (tt[i, 2] & WIN_BIT) != ZERO, tt[i, 2] & ~WIN_BIT
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
            map_put(tt, stats, kb, kw, proof, True)
            return False, proof
    # Virtual connections (H-search): the opponent's VC between its edges wins for it whatever
    # we do; each of its semi-connections must be entered (its carrier, key included).
    if popcount(me | op) <= stats[STAT_VC_STONES]:
        vc, sc, inter, union = edge_connections(op, empty, op_start, op_end, n, m)
        if vc != ~ZERO:
            map_put(tt, stats, kb, kw, vc, True)
            return False, vc
        if union != ZERO:
            candidates &= inter
            proof |= union
            if candidates == ZERO:
                map_put(tt, stats, kb, kw, proof, True)
                return False, proof
        # Ours: a VC has won already; an SC wins by playing its key (its carrier holds it).
        vc, sc, inter, union = edge_connections(me, empty, me_start, me_end, n, m)
        if vc != ~ZERO or sc != ~ZERO:
            carrier = vc if vc != ~ZERO else sc
            map_put(tt, stats, kb, kw, carrier | WIN_BIT, True)
            return True, carrier
    # Children already proven lost for the opponent win at once; proven wins for the opponent
    # narrow the candidates without a search.
    for k in range(order.shape[0]):
        bit = ONE << np.uint64(order[k])
        if candidates & bit:
            cb, cw = position_key(op, me | bit, 1 - side)
            j = map_find(tt, cb, cw)
            if j >= 0:
                carrier = tt[j, 2] & ~WIN_BIT
                if not (tt[j, 2] & WIN_BIT):
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
        they_win, carrier = search(op, me | move, 1 - side, n, m, order, history, tt, stats)
        if stats[STAT_ABORTED]:
            return False, ZERO
        if not they_win:
            history[side, cell] += popcount(empty) ** 2
            carrier |= move
            map_put(tt, stats, kb, kw, carrier | WIN_BIT, True)
            return True, carrier
        candidates &= carrier
        proof |= carrier | move
    map_put(tt, stats, kb, kw, proof, True)
    return False, proof


@njit(cache=True)
def win_mask(me, op, side, n, m, order, history, tt, stats):
    """Bitmask of the moves that keep the win for the side to move (0 when it loses)."""
    win, _ = search(me, op, side, n, m, order, history, tt, stats)
    if not win or stats[STAT_ABORTED]:
        return ZERO
    me_start, me_end, op_start, op_end = _edges(side, m)
    empty = m[0] & ~(me | op)
    mask = winning_cells(me, empty, me_start, me_end, n, m)
    rest = empty & ~mask
    while rest != ZERO:
        move = _lowest(rest)
        rest &= ~move
        they_win, _ = search(op, me | move, 1 - side, n, m, order, history, tt, stats)
        if stats[STAT_ABORTED]:
            return ZERO
        if not they_win:
            mask |= move
    return mask


@njit(cache=True)
def first_winning_moves(keys, moves, n, m, order, history, tt, stats):
    """For each (unfinished) position key, the first cell of its row of `moves` (int64[B, k],
    -1 padding) that keeps the win for the side to move, or -1 when none does. Stops at the
    first: with the moves in a random order, that is a uniform draw among the winning moves at
    a fraction of the cost of finding them all."""
    out = np.full(keys.shape[0], -1, dtype=np.int64)
    for i in range(keys.shape[0]):
        me, op, side = key_position(keys[i, 0], keys[i, 1])
        me_start, me_end, _, _ = _edges(side, m)
        for k in range(moves.shape[1]):
            cell = moves[i, k]
            if cell < 0:
                continue
            move = ONE << np.uint64(cell)
            if (me | op) & move:
                continue
            if connected(me | move, me_start, me_end, n, m):
                out[i] = cell
                break
            they_win, _ = search(op, me | move, 1 - side, n, m, order, history, tt, stats)
            if stats[STAT_ABORTED]:
                return out
            if not they_win:
                out[i] = cell
                break
    return out


@njit(cache=True)
def fewest_reply_moves(keys, n, m, order, history, tt, stats):
    """For each (lost, unfinished) position key, the bitmask of the moves after which the
    opponent has the fewest winning replies. Branch and bound: a move's replies stop being
    counted once they outnumber the best move's, so most moves cost a few searches, not one
    per reply."""
    out = np.zeros(keys.shape[0], dtype=np.uint64)
    for i in range(keys.shape[0]):
        me, op, side = key_position(keys[i, 0], keys[i, 1])
        _, _, op_start, op_end = _edges(side, m)
        empty = m[0] & ~(me | op)
        best = 1 << 30
        mask = ZERO
        for k in range(order.shape[0]):
            move = ONE << np.uint64(order[k])
            if not (empty & move):
                continue
            count = 0
            for j in range(order.shape[0]):
                reply = ONE << np.uint64(order[j])
                if not (empty & ~move & reply):
                    continue
                if connected(op | reply, op_start, op_end, n, m):
                    count += 1
                else:
                    we_win, _ = search(me | move, op | reply, side, n, m, order, history, tt, stats)
                    if stats[STAT_ABORTED]:
                        return out
                    count += 0 if we_win else 1
                if count > best:
                    break
            if count < best:
                best = count
                mask = move
            elif count == best:
                mask |= move
        out[i] = mask
    return out


@njit(cache=True)
def win_masks(keys, n, m, order, history, tt, stats):
    """win_mask of each (unfinished) position key."""
    out = np.zeros(keys.shape[0], dtype=np.uint64)
    for i in range(keys.shape[0]):
        me, op, side = key_position(keys[i, 0], keys[i, 1])
        out[i] = win_mask(me, op, side, n, m, order, history, tt, stats)
        if stats[STAT_ABORTED]:
            break
    return out


@njit(cache=True)
def solve_all(me, op, side, n, m, table, stats):
    """Plain minimax over every position reachable from (me, op, side), storing each
    unfinished one's winning-move mask in the table (which must start empty, so an entry means
    its whole subtree is stored; stats[STAT_ABORTED] = 1 if it fills). Used for the complete
    3x3 and 4x4 tables. Returns whether the side to move wins."""
    kb, kw = position_key(me, op, side)
    i = map_find(table, kb, kw)
    if i >= 0:
        return table[i, 2] != ZERO
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
        elif not solve_all(op, me | move, 1 - side, n, m, table, stats):
            mask |= move
    map_put(table, stats, kb, kw, mask, False)
    return mask != ZERO
