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
OPEN_BIT = np.uint64(1 << 62)  # a proof-number search's unsolved node: OPEN_BIT | its proof so far
_HASH = np.uint64(0x9E3779B97F4A7C15)
_HASH2 = np.uint64(0xC2B2AE3D27D4EB4F)

# stats: int64 array shared by a search and its caller: counters, and two settings (the node
# limit, and the most stones a position may hold for the search to run H-search on it).
STAT_NODES, STAT_LIMIT, STAT_ABORTED, STAT_STORED, STAT_REPLACED, STAT_VC_STONES, STAT_METHOD = range(7)
NUM_STATS = 7
METHOD_DEPTH_FIRST, METHOD_DFPN = 0, 1
# static_evaluation's status, typed: numba mis-unifies literal ints across a recursive caller's returns
_WON, _LOST, _OPEN = np.int64(1), np.int64(-1), np.int64(0)
# H-search costs tens to hundreds of us a position on 5x5, a plain node ~1 us: it pays near the
# root, where it cuts whole subtrees, and not deep down, where the subtrees are small. On early
# 5x5 positions 8 stones was the fastest cut-off of those tried (4 to 12).
VC_MAX_STONES = 8


def new_stats(vc_max_stones: int = VC_MAX_STONES, node_limit: int = 0, method: int = METHOD_DEPTH_FIRST) -> np.ndarray:
    """Counters and settings of a search; `method`: METHOD_DEPTH_FIRST (`search`) or
    METHOD_DFPN (`dfpn`, whose table needs DFPN_WIDTH columns)."""
    stats = np.zeros(NUM_STATS, dtype=np.int64)
    stats[STAT_VC_STONES] = vc_max_stones
    stats[STAT_LIMIT] = node_limit
    stats[STAT_METHOD] = method
    return stats


def centre_order(n: int) -> np.ndarray:
    """Cells from the centre outwards (hex distance on the rhombus): the static move order,
    since central moves win most often on small boards."""
    centre = (n - 1) / 2.0

    def distance(cell):
        dr, dc = cell // n - centre, cell % n - centre
        return (abs(dr) + abs(dc) + abs(dr + dc)) / 2.0

    return np.array(sorted(range(n * n), key=lambda cell: (distance(cell), cell)), dtype=np.int64)


def new_map(capacity_log2: int, width: int = 3) -> np.ndarray:
    """An empty open-addressing hash map (two-word key -> uint64 value) of 2**capacity_log2
    slots: uint64[size, width], a row per slot (black word, white word, value, and for the
    proof-number search's table (width DFPN_WIDTH) its proof and disproof numbers and
    candidate moves)."""
    slots = np.zeros((1 << capacity_log2, width), dtype=np.uint64)
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
    a complete table that was sized too small). Returns the slot written, -1 when aborted."""
    size_mask = np.uint64(slots.shape[0] - 1)
    i = _slot(black, white, size_mask)
    while slots[i, 1] != EMPTY_KEY:
        if slots[i, 0] == black and slots[i, 1] == white:
            slots[i, 2] = value
            return i
        i = (i + 1) & np.int64(size_mask)
    if stats[STAT_STORED] * 4 >= slots.shape[0] * 3:
        if not replace_when_full:
            stats[STAT_ABORTED] = 1
            return -1
        # Overwrite the home slot: it stays occupied, so no probe chain breaks.
        i = _slot(black, white, size_mask)
        stats[STAT_REPLACED] += 1
        stats[STAT_STORED] -= 1
    slots[i, 0] = black
    slots[i, 1] = white
    slots[i, 2] = value
    stats[STAT_STORED] += 1
    return i


@njit(cache=True)
def map_put_all(slots, stats, keys, values):
    """Insert every (key uint64[B, 2], value) pair into a search table."""
    for i in range(keys.shape[0]):
        map_put(slots, stats, keys[i, 0], keys[i, 1], values[i], True)


@njit(cache=True)
def proven_entries(slots, max_stones):
    """(keys uint64[K, 2], values uint64[K]) of the search table's proven positions (not a
    proof-number search's open ones) with at most max_stones stones."""
    keep = np.zeros(slots.shape[0], dtype=np.bool_)
    for i in range(slots.shape[0]):
        if slots[i, 1] != EMPTY_KEY and not (slots[i, 2] & OPEN_BIT):
            keep[i] = popcount(slots[i, 0] | (slots[i, 1] & ~SIDE_BIT)) <= max_stones
    rows = np.flatnonzero(keep)
    keys = np.empty((rows.shape[0], 2), dtype=np.uint64)
    values = np.empty(rows.shape[0], dtype=np.uint64)
    for k in range(rows.shape[0]):
        keys[k, 0] = slots[rows[k], 0]
        keys[k, 1] = slots[rows[k], 1]
        values[k] = slots[rows[k], 2]
    return keys, values


