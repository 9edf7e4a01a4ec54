"""The search policies' selections and root targets against independent pure-numpy references,
on many random nodes (random priors with some zeros, visit counts with unvisited actions, Q
values, legal masks), and the same references applied to the roots of real searches (the
paper's lambda form included).

The references follow the papers, not the package's kernels: no shared code but the tree's
field names, float64 throughout, logarithms and softmax where the kernels avoid them, and
bisection where the kernels use Newton's method.
"""
from __future__ import annotations

import numpy as np
import pytest

from hexzero.hex import EMPTY
from hexzero.mcts import SearchConfig, SearchTree, policy_params, root_outputs, search
from hexzero.network import make_network
from hexzero.policies import select_actions, uniform_draw
from hexzero.tree import STALE

from test_mcts import random_positions

RANDOM_NODES = 300  # trees per check, each with two random nodes (slots 0 and 1)


# ----------------------------------------------------------------------------- references

def ref_puct_scores(prior, visits, values, legal, node_visits, node_value, c):
    """AlphaZero's PUCT: Q + c P sqrt(N) / (1 + n), unvisited Q = the node's own value."""
    q = np.where(visits > 0, values, node_value)
    scores = q + c * prior * np.sqrt(node_visits) / (1.0 + visits)
    return np.where(legal, scores, -np.inf)


def ref_gumbel_sigma(prior, visits, values, legal, raw_value, c_visit, c_scale):
    """Danihelka et al. 2022: sigma(completed Q) with completed Q = Q for visited actions and,
    for the rest, the mixed value (v_hat + sum n * (sum_visited pi q / sum_visited pi)) /
    (1 + sum n); rescaled to [0, 1] over the legal actions; sigma = (c_visit + max n) c_scale q."""
    visited = visits > 0
    total = visits.sum()
    mixed = raw_value
    if total > 0:
        p = np.maximum(prior[visited], 1e-30)
        mixed = (raw_value + total * (p * values[visited]).sum() / p.sum()) / (1.0 + total)
    completed = np.where(visited, values, mixed)
    lo, hi = completed[legal].min(), completed[legal].max()
    rescaled = (completed - lo) / max(hi - lo, 1e-8)
    return (c_visit + visits.max()) * c_scale * rescaled


def ref_gumbel_improved_policy(prior, visits, values, legal, raw_value, c_visit, c_scale):
    """pi' = softmax(log prior + sigma(completed Q)) over the legal actions."""
    sigma = ref_gumbel_sigma(prior, visits, values, legal, raw_value, c_visit, c_scale)
    with np.errstate(divide="ignore"):
        logits = np.where(legal, np.log(prior) + sigma, -np.inf)
    z = np.exp(logits - logits.max())
    return z / z.sum()


def ref_regularized_policy(prior, visits, values, legal, c, lambda_form):
    """Grill et al. 2020: pi_bar = lambda_N pi / (alpha - q), alpha the root of sum pi_bar = 1
    above max(q + lambda_N pi), found by bisection. q = Q min-max normalised over the legal
    actions with unvisited actions at Q = 0; N = sum max(n, 1); lambda_N = c sqrt(N) / (N + A)
    ("sqrt") or c N / (N + A) ("paper", the paper's code), A = number of legal actions."""
    q_raw = np.where(visits > 0, values, 0.0)[legal]
    q = (q_raw - q_raw.min()) / (q_raw.max() - q_raw.min() + 1e-6)
    pi = prior[legal]
    total = np.maximum(visits[legal], 1).sum()
    lam = c * (total if lambda_form == "paper" else np.sqrt(total)) / (total + legal.sum())

    def mass(alpha):
        return (lam * pi / (alpha - q))[pi > 0].sum()

    lo = (q + lam * pi)[pi > 0].max()  # mass(lo) >= 1
    hi = q.max() + lam  # every term <= pi there, so mass(hi) <= 1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mass(mid) > 1.0 else (lo, mid)
    alpha = 0.5 * (lo + hi)
    out = np.zeros(prior.shape)
    out[legal] = np.where(pi > 0, lam * pi / (alpha - q), 0.0)
    return out / out.sum()


# ----------------------------------------------------------------------------- random nodes

