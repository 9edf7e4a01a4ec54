"""The top of the Elo scale: the guided perfect agent's play in lost positions, and the
anchoring rule (nobody above perfect play by more than its interval) on a hand-made
intransitive pool."""
from __future__ import annotations

import numpy as np
import pytest

from elo.ratings import Games, fit_ratings
from experiments.anchoring import higher_rated, top_of_scale
from hexzero.agents import make_agent
from hexzero.guided_perfect import GuidedPerfectAgent
from hexzero.hex import HexGames
from hexzero.solver import get_solver


class LastEmptyCell:
    """A real, deterministic agent: the highest-numbered empty cell."""

    def __init__(self, n):
        self.n, self.name = n, "last-empty"

    def act(self, board, to_play, rng):
        return np.array([np.flatnonzero(row == 0)[-1] for row in board], dtype=np.int64)


def random_positions(n: int, count: int, seed: int):
    """Unfinished positions from random play, with their side to move."""
    rng = np.random.default_rng(seed)
    boards, to_play = [], []
    while len(boards) < count:
        games = HexGames(n, 1)
        for _ in range(int(rng.integers(1, n * n - 2))):
            empty = np.flatnonzero(games.board[0] == 0)
            games.step(np.array([rng.choice(empty)]))
            if games.done[0]:
                break
        if not games.done[0]:
            boards.append(games.board[0].copy())
            to_play.append(int(games.to_play[0]))
    return np.array(boards), np.array(to_play, dtype=np.int8)


def test_guided_perfect_agent_wins_won_positions_and_follows_its_guide_in_lost_ones():
    n = 4
    solver = get_solver(n)
    boards, to_play = random_positions(n, 120, seed=0)
    wins = solver.winning_moves_mask(boards, to_play)
    won = wins.any(axis=1)
    assert won.any() and (~won).any()
    agent = GuidedPerfectAgent(n, LastEmptyCell(n))
    moves = agent.act(boards, to_play, np.random.default_rng(1))
    assert wins[np.flatnonzero(won), moves[won]].all()  # a winning move wherever there is one
    guide_moves = LastEmptyCell(n).act(boards, to_play, None)
    np.testing.assert_array_equal(moves[~won], guide_moves[~won])  # the guide's move everywhere else


def test_perfect_spec_with_a_lost_position_guide_builds_the_guided_agent():
    agent = make_agent({"kind": "perfect", "n": 3, "lost": {"kind": "random", "n": 3}})
    assert isinstance(agent, GuidedPerfectAgent) and agent.guide.name == "random"
    with pytest.raises(ValueError, match="guide for lost positions plays 4x4"):
        make_agent({"kind": "perfect", "n": 3, "lost": {"kind": "random", "n": 4}})
    with pytest.raises(ValueError, match="must be an agent spec"):
        make_agent({"kind": "perfect", "n": 3, "lost": "strongest"})


def pool_games(rates: dict[tuple[int, int], tuple[float, float]], games: int = 400) -> Games:
    """Games from exact win rates: rates[(a, b)] = (a's win rate as black, as white)."""
    rows = []
    for (a, b), (as_black, as_white) in rates.items():
        rows.append((a, b, round(as_black * games), games))
        rows.append((b, a, games - round(as_white * games), games))
    return Games.from_rows(rows)


# perfect, trained, middling, weak. The solver's perfect agent wins every game as black (the
# first player wins Hex), but as white, in lost positions, its fewest-replies moves are easy
# for weaker agents to punish; the trained agent's are not. Intransitive: perfect beats the
# trained agent, the trained agent beats the weak ones by more than perfect does.
NAMES = ["perfect", "trained", "middling", "weak"]
SOLVER_PERFECT = {(0, 1): (1.0, 0.30), (0, 2): (1.0, 0.35), (0, 3): (1.0, 0.45),
                  (1, 2): (0.99, 0.97), (1, 3): (1.0, 0.99), (2, 3): (0.85, 0.75)}
# The guided perfect agent plays the trained agent's moves in lost positions: as white it
# scores at least what the trained agent scores, and still wins every game as black.
GUIDED_PERFECT = {**SOLVER_PERFECT, (0, 1): (1.0, 0.30), (0, 2): (1.0, 0.97), (0, 3): (1.0, 0.99)}


def test_the_anchoring_rule_flags_an_agent_above_perfect_play_and_the_guide_removes_it():
    before = fit_ratings(NAMES, pool_games(SOLVER_PERFECT), perfect="perfect")
    top = top_of_scale(before)
    assert before.anchor == "perfect" and before.anchor_rule == "perfect"
    assert top.agent == "trained" and top.elo > 0 and top.above_by_more_than_interval, top

    after = fit_ratings(NAMES, pool_games(GUIDED_PERFECT), perfect="perfect")
    top = top_of_scale(after)
    assert top.agent == "trained" and top.elo < 0 and not top.above_by_more_than_interval, top


def test_the_anchor_is_the_higher_rated_perfect_agent_of_one_pool():
    # both perfect agents in one intransitive pool: the guided one (4) plays the trained
    # agent's moves where it is lost, the solver's (0) the fewest-replies moves
    rates = {**SOLVER_PERFECT, (4, 1): (1.0, 0.30), (4, 2): (1.0, 0.97), (4, 3): (1.0, 0.99), (4, 0): (1.0, 0.0)}
    names = NAMES + ["guided"]
    ratings = fit_ratings(names, pool_games(rates), perfect="perfect")
    assert higher_rated(ratings, ("guided", "perfect")) == "guided"
    ratings = fit_ratings(names, pool_games(rates), perfect="guided")
    top = top_of_scale(ratings, exclude=("perfect",))
    assert top.agent == "trained" and not top.above_by_more_than_interval, top
    # with a weak guide the solver's agent is the better practical player and becomes the anchor
    weak_guide = {**rates, (4, 2): (1.0, 0.10), (4, 3): (1.0, 0.20)}
    ratings = fit_ratings(names, pool_games(weak_guide), perfect="guided")
    assert higher_rated(ratings, ("guided", "perfect")) == "perfect"
    with pytest.raises(ValueError, match="none of the perfect agents"):
        higher_rated(ratings, ("nobody",))


