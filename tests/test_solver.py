"""The solver against an independent brute-force minimax, the literature's opening tables, its
disk cache, and the perfect agent."""
from __future__ import annotations

import functools
import struct

import numpy as np
import pytest

from hexzero.agents import RandomAgent
from hexzero.arena import play_match
from hexzero.cli import main as cli_main
from hexzero.hex import BLACK, EMPTY, WHITE, HexGames, parse_moves
from hexzero.solver import (
    FORMAT_VERSION,
    PROOF_MAX_STONES,
    PerfectAgent,
    Solver,
    SolverError,
    decode_table,
    get_solver,
    shipped_path,
    table_path,
)
from hexzero.solver_search import (
    DFPN_WIDTH,
    METHOD_DEPTH_FIRST,
    METHOD_DFPN,
    STAT_NODES,
    cheap_win_mask,
    transferred_wins,
    key_position,
    new_map,
    new_stats,
    prove,
)

# ----------------------------------------------------------------------------- brute force

def _joins(cells: frozenset, n: int, colour: int) -> bool:
    """Flood fill: do `cells` join colour's edges (black rows 0 and n-1, white columns)?"""
    axis = 0 if colour == BLACK else 1
    stack = [c for c in cells if divmod(c, n)[axis] == 0]
    seen = set(stack)
    while stack:
        r, c = divmod(stack.pop(), n)
        if (r, c)[axis] == n - 1:
            return True
        for dr, dc in ((-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0)):
            rr, cc = r + dr, c + dc
            nb = rr * n + cc
            if 0 <= rr < n and 0 <= cc < n and nb in cells and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return False


@functools.lru_cache(maxsize=None)
def _mover_wins(n: int, black: frozenset, white: frozenset, to_play: int) -> bool:
    own, other = (black, white) if to_play == BLACK else (white, black)
    for cell in range(n * n):
        if cell in black or cell in white:
            continue
        grown = own | {cell}
        if _joins(grown, n, to_play):
            return True
        child = (grown, other) if to_play == BLACK else (other, grown)
        if not _mover_wins(n, child[0], child[1], WHITE if to_play == BLACK else BLACK):
            return True
    return False


def brute_force_wins(board, to_play: int) -> set[int]:
    """The winning moves of an unfinished position, by plain memoised minimax."""
    n = int(round(len(board) ** 0.5))
    black = frozenset(int(c) for c in np.flatnonzero(board == BLACK))
    white = frozenset(int(c) for c in np.flatnonzero(board == WHITE))
    wins = set()
    for cell in np.flatnonzero(board == EMPTY):
        cell = int(cell)
        b, w = (black | {cell}, white) if to_play == BLACK else (black, white | {cell})
        mine = b if to_play == BLACK else w
        if _joins(mine, n, to_play) or not _mover_wins(n, b, w, WHITE if to_play == BLACK else BLACK):
            wins.add(cell)
    return wins


def reachable_positions(n: int):
    """Every unfinished position reachable from the empty board: (boards, to_play)."""
    seen, stack, out = set(), [(np.zeros(n * n, dtype=np.int8), BLACK)], []
    while stack:
        board, to_play = stack.pop()
        out.append((board, to_play))
        for cell in np.flatnonzero(board == EMPTY):
            child = board.copy()
            child[cell] = to_play
            if _joins(frozenset(np.flatnonzero(child == to_play).tolist()), n, to_play):
                continue
            key = child.tobytes()
            if key not in seen:
                seen.add(key)
                stack.append((child, WHITE if to_play == BLACK else BLACK))
    return np.stack([b for b, _ in out]), np.array([p for _, p in out], dtype=np.int8)


def random_positions(n: int, count: int, min_stones: int, seed: int, max_stones: int | None = None):
    """Unfinished positions from random play with at least `min_stones` stones (and at most
    `max_stones`)."""
    rng = np.random.default_rng(seed)
    boards, players = [], []
    while len(boards) < count:
        games = HexGames(n, 1)
        target = rng.integers(min_stones, n * n if max_stones is None else max_stones + 1)
        while games.move_count[0] < target and not games.done[0]:
            games.step(RandomAgent(n).act(games.board, games.to_play, rng))
        if not games.done[0]:
            boards.append(games.board[0].copy())
            players.append(int(games.to_play[0]))
    return np.stack(boards), np.array(players, dtype=np.int8)


