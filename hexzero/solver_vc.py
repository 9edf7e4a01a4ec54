"""Virtual connections for the solver: a bitboard H-search (Anshelevich's rules) in numba.

A *virtual connection* (VC) between two nodes is a second-player connection: the player joins
them even if the opponent moves first. A *semi-connection* (SC) is a first-player one: the
player joins them by playing one key cell first. Each comes with its *carrier*, the empty cells
its strategy needs (an SC's carrier includes its key). Nodes are the player's two edges, its
stone groups and the empty cells; a connection to an empty cell means "would be connected if
the player had a stone there".

Rules, applied until nothing new is found (or a round limit):
- base: adjacent nodes are VC-connected with an empty carrier;
- AND: x=VC(A)=z=VC(B)=y with A and B disjoint and neither containing an endpoint gives, when z
  is the player's (a group or an edge), a VC x-y carrying A|B; when z is empty, an SC x-y
  carrying A|B|z;
- OR: SCs x-y whose carriers have no cell in common give a VC x-y carrying their union (the
  opponent cannot intrude in all of them with one stone, and the player answers in the one
  touched).

The search uses two results: the player not to move has a VC between its edges (it has won,
whatever the mover does), and the mover's "mustplay" region: the mover loses unless it plays in
every SC (key included) of the opponent's edges, so only cells in their intersection remain.
H-search is sound (every connection it reports is real) but incomplete (it misses some); the
search above it stays exact either way.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from hexzero.solver_bits import ZERO, _expand, _flood, _lowest, popcount

MAX_NODES = 66  # two edges + at most 64 stone groups and empty cells (n <= 8)
# Carriers kept per pair, and AND/OR sweeps. Tuned on early 5x5 positions (whole-move solves):
# 2 VCs and 5 SCs, the smallest kept, solved fastest of the settings tried (4 and 8 cost twice
# the time per call for few extra proofs, 1 and 3 missed too many); 4 sweeps did as well as 6.
MAX_VC = 2
MAX_SC = 5
MAX_ROUNDS = 4
KIND_EDGE, KIND_GROUP, KIND_EMPTY = 0, 1, 2


@njit(cache=True, inline="always")
def _add(lists, counts, i, j, carrier, capacity):
    """Add carrier to pair (i, j) (both orders) unless a subset of it is there; drop the
    supersets it replaces. Returns whether it was added."""
    k = 0
    count = counts[i, j]
    while k < count:
        old = lists[i, j, k]
        if old & carrier == old:
            return False  # an existing carrier is a subset: the new one adds nothing
        if old & carrier == carrier:
            count -= 1  # the new one is a subset of this one: it goes
            lists[i, j, k] = lists[i, j, count]
            lists[j, i, k] = lists[i, j, count]
            continue
        k += 1
    if count == capacity:
        # Full: replace the largest carrier if the new one is smaller (small carriers combine).
        worst, worst_size = -1, 0
        size = popcount(carrier)
        for k in range(count):
            s = popcount(lists[i, j, k])
            if s > worst_size:
                worst, worst_size = k, s
        if worst_size <= size:
            counts[i, j] = count
            counts[j, i] = count
            return False
        lists[i, j, worst] = carrier
        lists[j, i, worst] = carrier
    else:
        lists[i, j, count] = carrier
        lists[j, i, count] = carrier
        count += 1
    counts[i, j] = count
    counts[j, i] = count
    return True


@njit(cache=True)
def edge_connections(own, empty, start, end, n, m):
    """H-search for the player with stones `own` joining the edge cells `start` and `end`.
    Returns (vc, sc, sc_intersection, sc_union): the smallest carrier found of a VC and of an SC
    between the edges (all ones when there is none), and the intersection and union of the
    carriers of every SC found between the edges (all ones and zero when there is none)."""
    cells = np.zeros(MAX_NODES, dtype=np.uint64)   # a node's cells (edges: none)
    around = np.zeros(MAX_NODES, dtype=np.uint64)  # cells adjacent to a node
    kind = np.zeros(MAX_NODES, dtype=np.int64)
    # node 0: start edge, node 1: end edge (their "neighbours" are the edge cells)
    around[0] = start
    around[1] = end
    count = 2
    rest = own
    while rest != ZERO:
        group = _flood(_lowest(rest), own, n, m)
        rest &= ~group
        cells[count] = group
        around[count] = _expand(group, n, m) & ~group
        kind[count] = KIND_GROUP
        count += 1
    rest = empty
    while rest != ZERO:
        cell = _lowest(rest)
        rest &= ~cell
        cells[count] = cell
        around[count] = _expand(cell, n, m) & ~cell
        kind[count] = KIND_EMPTY
        count += 1
    kind[0] = KIND_EDGE
    kind[1] = KIND_EDGE

    vc = np.zeros((count, count, MAX_VC), dtype=np.uint64)
    nvc = np.zeros((count, count), dtype=np.int64)
    sc = np.zeros((count, count, MAX_SC), dtype=np.uint64)
    nsc = np.zeros((count, count), dtype=np.int64)
    adjacent = np.zeros((count, count), dtype=np.bool_)
    # partners[z, :degree[z]]: the nodes with a VC to z, so the AND rule visits only those
    partners = np.zeros((count, count), dtype=np.int64)
    degree = np.zeros(count, dtype=np.int64)
    # changed[i, j]: the last round that gave pair (i, j) a VC; a round re-combines only the
    # pairs of which one changed during the round before (semi-naive evaluation)
    changed = np.zeros((count, count), dtype=np.int64)
    for i in range(count):
        for j in range(i + 1, count):
            if (i >= 2 or j >= 2) and (around[i] & cells[j]):
                adjacent[i, j] = adjacent[j, i] = True
                _add(vc, nvc, i, j, ZERO, MAX_VC)
                partners[i, degree[i]] = j
                degree[i] += 1
                partners[j, degree[j]] = i
                degree[j] += 1
    all_ones = ~ZERO
    for round_ in range(1, MAX_ROUNDS + 1):
        any_change = False
        for z in range(count):
            z_empty = kind[z] == KIND_EMPTY
            zbit = cells[z] if z_empty else ZERO
            for a in range(degree[z]):
                x = partners[z, a]
                xbit = cells[x] if kind[x] == KIND_EMPTY else ZERO
                for b in range(a + 1, degree[z]):
                    y = partners[z, b]
                    if adjacent[x, y] or max(changed[x, z], changed[z, y]) < round_ - 1:
                        continue
                    ybit = cells[y] if kind[y] == KIND_EMPTY else ZERO
                    had_vc = nvc[x, y] > 0
                    for p in range(nvc[x, z]):
                        carrier_a = vc[x, z, p]
                        if carrier_a & ybit:
                            continue
                        for q in range(nvc[z, y]):
                            carrier_b = vc[z, y, q]
                            if (carrier_a & carrier_b) or (carrier_b & xbit):
                                continue
                            union = carrier_a | carrier_b
                            if not z_empty:
                                if _add(vc, nvc, x, y, union, MAX_VC):
                                    changed[x, y] = changed[y, x] = round_
                                    any_change = True
                            elif _add(sc, nsc, x, y, union | zbit, MAX_SC):
                                # OR rule, greedily from the new SC.
                                inter = union | zbit
                                joined = inter
                                for s in range(nsc[x, y]):
                                    other = sc[x, y, s]
                                    if inter & other != inter:
                                        inter &= other
                                        joined |= other
                                        if inter == ZERO:
                                            break
                                if inter == ZERO and _add(vc, nvc, x, y, joined, MAX_VC):
                                    changed[x, y] = changed[y, x] = round_
                                    any_change = True
                    if not had_vc and nvc[x, y] > 0:
                        partners[x, degree[x]] = y
                        degree[x] += 1
                        partners[y, degree[y]] = x
                        degree[y] += 1
            if nvc[0, 1] > 0:
                break
        if not any_change or nvc[0, 1] > 0:
            break
    best = all_ones
    best_size = 99
    for k in range(nvc[0, 1]):
        s = popcount(vc[0, 1, k])
        if s < best_size:
            best, best_size = vc[0, 1, k], s
    inter = all_ones
    union = ZERO
    smallest = all_ones
    smallest_size = 99
    for k in range(nsc[0, 1]):
        carrier = sc[0, 1, k]
        inter &= carrier
        union |= carrier
        s = popcount(carrier)
        if s < smallest_size:
            smallest, smallest_size = carrier, s
    return best, smallest, inter, union
