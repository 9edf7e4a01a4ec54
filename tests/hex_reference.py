"""Independent Hex rules for the engine's tests: numpy and scipy only, nothing from
hexzero.hex. The neighbour rule is written out again from DESIGN.md."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

BLACK, WHITE = 1, 2
NEVER = np.iinfo(np.int16).max
# Neighbours of (r, c) are (r + dr, c + dc): DESIGN.md's six.
OFFSETS = [(-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0)]
# The same rule as a scipy structuring element, indexed [dr + 1, dc + 1].
STRUCTURE = np.array([[0, 1, 1],
                      [1, 1, 1],
                      [1, 1, 0]])


def joins_top_bottom(stones: np.ndarray) -> np.ndarray:
    """stones bool[B, n, n] -> bool[B]: does a group of stones touch row 0 and row n-1?
    All boards are labelled in one scipy call by tiling them with a blank row and column
    between neighbours (every off-board neighbour of a cell falls in a blank line)."""
    b, n, _ = stones.shape
    side = int(np.ceil(np.sqrt(b)))
    tiles = np.zeros((side * side, n + 1, n + 1), dtype=bool)
    tiles[:b, :n, :n] = stones
    image = tiles.reshape(side, side, n + 1, n + 1).transpose(0, 2, 1, 3).reshape(side * (n + 1), side * (n + 1))
    labels, _ = ndimage.label(image, structure=STRUCTURE)
    labels = labels.reshape(side, n + 1, side, n + 1).transpose(0, 2, 1, 3).reshape(side * side, n + 1, n + 1)[:b]
    top, bottom = labels[:, 0, :n], labels[:, n - 1, :n]
    return ((top[:, :, None] == bottom[:, None, :]) & (top[:, :, None] > 0)).any(axis=(1, 2))


def winners_of(boards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """boards int[B, n, n] -> (black joins top-bottom, white joins left-right), bool[B] each."""
    return joins_top_bottom(boards == BLACK), joins_top_bottom((boards == WHITE).transpose(0, 2, 1))


def first_connection(cost: np.ndarray) -> np.ndarray:
    """cost int16[B, n, n]: the move index at which each cell got the colour's stone (NEVER if
    it did not). Returns int16[B], the first move index after which the colour's stones join
    row 0 to row n-1 (NEVER if they never do): the min over top-bottom paths of the latest
    move on the path, found by flooding from row 0 until nothing changes."""
    b, n, _ = cost.shape
    best = np.full((b, n + 2, n + 2), NEVER, dtype=np.int16)  # padded with NEVER all round
    best[:, 1, 1:-1] = cost[:, 0]
    active = np.arange(b)
    while len(active):
        pad = best[active]
        inner = pad[:, 1:-1, 1:-1]
        reach = inner.copy()
        for dr, dc in OFFSETS:
            np.minimum(reach, pad[:, 1 + dr:n + 1 + dr, 1 + dc:n + 1 + dc], out=reach)
        np.maximum(reach, cost[active], out=reach)
        changed = (reach < inner).any(axis=(1, 2))
        best[active, 1:-1, 1:-1] = np.minimum(inner, reach)
        active = active[changed]
    return best[:, n, 1:-1].min(axis=1)


def first_wins(orders: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """orders int[B, n*n]: each game's cells in the order they are played (black first,
    alternating, no swap). Returns (winner int8[B], moves int[B]): who wins and after how many
    moves."""
    b, a = orders.shape
    when = np.empty((b, a), dtype=np.int16)
    np.put_along_axis(when, orders.astype(np.int64), np.arange(a, dtype=np.int16)[None, :], axis=1)
    black = when % 2 == 0
    t_black = first_connection(np.where(black, when, NEVER).reshape(b, n, n))
    t_white = first_connection(np.where(black, NEVER, when).reshape(b, n, n).transpose(0, 2, 1))
    winner = np.where(t_black < t_white, BLACK, WHITE).astype(np.int8)
    return winner, np.minimum(t_black, t_white).astype(np.int64) + 1
