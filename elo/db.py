"""The tournament database (SQLite): agents, game results per batch, and the latest ratings.

Results are written one row per batch, in its own transaction, as each batch finishes; the
batch id is UNIQUE, so a batch is counted once however many times it is played (a resumed or a
concurrent tournament replays at most the batches that were in flight). A row holds agent A's
wins and games as black and as white against agent B (`MatchResult.counts()`). WAL mode, a
long busy_timeout and `BEGIN IMMEDIATE` transactions let several processes write at once
without losing anything.
"""
from __future__ import annotations

import json
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


COUNT_KEYS = ("a_wins_as_black", "a_games_as_black", "a_wins_as_white", "a_games_as_white")
AGENT_COLUMNS = "id, name, board, kind, spec, run, snapshot_index, compute, flops, params, nodes"


class TournamentDB:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: every write below opens its own BEGIN IMMEDIATE transaction
        self.conn = sqlite3.connect(self.path, timeout=120.0, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 120000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        old = [r[1] for r in self.conn.execute("PRAGMA table_info(results)")]
        if old and "agent_a" not in old:
            raise ValueError(f"{self.path} holds results in an older layout (one row per colour order); "
                             "rate into a new database")
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
        key = spec_key(spec)
        name = name or spec_name(spec)
        with self.transaction():
            row = self.conn.execute("SELECT id, board, name FROM agents WHERE spec = ?", (key,)).fetchone()
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
        return [AgentRow(r[0], r[1], r[2], r[3], json.loads(r[4]), *r[5:])
                for r in self.conn.execute(query + " ORDER BY id", args)]

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

    def save_ratings(self, ratings: Ratings, agent_ids: list[int]) -> None:
        now = time.time()
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO ratings (agent_id, elo, lower, upper, sd, games, anchor, method, fitted_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [(int(a), float(e), float(lo), float(hi), float(s), int(g), ratings.anchor, ratings.method, now)
                 for a, e, lo, hi, s, g in zip(agent_ids, ratings.elo, ratings.lower, ratings.upper, ratings.sd,
                                                ratings.games)])


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

