"""Bitboard primitives of the solver (n*n <= 64 cells in one uint64, bit = row * n + col):
neighbourhoods, flood fills, edge connections and cell counts, all numba."""
from __future__ import annotations

import numpy as np
from numba import njit

ONE = np.uint64(1)
ZERO = np.uint64(0)


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
