"""`hexzero solve --board N "<moves>"`: the exact value and winning moves of a position."""
from __future__ import annotations

import numpy as np

from hexzero.commands.inputs import existing_file, output_folder, replay_moves
from hexzero.hex import BLACK, HexError, board_text, cell_name, parse_board_text

HELP = "print the game-theoretic value and the winning moves of a position (boards up to 6x6; early 6x6 positions can take minutes)"


def add_arguments(parser):
    parser.add_argument("position", nargs="?", default="",
                        help="a move list ('c3 b4', empty for the empty board), an SGF file, a trmph link, or "
                             "board text as printed by `hexzero show` (rows of X, O and .)")
    parser.add_argument("--board", type=int, default=None, help="board size (needed for a move list)")
    parser.add_argument("--text", metavar="FILE", type=existing_file, default=None, help="read the position as board text from FILE")
    parser.add_argument("--cache", type=output_folder, default=None, help="solver table folder (default $HEXZERO_CACHE or "
                                                      "~/.cache/hexzero/solver)")


def read_position(text: str, n: int | None):
    """(n, board int8[n*n], to_play) from a move list, a game record or board text."""
    from hexzero.records import is_record, parse_position

    if is_record(text):
        n, cells = parse_position(text, n)
        games = replay_moves(n, cells, swap=True)  # a record's swap is its first cell again
        if games.done[0]:
            raise HexError("the game is already over in this record")
        return n, games.board[0].copy(), int(games.to_play[0])
    if any(ch in text for ch in "XO.") or "\n" in text.strip():
        board, to_play = parse_board_text(text)
        size = int(round(np.sqrt(board.size)))
        if n is not None and n != size:
            raise HexError(f"--board {n} but the board text is {size}x{size}")
        return size, board, to_play
    if n is None:
        raise HexError("a move list needs --board N")
    games = replay_moves(n, text)
    if games.done[0]:
        raise HexError("the game is already over after these moves")
    return n, games.board[0].copy(), int(games.to_play[0])


def main(args) -> int:
    from hexzero.solver import Solver

    text = args.position
    if args.text is not None:
        if args.position:
            raise HexError("give either a position argument or --text FILE, not both")
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
    n, board, to_play = read_position(text, args.board)
    solver = Solver(n, args.cache)
    wins = solver.winning_moves(board, to_play)
    solver.save()  # the answer and the proofs found for it: asked again, it is read back
    mover = "black" if to_play == BLACK else "white"
    print(board_text(board, n))
    print(f"value: {'+1' if wins.size else '-1'} ({mover} to play {'wins' if wins.size else 'loses'} with best play)")
    print(f"winning moves: {' '.join(cell_name(c, n) for c in wins) if wins.size else 'none'}")
    return 0
