"""Search policies: each one a selection function (which action a descent takes at a node) and
a root-target function (the policy target and, where the policy decides it, the move), both
numba kernels over one node of a `hexzero.tree.Tree`. A new policy adds its name and code, its
two functions and one line in each dispatcher (`select`, `root_target`), all in this module.

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
Values are from the mover's view. The regularised policy's descent draws come from a
counter-based hash of (key, tree, simulation, depth), so results do not depend on numba's
thread count or per-thread RNG state. PUCT and the regularised policy pass over all A actions
once or twice, the latter's Newton solve over the visited ones only (listed in the tree's work
rows); Gumbel, whose descents run deepest, works from the tree's per-node list of visited
actions and its unvisited prior mass (hexzero.tree) and touches all A only to find a new best
unvisited action.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

import hexzero.kernel_cache  # noqa: F401  (before any kernel: their cache covers the search files)
from hexzero.hex import EMPTY
from hexzero.tree import best_unvisited

# The policies, their lambda forms and descents: declared here only (configs, sweeps and the
# command line import them).
POLICIES = ("gumbel", "puct", "regularized")
LAMBDA_FORMS = ("sqrt", "paper")
DESCENTS = ("sample", "argmax")
PUCT, REGULARIZED, GUMBEL = 0, 1, 2
POLICY_CODES = {"puct": PUCT, "regularized": REGULARIZED, "gumbel": GUMBEL}
DEFAULT_C = {"puct": 1.25, "regularized": 1.25, "gumbel": 1.0}
# Root Dirichlet noise weight: the paper's 1/4; Gumbel's own draws explore.
DEFAULT_DIRICHLET_EPS = {"puct": 0.25, "regularized": 0.25, "gumbel": 0.0}
PAPER_C = 1.0 / 16.0  # the paper's c_puct, tuned with its N / (N + A) lambda


class PolicyParams(NamedTuple):
    """What a policy's kernels read besides the tree. kind: PUCT / REGULARIZED / GUMBEL;
    c: PUCT exploration or regularised lambda scale; paper_lambda: the "paper" lambda form;
    sample: regularised descent by sampling; c_visit, c_scale: Gumbel's sigma; key: the
    regularised descent's hash key; gumbel_logits float64[B, A]: the root's Gumbel draws + log
    prior; considered int32[B, S]: per simulation, the visit count a root action must have to
    be a sequential-halving candidate (both empty for other policies)."""

    kind: int
    c: float
    paper_lambda: bool
    sample: bool
    c_visit: float
    c_scale: float
    key: int
    gumbel_logits: np.ndarray
    considered: np.ndarray


@njit(cache=True, inline="always")
def uniform_draw(key, b, sim, depth):
    """A uniform [0, 1) draw from a splitmix64 hash of (key, tree, simulation, depth)."""
    z = (np.uint64(key) + np.uint64(b) * np.uint64(0x9E3779B97F4A7C15)
         + np.uint64(sim) * np.uint64(0xD1B54A32D192ED03) + np.uint64(depth) * np.uint64(0x8CB92BA72F3D8DD7))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# ----------------------------------------------------------------------------- puct

@njit(cache=True, inline="always")
def puct_select(tree, b, node, c):
    boards, children_visits, children_values, children_prior = (
        tree.boards, tree.children_visits, tree.children_values, tree.children_prior)
    scale = c * math.sqrt(tree.node_visits[b, node])
    fpu = tree.node_values[b, node]
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
def visit_distribution(tree, b, target):
    """The root's visit distribution into target[b]; with no simulations (nodes = 1), the prior."""
    children_visits = tree.children_visits
    num_a = children_visits.shape[2]
    total = 0
    for a in range(num_a):
        total += children_visits[b, 0, a]
    for a in range(num_a):
        target[b, a] = children_visits[b, 0, a] / total if total > 0 else tree.children_prior[b, 0, a]


# ----------------------------------------------------------------------------- regularized