# ----------------------------------------------------------------------------- above the solver

def board_sweep(board: int, gains: list[float], seeds: int = 2, snapshots: int = 9, decades: float = 2.0,
                rating_sd: float = 20.0, seed: int = 0):
    """Synthetic runs of one board anchored to their top agent: per width, each seed climbs
    `gain` Elo per decade over `decades` of compute, ending at 0 for the best one; Gaussian
    rating noise with the matching 95% interval."""
    from experiments.frontier import RunCurve

    rng = np.random.default_rng(seed)
    x = np.linspace(9.0, 9.0 + decades, snapshots)
    curves = []
    for w, gain in enumerate(gains):
        for s in range(seeds):
            elo = gain * (x - x[-1]) - 100.0 * w + rng.normal(0.0, rating_sd, x.size)
            curves.append(RunCurve.from_arrays(f"b{board}-w{w}-s{s}", board, 2 ** w, 1, 10.0 ** x, elo,
                                               elo - 1.96 * rating_sd, elo + 1.96 * rating_sd, seed=s))
    return curves


def test_a_top_agent_on_a_rising_frontier_is_not_called_perfect_play_and_a_flat_one_is():
    from experiments.anchoring import FLAT_DECADE_ELO, top_agent_evidence

    rising = top_agent_evidence(board_sweep(6, [300.0, 250.0]), 6, "top", 1e11, None, points_per_decade=5,
                                bootstrap=100)
    assert not rising.flattened and not rising.perfect_play and "still gained" in rising.reason
    assert rising.lower < 300.0 < rising.upper and abs(rising.gain - 300.0) < 60.0
    far_below = {"elo": -1500.0, "lower": -1600.0, "upper": -1400.0}
    flat = top_agent_evidence(board_sweep(7, [0.0, 5.0]), 7, "top", 1e11, far_below, points_per_decade=5,
                              bootstrap=100)
    assert flat.flattened and flat.upper < FLAT_DECADE_ELO and flat.lower < 0.0 < flat.upper
    assert flat.perfect_play and "above random play" in flat.reason
    # A frontier that never left random play is flat too: not perfect play.
    near = {"elo": -200.0, "lower": -300.0, "upper": -100.0}
    stuck = top_agent_evidence(board_sweep(7, [0.0, 5.0]), 7, "top", 1e11, near, points_per_decade=5, bootstrap=100)
    assert stuck.flattened and not stuck.perfect_play and "on the plateau" in stuck.reason
    assert not top_agent_evidence(board_sweep(7, [0.0]), 7, "top", 1e11, None, 5, 20).perfect_play  # not rated
    # Under a decade of compute says nothing either way.
    short = top_agent_evidence(board_sweep(8, [0.0], decades=0.6), 8, "top", None, None, points_per_decade=5,
                               bootstrap=20)
    assert not short.flattened and "less than a decade" in short.reason
    assert short.as_dict()["perfect_play"] is False


def test_the_report_shows_no_perfect_play_figure_for_a_board_without_the_evidence(tmp_path):
    from dataclasses import replace

    from experiments.anchoring import top_agent_evidence
    from experiments.frontier import NOT_MEASURED, fit_frontier, per_board_table
    from experiments.report import render_report
    from test_frontier_seeds import seeded_sweep

    curves = [c for c in seeded_sweep(np.random.default_rng(0), 2) if c.board in (3, 4)] + board_sweep(7, [300.0])
    fit = replace(fit_frontier(curves, points_per_decade=5, bootstrap=5), unanchored=(7,))
    table = per_board_table(fit).splitlines()
    assert "| 7 | n/m |" in table[-1] and f"| 3 | {NOT_MEASURED} |" not in table[2]
    scale = {7: {"top_agent": top_agent_evidence(curves, 7, "w0/08", 1e11, None, 5, 50).as_dict()}}
    report = render_report(tmp_path / "report.md", fit, {}, scale=scale)
    assert "## Boards above the solver's reach" in report and "**not shown**: the frontier still gained" in report
    # Two boards with perfect play at 0 (3 and 4) fix the growth; one does not.
    assert "perfect-play compute growth per board | n/m" not in report
    one = replace(fit, unanchored=(4, 7))
    assert "perfect-play compute growth per board | n/m" in render_report(tmp_path / "r.md", one, {})


def test_the_guided_perfect_agent_plays_only_agents_within_its_window_of_the_top():
    from types import SimpleNamespace

    from experiments.anchoring import GUIDED_OPPONENT_WINDOW
    from experiments.pipeline import guided_opponents

    names = {1: "top", 2: "near", 3: "far", 4: "perfect", 5: "edge", 6: "unrated"}
    ratings = SimpleNamespace(names=["top", "near", "far", "perfect", "edge"],
                              elo=np.array([120.0, -300.0, -900.0, 0.0, 120.0 - GUIDED_OPPONENT_WINDOW]))
    assert guided_opponents([1, 2, 3, 4, 5, 6], names, ratings, "top") == [1, 2, 4, 5, 6]
    assert guided_opponents([1, 2, 3, 4], names, ratings, "top", window=2000.0) == [1, 2, 3, 4]
