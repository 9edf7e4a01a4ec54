"""Batched search: tactics with a uniform-prior network, budgets, strength in seeded matches,
bad configs, determinism and golden trees.

Golden trees: tests/fixtures/golden_search.json holds a small seeded search's results per
policy. A change that alters search results fails `test_golden_trees`; if the change is
intended, regenerate the fixture with
    PYTHONPATH=. python tests/test_mcts.py --regenerate-golden
and say why in the commit.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from hexzero.agents import RandomAgent
from hexzero.arena import play_match
from hexzero.hex import BLACK, EMPTY, WHITE, HexGames, parse_moves, winning_move
from hexzero.mcts import POLICIES, PolicyAgent, SearchAgent, SearchConfig, SearchTree, considered_visits_table, search
from hexzero.network import make_network, masked_log_softmax

GOLDEN = Path(__file__).parent / "fixtures" / "golden_search.json"


class UniformNetwork(nn.Module):
    """Uniform logits over the empty cells and value 0: search alone must find the tactics."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, obs):
        return masked_log_softmax(torch.zeros(obs.shape[0], self.n * self.n), obs), torch.zeros(obs.shape[0])


def position(n: int, blacks: str, whites: str):
    """One position from stone lists (cell names); the side to move follows from the counts."""
    board = np.zeros(n * n, np.int8)
    board[parse_moves(blacks, n)] = BLACK
    board[parse_moves(whites, n)] = WHITE
    to_play = BLACK if (board == BLACK).sum() == (board == WHITE).sum() else WHITE
    return board[None], np.array([to_play], np.int8)


# Black to move on 5x5 with c1-c4 joined: b5 and c5 win at once.
WIN_IN_ONE = position(5, "c1 c2 c3 c4", "a1 a2 a3 e5")
WINNING_CELLS = parse_moves("b5 c5", 5)
# White to move on 4x4: black's b1-b3 chain wins at b4 next move (a4 is white's); only b4 saves.
LOSS_IN_ONE = position(4, "b1 b2 b3", "a4 d1")
BLOCKING_CELL = parse_moves("b4", 4)[0]


# Every policy, and the regularised policy with the paper's lambda form (and its c = 1/16) too.
TACTIC_POLICIES = [*POLICIES, "regularized-paper"]


def tactic_config(policy: str, nodes: int) -> SearchConfig:
    # PUCT and the regularised policy act greedily; Gumbel's sampled mode breaks the exact ties
    # a uniform prior leaves in its first halving round.
    policy, _, lambda_form = policy.partition("-")
    return SearchConfig(policy=policy, nodes=nodes, greedy=policy != "gumbel", dirichlet_eps=0.0,
                        lambda_form=lambda_form or "sqrt")


@pytest.mark.parametrize("policy", TACTIC_POLICIES)
def test_finds_the_win_in_one_with_exact_terminal_values(policy):
    board, to_play = WIN_IN_ONE
    for seed in range(3):
        result = search(UniformNetwork(5), board, to_play, tactic_config(policy, 64), np.random.default_rng(seed))
        assert result.action[0] in WINNING_CELLS
        after = board[0].copy()
        after[result.action[0]] = BLACK
        assert winning_move(after, 5, int(result.action[0]), BLACK)
        # A won position is scored exactly: +1 from the root's view, never a network guess (0).
        winners = [c for c in WINNING_CELLS if result.visits[0, c] > 0]
        assert winners and result.value[0] > 0.2


@pytest.mark.parametrize("policy", TACTIC_POLICIES)
def test_blocks_the_loss_in_one(policy):
    board, to_play = LOSS_IN_ONE
    for seed in range(3):
        result = search(UniformNetwork(4), board, to_play, tactic_config(policy, 600), np.random.default_rng(seed))
        assert result.action[0] == BLOCKING_CELL


def test_terminal_child_values_are_exact():
    board, to_play = WIN_IN_ONE
    tree = SearchTree(5, 1, 64)
    search(UniformNetwork(5), board, to_play, tactic_config("puct", 64), np.random.default_rng(0), tree)
    for cell in WINNING_CELLS:
        child = tree.children_index[0, 0, cell]
        assert child > 0 and tree.terminal[0, child]
        assert tree.raw_values[0, child] == -1.0 and tree.children_values[0, 0, cell] == 1.0


