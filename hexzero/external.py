"""External engines as agents: `GtpAgent` plays through GTP with a program such as MoHex,
KataHex or `hexzero gtp`, so tournaments can rate against them. Spec:

    {"kind": "gtp", "n": 11, "command": ["mohex", "--seed", "1"], "timeout": 30,
     "setup": ["param_mohex max_games 1000"], "name": "mohex-1k"}

One engine process per agent object (tournaments build one agent per spec per Ray worker
process). For each position the agent asks for, it brings the engine's board to that
position (only the new stones when the engine's board is part of it, else `clear_board` and
every stone again, written in one go) and asks `genmove` for the side to move.

Failures: a move that takes longer than `timeout` seconds, an engine that exits, or a reply
that is not a legal cell make the agent kill the engine, start a fresh one, set the position
up again and ask again: the game goes on from the very position where it broke (the
position is all a Hex engine needs), so nothing is discarded and a deterministic engine
plays the game it would have played. Restarts are counted (`restarts`). An engine that fails
`retries + 1` times in a row on one move raises EngineError, which names the engine, the
position and the engine's last words on stderr; a tournament then stops with that message,
its database holding exactly the batches that finished. An engine that resigns has lost in
its own judgement; the match code has no resignation, so the agent then plays a uniformly
random legal move instead (and counts `resignations`): configure engines not to resign
when that matters.
"""
from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time
import weakref

import numpy as np

from hexzero.hex import BLACK, EMPTY, WHITE, HexError, cell_name, check_size, parse_cell

DEFAULT_TIMEOUT = 30.0        # seconds per move
START_TIMEOUT = 120.0         # seconds for a fresh engine to answer its first command (loading a network)
DEFAULT_RETRIES = 2


class EngineError(ValueError):
    """An external engine that keeps failing. A ValueError so that the command line reports it
    in one line (the user's engine, like the user's input, is what needs fixing)."""


class _EngineFailure(Exception):
    """One failure of the engine process (crash, hang, garbage): the agent restarts it."""


class GtpProcess:
    """One engine subprocess speaking GTP; `ask(commands, timeout)` writes the commands at once
    and reads one reply per command. stderr goes to a temporary file (an engine that logs a lot
    must never block on a full pipe); its tail explains failures."""

    def __init__(self, command: list[str], cwd=None, env=None):
        self.command = list(command)
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, cwd=cwd, env=env, bufsize=0)
        except OSError as exc:
            self._stderr.close()
            raise EngineError(f"cannot start engine {' '.join(self.command)!r}: {exc}") from None
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._finalizer = weakref.finalize(self, _kill, self.proc, self._stderr)

    def ask(self, commands: list[str], timeout: float) -> list[str]:
        """Replies (without the `=`) to `commands`; _EngineFailure on `?`, exit, or timeout."""
        try:
            self.proc.stdin.write("".join(c + "\n" for c in commands).encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _EngineFailure(f"engine stopped reading commands ({exc})") from None
        deadline = time.monotonic() + timeout
        replies = []
        for command in commands:
            text = self._read_reply(deadline, command, timeout)
            if not text.startswith("="):
                raise _EngineFailure(f"engine refused {command!r}: {text.strip()!r}")
            replies.append(text[1:].strip())
        return replies

    def _read_reply(self, deadline: float, command: str, timeout: float) -> str:
        while True:
            # A reply ends at its first blank line.
            end = self._buffer.find(b"\n\n")
            if end >= 0:
                reply, self._buffer = self._buffer[:end], self._buffer[end + 2:]
                text = reply.decode("utf-8", errors="replace").replace("\r", "")
                if text.strip():
                    return text.lstrip()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _EngineFailure(f"no reply to {command!r} within {timeout:g} s")
            if not self._selector.select(remaining):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                code = self.proc.wait(timeout=5)
                raise _EngineFailure(f"engine exited (status {code}) before answering {command!r}")
            self._buffer += chunk.replace(b"\r\n", b"\n")

    def stderr_tail(self, chars: int = 300) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - chars))
            return self._stderr.read().decode("utf-8", errors="replace").strip().replace("\n", " | ")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._selector.close()
        self._finalizer()


def _kill(proc: subprocess.Popen, stderr) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    stderr.close()