def mask_sets(mask: np.ndarray) -> list[set[int]]:
    return [set(np.flatnonzero(row).tolist()) for row in mask]


# ----------------------------------------------------------------------------- agreement

def test_every_reachable_3x3_position_matches_brute_force(tmp_path):
    boards, to_play = reachable_positions(3)
    assert len(boards) == 4520  # also the size of the solver's complete 3x3 table
    solver = Solver(3, tmp_path)
    got = mask_sets(solver.winning_moves_mask(boards, to_play))
    assert got == [brute_force_wins(b, p) for b, p in zip(boards, to_play)]
    assert len(solver._table()[0]) == 4520


def test_random_4x4_positions_match_brute_force():
    boards, to_play = random_positions(4, 2000, min_stones=7, seed=1)
    got = mask_sets(get_solver(4).winning_moves_mask(boards, to_play))
    assert got == [brute_force_wins(b, p) for b, p in zip(boards, to_play)]


@pytest.mark.parametrize("method", [METHOD_DEPTH_FIRST, METHOD_DFPN])
@pytest.mark.parametrize("n,count,min_stones", [(3, 300, 0), (4, 400, 7), (5, 100, 14), (6, 60, 27)])
def test_proof_search_matches_brute_force(n, count, min_stones, method, tmp_path):
    """The pruned proof searches (what solves 5x5, 6x6 and anything off the tables), run
    directly: depth-first and proof-number search, each with H-search at every node."""
    boards, to_play = random_positions(n, count, min_stones=min_stones, seed=n)
    solver = Solver(n, tmp_path, vc_max_stones=n * n, method=method)
    masks = solver._solve(solver.keys(boards, to_play))
    got = [{c for c in range(n * n) if (int(m) >> c) & 1} for m in masks]
    assert got == [brute_force_wins(b, p) for b, p in zip(boards, to_play)]


def test_proof_number_and_depth_first_search_agree_on_early_5x5_positions(tmp_path):
    """Too early to brute-force: the two searches (different pruning, different proofs) must
    still give the same winning moves."""
    boards, to_play = random_positions(5, 8, min_stones=4, seed=55)
    keep = (boards != EMPTY).sum(axis=1) <= 9
    boards, to_play = boards[keep], to_play[keep]
    assert len(boards) >= 2
    masks = [Solver(5, tmp_path / str(method), method=method).winning_moves_mask(boards, to_play)
             for method in (METHOD_DEPTH_FIRST, METHOD_DFPN)]
    assert (masks[0] == masks[1]).all() and masks[0].any()


# What the literature says: the first player wins every n x n board (Nash's strategy
# stealing); the winning openings of the small boards lie along the short diagonal, the one
# joining the obtuse corners (here c1-a3, d1-a4, e1-a5), widening into a band on 5x5 (the
# opening tables of Hayward, Henderson et al., "Solving 8x8 Hex", and the Hex wiki). The exact
# sets below are the solver's and, for 3x3, the brute force's; each is symmetric under the
# board's 180-degree rotation, as it must be. On 3x3 the centre is not the only winning opening:
# the obtuse corners c1/a3 and the side cells a2/c2 win too.
# 6x6: Hayward et al., "Solving 6x6 Hex" (2003) and Benzene's table, in our convention (black
# top-bottom, letter = column): black wins with a3-a6, b2-b5, c2-c5, d2-d5, e2-e5, f1-f4.
OPENINGS = {
    3: "c1 a2 b2 c2 a3",
    4: "d1 c2 b3 a4",
    5: "e1 b2 c2 d2 e2 b3 c3 d3 a4 b4 c4 d4 a5",
    6: "a3 a4 a5 a6 b2 b3 b4 b5 c2 c3 c4 c5 d2 d3 d4 d5 e2 e3 e4 e5 f1 f2 f3 f4",
}


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_winning_openings_are_the_literatures(n):
    solver = get_solver(n)  # 5x5: the disk cache; 6x6: the book shipped with hexzero
    empty = np.zeros(n * n, dtype=np.int8)
    assert solver.value(empty, BLACK) == 1
    wins = solver.winning_moves(empty, BLACK)
    assert sorted(wins.tolist()) == sorted(parse_moves(OPENINGS[n], n))
    assert sorted(wins.tolist()) == sorted((n * n - 1 - wins).tolist())  # 180-degree symmetry
    if n == 3:
        assert set(wins.tolist()) == brute_force_wins(empty, BLACK)