# ----------------------------------------------------------------------------- search

@njit(cache=True)
def static_evaluation(me, op, side, n, m, stats):
    """What the position says without looking at any child: (status, carrier, candidates,
    proof, store). status +1: the mover wins, -1: it loses, both with their carrier; 0: open,
    and only the moves in `candidates` can win, the others being refuted by strategies within
    `proof`. `store`: the answer was dear enough (double threats, H-search) to keep in the
    table; the cheap ones are recomputed faster than probed for."""
    me_start, me_end, op_start, op_end = _edges(side, m)
    empty = m[0] & ~(me | op)
    mine = winning_cells(me, empty, me_start, me_end, n, m)
    if mine != ZERO:
        return _WON, _lowest(mine), ZERO, ZERO, False
    threats = winning_cells(op, empty, op_start, op_end, n, m)
    if popcount(threats) >= 2:
        return _LOST, _two(threats), ZERO, ZERO, False
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
            return _WON, c | double, ZERO, ZERO, False
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
            return _LOST, proof, ZERO, ZERO, True
    # Virtual connections (H-search): the opponent's VC between its edges wins for it whatever
    # we do; each of its semi-connections must be entered (its carrier, key included).
    if popcount(me | op) <= stats[STAT_VC_STONES]:
        vc, sc, inter, union = edge_connections(op, empty, op_start, op_end, n, m)
        if vc != ~ZERO:
            return _LOST, vc, ZERO, ZERO, True
        if union != ZERO:
            candidates &= inter
            proof |= union
            if candidates == ZERO:
                return _LOST, proof, ZERO, ZERO, True
        # Ours: a VC has won already; an SC wins by playing its key (its carrier holds it).
        vc, sc, inter, union = edge_connections(me, empty, me_start, me_end, n, m)
        if vc != ~ZERO or sc != ~ZERO:
            return _WON, vc if vc != ~ZERO else sc, ZERO, ZERO, True
    return _OPEN, ZERO, candidates, proof, False


@njit(cache=True, inline="always")
def _solved(tt, i):
    """Is the table entry at slot i (>= 0) a proven result, not a proof-number search's open node?"""
    return i >= 0 and not (tt[i, 2] & OPEN_BIT)


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
    if _solved(tt, i):
        return (tt[i, 2] & WIN_BIT) != ZERO, tt[i, 2] & ~WIN_BIT
    status, carrier, candidates, proof, store = static_evaluation(me, op, side, n, m, stats)
    if status != 0:
        if store:
            map_put(tt, stats, kb, kw, carrier | WIN_BIT if status > 0 else carrier, True)
        return status > 0, carrier
    empty = m[0] & ~(me | op)
    # Children already proven lost for the opponent win at once; proven wins for the opponent
    # narrow the candidates without a search.
    for k in range(order.shape[0]):
        bit = ONE << np.uint64(order[k])
        if candidates & bit:
            cb, cw = position_key(op, me | bit, 1 - side)
            j = map_find(tt, cb, cw)
            if _solved(tt, j):
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


# ----------------------------------------------------------------------------- proof numbers

DFPN_WIDTH = 6  # the DFPN table's columns: key (2), value, proof number, disproof number, candidates
INF = 1 << 40  # a proof or disproof number that cannot be reached: the node is solved
# Pawlewicz and Lew's 1 + epsilon trick: a child is searched until its disproof number passes
# the second-best child's by this share, not by one, so the search switches children less.
DFPN_EPSILON = 0.25
_INF, _NIL, _NO = np.int64(INF), np.int64(0), np.int64(1)  # typed, as _WON