class GtpAgent:
    """An Agent (DESIGN.md) played by an external GTP engine (module docstring)."""

    def __init__(self, command, n: int, timeout: float = DEFAULT_TIMEOUT, setup=(), name: str | None = None,
                 retries: int = DEFAULT_RETRIES, start_timeout: float = START_TIMEOUT, cwd=None, env=None):
        if isinstance(command, str) or not command or not all(isinstance(c, str) for c in command):
            raise ValueError(f"a GTP engine command must be a non-empty list of strings, got {command!r}")
        if not float(timeout) > 0:
            raise ValueError(f"GTP move timeout must be > 0 seconds, got {timeout!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"GTP retries must be an integer >= 0, got {retries!r}")
        self.n = check_size(n)
        self.command = list(command)
        self.timeout = float(timeout)
        self.start_timeout = float(start_timeout)
        self.setup = list(setup)
        self.retries = retries
        self.name = name or f"gtp:{os.path.basename(self.command[0])}"
        self.cwd, self.env = cwd, env
        self.restarts = 0
        self.resignations = 0
        self.engine_name = None
        self._process: GtpProcess | None = None
        self._engine_board: np.ndarray | None = None   # the engine's board, when known

    # ------------------------------------------------------------------ engine lifecycle

    def _start(self) -> GtpProcess:
        process = GtpProcess(self.command, self.cwd, self.env)
        try:
            replies = process.ask(["name", f"boardsize {self.n} {self.n}", "clear_board", *self.setup],
                                  self.start_timeout)
        except _EngineFailure as exc:
            tail = process.stderr_tail()
            process.close()
            raise _EngineFailure(f"{exc} on start" + (f" (stderr: {tail})" if tail else "")) from None
        self.engine_name = replies[0]
        self._process = process
        self._engine_board = np.zeros(self.n * self.n, dtype=np.int8)
        return process

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None

    # ------------------------------------------------------------------ moves

    def _setup_commands(self, board: np.ndarray) -> list[str]:
        """Commands that bring the engine's board to `board`."""
        known = self._engine_board
        if known is not None and np.all((known == EMPTY) | (known == board)):
            new = np.flatnonzero((known == EMPTY) & (board != EMPTY))
            commands = []
        else:
            new = np.flatnonzero(board != EMPTY)
            commands = ["clear_board"]
        # Black and white stones alternately: a legal move order for any reachable position.
        blacks = [c for c in new if board[c] == BLACK]
        whites = [c for c in new if board[c] == WHITE]
        for k in range(max(len(blacks), len(whites))):
            for colour, stones in (("b", blacks), ("w", whites)):
                if k < len(stones):
                    commands.append(f"play {colour} {cell_name(stones[k], self.n)}")
        return commands

    def _ask_move(self, board: np.ndarray, colour: int) -> str:
        process = self._process or self._start()
        commands = self._setup_commands(board)
        self._engine_board = None   # unknown until the engine has answered everything
        replies = process.ask([*commands, f"genmove {'b' if colour == BLACK else 'w'}"], self.timeout)
        return replies[-1]

    def move(self, board: np.ndarray, colour: int, rng: np.random.Generator) -> int:
        """The engine's move in one position, restarting it on failure (module docstring)."""
        board = np.asarray(board, dtype=np.int8)
        failures = []
        for _ in range(self.retries + 1):
            try:
                reply = self._ask_move(board, colour).lower()
                if reply == "resign":
                    self.resignations += 1
                    self._engine_board = board.copy()     # the engine played nothing
                    return int(rng.choice(np.flatnonzero(board == EMPTY)))
                try:
                    cell = parse_cell(reply, self.n)
                except HexError:
                    raise _EngineFailure(f"genmove answered {reply!r}, not a cell of the {self.n}x{self.n} board") from None
                if board[cell] != EMPTY:
                    raise _EngineFailure(f"genmove answered the occupied cell {reply}")
                self._engine_board = board.copy()
                self._engine_board[cell] = colour
                return cell
            except _EngineFailure as exc:
                tail = self._process.stderr_tail() if self._process is not None else ""
                failures.append(f"{exc}" + (f" (stderr: {tail})" if tail else ""))
                self.close()
                self.restarts += 1
        stones = " ".join(f"{'b' if board[c] == BLACK else 'w'}:{cell_name(c, self.n)}"
                          for c in np.flatnonzero(board != EMPTY))
        raise EngineError(f"engine {self.name} ({' '.join(self.command)}) failed {len(failures)} times in a row "
                          f"choosing {'black' if colour == BLACK else 'white'}'s move on {self.n}x{self.n} "
                          f"[{stones or 'empty board'}]: {failures[-1]}")

    def act(self, board, to_play, rng) -> np.ndarray:
        board = np.asarray(board, dtype=np.int8)
        return np.array([self.move(board[k], int(to_play[k]), rng) for k in range(board.shape[0])], dtype=np.int64)


def gtp_agent_from_spec(spec: dict) -> GtpAgent:
    """A GtpAgent from {"kind": "gtp", "n", "command", "timeout"?, "setup"?, "name"?, "retries"?}."""
    unknown = set(spec) - {"kind", "n", "command", "timeout", "setup", "name", "retries", "tag"}
    if unknown:
        raise ValueError(f"unknown keys in a gtp agent spec: {', '.join(sorted(unknown))}")
    if "command" not in spec or "n" not in spec:
        raise ValueError(f"a gtp agent spec needs 'command' (a list of strings) and 'n' (the board size), got {spec}")
    return GtpAgent(spec["command"], spec["n"], timeout=spec.get("timeout", DEFAULT_TIMEOUT),
                    setup=spec.get("setup", ()), name=spec.get("name"), retries=spec.get("retries", DEFAULT_RETRIES))
