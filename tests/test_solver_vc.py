"""H-search (virtual connections) against the truth: every connection it reports is real, with
the carrier it reports, and the proof search that uses it agrees with the complete tables."""
from __future__ import annotations

import numpy as np
import pytest

from hexzero.cli import main as cli_main
from hexzero.hex import BLACK, WHITE, parse_moves
from hexzero.solver import Solver, get_solver
from hexzero.solver_bits import board_masks
from hexzero.solver_vc import edge_connections
from test_solver import brute_force_wins, random_positions

NONE = ~np.uint64(0)


def _bits(cells) -> np.uint64:
    return np.uint64(sum(1 << int(c) for c in cells))


def _cells(mask, n) -> set[int]:
    return {c for c in range(n * n) if (int(mask) >> c) & 1}


def _connections(board, colour, n):
    """edge_connections for `colour` on an int8 board row."""
    m = board_masks(n)
    own = _bits(np.flatnonzero(board == colour))
    empty = _bits(np.flatnonzero(board == 0))
    start, end = (m[3], m[4]) if colour == BLACK else (m[5], m[6])
    return edge_connections(own, empty, start, end, n, m)


def _other(colour):
    return WHITE if colour == BLACK else BLACK


def _outside_to_opponent(board, colour, carrier, n):
    """The board with every empty cell outside `carrier` given to colour's opponent."""
    out = board.copy()
    outside = [c for c in np.flatnonzero(board == 0) if c not in _cells(carrier, n)]
    out[outside] = _other(colour)
    return out


def test_bridges_and_edge_templates_make_a_virtual_connection():
    n = 5
    board = np.zeros(n * n, dtype=np.int8)
    board[parse_moves("c2 b4", n)] = BLACK  # bridge c2-b4, each a second-row template to its edge
    vc, sc, inter, union = _connections(board, BLACK, n)
    assert _cells(vc, n) == set(parse_moves("c1 d1 b3 c3 a5 b5", n))
    board[parse_moves("c3", n)] = WHITE  # intrude into the bridge: only a semi-connection left
    vc, sc, inter, union = _connections(board, BLACK, n)
    assert vc == NONE and sc != NONE and parse_moves("b3", n)[0] in _cells(sc, n)


def test_the_5x5_centre_stone_is_virtually_connected():
    """Two ziggurats (third-row edge templates) join c3 to both edges: the centre opening has
    won already, which is why the solver proves the empty 5x5 board in one node."""
    n = 5
    board = np.zeros(n * n, dtype=np.int8)
    board[parse_moves("c3", n)] = BLACK
    vc, *_ = _connections(board, BLACK, n)
    assert vc != NONE
    assert get_solver(n).value(board, WHITE) == -1
    corner = np.zeros(n * n, dtype=np.int8)
    corner[parse_moves("a1", n)] = BLACK
    assert _connections(corner, BLACK, n)[0] == NONE


@pytest.mark.parametrize("n,min_stones", [(4, 5), (5, 13)])
def test_every_reported_connection_holds_with_its_carrier(n, min_stones):
    """A VC: the player wins with the opponent to move, even if the opponent also owns every
    empty cell outside the carrier. An SC: the same with the player to move, and its key (a
    cell of the carrier) is among the winning moves. Checked by brute force."""
    boards, to_play = random_positions(n, 150, min_stones=min_stones, seed=21 + n)
    found_vc = found_sc = 0
    for board in boards:
        for colour in (BLACK, WHITE):
            vc, sc, inter, union = _connections(board, colour, n)
            if vc != NONE:
                found_vc += 1
                for position in (board, _outside_to_opponent(board, colour, vc, n)):
                    if (position == 0).any():
                        assert not brute_force_wins(position, _other(colour)), "a VC the opponent breaks"
            if sc != NONE:
                found_sc += 1
                position = _outside_to_opponent(board, colour, sc, n)
                wins = brute_force_wins(position, colour)
                assert wins and wins & _cells(sc, n), "an SC the player cannot complete"
    assert found_vc > 20 and found_sc > 20  # the check saw both kinds, many times


