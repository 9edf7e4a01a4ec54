"""The tournament database (SQLite): agents, game results per batch, and the latest ratings.

Results are written one row per batch, in its own transaction, as each batch finishes; the
batch id is UNIQUE, so a batch is counted once however many times it is played (a resumed or a
concurrent tournament replays at most the batches that were in flight). A row holds agent A's
wins and games as black and as white against agent B (`MatchResult.counts()`). WAL mode, a
long busy_timeout and `BEGIN IMMEDIATE` transactions let several processes write at once
without losing anything.

Snapshot paths are stored relative to the database's folder when the snapshot lies under it
(a run folder holds its database), so a run folder copied or moved elsewhere rates again; they
are resolved to absolute paths on read. Paths outside the folder, and those of databases
written before this, are stored absolute and read as they are.

A database is opened for writing (created when missing) or, with `readonly=True`, read
without changing a byte of it. A file that is empty, not SQLite, or SQLite without the
tournament tables is refused with a `TournamentDBError` naming it, never turned into one.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from elo.ratings import Games, Ratings

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    board INTEGER NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL UNIQUE,          -- canonical JSON (hexzero.agents.spec_key)
    run TEXT,
    snapshot_index INTEGER,
    compute REAL,                       -- training compute (the paper's units)
    flops REAL,                         -- training FLOPs
    params INTEGER,                     -- network parameters
    nodes INTEGER                       -- test-time search nodes per move
);
CREATE TABLE IF NOT EXISTS results (
    batch_id TEXT NOT NULL UNIQUE,
    agent_a INTEGER NOT NULL REFERENCES agents(id),
    agent_b INTEGER NOT NULL REFERENCES agents(id),
    a_wins_as_black INTEGER NOT NULL,
    a_games_as_black INTEGER NOT NULL,
    a_wins_as_white INTEGER NOT NULL,
    a_games_as_white INTEGER NOT NULL,
    seed INTEGER,
    recorded_at REAL NOT NULL,
    CHECK (agent_a != agent_b),
    CHECK (0 <= a_wins_as_black AND a_wins_as_black <= a_games_as_black),
    CHECK (0 <= a_wins_as_white AND a_wins_as_white <= a_games_as_white)
);
CREATE TABLE IF NOT EXISTS ratings (
    agent_id INTEGER PRIMARY KEY REFERENCES agents(id),
    elo REAL NOT NULL,
    lower REAL NOT NULL,
    upper REAL NOT NULL,
    sd REAL NOT NULL,
    games INTEGER NOT NULL,
    anchor TEXT NOT NULL,
    method TEXT NOT NULL,
    fitted_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    board: int
    kind: str
    spec: dict
    run: str | None
    snapshot_index: int | None
    compute: float | None
    flops: float | None = None
    params: int | None = None
    nodes: int | None = None


@dataclass(frozen=True)
class StoredRating:
    """An agent's rating as last saved: by the tournament that played it, or an explicit refit."""
    elo: float
    lower: float
    upper: float
    sd: float
    games: int
    anchor: str
    method: str
    fitted_at: float


class TournamentDBError(ValueError):
    """A path that cannot be opened as a tournament database; the message names it."""


# Agents rated at several test-time node counts (experiments.pipeline's trade-off) form their
# own pool: their games never enter the ratings of the training-compute frontier.
TEST_TIME_PREFIX = "tt/"


def is_test_time(name: str) -> bool:
    return name.startswith(TEST_TIME_PREFIX)


COUNT_KEYS = ("a_wins_as_black", "a_games_as_black", "a_wins_as_white", "a_games_as_white")
AGENT_COLUMNS = "id, name, board, kind, spec, run, snapshot_index, compute, flops, params, nodes"


