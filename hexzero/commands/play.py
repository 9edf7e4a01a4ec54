"""`hexzero play`: a person plays a snapshot (or the random/perfect agent) in the terminal."""
from __future__ import annotations

import sys

import numpy as np

from hexzero.commands.inputs import agent_or_snapshot, play_move

HELP = "play against a snapshot in the terminal: moves typed as cell names (c3), 'quit' to stop"


def add_arguments(p):
    p.add_argument("agent", type=agent_or_snapshot, help="a snapshot file, or 'random' / 'perfect'")
    p.add_argument("--board", type=int, help="board size (needed for random/perfect)")
    p.add_argument("--nodes", type=int, default=64, help="search nodes per move of the snapshot")
    p.add_argument("--policy", default=None, help="search policy (default: the snapshot's)")
    p.add_argument("--colour", "--color", choices=["black", "white"], default="black",
                   help="your colour (black moves first, joins top to bottom)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", metavar="FILE.sgf", default=None,
                   help="save the game (finished or not) as SGF for HexGui; its trmph link is printed too")


def build_agent(args):
    from hexzero.agents import make_agent

    if args.agent in ("random", "perfect"):
        if args.board is None:
            raise ValueError(f"--board is needed to play the {args.agent} agent")
        return make_agent({"kind": args.agent, "n": args.board, "seed": args.seed})
    spec = {"kind": "snapshot", "path": args.agent, "nodes": args.nodes, "greedy": True}
    if args.policy:
        spec["policy"] = args.policy
    agent = make_agent(spec)
    if args.board is not None and args.board != agent.n:
        raise ValueError(f"snapshot {args.agent} plays {agent.n}x{agent.n}, not {args.board}x{args.board}")
    return agent


def main(args, stdin=None, stdout=None) -> int:
    from hexzero.hex import BLACK, WHITE, HexError, HexGames, board_text, cell_name, parse_cell

    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    agent = build_agent(args)
    n = agent.n
    human = BLACK if args.colour == "black" else WHITE
    games = HexGames(n, 1)
    rng = np.random.default_rng(args.seed)
    played = []
    print(f"You play {args.colour} ({'X, top to bottom' if human == BLACK else 'O, left to right'}) "
          f"against {agent.name} on {n}x{n}.", file=out)
    while not games.done[0]:
        if games.to_play[0] == human:
            print(board_text(games.board[0], n), file=out)
            print("your move: ", end="", file=out, flush=True)
            line = stdin.readline()
            if not line or line.strip().lower() in ("quit", "exit", "q"):
                save_game(args, n, played, agent.name, human, out)
                print("\nbye", file=out)
                return 0
            try:
                cell = parse_cell(line.strip(), n)
                play_move(games, cell)
                played.append(cell)
            except HexError as exc:
                print(f"{exc}; try again", file=out)
        else:
            move = int(agent.act(games.board, games.to_play, rng)[0])
            print(f"{agent.name} plays {cell_name(move, n)}", file=out)
            games.step(np.array([move]))
            played.append(move)
    print(board_text(games.board[0], n), file=out)
    print("You win!" if games.winner[0] == human else f"{agent.name} wins.", file=out)
    save_game(args, n, played, agent.name, human, out)
    return 0


def save_game(args, n: int, cells: list[int], agent_name: str, human: int, out) -> None:
    from hexzero.hex import BLACK
    from hexzero.records import record_from_cells, trmph_link, write_sgf

    if not args.save:
        return
    names = ("you", agent_name) if human == BLACK else (agent_name, "you")
    write_sgf(args.save, record_from_cells(n, cells, black=names[0], white=names[1]))
    print(f"game saved to {args.save} ({trmph_link(n, cells)})", file=out)
