"""The search tree: B trees of `nodes` slots as a struct of arrays (as DeepMind's mctx `Tree`),
and the numba kernels that grow it (expand a leaf, back a value up) independent of any policy.

For B trees over A = n*n actions; node 0 is the root:
    node_visits int32[B, N]        visits of the node (its own evaluation included)
    node_values float32[B, N]      mean backed-up value, from the view of the side to move there
    raw_values float32[B, N]       the network's value of the node (-1 exactly for a terminal)
    children_index int32[B, N, A]  slot of the child reached by action a, -1 while unexpanded
    children_prior float32[B, N, A]  network prior of each action (0 on occupied cells)
    children_visits int32[B, N, A]
    children_values float32[B, N, A] mean value of each action from the node's mover's view
    parents int32[B, N], action_from_parent int32[B, N]
    terminal bool[B, N]            the move into the node won the game
    boards int8[B, N, A], to_play int8[B, N]   the node's position
    node_count int32[B]
    visited_actions int16[B, N, A], visited_count int32[B, N]   the node's visited actions, in
                                   the order of their first visits (written by the backup)
    unvisited_prior float64[B, N]  the prior mass of the node's legal unvisited actions
    best_unvisited int32[B, N]     the unvisited legal action of highest prior (lowest on ties),
                                   -1 when none, STALE after it was visited (found again on use)
The last four let a selection that treats all unvisited actions alike (Gumbel's) run over the
visited actions only, not over all A, at every level of a descent.
The kernels take these as one `Tree` (a NamedTuple of arrays, which numba passes by field) and
a `Buffers` of the step's work arrays. Frames: the tree lives in the absolute BOARD frame
(actions are board cells). The network sees the mover's frame (DESIGN.md);
`write_observation` transposes for white on the way in and `backup_tree` transposes the priors
back on the way out, so nothing else sees the mover's frame.

Work rows per tree (Buffers.work_f float64[B, 3A], work_i int32[B, 2A]) hold a selection's
temporaries: the node's visited actions in ascending order (work_i[:A]), their per-action
numbers (work_f), and the terminal test's flood-fill queue (work_i[A:]). Kernels index them,
and every other array, by (b, ...) and never take row views or allocate, which is what lets the
step run without numba's reference counting (hexzero.mcts).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from numba import njit

import hexzero.kernel_cache  # noqa: F401  (before any kernel: their cache covers the search files)
from hexzero.hex import BLACK, EMPTY, NEIGHBOUR_DC, NEIGHBOUR_DR, WHITE


class Tree(NamedTuple):
    node_visits: np.ndarray
    node_values: np.ndarray
    raw_values: np.ndarray
    children_index: np.ndarray
    children_prior: np.ndarray
    children_visits: np.ndarray
    children_values: np.ndarray
    parents: np.ndarray
    action_from_parent: np.ndarray
    terminal: np.ndarray
    boards: np.ndarray
    to_play: np.ndarray
    node_count: np.ndarray
    visited_actions: np.ndarray
    visited_count: np.ndarray
    unvisited_prior: np.ndarray
    best_unvisited: np.ndarray


STALE = -2  # best_unvisited after that action was visited


class Buffers(NamedTuple):
    """A step's inputs and outputs besides the tree: obs float32[B, 2, n, n] (the network's
    input, shared with a torch tensor), leaf int32[B] (the node each descent ended at),
    needs_eval bool[B] (that leaf waits for the network), and the work rows."""

    obs: np.ndarray
    leaf: np.ndarray
    needs_eval: np.ndarray
    work_f: np.ndarray
    work_i: np.ndarray


class SearchTree:
    """Preallocated tree arrays for up to `capacity` searches; reused across moves (a search
    initialises only the nodes it allocates). The Tree fields are attributes of the same name."""

    def __init__(self, n: int, capacity: int, nodes: int):
        self.n, self.capacity, self.nodes = n, capacity, nodes
        a = n * n
        self.node_visits = np.zeros((capacity, nodes), np.int32)
        self.node_values = np.zeros((capacity, nodes), np.float32)
        self.raw_values = np.zeros((capacity, nodes), np.float32)
        self.children_index = np.full((capacity, nodes, a), -1, np.int32)
        self.children_prior = np.zeros((capacity, nodes, a), np.float32)
        self.children_visits = np.zeros((capacity, nodes, a), np.int32)
        self.children_values = np.zeros((capacity, nodes, a), np.float32)
        self.parents = np.full((capacity, nodes), -1, np.int32)
        self.action_from_parent = np.full((capacity, nodes), -1, np.int32)
        self.terminal = np.zeros((capacity, nodes), np.bool_)
        self.boards = np.zeros((capacity, nodes, a), np.int8)
        self.to_play = np.zeros((capacity, nodes), np.int8)
        self.node_count = np.zeros(capacity, np.int32)
        self.visited_actions = np.zeros((capacity, nodes, a), np.int16)
        self.visited_count = np.zeros((capacity, nodes), np.int32)
        self.unvisited_prior = np.zeros((capacity, nodes), np.float64)
        self.best_unvisited = np.full((capacity, nodes), -1, np.int32)
        self.obs = np.zeros((capacity, 2, n, n), np.float32)
        self.obs_tensor = torch.from_numpy(self.obs)
        self.leaf = np.zeros(capacity, np.int32)
        self.needs_eval = np.zeros(capacity, np.bool_)
        self.work_f = np.zeros((capacity, 3 * a), np.float64)
        self.work_i = np.zeros((capacity, 2 * a), np.int32)

    def fits(self, n: int, batch: int, nodes: int) -> bool:
        return self.n == n and self.capacity >= batch and self.nodes == nodes

    def arrays(self, batch: int) -> Tree:
        """The Tree the kernels take, for the first `batch` searches (views)."""
        return Tree(*(getattr(self, name)[:batch] for name in Tree._fields))

    def buffers(self, batch: int) -> Buffers:
        return Buffers(*(getattr(self, name)[:batch] for name in Buffers._fields))


@njit(cache=True, inline="always")
def write_observation(boards, to_play, b, node, n, obs, row):
    # Mover's frame: transposed for white, plane 0 the mover's stones (DESIGN.md).
    me = to_play[b, node]
    white = me == WHITE
    for r in range(n):
        for c in range(n):
            v = boards[b, node, c * n + r] if white else boards[b, node, r * n + c]
            obs[row, 0, r, c] = 1.0 if v == me else 0.0
            obs[row, 1, r, c] = 1.0 if (v != EMPTY and v != me) else 0.0


@njit(cache=True)
def observe_positions(board, to_play, n, obs):
    """Observations of plain positions (board int8[B, A], to_play int8[B])."""
    boards = board.reshape(board.shape[0], 1, board.shape[1])
    movers = to_play.reshape(to_play.shape[0], 1)
    for b in range(board.shape[0]):
        write_observation(boards, movers, b, 0, n, obs, b)


_FLOOD_MARK = 3  # a stone already reached by joins_edges' flood fill (restored after)


@njit(cache=True, inline="always")
def joins_edges(boards, b, node, n, cell, colour, work_i):
    """hex.winning_move for the stone on `cell` of node's board, without its per-call
    allocations (which serialise threads on the allocator): the flood fill queues cells in
    work_i[b, A:] and marks reached stones in the board itself, restoring them before it
    returns."""
    num_a = n * n
    queue = num_a  # work_i[b, num_a + i] is the i-th queued cell
    work_i[b, queue] = cell
    boards[b, node, cell] = _FLOOD_MARK
    head, tail = 0, 1
    touch_start, touch_end = False, False
    while head < tail and not (touch_start and touch_end):
        x = work_i[b, queue + head]
        head += 1
        r = x // n
        c = x - r * n
        coord = r if colour == BLACK else c
        touch_start |= coord == 0
        touch_end |= coord == n - 1
        for k in range(6):
            rr = r + NEIGHBOUR_DR[k]
            cc = c + NEIGHBOUR_DC[k]
            if 0 <= rr < n and 0 <= cc < n:
                nb = rr * n + cc
                if boards[b, node, nb] == colour:
                    boards[b, node, nb] = _FLOOD_MARK
                    work_i[b, queue + tail] = nb
                    tail += 1
    for i in range(tail):
        boards[b, node, work_i[b, queue + i]] = colour
    return touch_start and touch_end


@njit(cache=True, inline="always")
def init_node(tree, b, node, parent, action):
    tree.node_visits[b, node] = 0
    tree.node_values[b, node] = 0.0
    tree.raw_values[b, node] = 0.0
    tree.parents[b, node] = parent
    tree.action_from_parent[b, node] = action
    tree.terminal[b, node] = False
    tree.visited_count[b, node] = 0
    tree.unvisited_prior[b, node] = 0.0
    tree.best_unvisited[b, node] = -1
    # children_prior is written whole by the node's backup, children_values before any read.
    for a in range(tree.boards.shape[2]):
        tree.children_index[b, node, a] = -1
        tree.children_visits[b, node, a] = 0


@njit(cache=True)
def init_roots(tree, board, root_to_play, n, buffers):
    """Root b = position b; every root waits for the network."""
    for b in range(board.shape[0]):
        init_node(tree, b, 0, -1, -1)
        for a in range(board.shape[1]):
            tree.boards[b, 0, a] = board[b, a]
        tree.to_play[b, 0] = root_to_play[b]
        tree.node_count[b] = 1
        write_observation(tree.boards, tree.to_play, b, 0, n, buffers.obs, b)
        buffers.leaf[b] = 0
        buffers.needs_eval[b] = True


@njit(cache=True, inline="always")
def expand(tree, b, node, a, n, buffers):
    """Add the child of `node` reached by action `a` as tree b's leaf: terminal when the move
    wins (its exact value, no evaluation), else its observation goes to the network."""
    boards, to_play = tree.boards, tree.to_play
    child = tree.node_count[b]
    tree.node_count[b] = child + 1
    tree.children_index[b, node, a] = child
    init_node(tree, b, child, node, a)
    mover = to_play[b, node]
    for x in range(boards.shape[2]):
        boards[b, child, x] = boards[b, node, x]
    boards[b, child, a] = mover
    to_play[b, child] = WHITE if mover == BLACK else BLACK
    if joins_edges(boards, b, child, n, a, mover, buffers.work_i):
        tree.terminal[b, child] = True
        tree.raw_values[b, child] = -1.0  # the side to move there has lost
        buffers.needs_eval[b] = False
    else:
        write_observation(boards, to_play, b, child, n, buffers.obs, b)
        buffers.needs_eval[b] = True
    buffers.leaf[b] = child


@njit(cache=True, inline="always")
def note_first_visit(tree, b, node, a):
    """Action a of node just got its first visit: list it, take its prior off the unvisited mass."""
    k = tree.visited_count[b, node]
    tree.visited_actions[b, node, k] = a
    tree.visited_count[b, node] = k + 1
    tree.unvisited_prior[b, node] -= tree.children_prior[b, node, a]
    if tree.best_unvisited[b, node] == a:
        tree.best_unvisited[b, node] = STALE


@njit(cache=True, inline="always")
def best_unvisited(tree, b, node):
    """The node's unvisited legal action of highest prior (lowest on ties), -1 when none."""
    best_a = tree.best_unvisited[b, node]
    if best_a != STALE:
        return best_a
    best_prior = -1.0
    for a in range(tree.boards.shape[2]):
        if tree.boards[b, node, a] == EMPTY and tree.children_visits[b, node, a] == 0:
            p = tree.children_prior[b, node, a]
            if p > best_prior:
                best_prior, best_a = p, a
    if best_a == STALE:
        best_a = -1
    tree.best_unvisited[b, node] = best_a
    return best_a