class TournamentDB:
    def __init__(self, path: str | os.PathLike, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self.folder = self.path.resolve().parent   # snapshot paths are stored relative to it
        if self.path.is_dir():
            raise TournamentDBError(f"{self.path} is a folder, not a tournament database file")
        if self.path.exists() and self.path.stat().st_size == 0:
            # SQLite would happily make an empty file a database: it is more likely a mistake.
            raise TournamentDBError(f"{self.path} is an empty file, not a tournament database")
        if readonly and not self.path.exists():
            raise TournamentDBError(f"no tournament database at {self.path}")
        if readonly:
            self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=120.0,
                                        isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: every write below opens its own BEGIN IMMEDIATE transaction
            self.conn = sqlite3.connect(self.path, timeout=120.0, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise TournamentDBError(f"{self.path} is not a tournament database (SQLite: {exc})") from None
        except BaseException:
            self.conn.close()
            raise

    def _open(self) -> None:
        self.conn.execute("PRAGMA busy_timeout = 120000")
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "agents" not in tables:
            raise TournamentDBError(f"{self.path} is an SQLite database but not a tournament database "
                                    f"(no agents table; it has {', '.join(sorted(tables))})")
        old = [r[1] for r in self.conn.execute("PRAGMA table_info(results)")]
        if old and "agent_a" not in old:
            raise TournamentDBError(f"{self.path} holds results in an older layout (one row per colour order); "
                                    "rate into a new database")
        if self.readonly:
            if not tables:
                raise TournamentDBError(f"{self.path} is an SQLite database without tournament tables")
            return
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def transaction(self):
        return _Transaction(self.conn)

    # ------------------------------------------------------------------ agents

    def add_agent(self, spec: dict, board: int, name: str | None = None, run: str | None = None,
                  compute: float | None = None, snapshot_index: int | None = None, flops: float | None = None,
                  params: int | None = None) -> int:
        """Register an agent (idempotent for the same spec) and return its id. Its test-time
        nodes are the spec's `nodes`."""
        from hexzero.agents import spec_key, spec_name

        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError(f"agent spec must be a dict with a 'kind', got {spec!r}")
        if "n" in spec and spec["n"] != board:
            raise ValueError(f"agent spec {spec} plays {spec['n']}x{spec['n']}, not board {board}")
        name = name or spec_name(spec)
        stored = self._stored_spec(spec)
        key = spec_key(stored)
        # A database written before paths were stored relative holds the absolute form.
        legacy = spec_key(self._absolute_spec(stored))
        with self.transaction():
            row = self.conn.execute("SELECT id, board, name FROM agents WHERE spec IN (?, ?)", (key, legacy)).fetchone()
            if row is not None:
                if row[1] != board:
                    raise ValueError(f"agent {row[2]} is registered for board {row[1]}, not {board}")
                return int(row[0])
            clash = self.conn.execute("SELECT spec FROM agents WHERE name = ?", (name,)).fetchone()
            if clash is not None:
                raise ValueError(f"agent name {name!r} is already taken by another spec {clash[0]}")
            cur = self.conn.execute(
                f"INSERT INTO agents ({AGENT_COLUMNS.removeprefix('id, ')}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (name, int(board), spec["kind"], key, run, snapshot_index, compute, flops, params, spec.get("nodes")))
            return int(cur.lastrowid)

    def agents(self, board: int | None = None) -> list[AgentRow]:
        query, args = f"SELECT {AGENT_COLUMNS} FROM agents", ()
        if board is not None:
            query, args = query + " WHERE board = ?", (board,)
        return [AgentRow(r[0], r[1], r[2], r[3], self._absolute_spec(json.loads(r[4])), *r[5:])
                for r in self.conn.execute(query + " ORDER BY id", args)]

    def _stored_spec(self, spec: dict) -> dict:
        """The spec as stored: a snapshot's path relative to the database's folder when the
        snapshot lies under it, else absolute (a relative path given is read from the cwd);
        nested agent specs (a perfect agent's guide, "lost") likewise."""
        spec = self._nested(spec, self._stored_spec)
        if spec.get("kind") != "snapshot" or "path" not in spec:
            return spec
        path = Path(spec["path"]).resolve()
        try:
            return {**spec, "path": path.relative_to(self.folder).as_posix()}
        except ValueError:
            return {**spec, "path": str(path)}

    def _absolute_spec(self, spec: dict) -> dict:
        """The spec as agents are built from it: a stored relative path joined to the folder."""
        spec = self._nested(spec, self._absolute_spec)
        if spec.get("kind") != "snapshot" or "path" not in spec:
            return spec
        return {**spec, "path": str(self.folder / spec["path"])}

    @staticmethod
    def _nested(spec: dict, convert) -> dict:
        return {**spec, "lost": convert(spec["lost"])} if isinstance(spec.get("lost"), dict) else spec

    def agent(self, who: int | str) -> AgentRow:
        """An agent by id or name; ValueError naming it when it is not registered."""
        for row in self.agents():
            if row.id == who or row.name == who:
                return row
        raise ValueError(f"unknown agent {who!r}: not in {self.path}")

    # ------------------------------------------------------------------ results

    def record_batch(self, batch_id: str, a: int, b: int, counts: dict, seed: int | None = None) -> bool:
        """Record a finished batch of A (id a) against B (id b) from `MatchResult.counts()`, in
        one transaction. False when the batch was already there (for the same two agents; a
        batch id recorded for another pair is a ValueError)."""
        if a == b:
            raise ValueError(f"batch {batch_id}: an agent cannot play itself (agent {a})")
        values = [int(counts[k]) for k in COUNT_KEYS]
        with self.transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO results (batch_id, agent_a, agent_b, a_wins_as_black, a_games_as_black, "
                "a_wins_as_white, a_games_as_white, seed, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (batch_id, a, b, *values, seed, time.time()))
            if cur.rowcount == 0:
                pair = self.conn.execute("SELECT agent_a, agent_b FROM results WHERE batch_id = ?", (batch_id,)).fetchone()
                if tuple(pair) != (a, b):
                    raise ValueError(f"batch {batch_id} is recorded for agents {tuple(pair)}, not ({a}, {b})")
        return cur.rowcount > 0

    def games(self, agent_ids: list[int]) -> tuple[Games, set[str]]:
        """Results among `agent_ids` (rows index into that list), one Games row per colour
        order, and the ids of their batches."""
        index = {int(a): k for k, a in enumerate(agent_ids)}
        rows = [r for r in self.conn.execute(f"SELECT batch_id, agent_a, agent_b, {', '.join(COUNT_KEYS)} FROM results")
                if r[1] in index and r[2] in index]
        games = Games.from_rows(row for _, a, b, wb, gb, ww, gw in rows
                                for row in ((index[a], index[b], wb, gb), (index[b], index[a], gw - ww, gw)))
        return games, {r[0] for r in rows}

    def result_count(self) -> tuple[int, int]:
        """(batches, games) in the results table."""
        batches, games = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(a_games_as_black + a_games_as_white), 0) FROM results").fetchone()
        return int(batches), int(games)

    # ------------------------------------------------------------------ ratings

    def save_ratings(self, ratings: Ratings, agent_ids: list[int], only: list[int] | None = None) -> None:
        """Store a pool's fit (`agent_ids[k]` is `ratings`' agent k); `only`: the indices k to
        store, when some of the pool's agents keep the ratings of another pool."""
        now = time.time()
        keep = range(len(agent_ids)) if only is None else only
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO ratings (agent_id, elo, lower, upper, sd, games, anchor, method, fitted_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [(int(agent_ids[k]), float(ratings.elo[k]), float(ratings.lower[k]), float(ratings.upper[k]),
                  float(ratings.sd[k]), int(ratings.games[k]), ratings.anchor, ratings.method, now) for k in keep])


    def stored_ratings(self, agent_ids: list[int]) -> dict[int, StoredRating]:
        """The last saved rating of each of `agent_ids` that has one."""
        wanted = {int(a) for a in agent_ids}
        return {r[0]: StoredRating(*r[1:]) for r in self.conn.execute(
            "SELECT agent_id, elo, lower, upper, sd, games, anchor, method, fitted_at FROM ratings")
            if r[0] in wanted}


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): takes the write lock up front so two
    writers queue on busy_timeout instead of failing on a lock upgrade."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False