@njit(cache=True)
def _dfpn_node(me, op, side, th_phi, th_delta, depth, n, m, order, tt, stats, kids, kid_phi, kid_delta):
    """One visit of depth-first proof-number search (Nagai's MID, in negamax form): expand the
    node, then keep searching its most proving child until the node's proof number phi reaches
    th_phi or its disproof number delta reaches th_delta. phi = min over the children of
    their delta, delta = sum of their phi (a child's numbers are for its own mover). Returns
    (phi, delta, carrier): (0, INF, carrier) when the mover wins, (INF, 0, carrier) when it
    loses, the carrier meaningful only then.

    The table holds solved positions as `search` does, and open ones as OPEN_BIT | proof with
    their numbers and candidates: the moves not yet refuted. Every child proven a win for the
    opponent narrows the candidates to its carrier (mustplay, as in `search`); the static
    evaluation (threats, H-search) runs once, when the node is first met."""
    stats[STAT_NODES] += 1
    if stats[STAT_LIMIT] > 0 and stats[STAT_NODES] > stats[STAT_LIMIT]:
        stats[STAT_ABORTED] = 1
        return _NO, _NO, ZERO
    kb, kw = position_key(me, op, side)
    i = map_find(tt, kb, kw)
    if i >= 0:
        value = tt[i, 2]
        if not (value & OPEN_BIT):
            if value & WIN_BIT:
                return _NIL, _INF, value & ~WIN_BIT
            return _INF, _NIL, value
        candidates = tt[i, 5]
        proof = value & ~OPEN_BIT
    else:
        status, carrier, candidates, proof, store = static_evaluation(me, op, side, n, m, stats)
        if status != 0:
            if store:
                map_put(tt, stats, kb, kw, carrier | WIN_BIT if status > 0 else carrier, True)
            if status > 0:
                return _NIL, _INF, carrier
            return _INF, _NIL, carrier
    count = 0
    for k in range(order.shape[0]):
        if candidates & (ONE << np.uint64(order[k])):
            kids[depth, count] = order[k]
            count += 1
    last = -1  # the child just searched: its numbers are the ones it returned
    last_phi, last_delta, last_carrier = _NO, _NO, ZERO
    while True:
        for t in range(count):
            bit = ONE << np.uint64(kids[depth, t])
            if not (candidates & bit):
                continue
            child_phi, child_delta, carrier = _NO, _NO, ZERO
            if t == last:
                child_phi, child_delta, carrier = last_phi, last_delta, last_carrier
            else:
                cb, cw = position_key(op, me | bit, 1 - side)
                j = map_find(tt, cb, cw)
                if j >= 0:
                    value = tt[j, 2]
                    if value & OPEN_BIT:
                        child_phi, child_delta = np.int64(tt[j, 3]), np.int64(tt[j, 4])
                    elif value & WIN_BIT:
                        child_phi, child_delta, carrier = _NIL, _INF, value & ~WIN_BIT
                    else:
                        child_phi, child_delta, carrier = _INF, _NIL, value
            if child_phi == 0:  # the opponent wins after this move: outside its carrier too
                candidates &= carrier
                proof |= carrier | bit
            elif child_delta == 0:  # the opponent loses: this move wins
                map_put(tt, stats, kb, kw, carrier | bit | WIN_BIT, True)
                return _NIL, _INF, carrier | bit
            kid_phi[depth, t] = child_phi
            kid_delta[depth, t] = child_delta
        if candidates == ZERO:
            map_put(tt, stats, kb, kw, proof, True)
            return _INF, _NIL, proof
        phi, delta, best, second = _INF, _NIL, -1, _INF
        for t in range(count):
            if candidates & (ONE << np.uint64(kids[depth, t])):
                delta = min(_INF, delta + kid_phi[depth, t])
                if kid_delta[depth, t] < phi:
                    second = phi
                    phi = kid_delta[depth, t]
                    best = t
                elif kid_delta[depth, t] < second:
                    second = kid_delta[depth, t]
        j = map_put(tt, stats, kb, kw, proof | OPEN_BIT, True)
        tt[j, 3] = np.uint64(phi)
        tt[j, 4] = np.uint64(delta)
        tt[j, 5] = candidates
        if phi >= th_phi or delta >= th_delta:
            return phi, delta, ZERO
        child_th_phi = min(_INF, th_delta - delta + kid_phi[depth, best])
        child_th_delta = min(th_phi, max(second + 1, np.int64(second * (1.0 + DFPN_EPSILON))))
        bit = ONE << np.uint64(kids[depth, best])
        last = best
        last_phi, last_delta, last_carrier = _dfpn_node(op, me | bit, 1 - side, child_th_phi, child_th_delta,
                                                        depth + 1, n, m, order, tt, stats, kids, kid_phi, kid_delta)
        if stats[STAT_ABORTED]:
            return _NO, _NO, ZERO


