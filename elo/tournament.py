"""Tournaments: play the batches a scheduler asks for as Ray tasks, record each batch in the
database as it finishes, refit, and ask again until the scheduler says stop.

Everything the loop needs is read back from the database each time, so a tournament killed at
any moment resumes where it stopped: finished batches are not replayed, batches that were in
flight are played again under the same id and seed, and the unique key on (batch, colour
order) keeps any batch from counting twice. A batch lost with its node is played again the
same way, elsewhere.

Batches run on any node of the cluster: snapshot files are read here once and sent through
Ray's object store, and each node keeps them in its scratch folder (hexzero.cluster).
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from elo.db import AgentRow, TournamentDB
from elo.ratings import Ratings, fit_ratings
from elo.schedule import Adaptive, RoundRobin, Scheduler, VersusTop

SCHEMES = ("adaptive", "round-robin", "top")


@functools.lru_cache(maxsize=16)
def _cached_agent(spec_key: str):
    """Agents are rebuilt inside each Ray worker process once per spec: loading a snapshot
    costs more than a batch of small-board games."""
    from hexzero.agents import make_agent

    return make_agent(json.loads(spec_key))


def play_batch(spec_a: dict, spec_b: dict, games: int, seed: int, files: dict | None = None,
               keep_moves: bool = False) -> dict:
    """Play one batch between two agent specs; A has black in the first half. Returns the
    counts of `MatchResult.counts()`, the seconds the games took, the restarts of external
    engines (hexzero.external) during the batch, and with keep_moves the games' moves and
    colours (for game records). files: for snapshot agents, {path in the spec: (sha256,
    ObjectRef of its bytes)}, read on this node from its scratch copy instead (see
    ship_snapshots)."""
    from hexzero.arena import play_match

    agent_a = _cached_agent(json.dumps(_on_this_node(spec_a, files or {}), sort_keys=True))
    agent_b = _cached_agent(json.dumps(_on_this_node(spec_b, files or {}), sort_keys=True))
    restarts = getattr(agent_a, "restarts", 0) + getattr(agent_b, "restarts", 0)
    start = time.perf_counter()
    result = play_match(agent_a, agent_b, games, seed=seed)
    out = {**result.counts(), "seconds": time.perf_counter() - start,
           "engine_restarts": getattr(agent_a, "restarts", 0) + getattr(agent_b, "restarts", 0) - restarts}
    if keep_moves:
        out.update(moves=result.moves.tolist(), a_black=result.a_black.tolist())
    return out


def batch_seed(tournament_seed: int, batch_id: str) -> int:
    """The seed of a batch: a function of its id, so a replayed batch replays the same games."""
    digest = hashlib.sha256(f"{tournament_seed}:{batch_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def ship_snapshots(ray, specs: list[dict], shipped: dict) -> dict:
    """The snapshot files these specs name, put into the object store on first use and kept in
    `shipped`: {path: (sha256, ref)}. A node fetches each file once, when it first plays that
    agent."""
    files = {}
    for spec in specs:
        if spec.get("kind") != "snapshot":
            continue
        path = spec["path"]
        if path not in shipped:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise ValueError(f"snapshot {path} cannot be read: {exc.strerror}") from None
            shipped[path] = (hashlib.sha256(data).hexdigest(), ray.put(data))
        files[path] = shipped[path]
    return files


def _on_this_node(spec: dict, files: dict) -> dict:
    """The spec with its snapshot path replaced by this node's scratch copy (written once)."""
    if spec.get("kind") != "snapshot" or spec["path"] not in files:
        return spec
    import ray

    from hexzero.cluster import scratch_root
    from hexzero.storage import atomic_write_bytes

    digest, ref = files[spec["path"]]
    local = scratch_root() / "snapshots" / f"{digest}.pt"
    if not local.is_file():
        atomic_write_bytes(local, ray.get(ref))
    return {**spec, "path": str(local)}


def check_pool(rows: list[AgentRow]) -> int:
    """The board size of a pool, or ValueError for an empty pool or mixed board sizes."""
    if not rows:
        raise ValueError("empty pool: a tournament needs agents")
    boards = sorted({r.board for r in rows})
    if len(boards) > 1:
        by_board = {b: [r.name for r in rows if r.board == b][:3] for b in boards}
        raise ValueError(f"agents of different board sizes in one pool: {by_board}")
    return boards[0]


def perfect_index(rows: list[AgentRow]) -> int | None:
    return next((k for k, r in enumerate(rows) if r.kind == "perfect"), None)


def make_scheduler(scheme: str, rows: list[AgentRow], games: int, rounds: int, target_width: float | None,
                   max_games: int | None, pairs_per_wave: int | None = None) -> Scheduler:
    ids = [r.id for r in rows]
    if scheme == "round-robin":
        return RoundRobin(ids, games, rounds=rounds, target_width=target_width, max_games=max_games)
    if scheme == "top":
        return VersusTop(ids, games, rounds=rounds, target_width=target_width, max_games=max_games,
                         perfect=perfect_index(rows))
    if scheme == "adaptive":
        return Adaptive(ids, games, target_width=target_width, max_games=max_games, pairs_per_wave=pairs_per_wave)
    raise ValueError(f"unknown scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")


def fit_pool(db: TournamentDB, rows: list[AgentRow], colours: str = "average",
             anchor: str | None = None) -> tuple[Ratings, set[str]]:
    """Fit the pool's ratings; anchor: an agent name to put at 0 Elo (default the perfect agent,
    else the strongest), e.g. an external reference engine."""
    games, played = db.games([r.id for r in rows])
    return fit_ratings([r.name for r in rows], games, perfect=perfect_index(rows), anchor=anchor,
                       colours=colours), played