def test_search_with_hsearch_equals_the_complete_4x4_table():
    """Early positions included: H-search runs on positions of up to 8 stones."""
    boards, to_play = random_positions(4, 5000, min_stones=0, seed=31)
    truth = get_solver(4)  # complete table, built by plain minimax
    keys = truth.keys(boards, to_play)
    searcher = Solver(4)
    assert searcher.vc_max_stones >= 8
    assert (searcher._solve(keys) == truth.masks_of_keys(keys)).all()


def test_hsearch_and_plain_search_agree_on_early_5x5_positions(tmp_path):
    from hexzero.benchmarks.solver import early_positions

    boards, to_play = early_positions(5, 6, seed=3)
    keep = (boards != 0).sum(axis=1) >= 2  # the quickest for the plain search
    fast, plain = Solver(5, tmp_path), Solver(5, tmp_path, vc_max_stones=-1)
    keys = fast.keys(boards[keep], to_play[keep])
    assert len(keys) >= 2
    assert (fast._solve(keys) == plain._solve(keys)).all()


def test_bench_solver_prints_both_variants(capsys, tmp_path):
    out = tmp_path / "solver.json"
    assert cli_main(["bench", "solver", "--n", "4", "--positions", "3", "--output", str(out)]) == 0
    import json

    records = json.loads(out.read_text())
    assert [r.get("variant") for r in records[:2]] == ["plain", "hsearch"]
    assert all(r["first_player_wins"] and r["winning_openings"] == 4 for r in records[:2])
    assert records[1]["opening_nodes"] < records[0]["opening_nodes"]


def test_bench_solver_times_the_perfect_agent_on_6x6_middle_games(tmp_path):
    import json

    out = tmp_path / "agent.json"
    assert cli_main(["bench", "solver", "--n", "6", "--agent", "--games", "2", "--start-stones", "22",
                     "--output", str(out)]) == 0
    record = json.loads(out.read_text())[0]
    assert record["n"] == 6 and record["moves"] >= 2
    assert 0 <= record["median_s"] <= record["p99_s"] <= record["max_s"]
    assert cli_main(["bench", "solver", "--n", "7"]) == 2  # beyond the solver: a clear error, not a hang


def test_bench_solver_times_the_perfect_agent_against_a_snapshot_with_its_baseline(tmp_path):
    """--opponent: a tournament batch against a trained agent (here an untrained 6x6 network);
    --baseline: the same games with the uniform draw the carrier transfer replaced."""
    import json

    import torch

    from hexzero.network import make_network, network_config
    from hexzero.storage import save_snapshot

    torch.manual_seed(0)
    network = make_network("mlp", 6, 8, 1)
    snapshot = tmp_path / "snapshot-00.pt"
    save_snapshot(snapshot, network_config=network_config(network), network_state=network.state_dict(),
                  train_config={"board": 6, "search": {"policy": "gumbel", "nodes": 4}}, compute=1e6)
    out = tmp_path / "agent.json"
    assert cli_main(["bench", "solver", "--n", "6", "--agent", "--games", "2", "--start-stones", "22",
                     "--opponent", str(snapshot), "--opponent-nodes", "2", "--baseline", "--output", str(out)]) == 0
    proven, uniform, ratio = json.loads(out.read_text())
    assert (proven["draw"], uniform["draw"]) == ("proven", "uniform")
    assert proven["opponent_nodes"] == 2 and 0 <= proven["perfect_won"] <= 2 and proven["moves"] >= 2
    assert ratio["speedup_total"] == pytest.approx(uniform["total_s"] / proven["total_s"])


def test_bench_solver_proves_6x6_first_moves_within_a_node_limit(tmp_path):
    """Each distinct first move gets its value (or None past the limit), which must be the
    literature's; the easy corner and edge losers fit in a few hundred nodes."""
    import json

    from tests.test_solver import OPENINGS

    out = tmp_path / "solver.json"
    assert cli_main(["bench", "solver", "--n", "6", "--positions", "1", "--node-limit", "500",
                     "--output", str(out)]) == 0
    record = json.loads(out.read_text())[0]
    assert record["variant"] == "dfpn" and len(record["first_moves"]) == 18
    winners = set(OPENINGS[6].split())
    proven = [move for move in record["first_moves"] if move["black"] is not None]
    assert proven and record["unproven"] == 18 - len(proven)
    for move in proven:
        assert all((cell in winners) == (move["black"] == "wins") for cell in move["moves"])