def random_tree(seed: int, n: int = 5, batch: int = RANDOM_NODES) -> SearchTree:
    """A tree with random statistics in slots 0 and 1 of every one of `batch` trees."""
    rng = np.random.default_rng(seed)
    a = n * n
    tree = SearchTree(n, batch, 2)
    for b in range(batch):
        for node in (0, 1):
            legal = rng.random(a) < rng.uniform(0.2, 1.0)
            legal[rng.integers(a)] = True
            stones = rng.integers(1, 3, size=a).astype(np.int8)
            tree.boards[b, node] = np.where(legal, EMPTY, stones)
            prior = np.where(legal, rng.dirichlet(np.full(a, rng.choice([0.3, 1.0, 5.0]))), 0.0)
            if rng.random() < 0.2:  # some legal actions the network rules out
                prior[legal & (rng.random(a) < 0.2)] = 0.0
            if prior.sum() == 0:
                prior[np.argmax(legal)] = 1.0
            tree.children_prior[b, node] = prior / prior.sum()
            visited = legal & (rng.random(a) < rng.uniform(0.0, 1.0))
            tree.children_visits[b, node] = np.where(visited, rng.geometric(rng.uniform(0.05, 0.8), size=a), 0)
            tree.children_values[b, node] = np.where(visited, rng.uniform(-1, 1, size=a), 0.0)
            # The tree's visited-action bookkeeping, in a random first-visit order; the best
            # unvisited action sometimes left for the kernels to find.
            order = rng.permutation(np.flatnonzero(tree.children_visits[b, node]))
            tree.visited_actions[b, node, :len(order)] = order
            tree.visited_count[b, node] = len(order)
            unvisited = legal & (tree.children_visits[b, node] == 0)
            tree.unvisited_prior[b, node] = tree.children_prior[b, node][unvisited].astype(np.float64).sum()
            best = np.where(unvisited, tree.children_prior[b, node], -1.0).argmax() if unvisited.any() else -1
            tree.best_unvisited[b, node] = STALE if rng.random() < 0.5 else best
            tree.node_visits[b, node] = 1 + tree.children_visits[b, node].sum()
            tree.node_values[b, node] = rng.uniform(-1, 1)
            tree.raw_values[b, node] = rng.uniform(-1, 1)
    return tree


def node_stats(tree, b, node):
    """One node's arrays in float64: prior, visits, values, legal mask."""
    return (tree.children_prior[b, node].astype(np.float64), tree.children_visits[b, node].astype(np.int64),
            tree.children_values[b, node].astype(np.float64), tree.boards[b, node] == EMPTY)


def assert_is_an_argmax(action, scores, tol, what):
    """The chosen action scores within tol of the best (floating point may break near-ties either way)."""
    assert np.isfinite(scores[action]), f"{what}: chose an illegal action {action}"
    assert scores[action] >= scores.max() - tol, f"{what}: chose {action} ({scores[action]}), best {scores.max()}"


def params_for(config, tree, seed=0, gumbel_logits=None, considered=None):
    batch = tree.capacity
    if gumbel_logits is None:
        gumbel_logits = np.zeros((batch, tree.n ** 2))
    if considered is None:
        considered = np.zeros((batch, 1), np.int32)
    return policy_params(config, seed, gumbel_logits, considered)


# ----------------------------------------------------------------------------- selections

@pytest.mark.parametrize("seed", [0, 1])
def test_puct_selection_matches_the_reference(seed):
    tree = random_tree(seed)
    config = SearchConfig(policy="puct", c=1.25)
    for node in (0, 1):
        actions = select_actions(tree.arrays(tree.capacity), node, params_for(config, tree), 0, 0,
                                 tree.work_f, tree.work_i)
        for b in range(tree.capacity):
            prior, visits, values, legal = node_stats(tree, b, node)
            scores = ref_puct_scores(prior, visits, values, legal, tree.node_visits[b, node],
                                     float(tree.node_values[b, node]), config.c)
            assert_is_an_argmax(actions[b], scores, 1e-9, f"puct tree {b} node {node}")


@pytest.mark.parametrize("lambda_form", ["sqrt", "paper"])
def test_regularized_argmax_and_sampled_descent_match_the_reference(lambda_form):
    tree = random_tree(2)
    arrays = tree.arrays(tree.capacity)
    for c in (0.1, 1.25, 5.0):
        argmax_config = SearchConfig(policy="regularized", c=c, lambda_form=lambda_form, descent="argmax")
        sample_config = SearchConfig(policy="regularized", c=c, lambda_form=lambda_form, descent="sample")
        key, sim, depth = 12345, 3, 1
        argmax_actions = select_actions(arrays, 1, params_for(argmax_config, tree), sim, depth, tree.work_f, tree.work_i)
        sampled = select_actions(arrays, 1, params_for(sample_config, tree, key), sim, depth, tree.work_f, tree.work_i)
        for b in range(tree.capacity):
            prior, visits, values, legal = node_stats(tree, b, 1)
            pi_bar = ref_regularized_policy(prior, visits, values, legal, c, lambda_form)
            # Grill et al.'s deterministic descent: argmax pi_bar - n / (1 + sum n).
            scores = np.where(legal, pi_bar - visits / (1.0 + visits.sum()), -np.inf)
            assert_is_an_argmax(argmax_actions[b], scores, 1e-6, f"regularized argmax tree {b}")
            # Sampling: the draw u falls in the chosen action's slice of pi_bar's cumulative sum.
            u = uniform_draw(key, b, sim, depth)
            a = sampled[b]
            cdf = np.cumsum(pi_bar)
            assert pi_bar[a] > 0 and cdf[a] - pi_bar[a] - 1e-6 <= u < cdf[a] + 1e-6, (b, a, u)