@njit(cache=True)
def dfpn(me, op, side, n, m, order, history, tt, stats):
    """`search`'s answer (win, carrier) by depth-first proof-number search (tt must have
    DFPN_WIDTH columns; `history` is unused). Proof numbers spend the effort where the
    proof looks cheapest, where `search` must finish each move it starts: on early 6x6
    positions that is the difference between minutes and not finishing."""
    size = n * n
    kids = np.zeros((size + 1, size), dtype=np.int64)
    kid_phi = np.zeros((size + 1, size), dtype=np.int64)
    kid_delta = np.zeros((size + 1, size), dtype=np.int64)
    # One signature for the recursion (numba's cache crashes on a recursive function that
    # was compiled for two).
    phi, _, carrier = _dfpn_node(np.uint64(me), np.uint64(op), np.int64(side), _INF, _INF, _NIL, np.int64(n), m,
                                     order, tt, stats, kids, kid_phi, kid_delta)
    if stats[STAT_ABORTED]:
        return False, ZERO
    return phi == 0, carrier


@njit(cache=True)
def prove(me, op, side, n, m, order, history, tt, stats):
    """(win, carrier) of the side to move, by the method stats[STAT_METHOD] names."""
    me, op, side, n = np.uint64(me), np.uint64(op), np.int64(side), np.int64(n)  # one signature below
    if stats[STAT_METHOD] == METHOD_DFPN:
        return dfpn(me, op, side, n, m, order, history, tt, stats)
    return search(me, op, side, n, m, order, history, tt, stats)


@njit(cache=True)
def half_turn(x, n):
    """The bitboard x turned half a turn (cell i -> n*n - 1 - i): the board's symmetry that
    keeps each player's edges."""
    out = ZERO
    last = np.uint64(n * n - 1)
    while x != ZERO:
        bit = _lowest(x)
        x &= ~bit
        cell = np.uint64(popcount(bit - ONE))
        out |= ONE << (last - cell)
    return out


@njit(cache=True)
def win_mask(me, op, side, n, m, order, history, tt, stats):
    """Bitmask of the moves that keep the win for the side to move (0 when it loses). On a
    position that the half turn maps onto itself (the empty board), a move and its image
    share their value, so only one of each pair is searched."""
    win, _ = prove(me, op, side, n, m, order, history, tt, stats)
    if not win or stats[STAT_ABORTED]:
        return ZERO
    me_start, me_end, op_start, op_end = _edges(side, m)
    empty = m[0] & ~(me | op)
    symmetric = half_turn(me, n) == me and half_turn(op, n) == op
    mask = winning_cells(me, empty, me_start, me_end, n, m)
    rest = empty & ~mask
    while rest != ZERO:
        move = _lowest(rest)
        rest &= ~move
        image = half_turn(move, n) if symmetric else move
        they_win, _ = prove(op, me | move, 1 - side, n, m, order, history, tt, stats)
        if stats[STAT_ABORTED]:
            return ZERO
        if not they_win:
            mask |= move | image
        rest &= ~image
    return mask