@njit(cache=True, inline="always")
def regularized_policy(tree, b, node, c, paper_lambda, work_f, work_i):
    """pi_bar of the node into work_f[b, :A] (0 on occupied cells).
    One pass lists the visited actions (work_i[b, :k]) with their q and lam * prior
    (work_f[b, A:A+k], work_f[b, 2A:2A+k]); every unvisited legal action has the same q (Q = 0
    before normalising), so their Newton terms fold into one, lam * (their prior mass) /
    (alpha - q_unvisited), and each Newton iteration costs k + 1 divisions, not A."""
    children_prior, children_visits, children_values, boards = (
        tree.children_prior, tree.children_visits, tree.children_values, tree.boards)
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
def regularized_select(tree, b, node, c, paper_lambda, sample, u, work_f, work_i):
    """A draw from pi_bar with the uniform u (sample), else argmax pi_bar - n / (1 + sum n)."""
    children_visits, boards = tree.children_visits, tree.boards
    k = regularized_policy(tree, b, node, c, paper_lambda, work_f, work_i)
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
def regularized_target(tree, b, c, paper_lambda, target, work_f, work_i):
    regularized_policy(tree, b, 0, c, paper_lambda, work_f, work_i)
    for a in range(target.shape[1]):
        target[b, a] = work_f[b, a]


# ----------------------------------------------------------------------------- gumbel

@njit(cache=True, inline="always")
def completed_q(tree, b, node, c_visit, c_scale):
    """mctx's qtransform_completed_by_mix_value in closed form, over the node's visited actions
    only (the tree's list of them): completed Q = Q for visited actions, the mixed value for the
    rest; sigma(a) = (completed Q(a) - lo) * scale, min-max over the legal actions.
    Returns (mixed, lo, hi, scale, total visits, best unvisited action or -1)."""
    children_prior, children_visits, children_values = tree.children_prior, tree.children_visits, tree.children_values
    total_n, max_n, prob_sum, weighted = 0, 0, 0.0, 0.0
    lo, hi = np.inf, -np.inf
    for i in range(tree.visited_count[b, node]):
        a = tree.visited_actions[b, node, i]
        nv = children_visits[b, node, a]
        total_n += nv
        max_n = max(max_n, nv)
        p = max(children_prior[b, node, a], 1e-30)
        prob_sum += p
        q = children_values[b, node, a]
        weighted += p * q
        lo, hi = min(lo, q), max(hi, q)
    mixed = tree.raw_values[b, node]
    if total_n > 0:
        mixed = (mixed + total_n * weighted / prob_sum) / (total_n + 1)
    unvisited = best_unvisited(tree, b, node)
    if unvisited >= 0:
        lo, hi = min(lo, mixed), max(hi, mixed)
    scale = (c_visit + max_n) * c_scale / max(hi - lo, 1e-8)
    return mixed, lo, hi, scale, total_n, unvisited


