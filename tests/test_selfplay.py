"""Self-play samples: frames, value targets, the paper's bootstrap window, augmentation."""
from __future__ import annotations

import numpy as np
from hexzero.hex import BLACK, WHITE
from hexzero.network import make_network, network_config
from hexzero.selfplay import Samples, SelfPlayWorker, rotate_180, to_mover_frame


def worker(n=3, envs=8, window=None, nodes=4, seed=0):
    net = make_network("mlp", n, 4, 1)
    return SelfPlayWorker(n, envs, network_config(net), {"policy": "gumbel", "nodes": nodes}, seed,
                          value_window=window)


def test_to_mover_frame_transposes_white_rows_only():
    n = 3
    values = np.arange(18, dtype=np.float32).reshape(2, 9)
    out = to_mover_frame(values, np.array([BLACK, WHITE], dtype=np.int8), n)
    assert np.array_equal(out[0], values[0])
    assert np.array_equal(out[1], values[1].reshape(3, 3).T.reshape(9))
    # its own inverse
    assert np.array_equal(to_mover_frame(out, np.array([BLACK, WHITE], dtype=np.int8), n), values)


def test_policy_targets_live_on_the_empty_cells_of_the_observation():
    w = worker(n=4, envs=16)
    samples, counts = w.play(None, 40)
    assert len(samples) > 0 and counts["games"] > 0
    empty = (samples.obs[:, 0] + samples.obs[:, 1]).reshape(len(samples), -1) == 0
    assert np.all(samples.policy[~empty] == 0)
    assert np.allclose(samples.policy.sum(axis=1), 1.0, atol=1e-5)
    # The mover always has as many stones as the opponent or one fewer (black moves first;
    # in the mover's view the stone counts say whose turn it was).
    mine = samples.obs[:, 0].reshape(len(samples), -1).sum(1)
    theirs = samples.obs[:, 1].reshape(len(samples), -1).sum(1)
    assert np.all((theirs - mine == 0) | (theirs - mine == 1))


def test_value_targets_are_results_from_each_movers_view():
    w = worker(n=3, envs=1)
    samples, counts = w.play(None, 40)
    assert counts["games"] >= 4 and set(np.unique(samples.value)) <= {-1.0, 1.0}
    assert counts["evaluations"] <= counts["positions"] * 4
    # One env: games come out whole and in order, each starting from the empty board.
    stones = samples.obs.reshape(len(samples), -1).sum(axis=1)
    starts = np.nonzero(stones == 0)[0]
    games = np.split(np.arange(len(samples)), starts[1:])
    assert len(games) == counts["games"]
    for game in games:
        values = samples.value[game]
        assert np.all(values[1:] == -values[:-1]), "targets must alternate with the mover"
        assert values[-1] == 1.0, "the last mover won"


def test_bootstrap_window_emits_samples_before_games_end():
    # With a window of 1, a sample's target is the search value of the next position, from
    # its own mover's view, so samples come out while games are still running.
    w = worker(n=5, envs=4, window=1)
    samples, counts = w.play(None, 3)
    assert counts["games"] == 0  # 5x5 games last at least 9 moves
    assert len(samples) == 2 * 4
    assert np.all(np.abs(samples.value) <= 1.0)
    assert not set(np.unique(samples.value)) <= {-1.0, 1.0}


def test_rotation_maps_samples_to_their_mirror():
    n = 3
    obs = np.zeros((1, 2, n, n), np.float32)
    obs[0, 0, 0, 1] = 1  # mover's stone at (0, 1)
    policy = np.zeros((1, 9), np.float32)
    policy[0, 2] = 1.0
    rotated = rotate_180(Samples(obs, policy, np.array([0.5], np.float32)), n)
    assert rotated.obs[0, 0, 2, 1] == 1 and rotated.obs.sum() == 1
    assert rotated.policy[0, 6] == 1.0
    assert rotated.value[0] == 0.5


def test_a_worker_restored_from_its_state_plays_on_exactly():
    """The resume point's promise: a fresh worker given another's state (through a pickle, as
    the resume point stores it) plays the same next rounds, games in flight and all."""
    import pickle

    a = worker(n=3, envs=8, nodes=4, seed=5)
    a.play(None, 3)  # games in flight, samples pending, openings part played
    saved = pickle.loads(pickle.dumps(a.state()))
    b = worker(n=3, envs=8, nodes=4, seed=99)
    b.restore(saved)
    b.set_weights(a.network.state_dict())  # weights come with every round, not the state
    for _ in range(3):
        (sa, ca), (sb, cb) = a.play(None, 3), b.play(None, 3)
        assert ca == cb
        for field in ("obs", "policy", "value"):
            assert np.array_equal(getattr(sa, field), getattr(sb, field))
    assert np.array_equal(a.games.board, b.games.board)