@dataclass
class TournamentReport:
    ratings: Ratings
    games_played: int       # games played by this call (recorded ones only)
    batches_played: int
    seconds: float
    game_seconds: float     # time inside play_match, summed over tasks
    engine_restarts: int = 0  # external engines restarted after a crash or hang (the games went on)
    batches_replayed: int = 0  # batches played again because their node was lost


def run_tournament(db: TournamentDB, agents: list, *, scheme: str = "adaptive", games: int = 16, rounds: int = 1,
                   target_width: float | None = None, max_games: int | None = None, seed: int = 0,
                   max_in_flight: int | None = None, pairs_per_wave: int | None = None, progress=None,
                   ray_address: str | None = None, colours: str = "average", save_games=None) -> TournamentReport:
    """Play a tournament among `agents` (ids or names in `db`) until the scheme stops.

    Stop rules (elo.schedule): the scheme's own end, `target_width` (Elo, every agent's 95%
    interval) and `max_games` (games recorded among the pool, this call's and earlier ones).
    Batch seeds are functions of (seed, batch id), so a resumed tournament plays the games it
    would have played. progress: a tqdm-like object (update(n), set_postfix_str) counting the
    pool's recorded games, or None; colours: how ratings treat the first-move advantage
    (elo.ratings.fit_ratings); save_games: a folder to keep every game of the batches this call
    records, as SGF files (hexzero.records.write_batch_games).

    A batch that fails (an external engine that keeps crashing, hexzero.external) stops the
    tournament with a ValueError naming the batch; batches in flight are cancelled and nothing
    of them is recorded, so the same call later resumes as after a kill. max_in_flight:
    batches submitted at once (default: two per CPU of the cluster, so every node stays busy). A batch lost with its node (hexzero.cluster) is
    submitted again, same id and seed, up to MAX_NODE_LOSSES times."""
    from hexzero.cluster import MAX_NODE_LOSSES, ensure_ray, lost_node_errors

    rows = [db.agent(a) for a in agents]
    board = check_pool(rows)
    if len({r.id for r in rows}) != len(rows):
        raise ValueError("an agent appears twice in the pool")
    scheduler = make_scheduler(scheme, rows, games, rounds, target_width, max_games, pairs_per_wave)
    ray = ensure_ray(ray_address)
    if max_in_flight is None:
        max_in_flight = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    # Ray does not retry: a lost batch comes back here as an error and is resubmitted below.
    remote_play = ray.remote(play_batch).options(max_retries=0, scheduling_strategy="SPREAD")
    shipped: dict = {}
    lost = lost_node_errors()
    start = time.perf_counter()
    played_games = played_batches = replayed = 0
    game_seconds = 0.0
    engine_restarts = 0
    ratings, played = fit_pool(db, rows, colours)
    if progress is not None:
        progress.update(int(ratings.games.sum()) // 2)    # resumed: what is already recorded
    while True:
        db.save_ratings(ratings, [r.id for r in rows])   # readers see every refit
        if progress is not None:
            progress.set_postfix_str(f"max width {ratings.max_width():.0f} Elo")
        batches = scheduler.next_batches(ratings, played)
        if not batches:
            break
        pending = {}
        queue = iter(batches)
        losses: dict[str, int] = {}

        def submit(b):
            s = batch_seed(seed, b.batch_id)
            specs = rows[b.a].spec, rows[b.b].spec
            pending[remote_play.remote(*specs, b.games, s, ship_snapshots(ray, specs, shipped),
                                       save_games is not None)] = (b, s)

        while True:
            while len(pending) < max_in_flight and (b := next(queue, None)) is not None:
                submit(b)
            if not pending:
                break
            done, _ = ray.wait(list(pending), num_returns=1)
            b, s = pending.pop(done[0])
            try:
                counts = ray.get(done[0])
            except lost as exc:
                losses[b.batch_id] = losses.get(b.batch_id, 0) + 1
                if losses[b.batch_id] > MAX_NODE_LOSSES:
                    raise RuntimeError(f"tournament batch {b.batch_id} lost its node {losses[b.batch_id]} times; "
                                       f"last: {type(exc).__name__}") from None
                replayed += 1
                submit(b)
                continue
            except Exception as exc:
                for ref in pending:
                    ray.cancel(ref)
                raise _batch_failure(exc, b, rows, db) from None
            engine_restarts += counts.get("engine_restarts", 0)
            if db.record_batch(b.batch_id, rows[b.a].id, rows[b.b].id, counts, seed=s):
                if save_games is not None:
                    from hexzero.records import write_batch_games

                    write_batch_games(save_games, board, b.batch_id, rows[b.a].name, rows[b.b].name, counts, s)
                played_games += b.games
                played_batches += 1
                game_seconds += counts["seconds"]
                if progress is not None:
                    progress.update(b.games)
        ratings, played = fit_pool(db, rows, colours)
    return TournamentReport(ratings, played_games, played_batches, time.perf_counter() - start, game_seconds,
                            engine_restarts, replayed)


def _batch_failure(exc: Exception, batch, rows, db: TournamentDB) -> Exception:
    """A failed batch as one line (ValueError) when its cause is one (an engine that keeps
    failing, a bad snapshot); any other cause (a bug) is raised as it is."""
    cause = getattr(exc, "cause", exc)     # ray.exceptions.RayTaskError wraps the task's exception
    if not isinstance(cause, ValueError):
        return exc
    recorded = db.result_count()[0]
    return ValueError(f"batch {batch.batch_id} ({rows[batch.a].name} vs {rows[batch.b].name}) failed: {cause}; "
                      f"the database keeps the {recorded} batches recorded so far, and the same tournament "
                      "resumes from them")