@njit(cache=True)
def transferred_wins(me, op, side, n, tt):
    """The moves of the side to move that a proven loss in the table shows to win, carrier
    transfer included: a table entry Q, the opponent to move and losing with carrier C,
    settles the position P + r (r one of our moves) whenever our stones in Q are among ours in
    P + r and no stone of the opponent in P lies in C. Our strategy in Q only ever needs the
    cells of C; the opponent's extra stones outside C and our extra stones cannot spoil it,
    and the cells of Q's opponent stones left empty in P only help us. So a position near a
    proof (the opponent answered outside the region the proof had to search) gets its winning
    move from the proof with one pass over the table, where searching it took up to minutes
    on 6x6. P's half turn is matched in the same pass (the table holds one of a symmetric
    pair's proofs, e.g. of the opening). A linear scan: worth it only where a search is dear."""
    me2, op2 = half_turn(me, n), half_turn(op, n)
    empty, empty2 = ~(me | op), ~(me2 | op2)
    mask, mask2 = ZERO, ZERO
    for i in range(tt.shape[0]):
        kw = tt[i, 1]
        if kw == EMPTY_KEY:
            continue
        value = tt[i, 2]
        if value & (OPEN_BIT | WIN_BIT):  # open, or a win for its mover
            continue
        if np.int64(kw >> np.uint64(63)) == side:  # its mover must be our opponent
            continue
        ours = tt[i, 0] if side == 0 else kw & ~SIDE_BIT
        if not (value & op):  # no stone of the opponent in the carrier
            extra = ours & ~me  # our stones in Q missing from P: at most the one move r
            if extra == ZERO:
                mask |= empty  # we win P + r for every r: P is won with a move to spare
            elif (extra & (extra - ONE)) == ZERO and (extra & empty):
                mask |= extra
        if not (value & op2):
            extra = ours & ~me2
            if extra == ZERO:
                mask2 |= empty2
            elif (extra & (extra - ONE)) == ZERO and (extra & empty2):
                mask2 |= extra
    return mask | half_turn(mask2 & ~(me2 | op2) & ((ONE << np.uint64(n * n)) - ONE), n)


@njit(cache=True)
def cheap_win_mask(me, op, side, n, m, tt, stats):
    """Moves of the side to move proven to win without a search: those whose child position
    the static evaluation (threats, H-search) shows lost for the opponent, and those
    `transferred_wins` finds in the table. A subset of the winning moves, often all of them."""
    me, op, side, n = np.uint64(me), np.uint64(op), np.int64(side), np.int64(n)  # one signature below
    empty = m[0] & ~(me | op)
    me_start, me_end, _, _ = _edges(side, m)
    mask = winning_cells(me, empty, me_start, me_end, n, m)  # these end the game: no child to evaluate
    mask |= transferred_wins(me, op, side, n, tt) & empty
    rest = empty & ~mask
    while rest != ZERO:
        move = _lowest(rest)
        rest &= ~move
        status, _, _, _, _ = static_evaluation(op, me | move, 1 - side, n, m, stats)
        if status == _LOST:
            mask |= move
    return mask


@njit(cache=True)
def _first_in(mask, moves_row):
    for k in range(moves_row.shape[0]):
        cell = moves_row[k]
        if cell >= 0 and (mask & (ONE << np.uint64(cell))):
            return cell
    return -1


@njit(cache=True)
def first_winning_moves(keys, moves, n, m, order, history, tt, stats, exhaustive=True):
    """For each (unfinished) position key, the first cell of its row of `moves` (int64[B, k],
    -1 padding) that keeps the win for the side to move, or -1 when none does. Stops at the
    first: with the moves in a random order, that is a uniform draw among the winning moves at
    a fraction of the cost of finding them all. The position itself is proven first: a lost
    one then costs one proof (mustplay refutes most moves together), not one per move.

    Not `exhaustive`: the first of the moves `cheap_win_mask` proves, before and after the
    position's proof, and only when it has none the uniform draw. Still a winning move, drawn
    uniformly among those the proofs at hand show, without disproving the losing moves that
    come first in the random order (each one a proof of its own, up to minutes on 6x6)."""
    out = np.full(keys.shape[0], -1, dtype=np.int64)
    for i in range(keys.shape[0]):
        me, op, side = key_position(keys[i, 0], keys[i, 1])
        me_start, me_end, _, _ = _edges(side, m)
        if not exhaustive:
            out[i] = _first_in(cheap_win_mask(me, op, side, n, m, tt, stats), moves[i])
            if out[i] >= 0:
                continue
        win, _ = prove(me, op, side, n, m, order, history, tt, stats)
        if stats[STAT_ABORTED]:
            return out
        if not win:
            continue
        if not exhaustive:
            out[i] = _first_in(cheap_win_mask(me, op, side, n, m, tt, stats), moves[i])
            if out[i] >= 0:
                continue
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
            they_win, _ = prove(op, me | move, 1 - side, n, m, order, history, tt, stats)
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
                    we_win, _ = prove(me | move, op | reply, side, n, m, order, history, tt, stats)
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
