"""A picture of a Hex position: hexagons on the rhombus, coloured edges, PNG or SVG.

Geometry: pointy-top hexagons one unit wide; cell (r, c) is centred at x = c + r/2,
y = -r * sqrt(3)/2, so each row sits half a cell right of the one above and the six
neighbours of DESIGN.md ((r-1, c), (r-1, c+1), (r, c-1), (r, c+1), (r+1, c-1), (r+1, c))
are exactly the hexagons that share a side with it.
"""
from __future__ import annotations

import io
import math

import numpy as np

from hexzero.hex import BLACK, EMPTY, WHITE, HexError, cell_name, check_size

ROW_HEIGHT = math.sqrt(3) / 2
RADIUS = 1 / math.sqrt(3)  # centre to corner of a hexagon one unit wide
# Corners of a pointy-top hexagon, counter-clockwise from the top.
CORNER_ANGLES = np.radians([90, 150, 210, 270, 330, 30])
# Which corners bound each outer side: (first corner, second corner) indices into CORNER_ANGLES.
TOP_SIDES = [(1, 0), (0, 5)]          # upper-left, upper-right
BOTTOM_SIDES = [(2, 3), (3, 4)]       # lower-left, lower-right
LEFT_SIDES = [(1, 2), (2, 3)]         # left, lower-left (the cells (r, -1) and (r+1, -1))
RIGHT_SIDES = [(0, 5), (5, 4)]        # upper-right, right (the cells (r-1, n) and (r, n))

EMPTY_FILL = "#e9d8b4"
CELL_LINE = "#8a7a5c"
BLACK_STONE = "#1b1b1b"
WHITE_STONE = "#fafafa"
EDGE_OUTLINE = "#555555"
LAST_MOVE = "#d62728"


def cell_centre(r: int, c: int) -> tuple[float, float]:
    return c + r / 2, -r * ROW_HEIGHT


def _corners(r: int, c: int) -> np.ndarray:
    x, y = cell_centre(r, c)
    return np.stack([x + RADIUS * np.cos(CORNER_ANGLES), y + RADIUS * np.sin(CORNER_ANGLES)], axis=1)


def _outer_sides(n: int, cells, sides) -> list[np.ndarray]:
    return [_corners(r, c)[[i, j]] for r, c in cells for i, j in sides]


def board_figure(board_row, n: int, title=None, last_move=None, labels: bool = True):
    """A matplotlib Figure (no pyplot, so no global backend state) of one position."""
    from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    n = check_size(n)
    board_row = np.asarray(board_row)
    if board_row.shape != (n * n,):
        raise HexError(f"board must have shape ({n * n},) for n={n}, got {board_row.shape}")
    if not np.isin(board_row, (EMPTY, BLACK, WHITE)).all():
        raise HexError("board cells must be EMPTY (0), BLACK (1) or WHITE (2)")
    if last_move is not None and not 0 <= int(last_move) < n * n:
        raise HexError(f"last move {last_move} is off the {n}x{n} board")

    width = 1.5 * n + 1.5
    fig = Figure(figsize=(0.45 * width + 0.5, 0.45 * (n * ROW_HEIGHT + 1.5) + 0.5))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.axis("off")

    cells = [(r, c) for r in range(n) for c in range(n)]
    ax.add_collection(PolyCollection([_corners(r, c) for r, c in cells], facecolors=EMPTY_FILL,
                                     edgecolors=CELL_LINE, linewidths=0.8, zorder=1))
    # Black owns the top and bottom sides (dark), white the left and right (white, outlined).
    top = _outer_sides(n, [(0, c) for c in range(n)], TOP_SIDES)
    bottom = _outer_sides(n, [(n - 1, c) for c in range(n)], BOTTOM_SIDES)
    left = _outer_sides(n, [(r, 0) for r in range(n)], LEFT_SIDES)
    right = _outer_sides(n, [(r, n - 1) for r in range(n)], RIGHT_SIDES)
    ax.add_collection(LineCollection(left + right, colors=EDGE_OUTLINE, linewidths=7, capstyle="round", zorder=2))
    ax.add_collection(LineCollection(left + right, colors=WHITE_STONE, linewidths=4.5, capstyle="round", zorder=3))
    ax.add_collection(LineCollection(top + bottom, colors=BLACK_STONE, linewidths=6, capstyle="round", zorder=4))

    # Stones and the last-move dot are circles in data units, so they scale with the cells.
    stones = np.nonzero(board_row != EMPTY)[0]
    ax.add_collection(PatchCollection(
        [Circle(cell_centre(*divmod(int(s), n)), 0.36) for s in stones],
        facecolors=[BLACK_STONE if board_row[s] == BLACK else WHITE_STONE for s in stones],
        edgecolors=BLACK_STONE, linewidths=0.8, zorder=5))
    if last_move is not None:
        ax.add_patch(Circle(cell_centre(*divmod(int(last_move), n)), 0.1, color=LAST_MOVE, zorder=6))

    if labels:
        size = max(5, 12 - n // 3)
        for c in range(n):
            x, y = cell_centre(0, c)
            ax.text(x, y + 0.85, cell_name(c, n)[0], ha="center", va="center", fontsize=size)
        for r in range(n):
            x, y = cell_centre(r, 0)
            ax.text(x - 0.95, y, str(r + 1), ha="center", va="center", fontsize=size)

    ax.set_xlim(-1.3, n - 1 + (n - 1) / 2 + 1)
    ax.set_ylim(-(n - 1) * ROW_HEIGHT - 0.9, 1.2)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def draw_board(board_row, n: int, path, title=None, last_move=None, labels: bool = True) -> None:
    """Save a picture of the position: SVG when `path` ends in .svg, PNG otherwise; written
    atomically."""
    from hexzero.storage import atomic_write_bytes

    fig = board_figure(board_row, n, title=title, last_move=last_move, labels=labels)
    fmt = "svg" if str(path).lower().endswith(".svg") else "png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    atomic_write_bytes(path, buffer.getvalue())
