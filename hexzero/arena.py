"""Matches between two agents: many games at once, both colours equally."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hexzero.hex import BLACK, NO_MOVE, HexGames


@dataclass
class MatchResult:
    """Results of agent A against agent B. `a_black[i]` says whether A had black in game i,
    `winner[i]` is the winning colour, `length[i]` the number of moves, `moves[i, k]` the cell
    of move k of game i (NO_MOVE past its end): the game records (hexzero.records)."""

    a_black: np.ndarray
    winner: np.ndarray
    length: np.ndarray
    moves: np.ndarray | None = None

    @property
    def a_won(self) -> np.ndarray:
        return (self.winner == BLACK) == self.a_black

    def counts(self) -> dict:
        """Wins and games of A by colour: the pooled form ratings use."""
        won = self.a_won
        return {
            "a_wins_as_black": int((won & self.a_black).sum()),
            "a_games_as_black": int(self.a_black.sum()),
            "a_wins_as_white": int((won & ~self.a_black).sum()),
            "a_games_as_white": int((~self.a_black).sum()),
        }


def play_match(agent_a, agent_b, games: int, seed: int = 0, a_black=None) -> MatchResult:
    """Play `games` games between two agents of the same board size, all at once. A takes
    black in the first half and white in the second unless `a_black` (bool[games]) says."""
    if agent_a.n != agent_b.n:
        raise ValueError(f"agents of different board sizes: {agent_a.name} plays {agent_a.n}x{agent_a.n}, "
                         f"{agent_b.name} plays {agent_b.n}x{agent_b.n}")
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    if a_black is None:
        a_black = np.arange(games) < (games + 1) // 2
    a_black = np.asarray(a_black, dtype=np.bool_)
    rng = np.random.default_rng(seed)
    state = HexGames(agent_a.n, games)
    plies = []   # every running game moves once per ply
    while not state.done.all():
        running = ~state.done
        a_to_move = running & ((state.to_play == BLACK) == a_black)
        actions = np.full(games, NO_MOVE, dtype=np.int64)
        for agent, movers in ((agent_a, a_to_move), (agent_b, running & ~a_to_move)):
            idx = np.nonzero(movers)[0]
            if idx.size:
                actions[idx] = agent.act(state.board[idx], state.to_play[idx], rng)
        state.step(actions)
        plies.append(actions.astype(np.int16))
    moves = np.stack(plies, axis=1) if plies else np.full((games, 0), NO_MOVE, np.int16)
    return MatchResult(a_black=a_black, winner=state.winner.copy(), length=state.move_count.astype(np.int64),
                       moves=moves)