def random_positions(n: int, batch: int, seed: int):
    """Unfinished positions after up to `seed % n*n` random moves (numpy's seeded RNG: the
    engine's parallel random play draws from per-thread numba streams)."""
    rng = np.random.default_rng(seed)
    games = HexGames(n, batch)
    for _ in range(seed % (n * n)):
        moves = RandomAgent(n).act(games.board, games.to_play, rng)
        saved = (games.board.copy(), games.to_play.copy())
        games.step(moves)
        if games.done.any():
            return saved
    return games.board.copy(), games.to_play.copy()


@settings(max_examples=40, deadline=None)
@given(policy=st.sampled_from(POLICIES), n=st.integers(2, 5), nodes=st.integers(1, 60),
       batch=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_budget_and_outputs_are_consistent(policy, n, nodes, batch, seed):
    board, to_play = random_positions(n, batch, seed)
    torch.manual_seed(seed)
    network = make_network("mlp", n, 8, 1).eval()
    tree = SearchTree(n, batch, nodes)
    result = search(network, board, to_play, SearchConfig(policy=policy, nodes=nodes), np.random.default_rng(seed), tree)
    legal = board == EMPTY
    # nodes simulations: the root's evaluation and nodes - 1 descents.
    assert np.all(tree.node_visits[:batch, 0] == nodes)
    assert np.all(result.visits.sum(axis=1) == nodes - 1)
    assert np.all(result.visits[~legal] == 0) and np.all(result.policy[~legal] == 0)
    np.testing.assert_allclose(result.policy.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(legal[np.arange(batch), result.action])
    assert np.all(np.abs(result.value) <= 1.0)
    assert np.all(tree.node_count[:batch] <= nodes)
    allocated = np.arange(nodes)[None, :] < tree.node_count[:batch, None]
    assert result.evaluations == int(allocated.sum() - (tree.terminal[:batch] & allocated).sum())
    # Every node in the tree: terminal exactly when the move into it won; the others carry a
    # prior over their empty cells.
    for b in range(batch):
        for node in range(1, tree.node_count[b]):
            parent, cell = tree.parents[b, node], tree.action_from_parent[b, node]
            won = winning_move(tree.boards[b, node].copy(), n, int(cell), int(tree.to_play[b, parent]))
            assert tree.terminal[b, node] == won
            if not won:
                assert tree.children_prior[b, node].sum() == pytest.approx(1.0, rel=1e-4)
    # The tree's visited-action bookkeeping matches its visit counts at every evaluated node.
    for b in range(batch):
        for node in range(tree.node_count[b]):
            if tree.terminal[b, node]:
                continue
            visits = tree.children_visits[b, node]
            listed = tree.visited_actions[b, node, :tree.visited_count[b, node]]
            assert sorted(listed.tolist()) == np.flatnonzero(visits).tolist()
            unvisited = (tree.boards[b, node] == EMPTY) & (visits == 0)
            assert tree.unvisited_prior[b, node] == pytest.approx(tree.children_prior[b, node][unvisited].sum(), abs=1e-5)


def test_same_seed_same_search_and_seeds_matter():
    board, to_play = random_positions(5, 6, 3)
    network = make_network("mlp", 5, 8, 1).eval()
    for policy in POLICIES:
        config = SearchConfig(policy=policy, nodes=20)
        a = search(network, board, to_play, config, np.random.default_rng(7))
        b = search(network, board, to_play, config, np.random.default_rng(7))
        c = search(network, board, to_play, config, np.random.default_rng(8))
        assert np.array_equal(a.visits, b.visits) and np.array_equal(a.action, b.action)
        assert not np.array_equal(a.visits, c.visits)


def test_threaded_search_matches_the_serial_search():
    # The parallel step splits the trees into blocks, one per thread: no tree may be skipped,
    # done twice or see another's work rows, so results match the serial path exactly.
    board, to_play = random_positions(5, 9, 7)
    network = make_network("mlp", 5, 8, 1).eval()
    for policy in POLICIES:
        config = SearchConfig(policy=policy, nodes=16)
        serial = search(network, board, to_play, config, np.random.default_rng(3), parallel=False)
        threaded = search(network, board, to_play, config, np.random.default_rng(3), parallel=True)
        assert np.array_equal(serial.visits, threaded.visits) and np.array_equal(serial.action, threaded.action)
        np.testing.assert_array_equal(serial.policy, threaded.policy)
        np.testing.assert_array_equal(serial.value, threaded.value)


def test_sequential_halving_table_matches_mctx():
    # Values from mctx's get_sequence_of_considered_visits(4, 10) and (1, 3).
    assert list(considered_visits_table(4, 10)[4]) == [0, 0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert list(considered_visits_table(4, 3)[1]) == [0, 1, 2]


def test_search_beats_raw_policy_and_random_play():
    network = UniformNetwork(4)
    searcher = SearchAgent(network, SearchConfig(policy="gumbel", nodes=48))
    for opponent in (PolicyAgent(network), RandomAgent(4)):
        match = play_match(searcher, opponent, games=64, seed=5)
        wins = int(match.a_won.sum())
        assert wins >= 48, f"search won only {wins}/64 against {opponent.name}"


def test_policy_agent_follows_a_peaked_prior():
    network = make_network("mlp", 3, 4, 1).eval()
    with torch.no_grad():
        network.policy.bias.copy_(torch.tensor([0, 0, 0, 0, 50.0, 0, 0, 0, 0]))  # mover's centre
    board, to_play = position(3, "a1", "")
    actions = PolicyAgent(network, greedy=True).act(board, to_play, np.random.default_rng(0))
    assert actions[0] == 4


@pytest.mark.parametrize("kwargs,match", [
    ({"nodes": 0}, "nodes must be an integer >= 1"),
    ({"nodes": -3}, "nodes must be an integer >= 1"),
    ({"policy": "alphabeta"}, "unknown search policy"),
    ({"lambda_form": "cube"}, "lambda_form"),
    ({"c": 0.0}, "c must be > 0"),
    ({"dirichlet_eps": 1.5}, "dirichlet_eps"),
    ({"gumbel_k": 0}, "gumbel_k"),
])
def test_invalid_configs_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kwargs)


def test_board_size_mismatch_is_refused():
    board, to_play = WIN_IN_ONE
    agent = SearchAgent(UniformNetwork(4), SearchConfig(nodes=4))
    with pytest.raises(ValueError, match="board size mismatch: the network plays 4x4"):
        agent.act(board, to_play, np.random.default_rng(0))
    with pytest.raises(ValueError, match="board size mismatch"):
        PolicyAgent(UniformNetwork(4)).act(board, to_play, np.random.default_rng(0))


def test_paper_lambda_defaults_to_the_papers_c():
    assert SearchConfig(policy="regularized", lambda_form="paper").c == pytest.approx(1 / 16)
    assert SearchConfig(policy="regularized").dirichlet_eps == 0.25
    assert SearchConfig(policy="gumbel").dirichlet_eps == 0.0


def golden_network() -> nn.Module:
    # Weights from numpy, not torch's initialisers, so the fixture does not depend on torch's RNG.
    network = make_network("mlp", 4, 8, 2).eval()
    rng = np.random.default_rng(2021)
    with torch.no_grad():
        for p in network.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, size=tuple(p.shape)).astype(np.float32)))
    return network


def golden_results() -> dict:
    board, to_play = random_positions(4, 3, 4)
    network = golden_network()
    out = {}
    for policy in POLICIES:
        result = search(network, board, to_play, SearchConfig(policy=policy, nodes=24), np.random.default_rng(11))
        out[policy] = {"visits": result.visits.tolist(), "value": np.round(result.value, 5).tolist(),
                       "policy": np.round(result.policy, 5).tolist(), "action": result.action.tolist()}
    return out


def test_golden_trees():
    expected = json.loads(GOLDEN.read_text())
    actual = golden_results()
    for policy in POLICIES:
        assert actual[policy]["visits"] == expected[policy]["visits"], policy
        assert actual[policy]["action"] == expected[policy]["action"], policy
        np.testing.assert_allclose(actual[policy]["value"], expected[policy]["value"], atol=1e-4)
        np.testing.assert_allclose(actual[policy]["policy"], expected[policy]["policy"], atol=1e-4)


if __name__ == "__main__" and "--regenerate-golden" in sys.argv:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(golden_results(), sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
