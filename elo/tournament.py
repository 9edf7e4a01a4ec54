"""Tournaments: play the batches a scheduler asks for as Ray tasks, record each batch in the
database as it finishes, refit, and ask again until the scheduler says stop.

Everything the loop needs is read back from the database each time, so a tournament killed at
any moment resumes where it stopped: finished batches are not replayed, batches that were in
flight are played again under the same id and seed, and the unique key on (batch, colour
order) keeps any batch from counting twice.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass

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


def play_batch(spec_a: dict, spec_b: dict, games: int, seed: int, keep_moves: bool = False) -> dict:
    """Play one batch between two agent specs; A has black in the first half. Returns the
    counts of `MatchResult.counts()`, the seconds the games took, the restarts of external
    engines (hexzero.external) during the batch, and with keep_moves the games' moves and
    colours (for game records)."""
    from hexzero.arena import play_match

    agent_a = _cached_agent(json.dumps(spec_a, sort_keys=True))
    agent_b = _cached_agent(json.dumps(spec_b, sort_keys=True))
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


def ensure_ray(address: str | None = None, num_cpus: int = 2):
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return ray


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


def run_tournament(db: TournamentDB, agents: list, *, scheme: str = "adaptive", games: int = 16, rounds: int = 1,
                   target_width: float | None = None, max_games: int | None = None, seed: int = 0,
                   max_in_flight: int = 8, pairs_per_wave: int | None = None, progress=None,
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
    of them is recorded, so the same call later resumes as after a kill."""
    rows = [db.agent(a) for a in agents]
    board = check_pool(rows)
    if len({r.id for r in rows}) != len(rows):
        raise ValueError("an agent appears twice in the pool")
    scheduler = make_scheduler(scheme, rows, games, rounds, target_width, max_games, pairs_per_wave)
    ray = ensure_ray(ray_address)
    remote_play = ray.remote(play_batch)
    start = time.perf_counter()
    played_games = played_batches = 0
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
        while True:
            while len(pending) < max_in_flight and (b := next(queue, None)) is not None:
                s = batch_seed(seed, b.batch_id)
                ref = remote_play.remote(rows[b.a].spec, rows[b.b].spec, b.games, s, save_games is not None)
                pending[ref] = (b, s)
            if not pending:
                break
            done, _ = ray.wait(list(pending), num_returns=1)
            b, s = pending.pop(done[0])
            try:
                counts = ray.get(done[0])
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
                            engine_restarts)


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