@njit(cache=True, inline="always")
def gumbel_policy(tree, b, node, c_visit, c_scale, out):
    """The improved policy softmax(logits + sigma(completed Q)) into out[b]: prior *
    exp(sigma - max sigma), normalised (0 on occupied cells; no logarithms, and one exp shared
    by all unvisited actions)."""
    children_prior, children_visits, children_values, boards = (
        tree.children_prior, tree.children_visits, tree.children_values, tree.boards)
    mixed, lo, hi, scale, total_n, unvisited = completed_q(tree, b, node, c_visit, c_scale)
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
def gumbel_interior_select(tree, b, node, c_visit, c_scale, work_f):
    """argmax pi'(a) - n(a) / (1 + N), scaled by the improved policy's unnormalised sum s.
    Every unvisited action has the same weight exp(sigma(mixed value)), so the best of them is
    the one of highest prior and their share of s is that weight times their prior mass (both
    kept by the tree): the selection runs over the visited actions only (weights in
    work_f[b, :k]). Gumbel's pi' is sharp, so its descents go deep (about 3x PUCT's on 5x5 at
    64 nodes) through nodes with few visited actions: a pass over all A at every level made it
    twice as slow as PUCT."""
    children_prior, children_visits, children_values = tree.children_prior, tree.children_visits, tree.children_values
    mixed, lo, hi, scale, total_n, unvisited = completed_q(tree, b, node, c_visit, c_scale)
    best, best_a, s = -np.inf, -1, 0.0
    if unvisited >= 0:
        unvisited_weight = math.exp((mixed - hi) * scale)
        best, best_a = children_prior[b, node, unvisited] * unvisited_weight, unvisited
        s = tree.unvisited_prior[b, node] * unvisited_weight
    k = tree.visited_count[b, node]
    for i in range(k):
        a = tree.visited_actions[b, node, i]
        w = children_prior[b, node, a] * math.exp((children_values[b, node, a] - hi) * scale)
        work_f[b, i] = w
        s += w
    visit_weight = s / (1.0 + total_n)
    for i in range(k):
        a = tree.visited_actions[b, node, i]
        score = work_f[b, i] - children_visits[b, node, a] * visit_weight
        if score > best or (score == best and a < best_a):  # ties to the lowest action
            best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def gumbel_root_choice(tree, b, gumbel_logits, considered_visit, c_visit, c_scale):
    """argmax g + logits + sigma over the root actions with exactly `considered_visit` visits
    (sequential halving's candidates; the most visited ones for the final move), ties to the
    lowest action. gumbel_logits[b] = the root's Gumbel draws + log prior."""
    children_visits, children_values, boards = tree.children_visits, tree.children_values, tree.boards
    mixed, lo, hi, scale, total_n, unvisited = completed_q(tree, b, 0, c_visit, c_scale)
    best, best_a = -np.inf, -1
    if considered_visit > 0:  # candidates are visited: scan the visited list only
        for i in range(tree.visited_count[b, 0]):
            a = tree.visited_actions[b, 0, i]
            if children_visits[b, 0, a] == considered_visit:
                score = gumbel_logits[b, a] + (children_values[b, 0, a] - lo) * scale
                if score > best or (score == best and a < best_a):
                    best, best_a = score, a
        return best_a
    for a in range(boards.shape[2]):
        if boards[b, 0, a] == EMPTY and children_visits[b, 0, a] == 0:
            score = gumbel_logits[b, a] + (mixed - lo) * scale
            if score > best:
                best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def gumbel_target(tree, b, params, target):
    """The improved policy at the root into target[b]; returns the sequential-halving winner."""
    children_visits = tree.children_visits
    most = 0
    for a in range(children_visits.shape[2]):
        most = max(most, children_visits[b, 0, a])
    action = gumbel_root_choice(tree, b, params.gumbel_logits, most, params.c_visit, params.c_scale)
    gumbel_policy(tree, b, 0, params.c_visit, params.c_scale, target)
    return action


# ----------------------------------------------------------------------------- dispatch

@njit(cache=True, inline="always")
def select(tree, b, node, params, sim, depth, work_f, work_i):
    """The action the policy takes at `node` of tree b in simulation `sim`, at `depth`."""
    if params.kind == PUCT:
        return puct_select(tree, b, node, params.c)
    if params.kind == REGULARIZED:
        return regularized_select(tree, b, node, params.c, params.paper_lambda, params.sample,
                                  uniform_draw(params.key, b, sim, depth), work_f, work_i)
    if node == 0:
        return gumbel_root_choice(tree, b, params.gumbel_logits, params.considered[b, sim], params.c_visit,
                                  params.c_scale)
    return gumbel_interior_select(tree, b, node, params.c_visit, params.c_scale, work_f)


@njit(cache=True, inline="always")
def root_target(tree, b, params, target, work_f, work_i):
    """The policy target of tree b's root into target[b] (float32[B, A], 0 on occupied cells).
    Returns the move when the policy chooses it itself (gumbel), else -1: the caller draws
    from the target."""
    if params.kind == PUCT:
        visit_distribution(tree, b, target)
        return -1
    if params.kind == REGULARIZED:
        regularized_target(tree, b, params.c, params.paper_lambda, target, work_f, work_i)
        return -1
    return gumbel_target(tree, b, params, target)


@njit(cache=True)
def select_actions(tree, node, params, sim, depth, work_f, work_i):
    """int64[B]: the action each tree's policy takes at slot `node` (for inspection and tests;
    the search calls `select` inside its descent)."""
    out = np.empty(tree.boards.shape[0], np.int64)
    for b in range(out.shape[0]):
        out[b] = select(tree, b, node, params, sim, depth, work_f, work_i)
    return out


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
