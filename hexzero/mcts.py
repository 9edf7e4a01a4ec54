"""Batched Monte Carlo tree search: B trees searched at once, one network call per simulation.

The tree (hexzero.tree) is a struct of arrays as DeepMind's mctx `Tree`; the policies
(hexzero.policies: puct, regularized, gumbel) are each a selection function and a root-target
function over it. This module runs the search: simulations, the network calls, the root's
noise and outputs, and the agents.

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
cache line that all threads fought over.
Values are from the mover's view and negated on the way up. Randomness: Dirichlet and Gumbel
noise and final move sampling come from the caller's numpy Generator; the regularised policy's
descent draws from a hash keyed by it (hexzero.policies).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch
import numba
from numba import njit, prange

import hexzero.kernel_cache  # noqa: F401  (before any kernel: their cache covers the search files)
from hexzero.hex import BLACK, EMPTY, WHITE, board_to_mover
from hexzero.network import resolve_device
from hexzero.policies import (DEFAULT_C, DEFAULT_DIRICHLET_EPS, DESCENTS, LAMBDA_FORMS, PAPER_C, POLICIES, POLICY_CODES,  # noqa: F401
                              PolicyParams, considered_visits_table, root_target, select)
from hexzero.tree import Buffers, SearchTree, Tree, backup_tree, expand, init_roots, observe_positions  # noqa: F401

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
        if self.lambda_form not in LAMBDA_FORMS:
            raise ValueError(f"lambda_form must be one of {', '.join(LAMBDA_FORMS)}, got {self.lambda_form!r}")
        if self.descent not in DESCENTS:
            raise ValueError(f"descent must be one of {', '.join(DESCENTS)}, got {self.descent!r}")
        if self.c is None:
            self.c = PAPER_C if (self.policy == "regularized" and self.lambda_form == "paper") else DEFAULT_C[self.policy]
        if self.dirichlet_eps is None:
            self.dirichlet_eps = DEFAULT_DIRICHLET_EPS[self.policy]
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


# ----------------------------------------------------------------------------- step kernels

@njit(cache=True, inline="always")
def _descend_tree(tree, b, params, sim, n, buffers):
    """Descend tree b to a new leaf (or a terminal node already in the tree), expanding the new
    node and writing its observation into obs[b] when it needs the network."""
    node, depth = 0, 0
    while True:
        if tree.terminal[b, node]:
            buffers.leaf[b] = node
            buffers.needs_eval[b] = False
            return
        a = select(tree, b, node, params, sim, depth, buffers.work_f, buffers.work_i)
        child = tree.children_index[b, node, a]
        if child < 0:
            expand(tree, b, node, a, n, buffers)
            return
        node = child
        depth += 1


# The per-block body is a separate (not inlined) function on purpose: numba's parfor dead-code
# pass, run over a parallel=True function's inlined IR, loses stores to arrays unpacked from the
# tree tuple (terminal flags vanished that way). Called functions are compiled outside that pass.
@njit(cache=True, _nrt=False)
def _step_trees(tree, first, last, backup, descend, params, sim, n, probs, values, buffers):
    """Trees first..last-1: back up the last evaluation (backup), then descend to the next leaf
    (descend). One call per block of trees, so the arrays' reference counts are touched once
    per block, not once per tree."""
    for b in range(first, last):
        if backup:
            backup_tree(tree, b, buffers, probs, values, n)
        if descend:
            _descend_tree(tree, b, params, sim, n, buffers)


@njit(cache=True, parallel=True)
def _step(tree, backup, descend, params, sim, n, probs, values, buffers, threads):
    """One simulation step for all trees: back up the network's last outputs, then select and
    expand the next leaves (one kernel call, and one thread hand-off, per step). Parallel: one
    contiguous block of trees per thread (threads = numba's thread count, 1 for serial), so
    threads share no cache lines but at the blocks' edges."""
    batch = buffers.leaf.shape[0]
    if threads > 1:
        blocks = min(batch, threads)
        for i in prange(blocks):
            _step_trees(tree, i * batch // blocks, (i + 1) * batch // blocks, backup, descend, params, sim, n,
                        probs, values, buffers)
    else:  # no thread launch at all: a serial call costs a few microseconds
        _step_trees(tree, 0, batch, backup, descend, params, sim, n, probs, values, buffers)


@njit(cache=True)
def root_outputs(tree, params, target, action, work_f, work_i):
    """Per tree: the policy target into target[b] and the policy's own move (or -1) into
    action[b]."""
    for b in range(target.shape[0]):
        action[b] = root_target(tree, b, params, target, work_f, work_i)


# ----------------------------------------------------------------------------- Python side

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
    arrays, buffers = tree.arrays(batch), tree.buffers(batch)
    obs_tensor = tree.obs_tensor[:batch]
    threads = numba.get_num_threads() if parallel else 1
    simulations = nodes - 1
    params = policy_params(config, int(rng.integers(0, 2**63)), np.empty((0, 0)), np.empty((0, 0), np.int32))
    tree_s = net_s = 0.0
    evaluations = batch

    t0 = time.perf_counter()
    init_roots(arrays, board, to_play, n, buffers)
    t1 = time.perf_counter()
    probs, values = evaluate(network, obs_tensor, device)
    t2 = time.perf_counter()
    # The roots' backup alone: their noise and Gumbel draws come before the first descent.
    _step(arrays, True, False, params, 0, n, probs, values, buffers, threads)
    legal = board == EMPTY
    root_prior = tree.children_prior[:batch, 0]
    if config.dirichlet_eps > 0:
        alpha = config.dirichlet_alpha if config.dirichlet_alpha is not None else 10.0 / (n * n)
        noise = np.where(legal, rng.gamma(alpha, size=(batch, a)), 0.0)
        noise /= np.maximum(noise.sum(axis=1, keepdims=True), 1e-30)
        root_prior[:] = np.where(legal, (1 - config.dirichlet_eps) * root_prior + config.dirichlet_eps * noise, 0.0)
        # The tree's unvisited-prior bookkeeping follows the new prior (nothing is visited yet).
        tree.unvisited_prior[:batch, 0] = root_prior.sum(axis=1, dtype=np.float64)
        tree.best_unvisited[:batch, 0] = np.where(legal, root_prior, -1.0).argmax(axis=1)
    if config.policy == "gumbel":
        # Gumbel draws + log prior of the root's actions (the prior after any Dirichlet noise).
        gumbel_logits = np.log(np.maximum(root_prior, 1e-30), dtype=np.float64)
        if not config.greedy:
            gumbel_logits += rng.gumbel(size=(batch, a))
        considered_rows = np.minimum(config.gumbel_k, legal.sum(axis=1))
        considered = considered_visits_table(config.gumbel_k, simulations)[considered_rows]
        params = params._replace(gumbel_logits=gumbel_logits, considered=considered)
    t3 = time.perf_counter()
    tree_s += (t1 - t0) + (t3 - t2)
    net_s += t2 - t1

    # Step sim backs up step sim - 1's evaluation and descends; a last call backs up the last.
    for sim in range(simulations + 1):
        t0 = time.perf_counter()
        _step(arrays, sim > 0, sim < simulations, params, sim, n, probs, values, buffers, threads)
        if sim == simulations:
            tree_s += time.perf_counter() - t0
            break
        evaluations += int(np.count_nonzero(buffers.needs_eval))
        t1 = time.perf_counter()
        probs, values = evaluate(network, obs_tensor, device)
        tree_s += t1 - t0
        net_s += time.perf_counter() - t1

    t0 = time.perf_counter()
    target = np.empty((batch, a), np.float32)
    action = np.empty(batch, np.int64)
    root_outputs(arrays, params, target, action, buffers.work_f, buffers.work_i)
    visits = tree.children_visits[:batch, 0].copy()
    if config.policy != "gumbel":
        action = choose_actions(target, legal, config.greedy, config.temperature, rng)
    tree_s += time.perf_counter() - t0
    return SearchResult(visits=visits, policy=target, value=tree.node_values[:batch, 0].copy(),
                        action=action, evaluations=evaluations, tree_s=tree_s, net_s=net_s)


def policy_params(config: SearchConfig, key: int, gumbel_logits: np.ndarray, considered: np.ndarray) -> PolicyParams:
    """The kernels' view of a config (fixed Python types, so numba compiles one version)."""
    return PolicyParams(kind=POLICY_CODES[config.policy], c=float(config.c), paper_lambda=config.lambda_form == "paper",
                        sample=config.descent == "sample", c_visit=float(config.c_visit),
                        c_scale=float(config.c_scale), key=int(key), gumbel_logits=gumbel_logits,
                        considered=considered)


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
        observe_positions(board, to_play, self.n, obs)
        probs, _ = evaluate(self.network, torch.from_numpy(obs), self.device)
        cells = np.arange(self.n * self.n)[None, :]
        prior = np.take_along_axis(probs, board_to_mover(cells, to_play[:, None], self.n), axis=1)
        return choose_actions(prior, board == EMPTY, self.greedy, self.temperature, rng)
