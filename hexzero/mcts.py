"""Batched Monte Carlo tree search: B trees searched at once, one network call per simulation.

Tree layout (struct of arrays, as DeepMind's mctx `Tree`), for B trees of `nodes` slots over
A = n*n actions; node 0 is the root:
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
Frames: the tree lives in the absolute BOARD frame (actions are board cells). The network sees
the mover's frame (DESIGN.md); `_write_observation` transposes for white on the way in and
`backup` transposes the priors back on the way out, so nothing else sees the mover's frame.

A search of `nodes` nodes spends exactly `nodes` simulations: the root's evaluation, then
nodes - 1 descents, each ending by expanding one new node (one network evaluation) or at a
terminal node already in the tree (its exact value, no evaluation). So the root's visit count
is `nodes` and its children's visits add up to nodes - 1; nodes = 1 is the raw network policy.
Each simulation step is one numba call, `_step` (over numba's threads when `parallel`, one
contiguous block of trees per thread), that backs up the previous network outputs and then
descends every tree to its next leaf, writing the leaf observations straight into the
network's input buffer (a numpy array shared with a torch tensor); then one network call for
all B trees. Trees live in a preallocated `SearchTree` reused across moves.
Speed: the per-block body `_step_trees` is compiled without numba's reference counting
(_nrt=False; it allocates nothing): with it, every inlined helper's array arguments cost
atomic increments and decrements per tree and level, the main cost of the tree walk and a
cache line that all threads fought over. Selection passes over all A actions once or twice;
anything per visited action (the regularised Newton solve, Gumbel's visited scores) runs over
a list of the visited actions only.

Search policies (SearchConfig.policy), each a small numba selection function:
- "puct": AlphaZero, argmax Q + c P sqrt(N) / (1 + n); unvisited actions take the node's own
  mean value as Q (first-play urgency = parent value). Target: visit distribution.
- "regularized": Grill et al. 2020, the paper's search. pi_bar = lambda_N pi / (alpha - q) with
  q = Q min-max normalised to [0, 1] over the node's legal actions, unvisited actions counting
  as Q = 0 before normalising (the paper's code does the same but normalises over the whole
  batch of trees at once; per node keeps each tree independent of its batch-mates), N = sum
  of max(visits, 1) over legal actions, lambda_N = c sqrt(N) / (N + A) ("sqrt", Grill's form) or
  c N / (N + A) ("paper", the paper's code); A = the number of legal actions. alpha solves
  sum pi_bar = 1 by Newton's method from alpha_min = max(q + lambda pi), where the sum is
  convex and decreasing, so the iterates rise monotonically to the root (the unvisited actions
  share one q, so their terms fold into one and an iteration costs (visited + 1) divisions;
  this summation order differs from a sum over cells in the last bits only). Descent samples from
  pi_bar ("sample", the paper) or takes argmax pi_bar - n / (1 + sum n) ("argmax", Grill's
  deterministic variant). Target and acting policy: the root's pi_bar.
- "gumbel": Gumbel AlphaZero (Danihelka et al. 2022, as mctx's gumbel_muzero_policy): at the
  root, Gumbel top-k with sequential halving over the nodes - 1 simulations; elsewhere
  argmax pi' - n / (1 + sum n), pi' = softmax(logits + sigma(completed Q)), sigma(q) =
  (c_visit + max n) c_scale q, completed Q = Q for visited actions and the mixed value for the
  rest, rescaled to [0, 1] over the legal actions. Target: pi' at the root. Action: the
  sequential-halving winner (argmax g + logits + sigma among the most visited).
Values are from the mover's view and negated on the way up. Randomness: Dirichlet and Gumbel
noise and final move sampling come from the caller's numpy Generator; the regularised policy's
descent draws come from a counter-based hash of (key, tree, simulation, depth), so results do
not depend on numba's thread count or per-thread RNG state.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import numba
from numba import njit, prange

from hexzero.hex import BLACK, EMPTY, NEIGHBOUR_DC, NEIGHBOUR_DR, WHITE, board_to_mover
from hexzero.network import resolve_device

POLICIES = ("gumbel", "puct", "regularized")
_PUCT, _REGULARIZED, _GUMBEL = 0, 1, 2
_POLICY_CODE = {"puct": _PUCT, "regularized": _REGULARIZED, "gumbel": _GUMBEL}
DEFAULT_C = {"puct": 1.25, "regularized": 1.25, "gumbel": 1.0}
PAPER_C = 1.0 / 16.0  # the paper's c_puct, tuned with its N / (N + A) lambda
PARALLEL_MIN_BATCH = 256  # below this a parallel step's thread hand-off costs more than it saves


@dataclass
class SearchConfig:
    """Search settings. None fields take the policy's default in __post_init__:
    c: PUCT exploration / regularised lambda scale (puct, regularized 1.25; regularized with
       lambda_form "paper" 1/16 as the paper); unused by gumbel.
    dirichlet_eps: root noise weight (puct, regularized 0.25 as the paper; gumbel 0, its
       Gumbel draws explore); dirichlet_alpha: 10 / n^2 (the paper) when None.
    greedy: act by argmax (visits for puct, pi_bar for regularized, no Gumbel noise for gumbel)
       instead of sampling; temperature applies to puct/regularized sampling (gumbel's sampled
       mode is the Gumbel-max trick itself).
    seed: when set, a SearchAgent draws from its own Generator(seed), not the caller's rng."""

    policy: str = "gumbel"
    nodes: int = 64
    c: float | None = None
    lambda_form: str = "sqrt"
    descent: str = "sample"
    dirichlet_eps: float | None = None
    dirichlet_alpha: float | None = None
    gumbel_k: int = 16
    c_visit: float = 50.0
    c_scale: float = 0.1
    greedy: bool = False
    temperature: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"unknown search policy {self.policy!r}: expected one of {', '.join(POLICIES)}")
        if isinstance(self.nodes, bool) or not isinstance(self.nodes, (int, np.integer)) or self.nodes < 1:
            raise ValueError(f"search nodes must be an integer >= 1, got {self.nodes!r}")
        self.nodes = int(self.nodes)
        if self.lambda_form not in ("sqrt", "paper"):
            raise ValueError(f"lambda_form must be 'sqrt' or 'paper', got {self.lambda_form!r}")
        if self.descent not in ("sample", "argmax"):
            raise ValueError(f"descent must be 'sample' or 'argmax', got {self.descent!r}")
        if self.c is None:
            self.c = PAPER_C if (self.policy == "regularized" and self.lambda_form == "paper") else DEFAULT_C[self.policy]
        if self.dirichlet_eps is None:
            self.dirichlet_eps = 0.0 if self.policy == "gumbel" else 0.25
        for name in ("c", "c_visit", "c_scale", "temperature"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"search {name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.dirichlet_eps <= 1.0:
            raise ValueError(f"dirichlet_eps must be in [0, 1], got {self.dirichlet_eps!r}")
        if self.dirichlet_alpha is not None and not self.dirichlet_alpha > 0:
            raise ValueError(f"dirichlet_alpha must be > 0, got {self.dirichlet_alpha!r}")
        if isinstance(self.gumbel_k, bool) or not isinstance(self.gumbel_k, (int, np.integer)) or self.gumbel_k < 1:
            raise ValueError(f"gumbel_k must be an integer >= 1, got {self.gumbel_k!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- numba kernels
# Work rows per tree (SearchTree.work_f float64[B, 3A], work_i int32[B, 2A]) hold a selection's
# temporaries: the node's visited actions in ascending order (work_i[:A]), their per-action
# numbers (work_f), and the terminal test's flood-fill queue (work_i[A:]). Kernels index them,
# and every other array, by (b, ...) and never take row views or allocate, which is what lets
# `_step_trees` run without reference counting (see the module docstring).

@njit(cache=True, inline="always")
def _uniform(key, b, sim, depth):
    """A uniform [0, 1) draw from a splitmix64 hash of (key, tree, simulation, depth)."""
    z = (np.uint64(key) + np.uint64(b) * np.uint64(0x9E3779B97F4A7C15)
         + np.uint64(sim) * np.uint64(0xD1B54A32D192ED03) + np.uint64(depth) * np.uint64(0x8CB92BA72F3D8DD7))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _puct_select(tree, b, node, c):
    (node_visits, node_values, raw_values, children_index, children_prior, children_visits,
     children_values, parents, action_from_parent, terminal, boards, to_play, node_count) = tree
    scale = c * math.sqrt(node_visits[b, node])
    fpu = node_values[b, node]
    best, best_a = -np.inf, -1
    for a in range(boards.shape[2]):
        if boards[b, node, a] != EMPTY:
            continue
        nv = children_visits[b, node, a]
        q = children_values[b, node, a] if nv > 0 else fpu
        score = q + scale * children_prior[b, node, a] / (1 + nv)
        if score > best:
            best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def _regularized_policy(tree, b, node, c, paper_lambda, work_f, work_i):
    """pi_bar of the node into work_f[b, :A] (0 on occupied cells).
    One pass lists the visited actions (work_i[b, :k]) with their q and lam * prior
    (work_f[b, A:A+k], work_f[b, 2A:2A+k]); every unvisited legal action has the same q (Q = 0
    before normalising), so their Newton terms fold into one, lam * (their prior mass) /
    (alpha - q_unvisited), and each Newton iteration costs k + 1 divisions, not A."""
    children_prior, children_visits, children_values, boards = tree[4], tree[5], tree[6], tree[10]
    num_a = boards.shape[2]
    legal, total_n, k = 0, 0, 0
    lo, hi = np.inf, -np.inf
    any_unvisited, prior_unvisited, max_prior_unvisited = False, 0.0, 0.0
    for a in range(num_a):
        if boards[b, node, a] == EMPTY:
            legal += 1
            nv = children_visits[b, node, a]
            if nv > 0:
                total_n += nv
                q = children_values[b, node, a]
                lo, hi = min(lo, q), max(hi, q)
                work_i[b, k] = a
                work_f[b, num_a + k] = q
                k += 1
            else:
                total_n += 1
                any_unvisited = True
                p = children_prior[b, node, a]
                prior_unvisited += p
                max_prior_unvisited = max(max_prior_unvisited, p)
    if any_unvisited:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    width = hi - lo + 1e-6  # q in [0, 1]
    q_unvisited = (0.0 - lo) / width
    lam = c * (total_n if paper_lambda else math.sqrt(total_n)) / (total_n + legal)
    # Newton from alpha_min = max(q + lam pi) over actions with prior > 0.
    alpha = q_unvisited + lam * max_prior_unvisited if max_prior_unvisited > 0 else -np.inf
    for i in range(k):
        q = (work_f[b, num_a + i] - lo) / width
        lp = lam * children_prior[b, node, work_i[b, i]]
        work_f[b, num_a + i] = q
        work_f[b, 2 * num_a + i] = lp
        if lp > 0:
            alpha = max(alpha, q + lp)
    lp_unvisited = lam * prior_unvisited
    s = 0.0
    for _ in range(100):
        s, grad = 0.0, 0.0
        for i in range(k):
            lp = work_f[b, 2 * num_a + i]
            if lp > 0:
                t = lp / (alpha - work_f[b, num_a + i])
                s += t
                grad -= t / (alpha - work_f[b, num_a + i])
        if lp_unvisited > 0:
            t = lp_unvisited / (alpha - q_unvisited)
            s += t
            grad -= t / (alpha - q_unvisited)
        if s - 1.0 < 1e-7:
            break
        alpha -= (s - 1.0) / grad
    unvisited_scale = lam / (alpha - q_unvisited) / s if lp_unvisited > 0 else 0.0
    j = 0
    for a in range(num_a):
        if j < k and work_i[b, j] == a:
            lp = work_f[b, 2 * num_a + j]
            work_f[b, a] = lp / (alpha - work_f[b, num_a + j]) / s if lp > 0 else 0.0
            j += 1
        else:
            work_f[b, a] = children_prior[b, node, a] * unvisited_scale  # 0 on occupied cells
    return k


@njit(cache=True, inline="always")
def _regularized_select(tree, b, node, c, paper_lambda, sample, u, work_f, work_i):
    children_visits, boards = tree[5], tree[10]
    k = _regularized_policy(tree, b, node, c, paper_lambda, work_f, work_i)
    num_a = boards.shape[2]
    if sample:
        acc, last = 0.0, -1
        for a in range(num_a):
            if work_f[b, a] > 0:
                acc += work_f[b, a]
                last = a
                if acc > u:
                    return a
        return last  # u beyond a sum that rounded below 1
    total = 0
    for i in range(k):
        total += children_visits[b, node, work_i[b, i]]
    best, best_a = -np.inf, -1
    for a in range(num_a):
        if boards[b, node, a] == EMPTY:
            score = work_f[b, a] - children_visits[b, node, a] / (1.0 + total)
            if score > best:
                best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def _completed_q(tree, b, node, c_visit, c_scale, work_i):
    """mctx's qtransform_completed_by_mix_value in closed form, one pass over the actions:
    completed Q = Q for visited actions, the mixed value for the rest; sigma(a) =
    (completed Q(a) - lo) * scale, min-max over the legal actions. Lists the visited actions
    in work_i[b, :k]. Returns (mixed, lo, hi, scale, total visits, k)."""
    (node_visits, node_values, raw_values, children_index, children_prior, children_visits,
     children_values, parents, action_from_parent, terminal, boards, to_play, node_count) = tree
    total_n, max_n, prob_sum, weighted, unvisited, k = 0, 0, 0.0, 0.0, 0, 0
    lo, hi = np.inf, -np.inf
    for a in range(boards.shape[2]):
        nv = children_visits[b, node, a]
        if nv > 0:
            total_n += nv
            max_n = max(max_n, nv)
            p = max(children_prior[b, node, a], 1e-30)
            prob_sum += p
            q = children_values[b, node, a]
            weighted += p * q
            lo, hi = min(lo, q), max(hi, q)
            work_i[b, k] = a
            k += 1
        elif boards[b, node, a] == EMPTY:
            unvisited += 1
    mixed = raw_values[b, node]
    if total_n > 0:
        mixed = (mixed + total_n * weighted / prob_sum) / (total_n + 1)
    if unvisited > 0:
        lo, hi = min(lo, mixed), max(hi, mixed)
    scale = (c_visit + max_n) * c_scale / max(hi - lo, 1e-8)
    return mixed, lo, hi, scale, total_n, k


@njit(cache=True, inline="always")
def _gumbel_policy(tree, b, node, c_visit, c_scale, out, work_i):
    """The improved policy softmax(logits + sigma(completed Q)) into out[b]: prior *
    exp(sigma - max sigma), normalised (0 on occupied cells; no logarithms, and one exp shared
    by all unvisited actions)."""
    children_prior, children_visits, children_values, boards = tree[4], tree[5], tree[6], tree[10]
    mixed, lo, hi, scale, total_n, k = _completed_q(tree, b, node, c_visit, c_scale, work_i)
    unvisited_weight = math.exp((mixed - hi) * scale)
    s = 0.0
    for a in range(boards.shape[2]):
        if boards[b, node, a] == EMPTY:
            nv = children_visits[b, node, a]
            w = math.exp((children_values[b, node, a] - hi) * scale) if nv > 0 else unvisited_weight
            out[b, a] = children_prior[b, node, a] * w
            s += out[b, a]
        else:
            out[b, a] = 0.0
    for a in range(boards.shape[2]):
        out[b, a] /= s


@njit(cache=True, inline="always")
def _gumbel_interior_select(tree, b, node, c_visit, c_scale, work_f, work_i):
    """argmax pi'(a) - n(a) / (1 + N), scaled by the improved policy's unnormalised sum s.
    An unvisited action scores its weight alone, so one pass finds the best of them while
    summing s; the visited ones (work_i[b, :k], weights in work_f[b, :k]) are scored after."""
    children_prior, children_visits, children_values, boards = tree[4], tree[5], tree[6], tree[10]
    mixed, lo, hi, scale, total_n, k = _completed_q(tree, b, node, c_visit, c_scale, work_i)
    unvisited_weight = math.exp((mixed - hi) * scale)
    s, j = 0.0, 0
    best, best_a = -np.inf, -1
    for a in range(boards.shape[2]):
        if boards[b, node, a] == EMPTY:
            if j < k and work_i[b, j] == a:
                w = children_prior[b, node, a] * math.exp((children_values[b, node, a] - hi) * scale)
                work_f[b, j] = w
                j += 1
            else:
                w = children_prior[b, node, a] * unvisited_weight
                if w > best:
                    best, best_a = w, a
            s += w
    visit_weight = s / (1.0 + total_n)
    for i in range(k):
        a = work_i[b, i]
        score = work_f[b, i] - children_visits[b, node, a] * visit_weight
        if score > best or (score == best and a < best_a):  # ties to the lowest action, as one pass would
            best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def _gumbel_root_choice(tree, b, gumbel_logits, considered_visit, c_visit, c_scale, work_i):
    """argmax g + logits + sigma over the root actions with exactly `considered_visit` visits
    (sequential halving's candidates; the most visited ones for the final move).
    gumbel_logits[b] = the root's Gumbel draws + log prior."""
    children_visits, children_values, boards = tree[5], tree[6], tree[10]
    mixed, lo, hi, scale, total_n, k = _completed_q(tree, b, 0, c_visit, c_scale, work_i)
    best, best_a = -np.inf, -1
    if considered_visit > 0:  # candidates are visited: scan the visited list only
        for i in range(k):
            a = work_i[b, i]
            if children_visits[b, 0, a] == considered_visit:
                score = gumbel_logits[b, a] + (children_values[b, 0, a] - lo) * scale
                if score > best:
                    best, best_a = score, a
        return best_a
    for a in range(boards.shape[2]):
        if boards[b, 0, a] == EMPTY and children_visits[b, 0, a] == 0:
            score = gumbel_logits[b, a] + (mixed - lo) * scale
            if score > best:
                best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def _select(tree, b, node, policy, params, gumbel_logits, considered, key, sim, depth, work_f, work_i):
    c, paper_lambda, sample, c_visit, c_scale = params[0], params[1] > 0, params[2] > 0, params[3], params[4]
    if policy == _PUCT:
        return _puct_select(tree, b, node, c)
    if policy == _REGULARIZED:
        return _regularized_select(tree, b, node, c, paper_lambda, sample, _uniform(key, b, sim, depth), work_f, work_i)
    if node == 0:
        return _gumbel_root_choice(tree, b, gumbel_logits, considered[b, sim], c_visit, c_scale, work_i)
    return _gumbel_interior_select(tree, b, node, c_visit, c_scale, work_f, work_i)


@njit(cache=True, inline="always")
def _write_observation(boards, to_play, b, node, n, obs, row):
    # Mover's frame: transposed for white, plane 0 the mover's stones (DESIGN.md).
    me = to_play[b, node]
    white = me == WHITE
    for r in range(n):
        for c in range(n):
            v = boards[b, node, c * n + r] if white else boards[b, node, r * n + c]
            obs[row, 0, r, c] = 1.0 if v == me else 0.0
            obs[row, 1, r, c] = 1.0 if (v != EMPTY and v != me) else 0.0


@njit(cache=True)
def _observe_positions(board, to_play, n, obs):
    """Observations of plain positions (board int8[B, A], to_play int8[B]) for PolicyAgent."""
    boards = board.reshape(board.shape[0], 1, board.shape[1])
    movers = to_play.reshape(to_play.shape[0], 1)
    for b in range(board.shape[0]):
        _write_observation(boards, movers, b, 0, n, obs, b)


_FLOOD_MARK = 3  # a stone already reached by _joins_edges' flood fill (restored after)


@njit(cache=True, inline="always")
def _joins_edges(boards, b, node, n, cell, colour, work_i):
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
def _init_node(tree, b, node, parent, action):
    (node_visits, node_values, raw_values, children_index, children_prior, children_visits,
     children_values, parents, action_from_parent, terminal, boards, to_play, node_count) = tree
    node_visits[b, node] = 0
    node_values[b, node] = 0.0
    raw_values[b, node] = 0.0
    parents[b, node] = parent
    action_from_parent[b, node] = action
    terminal[b, node] = False
    # children_prior is written whole by the node's backup, children_values before any read.
    for a in range(boards.shape[2]):
        children_index[b, node, a] = -1
        children_visits[b, node, a] = 0


@njit(cache=True)
def _init_roots(tree, board, root_to_play, n, obs, leaf, needs_eval):
    boards, to_play, node_count = tree[10], tree[11], tree[12]
    for b in range(board.shape[0]):
        _init_node(tree, b, 0, -1, -1)
        for a in range(board.shape[1]):
            boards[b, 0, a] = board[b, a]
        to_play[b, 0] = root_to_play[b]
        node_count[b] = 1
        _write_observation(boards, to_play, b, 0, n, obs, b)
        leaf[b] = 0
        needs_eval[b] = True


@njit(cache=True, inline="always")
def _descend_tree(tree, b, policy, params, gumbel_logits, considered, key, sim, n, obs, leaf, needs_eval,
                  work_f, work_i):
    """Descend tree b to a new leaf (or a terminal node already in the tree), expanding the new
    node and writing its observation into obs[b] when it needs the network."""
    (node_visits, node_values, raw_values, children_index, children_prior, children_visits,
     children_values, parents, action_from_parent, terminal, boards, to_play, node_count) = tree
    node, depth = 0, 0
    while True:
        if terminal[b, node]:
            leaf[b] = node
            needs_eval[b] = False
            return
        a = _select(tree, b, node, policy, params, gumbel_logits, considered, key, sim, depth, work_f, work_i)
        child = children_index[b, node, a]
        if child >= 0:
            node = child
            depth += 1
            continue
        child = node_count[b]
        node_count[b] = child + 1
        children_index[b, node, a] = child
        _init_node(tree, b, child, node, a)
        mover = to_play[b, node]
        for x in range(boards.shape[2]):
            boards[b, child, x] = boards[b, node, x]
        boards[b, child, a] = mover
        to_play[b, child] = WHITE if mover == BLACK else BLACK
        if _joins_edges(boards, b, child, n, a, mover, work_i):
            terminal[b, child] = True
            raw_values[b, child] = -1.0  # the side to move there has lost
            needs_eval[b] = False
        else:
            _write_observation(boards, to_play, b, child, n, obs, b)
            needs_eval[b] = True
        leaf[b] = child
        return


@njit(cache=True, inline="always")
def _backup_tree(tree, b, leaf, needs_eval, probs, values, n):
    """Store the network's output at tree b's evaluated leaf (priors mapped from the mover's
    frame to the board frame) and back the leaf's value up to the root, negating at every ply."""
    (node_visits, node_values, raw_values, children_index, children_prior, children_visits,
     children_values, parents, action_from_parent, terminal, boards, to_play, node_count) = tree
    node = leaf[b]
    if needs_eval[b]:
        raw_values[b, node] = values[b]
        white = to_play[b, node] == WHITE
        for a in range(boards.shape[2]):
            if boards[b, node, a] == EMPTY:
                r = a // n
                m = (a - r * n) * n + r if white else a
                children_prior[b, node, a] = probs[b, m]
            else:
                children_prior[b, node, a] = 0.0
    v = raw_values[b, node]
    while True:
        node_visits[b, node] += 1
        node_values[b, node] += (v - node_values[b, node]) / node_visits[b, node]
        parent = parents[b, node]
        if parent < 0:
            break
        a = action_from_parent[b, node]
        v = -v
        children_visits[b, parent, a] += 1
        children_values[b, parent, a] += (v - children_values[b, parent, a]) / children_visits[b, parent, a]
        node = parent


# The per-block body is a separate (not inlined) function on purpose: numba's parfor dead-code
# pass, run over a parallel=True function's inlined IR, loses stores to arrays unpacked from the
# tree tuple (terminal flags vanished that way). Called functions are compiled outside that pass.
@njit(cache=True, _nrt=False)
def _step_trees(tree, first, last, backup, descend, policy, params, gumbel_logits, considered, key, sim, n,
                probs, values, obs, leaf, needs_eval, work_f, work_i):
    """Trees first..last-1: back up the last evaluation (backup), then descend to the next leaf
    (descend). One call per block of trees, so the arrays' reference counts are touched once
    per block, not once per tree."""
    for b in range(first, last):
        if backup:
            _backup_tree(tree, b, leaf, needs_eval, probs, values, n)
        if descend:
            _descend_tree(tree, b, policy, params, gumbel_logits, considered, key, sim, n, obs, leaf, needs_eval,
                          work_f, work_i)


@njit(cache=True, parallel=True)
def _step(tree, backup, descend, policy, params, gumbel_logits, considered, key, sim, n, probs, values, obs,
          leaf, needs_eval, work_f, work_i, threads):
    """One simulation step for all trees: back up the network's last outputs, then select and
    expand the next leaves (one kernel call, and one thread hand-off, per step). Parallel: one
    contiguous block of trees per thread (threads = numba's thread count, 1 for serial), so
    threads share no cache lines but at the blocks' edges."""
    batch = leaf.shape[0]
    if threads > 1:
        blocks = min(batch, threads)
        for i in prange(blocks):
            _step_trees(tree, i * batch // blocks, (i + 1) * batch // blocks, backup, descend, policy, params,
                        gumbel_logits, considered, key, sim, n, probs, values, obs, leaf, needs_eval, work_f, work_i)
    else:  # no thread launch at all: a serial call costs a few microseconds
        _step_trees(tree, 0, batch, backup, descend, policy, params, gumbel_logits, considered, key, sim, n, probs,
                    values, obs, leaf, needs_eval, work_f, work_i)


@njit(cache=True)
def _root_outputs(tree, policy, params, gumbel_logits, target, gumbel_action, work_f, work_i):
    """Policy target per tree (visit distribution / pi_bar / improved policy) and, for gumbel,
    the sequential-halving winner."""
    children_prior, children_visits, boards = tree[4], tree[5], tree[10]
    c, paper_lambda, c_visit, c_scale = params[0], params[1] > 0, params[3], params[4]
    num_a = boards.shape[2]
    for b in range(boards.shape[0]):
        gumbel_action[b] = -1
        if policy == _REGULARIZED:
            _regularized_policy(tree, b, 0, c, paper_lambda, work_f, work_i)
            for a in range(num_a):
                target[b, a] = work_f[b, a]
        elif policy == _GUMBEL:
            most = 0
            for a in range(num_a):
                most = max(most, children_visits[b, 0, a])
            gumbel_action[b] = _gumbel_root_choice(tree, b, gumbel_logits, most, c_visit, c_scale, work_i)
            _gumbel_policy(tree, b, 0, c_visit, c_scale, work_f, work_i)
            for a in range(num_a):
                target[b, a] = work_f[b, a]
        else:
            total = 0
            for a in range(num_a):
                total += children_visits[b, 0, a]
            for a in range(num_a):
                # With no simulations (nodes = 1) the visit distribution falls back to the prior.
                target[b, a] = children_visits[b, 0, a] / total if total > 0 else children_prior[b, 0, a]


# ----------------------------------------------------------------------------- Python side

@lru_cache(maxsize=64)
def considered_visits_table(max_considered: int, simulations: int) -> np.ndarray:
    """int32[max_considered + 1, max(simulations, 1)]: row m = the visit count a root action
    must have to be considered at each simulation when m actions start (sequential halving,
    mctx's get_table_of_considered_visits)."""
    table = np.zeros((max_considered + 1, max(simulations, 1)), dtype=np.int32)
    for m in range(1, max_considered + 1):
        if m == 1:
            seq = list(range(simulations))
        else:
            log2max = math.ceil(math.log2(m))
            seq, visits, considered = [], [0] * m, m
            while len(seq) < simulations:
                extra = max(1, int(simulations / (log2max * considered)))
                for _ in range(extra):
                    seq.extend(visits[:considered])
                    for i in range(considered):
                        visits[i] += 1
                considered = max(2, considered // 2)
        table[m, :simulations] = seq[:simulations]
    table.setflags(write=False)
    return table


class SearchTree:
    """Preallocated tree arrays for up to `capacity` searches; reused across moves (a search
    initialises only the nodes it allocates)."""

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
        # Work buffers: the network input (shared with a torch tensor), leaves, the kernels'
        # per-tree work rows (see the numba kernels' section).
        self.obs = np.zeros((capacity, 2, n, n), np.float32)
        self.obs_tensor = torch.from_numpy(self.obs)
        self.leaf = np.zeros(capacity, np.int32)
        self.needs_eval = np.zeros(capacity, np.bool_)
        self.work_f = np.zeros((capacity, 3 * a), np.float64)
        self.work_i = np.zeros((capacity, 2 * a), np.int32)

    def fits(self, n: int, batch: int, nodes: int) -> bool:
        return self.n == n and self.capacity >= batch and self.nodes == nodes

    def arrays(self, batch: int) -> tuple:
        """The tree tuple the kernels unpack, for the first `batch` searches (views)."""
        return tuple(x[:batch] for x in (
            self.node_visits, self.node_values, self.raw_values, self.children_index, self.children_prior,
            self.children_visits, self.children_values, self.parents, self.action_from_parent, self.terminal,
            self.boards, self.to_play, self.node_count))


@dataclass
class SearchResult:
    """Per root, in the board frame: visits int32[B, A] (root children), policy float32[B, A]
    (the policy target), value float32[B] (root mean value, mover's view), action int64[B];
    evaluations: positions that needed the network (roots + non-terminal expansions; the
    network is called on all B rows every step, terminal leaves' rows are ignored);
    tree_s / net_s: seconds spent in tree kernels and in the network."""

    visits: np.ndarray
    policy: np.ndarray
    value: np.ndarray
    action: np.ndarray
    evaluations: int
    tree_s: float
    net_s: float


def evaluate(network, obs_tensor, device):
    """One inference pass -> (probs, values) as numpy arrays on the CPU, probs in the mover's
    frame. The exp of the network's log-probabilities is taken here, by torch's vectorised exp
    over the whole batch, rather than cell by cell in the tree kernels."""
    with torch.inference_mode():
        log_probs, values = network(obs_tensor.to(device, non_blocking=True))
        probs = log_probs.exp()
    return probs.float().cpu().numpy(), values.float().cpu().numpy()


def _check_positions(board, to_play, n):
    board = np.ascontiguousarray(board)
    to_play = np.ascontiguousarray(to_play)
    if board.ndim != 2 or board.dtype != np.int8:
        raise ValueError(f"boards must be int8[B, n*n], got {board.dtype} with shape {board.shape}")
    if board.shape[1] != n * n:
        raise ValueError(f"board size mismatch: the network plays {n}x{n} ({n * n} cells), "
                         f"the boards have {board.shape[1]} cells")
    if to_play.shape != (board.shape[0],) or not np.isin(to_play, (BLACK, WHITE)).all():
        raise ValueError("to_play must hold BLACK (1) or WHITE (2) for each board")
    if board.shape[0] and not (board == EMPTY).any(axis=1).all():
        raise ValueError("every position must have an empty cell (finished games cannot be searched)")
    return board, to_play.astype(np.int8, copy=False)


def search(network, board, to_play, config: SearchConfig, rng: np.random.Generator,
           tree: SearchTree | None = None, device="cpu", parallel: bool | None = None) -> SearchResult:
    """Search B positions (board int8[B, n*n], to_play int8[B], unfinished) at once with
    `network` (in eval mode, on `device`). `tree` is reused when it fits, else allocated.
    parallel: spread the trees over numba's threads (None: from PARALLEL_MIN_BATCH trees up).
    On a machine whose cores are busy with other work, serial is faster: a parallel step waits
    for its slowest thread, and a descheduled thread costs a whole time slice."""
    n = network.n
    board, to_play = _check_positions(board, to_play, n)
    batch, nodes, a = board.shape[0], config.nodes, n * n
    if parallel is None:
        parallel = batch >= PARALLEL_MIN_BATCH and numba.get_num_threads() > 1
    if tree is None or not tree.fits(n, batch, nodes):
        tree = SearchTree(n, batch, nodes)
    arrays = tree.arrays(batch)
    obs, obs_tensor = tree.obs[:batch], tree.obs_tensor[:batch]
    leaf, needs_eval = tree.leaf[:batch], tree.needs_eval[:batch]
    work_f, work_i = tree.work_f[:batch], tree.work_i[:batch]
    threads = numba.get_num_threads() if parallel else 1
    policy = _POLICY_CODE[config.policy]
    params = np.array([config.c, config.lambda_form == "paper", config.descent == "sample",
                       config.c_visit, config.c_scale], dtype=np.float64)
    simulations = nodes - 1
    key = int(rng.integers(0, 2**63))
    tree_s = net_s = 0.0
    evaluations = batch

    t0 = time.perf_counter()
    _init_roots(arrays, board, to_play, n, obs, leaf, needs_eval)
    t1 = time.perf_counter()
    probs, values = evaluate(network, obs_tensor, device)
    t2 = time.perf_counter()
    # The roots' backup alone: their noise and Gumbel draws come before the first descent.
    _step(arrays, True, False, policy, params, np.empty((0, 0)), np.empty((0, 0), np.int32), key, 0, n, probs, values,
          obs, leaf, needs_eval, work_f, work_i, threads)
    legal = board == EMPTY
    root_prior = tree.children_prior[:batch, 0]
    if config.dirichlet_eps > 0:
        alpha = config.dirichlet_alpha if config.dirichlet_alpha is not None else 10.0 / (n * n)
        noise = np.where(legal, rng.gamma(alpha, size=(batch, a)), 0.0)
        noise /= np.maximum(noise.sum(axis=1, keepdims=True), 1e-30)
        root_prior[:] = np.where(legal, (1 - config.dirichlet_eps) * root_prior + config.dirichlet_eps * noise, 0.0)
    # Gumbel draws + log prior of the root's actions (the prior after any Dirichlet noise).
    gumbel_logits = np.log(np.maximum(root_prior, 1e-30), dtype=np.float64)
    if config.policy == "gumbel" and not config.greedy:
        gumbel_logits += rng.gumbel(size=(batch, a))
    considered_rows = np.minimum(config.gumbel_k, legal.sum(axis=1))
    considered = considered_visits_table(config.gumbel_k, simulations)[considered_rows]
    t3 = time.perf_counter()
    tree_s += (t1 - t0) + (t3 - t2)
    net_s += t2 - t1

    # Step sim backs up step sim - 1's evaluation and descends; a last call backs up the last.
    for sim in range(simulations + 1):
        t0 = time.perf_counter()
        _step(arrays, sim > 0, sim < simulations, policy, params, gumbel_logits, considered, key, sim, n, probs, values,
              obs, leaf, needs_eval, work_f, work_i, threads)
        if sim == simulations:
            tree_s += time.perf_counter() - t0
            break
        evaluations += int(np.count_nonzero(needs_eval))
        t1 = time.perf_counter()
        probs, values = evaluate(network, obs_tensor, device)
        tree_s += t1 - t0
        net_s += time.perf_counter() - t1

    t0 = time.perf_counter()
    target = np.empty((batch, a), np.float32)
    gumbel_action = np.empty(batch, np.int64)
    _root_outputs(arrays, policy, params, gumbel_logits, target, gumbel_action, work_f, work_i)
    visits = tree.children_visits[:batch, 0].copy()
    if config.policy == "gumbel":
        action = gumbel_action
    else:
        action = choose_actions(target, legal, config.greedy, config.temperature, rng)
    tree_s += time.perf_counter() - t0
    return SearchResult(visits=visits, policy=target, value=tree.node_values[:batch, 0].copy(),
                        action=action, evaluations=evaluations, tree_s=tree_s, net_s=net_s)


def choose_actions(policy, legal, greedy: bool, temperature: float, rng) -> np.ndarray:
    """argmax of `policy` over legal cells, or a draw from policy^(1/temperature)."""
    weights = np.where(legal, policy.astype(np.float64), 0.0)
    if greedy:
        return np.where(legal, weights, -1.0).argmax(axis=1).astype(np.int64)
    if temperature != 1.0:
        weights = np.where(weights > 0, weights / weights.max(axis=1, keepdims=True), 0.0) ** (1.0 / temperature)
    weights = np.where(legal & ~(weights.sum(axis=1, keepdims=True) > 0), 1.0, weights)  # all-zero row
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(cum))[:, None] * cum[:, -1:]
    return np.minimum((cum <= u).sum(axis=1), policy.shape[1] - 1).astype(np.int64)


# ----------------------------------------------------------------------------- agents

class SearchAgent:
    """An Agent (DESIGN.md) that searches with a network. device "auto" = CUDA when available."""

    def __init__(self, network, search_config: SearchConfig, device="cpu", name: str | None = None,
                 parallel: bool | None = None):
        self.device = resolve_device(device)
        self.network = network.to(self.device).eval()
        self.config = search_config
        self.n = network.n
        self.name = name or f"{search_config.policy}@{search_config.nodes}"
        self._rng = np.random.default_rng(search_config.seed) if search_config.seed is not None else None
        self.parallel = parallel
        self._tree: SearchTree | None = None
        self.last_result: SearchResult | None = None

    def search(self, board, to_play, rng) -> SearchResult:
        rng = self._rng if self._rng is not None else rng
        batch = np.asarray(board).shape[0]
        if self._tree is None or not self._tree.fits(self.n, batch, self.config.nodes):
            capacity = max(batch, self._tree.capacity if self._tree is not None else 0)
            self._tree = SearchTree(self.n, capacity, self.config.nodes)
        self.last_result = search(self.network, board, to_play, self.config, rng, self._tree, self.device, self.parallel)
        return self.last_result

    def act(self, board, to_play, rng) -> np.ndarray:
        return self.search(board, to_play, rng).action


class PolicyAgent:
    """The raw network policy, no search: argmax (greedy) or a draw from the prior."""

    def __init__(self, network, greedy: bool = False, temperature: float = 1.0, device="cpu", name: str = "policy"):
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.device = resolve_device(device)
        self.network = network.to(self.device).eval()
        self.n, self.name = network.n, name
        self.greedy, self.temperature = greedy, temperature

    def act(self, board, to_play, rng) -> np.ndarray:
        board, to_play = _check_positions(board, to_play, self.n)
        obs = np.empty((board.shape[0], 2, self.n, self.n), np.float32)
        _observe_positions(board, to_play, self.n, obs)
        probs, _ = evaluate(self.network, torch.from_numpy(obs), self.device)
        cells = np.arange(self.n * self.n)[None, :]
        prior = np.take_along_axis(probs, board_to_mover(cells, to_play[:, None], self.n), axis=1)
        return choose_actions(prior, board == EMPTY, self.greedy, self.temperature, rng)
