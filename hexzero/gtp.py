"""A GTP engine in the dialect HexGui and Benzene (MoHex) speak, around any hexzero agent.

`GtpEngine.handle(line)` answers one command line and is testable in-process; `serve` runs
it on a pair of streams (`hexzero gtp` on stdin/stdout). Replies are `= answer` or `? error`,
with the command's numeric id echoed (`=7 c3`), each followed by a blank line. Cells are named
as HexGui names them (`a1` top-left, column letter, row number); black moves first and joins
top to bottom. An illegal or malformed command gets `?` and changes nothing; no input makes
the engine crash: anything unexpected inside a command becomes `? internal error: ...`.

State: the stones, whose turn it is, the winner, and a history for `undo`. `play` takes
either colour at any time (HexGui and setup scripts place stones that way); the other colour
is to move after it. `swap-pieces` is accepted as white's reply to black's first stone (the
stone moves to its mirror cell as a white stone, black moves next, DESIGN.md's swap rule);
`resign` ends the game for the colour that plays it. Agents never swap or resign: genmove
always answers a cell.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from hexzero.hex import BLACK, EMPTY, WHITE, HexError, board_text, cell_name, check_size, parse_cell, winning_move
from hexzero.records import RESIGN, SWAP_PIECES, parse_sgf

PROTOCOL_VERSION = "2"
COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}
COLOUR_NAME = {BLACK: "black", WHITE: "white"}
SCORE = {BLACK: "B+", WHITE: "W+"}


class GtpError(Exception):
    """A command that fails: the message becomes the `?` reply."""


@dataclass
class _Snapshot:
    board: np.ndarray
    to_play: int
    winner: int


class GtpEngine:
    """agent_for(n) -> an Agent for n x n boards, or ValueError when the agent cannot play
    that size (boardsize answers `?` with its message). n: the starting board size."""

    def __init__(self, agent_for: Callable[[int], object], n: int, name: str = "hexzero", version: str | None = None,
                 seed: int = 0):
        from hexzero import __version__

        self._agent_for = agent_for
        self.engine_name = name
        self.engine_version = version or __version__
        self.rng = np.random.default_rng(seed)
        self.agent = agent_for(check_size(n))
        self.n = int(n)
        self.quit = False
        self.commands = {
            "protocol_version": self._constant("protocol_version", lambda: PROTOCOL_VERSION),
            "name": self._constant("name", lambda: self.engine_name),
            "version": self._constant("version", lambda: self.engine_version),
            "known_command": self.cmd_known_command,
            "list_commands": self._constant("list_commands", lambda: "\n".join(self.commands)),
            "boardsize": self.cmd_boardsize,
            "clear_board": self.cmd_clear_board,
            "play": self.cmd_play,
            "genmove": lambda args: self.cmd_genmove(args, commit=True),
            "reg_genmove": lambda args: self.cmd_genmove(args, commit=False),
            "undo": self.cmd_undo,
            "showboard": self.cmd_showboard,
            "final_score": self.cmd_final_score,
            "all_legal_moves": self.cmd_all_legal_moves,
            "loadsgf": self.cmd_loadsgf,
            # HexGui asks for the engine's extra analysis commands; it has none.
            "hexgui-analyze_commands": self._constant("hexgui-analyze_commands", lambda: ""),
            "quit": self.cmd_quit,
        }
        self.clear()

    # ------------------------------------------------------------------ state

    def clear(self) -> None:
        self.board = np.zeros(self.n * self.n, dtype=np.int8)
        self.to_play = BLACK
        self.winner = 0
        self.history: list[tuple[int, object, _Snapshot]] = []   # (colour, move, state before it)

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(self.board.copy(), self.to_play, self.winner)

    def play(self, colour: int, move) -> None:
        """Play a cell index, SWAP_PIECES or RESIGN for `colour`; GtpError (state unchanged)
        when it is not legal here."""
        before = self._snapshot()
        if self.winner:
            raise GtpError(f"the game is over ({COLOUR_NAME[self.winner]} won)")
        if move == RESIGN:
            self.winner = BLACK + WHITE - colour
        elif move == SWAP_PIECES:
            stones = np.flatnonzero(self.board != EMPTY)
            if not (colour == WHITE and len(self.history) == 1 and stones.size == 1 and self.board[stones[0]] == BLACK):
                raise GtpError("swap-pieces is only legal as white's reply to black's first stone")
            r, c = divmod(int(stones[0]), self.n)
            self.board[stones[0]] = EMPTY
            self.board[c * self.n + r] = WHITE
            self.to_play = BLACK
        else:
            if self.board[move] != EMPTY:
                raise GtpError(f"cell {cell_name(move, self.n)} is occupied")
            self.board[move] = colour
            if winning_move(self.board, self.n, int(move), colour):
                self.winner = colour
            self.to_play = BLACK + WHITE - colour
        self.history.append((colour, move, before))

    # ------------------------------------------------------------------ parsing

    def _colour(self, token: str) -> int:
        colour = COLOURS.get(token.lower())
        if colour is None:
            raise GtpError(f"invalid color {token!r}: expected b, black, w or white")
        return colour

    def _move(self, token: str):
        name = token.lower()
        if name in (SWAP_PIECES, RESIGN):
            return name
        try:
            return parse_cell(name, self.n)
        except HexError as exc:
            raise GtpError(f"invalid move: {exc}") from None

    @staticmethod
    def _nargs(args: list[str], low: int, high: int, usage: str) -> None:
        if not low <= len(args) <= high:
            raise GtpError(f"wrong number of arguments: expected {usage}")

    # ------------------------------------------------------------------ commands

    def _constant(self, name: str, answer: Callable[[], str]):
        """A command without arguments."""
        def command(args):
            self._nargs(args, 0, 0, name)
            return answer()
        return command

    def cmd_known_command(self, args):
        self._nargs(args, 1, 1, "known_command COMMAND")
        return "true" if args[0] in self.commands else "false"

    def cmd_boardsize(self, args):
        self._nargs(args, 1, 2, "boardsize N or boardsize N N")
        if not all(a.isdigit() for a in args):
            raise GtpError(f"boardsize wants numbers, got {' '.join(args)!r}")
        sizes = [int(a) for a in args]
        if len(sizes) == 2 and sizes[0] != sizes[1]:
            raise GtpError(f"unacceptable size {sizes[0]}x{sizes[1]}: only square boards are supported")
        n = sizes[0]
        try:
            agent = self.agent if n == self.n else self._agent_for(check_size(n))
        except (ValueError, OSError) as exc:
            raise GtpError(f"unacceptable size {n}x{n}: {exc}") from None
        self.agent, self.n = agent, n
        self.clear()
        return ""

    def cmd_clear_board(self, args):
        self._nargs(args, 0, 0, "clear_board")
        self.clear()
        return ""

    def cmd_play(self, args):
        self._nargs(args, 2, 2, "play COLOR MOVE")
        self.play(self._colour(args[0]), self._move(args[1]))
        return ""

    def cmd_genmove(self, args, commit: bool):
        self._nargs(args, 1, 1, "genmove COLOR")
        colour = self._colour(args[0])
        if self.winner:
            raise GtpError(f"the game is over ({COLOUR_NAME[self.winner]} won)")
        move = int(np.asarray(self.agent.act(self.board[None].copy(), np.array([colour], dtype=np.int8),
                                             self.rng)).reshape(-1)[0])
        if not (0 <= move < self.n * self.n and self.board[move] == EMPTY):
            raise GtpError(f"the agent chose an illegal move ({move})")
        if commit:
            self.play(colour, move)
        return cell_name(move, self.n)

    def cmd_undo(self, args):
        self._nargs(args, 0, 0, "undo")
        if not self.history:
            raise GtpError("cannot undo: no moves played")
        _, _, before = self.history.pop()
        self.board, self.to_play, self.winner = before.board, before.to_play, before.winner
        return ""

    def cmd_showboard(self, args):
        self._nargs(args, 0, 0, "showboard")
        status = f"{COLOUR_NAME[self.winner]} won" if self.winner else f"{COLOUR_NAME[self.to_play]} to play"
        return f"\n{board_text(self.board, self.n)}\n{self.n}x{self.n}, {status}"

    def cmd_final_score(self, args):
        self._nargs(args, 0, 0, "final_score")
        if not self.winner:
            raise GtpError("the game is not over")
        return SCORE[self.winner]

    def cmd_all_legal_moves(self, args):
        self._nargs(args, 0, 0, "all_legal_moves")
        if self.winner:
            return ""
        moves = [cell_name(c, self.n) for c in np.flatnonzero(self.board == EMPTY)]
        if len(self.history) == 1 and self.history[0][0] == BLACK and isinstance(self.history[0][1], int):
            moves.append(SWAP_PIECES)
        return " ".join(moves)

    def cmd_loadsgf(self, args):
        """loadsgf FILE [K]: the game of an SGF file, up to (not including) its move K."""
        self._nargs(args, 1, 2, "loadsgf FILE [MOVE_NUMBER]")
        if len(args) == 2 and not args[1].isdigit():
            raise GtpError(f"move number must be a number, got {args[1]!r}")
        try:
            with open(args[0], encoding="utf-8", errors="replace") as f:
                record = parse_sgf(f.read())
            record.cells()  # every move legal, else HexError naming it
        except (OSError, HexError) as exc:
            raise GtpError(f"cannot load {args[0]}: {exc}") from None
        moves = record.moves[:int(args[1]) - 1] if len(args) == 2 else record.moves
        saved = (self.n, self.agent, self.board, self.to_play, self.winner, self.history)
        try:
            self.cmd_boardsize([str(record.n)])
            for colour, cell in _setup_moves(record):
                self.play(colour, cell)
            for colour, move in moves:
                if move not in ("swap-sides", "forfeit"):
                    self.play(colour, move)
                elif move == "forfeit":
                    self.play(colour, RESIGN)
        except GtpError:
            self.n, self.agent, self.board, self.to_play, self.winner, self.history = saved
            raise
        return ""

    def cmd_quit(self, args):
        self.quit = True
        return ""

    # ------------------------------------------------------------------ protocol

    def handle(self, line: str) -> str | None:
        """The full reply to one input line (ending in a blank line), or None for a line GTP
        says to ignore (empty, or a comment)."""
        # GTP preprocessing: drop control characters but tab and newline, tabs to spaces,
        # comments from '#'.
        line = "".join(ch for ch in line if ch in "\t\n" or ord(ch) >= 32 and ord(ch) != 127)
        line = line.replace("\t", " ").split("#", 1)[0].strip()
        if not line:
            return None
        tokens = line.split()
        ident = ""
        if tokens[0].isdigit():
            ident = tokens.pop(0)
            if not tokens:
                return f"?{ident} missing command\n\n"
        name, args = tokens[0], tokens[1:]
        handler = self.commands.get(name)
        if handler is None:
            return f"?{ident} unknown command: {name}\n\n"
        try:
            answer = handler(args)
            mark = "="
        except GtpError as exc:
            answer, mark = str(exc), "?"
        except Exception as exc:  # an agent's failure must not end the session
            answer, mark = f"internal error: {type(exc).__name__}: {exc}".replace("\n", " "), "?"
        answer = re.sub(r"\n\s*\n", "\n", answer).rstrip() if answer else ""  # a blank line ends a reply
        return f"{mark}{ident} {answer}\n\n" if answer else f"{mark}{ident}\n\n"


def _setup_moves(record):
    """Setup stones (AB/AW) as plays, alternating where they can."""
    from hexzero.records import interleave_setup

    cells = interleave_setup(record.setup_black, record.setup_white, record.n)
    return [(BLACK if k % 2 == 0 else WHITE, c) for k, c in enumerate(cells)]


def serve(engine: GtpEngine, stdin=None, stdout=None) -> int:
    """Answer commands from `stdin` (a binary or text stream) on `stdout` until quit or end
    of input. Undecodable bytes are replaced, never fatal."""
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    for raw in iter(stdin.readline, b"" if not hasattr(stdin, "encoding") else ""):
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        reply = engine.handle(line)
        if reply is not None:
            stdout.write(reply)
            stdout.flush()
        if engine.quit:
            break
    return 0