def test_gumbel_interior_and_root_selections_match_the_reference():
    tree = random_tree(3)
    arrays = tree.arrays(tree.capacity)
    rng = np.random.default_rng(3)
    config = SearchConfig(policy="gumbel")
    gumbel_logits = np.log(np.maximum(tree.children_prior[:, 0], 1e-30)) + rng.gumbel(size=tree.children_prior[:, 0].shape)
    # Root: among the actions with exactly the considered visit count, argmax g + logits + sigma.
    considered = tree.children_visits[:, 0].max(axis=1).astype(np.int32)[:, None]
    for target_visits in (considered, np.zeros_like(considered)):
        params = params_for(config, tree, gumbel_logits=gumbel_logits, considered=target_visits)
        root_actions = select_actions(arrays, 0, params, 0, 0, tree.work_f, tree.work_i)
        for b in range(tree.capacity):
            prior, visits, values, legal = node_stats(tree, b, 0)
            candidates = legal & (visits == target_visits[b, 0])
            if not candidates.any():
                assert root_actions[b] == -1
                continue
            sigma = ref_gumbel_sigma(prior, visits, values, legal, float(tree.raw_values[b, 0]),
                                     config.c_visit, config.c_scale)
            scores = np.where(candidates, gumbel_logits[b] + sigma, -np.inf)
            assert_is_an_argmax(root_actions[b], scores, 1e-9, f"gumbel root tree {b}")
    # Interior: argmax pi' - n / (1 + sum n).
    interior = select_actions(arrays, 1, params_for(config, tree), 0, 1, tree.work_f, tree.work_i)
    for b in range(tree.capacity):
        prior, visits, values, legal = node_stats(tree, b, 1)
        improved = ref_gumbel_improved_policy(prior, visits, values, legal, float(tree.raw_values[b, 1]),
                                              config.c_visit, config.c_scale)
        scores = np.where(legal, improved - visits / (1.0 + visits.sum()), -np.inf)
        assert_is_an_argmax(interior[b], scores, 1e-9, f"gumbel interior tree {b}")


# ----------------------------------------------------------------------------- root targets

def reference_target(config, tree, b):
    prior, visits, values, legal = node_stats(tree, b, 0)
    if config.policy == "puct":
        return visits / visits.sum() if visits.sum() else prior
    if config.policy == "regularized":
        return ref_regularized_policy(prior, visits, values, legal, config.c, config.lambda_form)
    return ref_gumbel_improved_policy(prior, visits, values, legal, float(tree.raw_values[b, 0]),
                                      config.c_visit, config.c_scale)


TARGET_CONFIGS = [
    {"policy": "puct"},
    {"policy": "regularized", "lambda_form": "sqrt"},
    {"policy": "regularized", "lambda_form": "paper"},
    {"policy": "regularized", "lambda_form": "paper", "c": 2.0},
    {"policy": "gumbel"},
    {"policy": "gumbel", "c_visit": 10.0, "c_scale": 1.0},
]


@pytest.mark.parametrize("kwargs", TARGET_CONFIGS, ids=lambda k: "-".join(str(v) for v in k.values()))
def test_root_targets_of_random_nodes_match_the_references(kwargs):
    config = SearchConfig(**kwargs)
    tree = random_tree(4)
    batch, a = tree.capacity, tree.n ** 2
    rng = np.random.default_rng(4)
    gumbel_logits = np.log(np.maximum(tree.children_prior[:, 0], 1e-30)) + rng.gumbel(size=(batch, a))
    target, action = np.empty((batch, a), np.float32), np.empty(batch, np.int64)
    root_outputs(tree.arrays(batch), params_for(config, tree, gumbel_logits=gumbel_logits), target, action,
                 tree.work_f, tree.work_i)
    for b in range(batch):
        np.testing.assert_allclose(target[b], reference_target(config, tree, b), atol=2e-6, err_msg=f"tree {b}")
        if config.policy != "gumbel":
            assert action[b] == -1  # the caller samples from the target
            continue
        # Gumbel's move: the best g + logits + sigma among the most visited actions.
        prior, visits, values, legal = node_stats(tree, b, 0)
        sigma = ref_gumbel_sigma(prior, visits, values, legal, float(tree.raw_values[b, 0]),
                                 config.c_visit, config.c_scale)
        most = legal & (visits == visits[legal].max())
        assert_is_an_argmax(action[b], np.where(most, gumbel_logits[b] + sigma, -np.inf), 1e-9, f"gumbel move {b}")


@pytest.mark.parametrize("kwargs", TARGET_CONFIGS[1:3] + TARGET_CONFIGS[4:5],
                         ids=lambda k: "-".join(str(v) for v in k.values()))
def test_search_targets_match_the_references_at_real_roots(kwargs):
    # Whole searches (the paper's lambda form among them), then the reference applied to each
    # root's final statistics: the target the learner gets is the paper's policy of that root.
    board, to_play = random_positions(4, 24, 5)
    network = make_network("mlp", 4, 8, 1).eval()
    config = SearchConfig(nodes=40, **kwargs)
    tree = SearchTree(4, len(board), config.nodes)
    result = search(network, board, to_play, config, np.random.default_rng(5), tree)
    assert np.all(tree.node_visits[:len(board), 0] == config.nodes)
    for b in range(len(board)):
        np.testing.assert_allclose(result.policy[b], reference_target(config, tree, b), atol=2e-6)