@njit(cache=True, inline="always")
def backup_tree(tree, b, buffers, probs, values, n):
    """Store the network's output at tree b's evaluated leaf (priors mapped from the mover's
    frame to the board frame) and back the leaf's value up to the root, negating at every ply."""
    node_visits, node_values = tree.node_visits, tree.node_values
    children_visits, children_values = tree.children_visits, tree.children_values
    boards = tree.boards
    node = buffers.leaf[b]
    if buffers.needs_eval[b]:
        tree.raw_values[b, node] = values[b]
        white = tree.to_play[b, node] == WHITE
        mass, best_prior, best_a = 0.0, -1.0, -1
        for a in range(boards.shape[2]):
            if boards[b, node, a] == EMPTY:
                r = a // n
                m = (a - r * n) * n + r if white else a
                tree.children_prior[b, node, a] = probs[b, m]
                p = tree.children_prior[b, node, a]
                mass += p
                if p > best_prior:
                    best_prior, best_a = p, a
            else:
                tree.children_prior[b, node, a] = 0.0
        tree.unvisited_prior[b, node] = mass
        tree.best_unvisited[b, node] = best_a
    v = tree.raw_values[b, node]
    while True:
        node_visits[b, node] += 1
        node_values[b, node] += (v - node_values[b, node]) / node_visits[b, node]
        parent = tree.parents[b, node]
        if parent < 0:
            break
        a = tree.action_from_parent[b, node]
        v = -v
        children_visits[b, parent, a] += 1
        if children_visits[b, parent, a] == 1:
            note_first_visit(tree, b, parent, a)
        children_values[b, parent, a] += (v - children_values[b, parent, a]) / children_visits[b, parent, a]
        node = parent