def test_value_and_moves_of_a_lost_position():
    solver = get_solver(3)
    board = np.zeros(9, dtype=np.int8)
    board[parse_moves("b2 a1 b1", 3)] = [BLACK, WHITE, BLACK]  # black's b2-b1 pair cannot be stopped
    assert solver.value(board, WHITE) == -1
    assert solver.winning_moves(board, WHITE).size == 0


def test_positions_off_the_table_are_solved_and_saved(tmp_path):
    """With the swap rule black can be to move with one white stone: not in the 3x3 table."""
    board = np.zeros(9, dtype=np.int8)
    board[1] = WHITE
    solver = Solver(3, tmp_path)
    wins = set(solver.winning_moves(board, BLACK).tolist())
    assert wins == brute_force_wins(board, BLACK)
    assert solver.save()
    reloaded = Solver(3, tmp_path)
    assert len(reloaded._table()[0]) == 4521
    assert set(reloaded.winning_moves(board, BLACK).tolist()) == wins
    assert not reloaded._found  # answered from the file


def test_bad_input_is_rejected():
    solver = get_solver(3)
    with pytest.raises(SolverError, match="shape"):
        solver.winning_moves_mask(np.zeros((1, 16), dtype=np.int8), [BLACK])
    with pytest.raises(SolverError, match="to_play"):
        solver.value(np.zeros(9, dtype=np.int8), 3)
    won = np.zeros(9, dtype=np.int8)
    won[[1, 4, 7]] = BLACK
    with pytest.raises(SolverError, match="already won"):
        solver.value(won, WHITE)
    with pytest.raises(ValueError, match="up to 6x6"):
        Solver(7)


