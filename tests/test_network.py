"""Networks: the paper's parameter count, compute formulas against torch's own counter, masked
softmax, bad architectures. (Snapshots: test_storage.py.)"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from hexzero.hex import EMPTY, HexGames, seed_kernels
from hexzero.network import NETWORK_KINDS, make_network, network_from_config, resolve_device


def weights_and_biases(network) -> int:
    return sum(p.numel() for name, p in network.named_parameters() if name.endswith(("weight", "bias")))


def test_paper_parameter_count_9x9_width_1024_depth_4():
    network = make_network("mlp", 9, 1024, 4)
    assert network.parameter_count() == 4_449_362
    assert weights_and_biases(network) == 4_449_362
    # The ReZero gains (one scalar per block) are the only parameters the paper leaves out.
    assert network.total_parameters() == 4_449_362 + 4
    assert network.forward_compute() == 4_449_362


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(NETWORK_KINDS), n=st.integers(2, 9), width=st.integers(1, 40), depth=st.integers(0, 4))
def test_parameter_count_formula_matches_torch(kind, n, width, depth):
    network = make_network(kind, n, width, depth)
    assert network.parameter_count() == weights_and_biases(network)
    assert network.total_parameters() == network.parameter_count() + depth


def _bias_uses(network) -> int:
    # Bias additions per forward pass: every bias element once per output position.
    n = network.n
    uses = 0
    for module in network.modules():
        if isinstance(module, torch.nn.Linear):
            uses += module.out_features
        elif isinstance(module, torch.nn.Conv2d):
            uses += module.out_channels * n * n
    return uses


@pytest.mark.parametrize("kind,n,width,depth", [("mlp", 5, 16, 4), ("mlp", 9, 128, 2), ("conv", 5, 8, 2), ("conv", 7, 4, 1)])
def test_compute_formulas_match_torch_flop_counter(kind, n, width, depth):
    network = make_network(kind, n, width, depth).eval()
    with FlopCounterMode(display=False) as counter:
        network(torch.zeros(3, 2, n, n))
    # torch counts 2 FLOPs per multiply-accumulate of the matmuls/convs, biases excluded.
    macs_per_position = (network.forward_compute() - _bias_uses(network))
    assert counter.get_total_flops() == 3 * 2 * macs_per_position
    # True FLOPs: those, the bias adds and the element-wise work, all positive extras.
    assert network.forward_flops() > 2 * macs_per_position + _bias_uses(network)


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(NETWORK_KINDS), n=st.integers(2, 6), moves=st.integers(0, 30), seed=st.integers(0, 1000))
def test_masked_softmax_puts_no_mass_on_occupied_cells(kind, n, moves, seed):
    torch.manual_seed(seed)
    network = make_network(kind, n, 8, 2).eval()
    with torch.no_grad():  # a non-trivial policy: ReZero gains start at 0
        for p in network.parameters():
            p.normal_(0, 0.5)
    seed_kernels(seed)
    games = HexGames(n, 4)
    games.play_random(min(moves, n * n - 1))
    obs = games.observation()
    log_probs, value = network(torch.from_numpy(obs))
    probs = log_probs.exp().detach().numpy()
    occupied_mover = (obs[:, 0] + obs[:, 1]).reshape(4, -1) > 0
    assert np.all(probs[occupied_mover] == 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(log_probs.detach().numpy()[~occupied_mover] > -1e30)  # legal cells keep finite logits
    assert value.shape == (4,) and torch.all(value.abs() <= 1)
    assert (games.board == EMPTY).sum() == (~occupied_mover).sum()


def test_bad_architectures_are_refused():
    with pytest.raises(ValueError, match="unknown network kind"):
        make_network("transformer", 5, 8, 1)
    with pytest.raises(ValueError, match="width"):
        make_network("mlp", 5, 0, 1)
    with pytest.raises(ValueError, match="lacks depth"):
        network_from_config({"kind": "mlp", "n": 5, "width": 8})
    with pytest.raises(ValueError, match=r"\[B, 2, 5, 5\]"):
        make_network("mlp", 5, 8, 1)(torch.zeros(2, 2, 4, 4))


def test_auto_device_follows_cuda_availability():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
