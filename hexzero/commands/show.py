"""`hexzero show`: a position from a move list, as text and optionally as a picture."""
from __future__ import annotations

from hexzero.commands.inputs import output_file, replay_moves
from hexzero.draw import draw_board
from hexzero.hex import BLACK, WHITE, board_text, moves_text

HELP = "print the board after a move list (cell names like 'c3'), whose turn, the winner; --png draws it"
COLOUR_NAMES = {BLACK: "black (X, top-bottom)", WHITE: "white (O, left-right)"}


def add_arguments(parser):
    parser.add_argument("moves", nargs="?", default="",
                        help='moves separated by spaces or commas, e.g. "a1 b2 c3", an SGF file, or a trmph link')
    parser.add_argument("--board", type=int, default=None, help="board size n (default 11, or the record's)")
    parser.add_argument("--swap", action="store_true", help="play with the swap (pie) rule")
    parser.add_argument("--png", metavar="PATH", type=output_file, help="also draw the position to PATH (.png, or .svg)")


def main(args) -> int:
    from hexzero.records import is_record, parse_position

    record = is_record(args.moves)
    # A record's swap-pieces is its first cell played again: the swap rule replays it.
    args.board, moves = parse_position(args.moves, args.board if args.board is not None or record else 11)
    games = replay_moves(args.board, moves, swap=args.swap or record)
    board, winner = games.board[0], int(games.winner[0])
    print(board_text(board, args.board))
    print(f"moves: {moves_text(moves, args.board) or '(none)'}")
    if winner:
        print(f"winner: {COLOUR_NAMES[winner]}")
    else:
        print(f"to play: {COLOUR_NAMES[int(games.to_play[0])]}")
    if args.png:
        title = f"{args.board}x{args.board}, " + (f"{COLOUR_NAMES[winner].split()[0]} won" if winner else
                                                   f"{COLOUR_NAMES[int(games.to_play[0])].split()[0]} to play")
        # With the swap rule the last stone may not sit on the last named cell.
        last = moves[-1] if moves and board[moves[-1]] else None
        draw_board(board, args.board, args.png, title=title, last_move=last)
        print(f"wrote {args.png}")
    return 0