def test_6x6_positions_are_solved_saved_and_checked_on_disk(tmp_path):
    """6x6 keys need 36 bits a colour: solved positions round-trip through the table file, a
    damaged file is rebuilt (an empty book) with a warning and the answers stay the same."""
    boards, to_play = random_positions(6, 20, min_stones=24, seed=61)
    solver = Solver(6, tmp_path)
    wins = solver.winning_moves_mask(boards, to_play)
    assert wins[:, 32:].any()  # cells past bit 31 are winning moves somewhere: 64-bit masks
    assert solver.save()
    reloaded = Solver(6, tmp_path)
    assert (reloaded.winning_moves_mask(boards, to_play) == wins).all()
    assert not reloaded._found  # answered from the file
    path = table_path(6, tmp_path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x55
    path.write_bytes(bytes(data))
    damaged = Solver(6, tmp_path)
    with pytest.warns(UserWarning, match="unusable"):
        assert (damaged.winning_moves_mask(boards, to_play) == wins).all()
    shipped = decode_table(shipped_path(6).read_bytes(), 6)[0]
    assert (damaged._table()[0] == shipped).all() and damaged._found  # the shipped book again, solved again


@pytest.mark.parametrize("n", [5, 6])
def test_a_node_budget_leaves_hard_positions_unsolved_and_the_solver_sound(n, tmp_path):
    """winning_moves_mask_within: a position the budget does not settle comes back unsolved
    (its row all False), the others exactly as without a budget, and the solver answers
    correctly after an abort (the late positions are solved after it)."""
    early, early_to_play = random_positions(n, 3, min_stones=2, max_stones=4, seed=5)
    late, late_to_play = random_positions(n, 6, min_stones=n * n - 12, seed=6)
    solver = Solver(n, tmp_path)
    wins, solved = solver.winning_moves_mask_within(early, early_to_play, node_budget=3)
    assert not solved.any() and not wins.any()
    wins, solved = solver.winning_moves_mask_within(late, late_to_play, node_budget=10**6)
    truth = Solver(n, tmp_path / "fresh").winning_moves_mask(late, late_to_play)
    assert solved.all() and (wins == truth).all()


def test_6x6_opening_is_proven_from_scratch():
    """Without book or proofs, the proof-number search proves a first move the literature says
    loses (d1: white, to move, wins) and one it says wins (d3) in a few thousand nodes."""
    helper = Solver(6)  # for its masks and move order
    table, stats = new_map(18, DFPN_WIDTH), new_stats(36, 0, METHOD_DFPN)
    for move, white_wins in (("d1", True), ("d3", False)):
        black = np.uint64(1) << np.uint64(parse_moves(move, 6)[0])
        win, carrier = prove(np.uint64(0), black, 1, 6, helper._m, helper._order, np.zeros((2, 36), dtype=np.int64), table, stats)
        assert win == white_wins and not carrier & black
    assert 0 < stats[STAT_NODES] < 5000


def test_proofs_file_is_saved_loaded_and_checked(tmp_path):
    """Proven positions go to the proofs file and make the next process's search shorter; a
    damaged file is ignored with a warning (it only saves search)."""
    boards, to_play = random_positions(6, 40, min_stones=8, seed=63)
    few = (boards != EMPTY).sum(axis=1) <= PROOF_MAX_STONES  # the stones a kept proof may have
    boards, to_play = boards[few][:6], to_play[few][:6]
    solver = Solver(6, tmp_path)
    masks = solver.masks_of_keys(solver.keys(boards, to_play))
    nodes = solver._search[2][0]
    assert solver.save() and table_path(6, tmp_path, "proofs").is_file()
    reloaded = Solver(6, tmp_path)
    assert (reloaded._solve(reloaded.keys(boards, to_play)) == masks).all()  # searched, not looked up
    assert reloaded._search[2][0] < nodes / 2
    path = table_path(6, tmp_path, "proofs")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x0F
    path.write_bytes(bytes(data))
    damaged = Solver(6, tmp_path)
    with pytest.warns(UserWarning, match="proofs"):
        assert (damaged._solve(damaged.keys(boards, to_play)) == masks).all()


# ----------------------------------------------------------------------------- disk cache

def test_missing_table_is_built_and_then_loaded(tmp_path):
    path = table_path(3, tmp_path)
    assert path.name == f"hex3x3-v{FORMAT_VERSION}.table" and not path.exists()
    Solver(3, tmp_path).value(np.zeros(9, dtype=np.int8), BLACK)
    assert path.is_file()
    before = path.stat().st_mtime_ns
    assert Solver(3, tmp_path).value(np.zeros(9, dtype=np.int8), BLACK) == 1
    assert path.stat().st_mtime_ns == before  # loaded, not rebuilt


@pytest.mark.parametrize("damage", ["flip", "truncate", "version", "garbage"])
def test_damaged_table_is_rebuilt_with_a_warning(tmp_path, damage):
    Solver(3, tmp_path)._table()
    path = table_path(3, tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-10] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "version":
        struct.pack_into("<I", data, 8, FORMAT_VERSION + 1)
    else:
        data = bytearray(b"not a table at all")
    path.write_bytes(bytes(data))
    solver = Solver(3, tmp_path)
    with pytest.warns(UserWarning, match=path.name):
        keys, _ = solver._table()
    assert len(keys) == 4520
    assert set(solver.winning_moves(np.zeros(9, dtype=np.int8), BLACK).tolist()) == set(parse_moves(OPENINGS[3], 3))
    Solver(3, tmp_path)._table()  # the rebuilt file loads without a warning (pytest errors on one)


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HEXZERO_CACHE", str(tmp_path))
    assert Solver(3).path == tmp_path / "solver" / f"hex3x3-v{FORMAT_VERSION}.table"


# ----------------------------------------------------------------------------- perfect agent

def test_perfect_agent_wins_won_6x6_middle_games():
    """From 6x6 positions of random play (14+ stones, black to move and winning), the perfect
    agent wins every game with black, against random play and against itself."""
    boards, to_play = random_positions(6, 200, min_stones=14, seed=62)
    boards, to_play = boards[to_play == BLACK], to_play[to_play == BLACK]
    solver = get_solver(6)
    won = solver.winning_moves_mask(boards, to_play).any(axis=1)
    start = boards[won][:30]
    assert len(start) >= 20
    perfect, other = PerfectAgent(6, seed=1), PerfectAgent(6, seed=2)
    for opponent in (RandomAgent(6), other):
        games = HexGames.from_boards(start, np.full(len(start), BLACK, dtype=np.int8))
        rng = np.random.default_rng(3)
        while not games.done.all():
            idx = np.flatnonzero(~games.done)
            agent = perfect if games.to_play[idx[0]] == BLACK else opponent  # all games move in step
            actions = np.full(len(start), -1, dtype=np.int64)
            actions[idx] = agent.act(games.board[idx], games.to_play[idx], rng)
            games.step(actions)
        assert (games.winner == BLACK).all()


@pytest.mark.parametrize("n,turn", [(5, False), (6, False), (6, True)])
def test_moves_proven_by_carrier_transfer_are_winning_moves(n, turn, tmp_path):
    """cheap_win_mask reads winning moves off proven positions nearby (one opponent stone
    moved; on the half-turned board too): every move it names wins, checked by brute force,
    the table alone names some in most positions next to a proof (otherwise the perfect
    agent's 6x6 shortcut would be idle)."""
    boards, to_play = random_positions(n, 24, min_stones=n * n - 12, seed=63 + n)
    solver = Solver(n, tmp_path)
    solver.winning_moves_mask(boards, to_play)  # proofs of these positions and their children
    tt, _, stats = solver._search_state()
    rng = np.random.default_rng(n)
    named = tried = 0
    for board, player in zip(boards, to_play):
        opponent = WHITE if player == BLACK else BLACK
        theirs, empty = np.flatnonzero(board == opponent), np.flatnonzero(board == EMPTY)
        if not theirs.size or empty.size < 2:
            continue
        near = board.copy()  # one opponent stone moved: a position the table has never seen
        near[rng.choice(theirs)], near[rng.choice(empty)] = EMPTY, opponent
        if turn:
            near = near[::-1].copy()  # the half turn: cell i -> n*n - 1 - i
        try:
            keys = solver.keys(near[None], [player])
        except SolverError:  # the moved stone ended the game
            continue
        me, op, side = key_position(keys[0, 0], keys[0, 1])
        mask = int(cheap_win_mask(me, op, side, n, solver._m, tt, stats))
        cells = {c for c in range(n * n) if mask >> c & 1}
        wins = brute_force_wins(near, int(player))
        assert cells <= wins, (near, player)
        tried += bool(wins)
        named += transferred_wins(np.uint64(me), np.uint64(op), side, n, tt) != 0  # from the table alone
    assert tried >= 8 and named >= tried // 3


def test_the_shipped_6x6_proofs_name_black_s_reply_after_any_answer_to_a_winning_opening(tmp_path):
    """The perfect agent's dearest 6x6 moves were black's second, after a winning opening and
    any white answer (up to 189 s each): the shipped opening proofs, by carrier transfer, name
    a winning reply for nearly all of them (831 of the 840; here a sample)."""
    solver = Solver(6, tmp_path)
    tt, _, _ = solver._search_state()
    root = int(solver.known_masks(solver.keys(np.zeros((1, 36), dtype=np.int8), [BLACK]))[0][0])
    openings = [cell for cell in range(36) if root >> cell & 1]
    rng = np.random.default_rng(0)
    named = 0
    for _ in range(40):
        opening = int(rng.choice(openings))
        answer = int(rng.choice([cell for cell in range(36) if cell != opening]))
        named += transferred_wins(np.uint64(1 << opening), np.uint64(1 << answer), 0, 6, tt) != 0
    assert named >= 36


@pytest.mark.parametrize("n,games", [(3, 400), (4, 400), (5, 100)])
def test_perfect_agent_never_loses_as_first_player(n, games):
    perfect = PerfectAgent(n, seed=1)
    against_random = play_match(perfect, RandomAgent(n), games, seed=2, a_black=np.ones(games, dtype=bool))
    assert against_random.a_won.all()
    against_itself = play_match(perfect, PerfectAgent(n, seed=3), games // 4, seed=4)
    assert (against_itself.winner == BLACK).all()


def test_6x6_perfect_agent_never_loses_as_first_player():
    """From the empty board, on the shipped book and proofs and live proof-number search."""
    perfect = PerfectAgent(6, seed=1)
    against_random = play_match(perfect, RandomAgent(6), 3, seed=2, a_black=np.ones(3, dtype=bool))
    assert against_random.a_won.all()
    against_itself = play_match(perfect, PerfectAgent(6, seed=3), 1, seed=4)
    assert (against_itself.winner == BLACK).all()


def test_perfect_agent_plays_only_winning_moves_and_all_of_them():
    boards, to_play = random_positions(4, 300, min_stones=0, seed=7)
    wins = get_solver(4).winning_moves_mask(boards, to_play)
    winnable = wins.any(axis=1)
    chosen = np.zeros_like(wins)
    agent = PerfectAgent(4, seed=0)
    for _ in range(30):
        moves = agent.act(boards[winnable], to_play[winnable], np.random.default_rng())
        assert wins[winnable][np.arange(winnable.sum()), moves].all()
        chosen[np.flatnonzero(winnable), moves] = True
    assert (chosen[winnable] == wins[winnable]).mean() > 0.99  # uniform among winning moves


def test_perfect_agent_in_lost_positions_leaves_fewest_winning_replies():
    boards, to_play = random_positions(4, 300, min_stones=6, seed=8)  # quick to brute-force
    solver = get_solver(4)
    lost = ~solver.winning_moves_mask(boards, to_play).any(axis=1)
    boards, to_play = boards[lost][:40], to_play[lost][:40]
    moves = PerfectAgent(4, seed=0).act(boards, to_play, np.random.default_rng())
    for board, player, move in zip(boards, to_play, moves):
        replies = {}
        for cell in np.flatnonzero(board == EMPTY):
            child = board.copy()
            child[cell] = player
            replies[int(cell)] = len(brute_force_wins(child, WHITE if player == BLACK else BLACK))
        assert replies[int(move)] == min(replies.values())


def test_perfect_agent_is_seeded():
    boards, to_play = random_positions(4, 100, min_stones=0, seed=9)
    first = PerfectAgent(4, seed=5).act(boards, to_play, np.random.default_rng(0))
    again = PerfectAgent(4, seed=5).act(boards, to_play, np.random.default_rng(1))
    assert (first == again).all()


# ----------------------------------------------------------------------------- command

def test_solve_command_prints_value_and_winning_moves(capsys, tmp_path):
    assert cli_main(["solve", "--board", "3", "--cache", str(tmp_path), ""]) == 0
    out = capsys.readouterr().out
    assert "black to play wins" in out and "winning moves: c1 a2 b2 c2 a3" in out
    assert cli_main(["solve", "--board", "3", "--cache", str(tmp_path), "b2 a1 b1"]) == 0
    assert "white to play loses" in capsys.readouterr().out
    text = tmp_path / "board.txt"
    text.write_text("  a b c\n 1 O X .\n  2 . X .\n   3 . . .\n")
    assert cli_main(["solve", "--cache", str(tmp_path), "--text", str(text)]) == 0
    assert "winning moves: none" in capsys.readouterr().out
    assert cli_main(["solve", "--board", "3", "--cache", str(tmp_path), "z9"]) == 2


def test_perfect_agent_draws_uniformly_among_winning_moves_off_the_table(tmp_path):
    """Off the tables (5x5) the agent stops at the first proven win in a random move order:
    still only winning moves, and every one of them in time."""
    boards, to_play = random_positions(5, 40, min_stones=10, seed=12)
    solver = Solver(5, tmp_path)
    wins = Solver(5, tmp_path / "other").winning_moves_mask(boards, to_play)
    winnable = np.flatnonzero(wins.any(axis=1))
    chosen = np.zeros_like(wins)
    rng = np.random.default_rng(0)
    for _ in range(60):
        moves = solver.random_winning_moves(boards[winnable], to_play[winnable], rng)
        assert wins[winnable, moves].all()
        chosen[winnable, moves] = True
    assert (solver.random_winning_moves(boards[~wins.any(axis=1)], to_play[~wins.any(axis=1)], rng) == -1).all()
    assert (chosen[winnable] == wins[winnable]).mean() > 0.98
    assert not solver._found  # nothing was solved for every move
