"""The scaling reproduction end to end: sweep -> tournaments -> ratings -> frontier fit ->
train/test trade-off -> plots -> report, all under one output folder.

Every stage resumes: finished runs are not trained again (experiments.sweep), finished
tournament batches are not played again (elo.tournament), and the analysis is cheap enough to
redo. Running the same command after an interruption continues where it stopped.

Layout of OUT:
    sweep.json            the sweep config this folder was started with
    runs/NAME/...         one training run each (hexzero.train)
    tournament.sqlite     agents, game results and ratings of every board
    figures/*.png|svg     the plots
    results.json          every number the report quotes
    report.md             the report
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from experiments.frontier import CurvePoint, RunCurve, fit_frontier
from experiments.sweep import RunSpec, run_dir, run_sweep
from experiments.sweep_config import SweepConfig, load_sweep_config
from experiments.tradeoff import TestTimeRating, default_levels, fit_tradeoff, iso_elo_curves
from hexzero.solver import MAX_SOLVED_SIZE
from hexzero.storage import atomic_write_json, list_snapshots
from hexzero.train import TrainConfig

# Boards where the perfect agent anchors Elo at 0: every board the solver reaches (the paper,
# without a solver, anchored to its strongest agent; so do boards above 5x5 here).
SOLVED_BOARDS = tuple(range(2, MAX_SOLVED_SIZE + 1))


def _log(message: str) -> None:
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _pin_config(out: Path, config: SweepConfig, source) -> None:
    """Record the sweep config in OUT; refuse to continue a folder started with another one."""
    path = out / "sweep.json"
    data = json.loads(Path(source).read_text()) if Path(source).is_file() else None
    if data is None:
        from experiments.sweep_config import PRESETS_DIR

        data = json.loads((PRESETS_DIR / f"{source}.json").read_text())
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != data:
            raise ValueError(f"{out} was started with another sweep config ({saved.get('name')!r}); "
                             f"use a new --out or delete {path}")
    else:
        atomic_write_json(path, data)


def run_specs(config: SweepConfig) -> list[RunSpec]:
    return [RunSpec(r.name, TrainConfig.for_mode(r.mode, **r.train_kwargs)) for r in config.runs()]


# ----------------------------------------------------------------------------- tournaments

def snapshot_spec(path: str, nodes: int, policy: str) -> dict:
    # Rated agents sample their moves from the search policy, as the paper's did: two greedy
    # agents play the same game every time, so a pair's win rate is 0 or 1 whatever the
    # number of games, and Bradley-Terry stretches such all-or-nothing chains into rating
    # gaps of thousands of Elo (the first quick run: random play 3,000-4,000 Elo below perfect
    # and a frontier slope of 1,500 Elo per 10x compute).
    return {"kind": "snapshot", "path": str(Path(path).resolve()), "nodes": int(nodes), "policy": policy,
            "greedy": False}


def register_board(db, out: Path, specs: list[RunSpec], board: int, nodes: int, policy: str) -> list[int]:
    """Every snapshot of the board's runs (at `nodes`), plus perfect and random anchors."""
    ids = []
    for spec in specs:
        if spec.board != board:
            continue
        for snap in list_snapshots(run_dir(out, spec)):
            ids.append(db.add_agent(snapshot_spec(snap["path"], nodes, policy), board,
                                    name=f"{spec.name}/{snap['index']:02d}@{nodes}", run=spec.name,
                                    compute=snap["compute"], snapshot_index=snap["index"]))
    ids.append(db.add_agent({"kind": "random", "n": board}, board, name=f"random-{board}"))
    if board in SOLVED_BOARDS:
        ids.append(db.add_agent({"kind": "perfect", "n": board}, board, name=f"perfect-{board}"))
    return ids


def play_tournament(db, ids: list[int], settings, games_per_colour: int, seed: int, label: str, progress: bool,
                    ray_address=None):
    """Rate the pool with the sweep's tournament scheme and stop rule (experiments.sweep_config)."""
    from elo.tournament import run_tournament

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=label, unit="game")
    try:
        return run_tournament(db, ids, scheme=settings.scheme, games=2 * games_per_colour, rounds=1,
                              target_width=settings.target_width, max_games=settings.max_games, seed=seed,
                              progress=bar, ray_address=ray_address).ratings
    finally:
        if bar is not None:
            bar.close()


def run_curves(db, ratings, board: int, specs: list[RunSpec]) -> list[RunCurve]:
    """Each run's rated snapshots as an Elo-vs-compute curve."""
    rows = {r.name: r for r in db.agents(board)}
    by_run: dict[str, list[CurvePoint]] = {}
    for k, name in enumerate(ratings.names):
        row = rows.get(name)
        if row is None or row.run is None or row.compute is None:
            continue
        by_run.setdefault(row.run, []).append(
            CurvePoint(float(row.compute), float(ratings.elo[k]), float(ratings.lower[k]), float(ratings.upper[k])))
    curves = []
    for spec in specs:
        if spec.board == board and by_run.get(spec.name):
            curves.append(RunCurve(spec.name, board, spec.config.width, spec.config.depth, tuple(by_run[spec.name])))
    return curves


# ----------------------------------------------------------------------------- trade-off

def tradeoff_ratings(db, out: Path, config: SweepConfig, specs: list[RunSpec], curves: list[RunCurve],
                     progress: bool, ray_address=None) -> list[TestTimeRating]:
    """Re-rate a few snapshots of the board's best run at every test-time node count."""
    tt = config.test_time
    board_curves = [c for c in curves if c.board == tt.board]
    if not board_curves:
        return []
    best = max(board_curves, key=lambda c: c.points[-1].elo)
    spec = next(s for s in specs if s.name == best.name)
    snaps = list_snapshots(run_dir(out, spec))
    picks = np.unique(np.round(np.linspace(0, len(snaps) - 1, tt.snapshots)).astype(int))
    ids, meta = [], {}
    for i in picks:
        snap = snaps[i]
        for nodes in tt.nodes:
            name = f"tt/{spec.name}/{snap['index']:02d}@{nodes}"
            ids.append(db.add_agent(snapshot_spec(snap["path"], nodes, config.search.policy), tt.board, name=name,
                                    run=f"tt/{spec.name}", compute=snap["compute"], snapshot_index=snap["index"]))
            meta[name] = (f"{spec.name}/{snap['index']:02d}", snap["compute"], snap["params"], nodes)
    if tt.board in SOLVED_BOARDS:
        ids.append(db.add_agent({"kind": "perfect", "n": tt.board}, tt.board, name=f"perfect-{tt.board}"))
    ratings = play_tournament(db, ids, config.tournament, tt.games_per_colour, seed=1,
                              label=f"test-time {tt.board}x{tt.board}", progress=progress, ray_address=ray_address)
    out_ratings = []
    for k, name in enumerate(ratings.names):
        if name in meta:
            snapshot, compute, params, nodes = meta[name]
            out_ratings.append(TestTimeRating(snapshot=snapshot, train_compute=float(compute), forward_cost=float(params),
                                              nodes=int(nodes), elo=float(ratings.elo[k])))
    return out_ratings


# ----------------------------------------------------------------------------- the pipeline

def reproduce(source: str | Path, out: str | Path, progress: bool = True, ray_address: str | None = None,
              skip_tradeoff: bool = False, shared_fs: bool = False) -> Path:
    """Run the whole reproduction for a preset name or sweep config file; returns the report."""
    from elo.db import TournamentDB
    from elo.tournament import ensure_ray
    from experiments import plots
    from experiments.report import write_report

    started = time.perf_counter()
    config = load_sweep_config(source)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _pin_config(out, config, source)
    ensure_ray(ray_address)
    specs = run_specs(config)

    _log(f"sweep '{config.name}': {len(specs)} runs on boards {[b.board for b in config.boards]}")
    run_sweep(specs, out, progress=progress, resources=config.resources, shared_fs=shared_fs)
    timings = {"sweep_s": time.perf_counter() - started}

    t = time.perf_counter()
    db = TournamentDB(out / "tournament.sqlite")
    curves, board_ratings = [], {}
    for sweep in config.boards:
        ids = register_board(db, out, specs, sweep.board, config.tournament.nodes, config.search.policy)
        _log(f"tournament {sweep.board}x{sweep.board}: {len(ids)} agents")
        ratings = play_tournament(db, ids, config.tournament, config.tournament.games_per_colour, seed=0,
                                  label=f"tournament {sweep.board}x{sweep.board}", progress=progress,
                                  ray_address=ray_address)
        board_ratings[sweep.board] = ratings
        curves += run_curves(db, ratings, sweep.board, specs)
    timings["tournament_s"] = time.perf_counter() - t

    t = time.perf_counter()
    a = config.analysis
    fit = fit_frontier(curves, points_per_decade=a.points_per_decade, bootstrap=a.bootstrap, resample=a.resample,
                       confidence=a.confidence, progress=progress)
    timings["fit_s"] = time.perf_counter() - t

    tradeoff, tt_ratings, iso = None, [], []
    if not skip_tradeoff:
        t = time.perf_counter()
        tt_ratings = tradeoff_ratings(db, out, config, specs, curves, progress, ray_address)
        if tt_ratings:
            iso = iso_elo_curves(tt_ratings, default_levels(tt_ratings))
            try:
                tradeoff = fit_tradeoff(iso)
            except ValueError as exc:  # too few iso-Elo points on small boards
                _log(f"trade-off fit skipped: {exc}")
        timings["tradeoff_s"] = time.perf_counter() - t

    figures = out / "figures"
    figure_files = {
        "Every run's Elo against train compute, with each board's frontier (paper Fig. 5)":
            plots.plot_run_curves(curves, fit.frontiers, figures / "runs"),
        "Frontiers with the fitted change-point model (paper Fig. 6)":
            plots.plot_frontier_fit(fit.frontiers, fit.params, figures / "frontier_fit"),
    }
    if tt_ratings:
        figure_files["Elo against test-time compute (paper Fig. 8)"] = plots.plot_test_time(tt_ratings, figures / "test_time")
        figure_files["Train/test compute trade-off (paper Fig. 9)"] = plots.plot_tradeoff(iso, tradeoff, figures / "tradeoff")
    figure_files["A game of the strongest agent against itself"] = _board_picture(db, board_ratings, figures / "board")

    timings["total_s"] = time.perf_counter() - started
    results = {"config": config.name, "timings_s": timings, "params": asdict(fit.params),
               "intervals": fit.intervals, "r2_incline": fit.r2_incline, "boards": list(fit.boards),
               "perfect_play_compute": {str(b): 10.0 ** float(fit.params.perfect_play_log10_compute(b))
                                        for b in fit.boards},
               "tradeoff": asdict(tradeoff) if tradeoff is not None else None,
               "anchors": {str(b): r.anchor for b, r in board_ratings.items()}}
    atomic_write_json(out / "results.json", _jsonable(results))
    notes = (f"Sweep `{config.name}`: {len(specs)} runs, {sum(len(c.points) for c in curves)} rated snapshots; "
             f"Elo anchors: {', '.join(f'{b}x{b}: {r.anchor}' for b, r in board_ratings.items())}. "
             "Compute is in the paper's units (self-play positions x search nodes x parameters); our trainer "
             "searches fewer nodes and learns from fewer samples than the paper's, so absolute compute "
             "(the intercepts) differs from the paper's while slopes compare directly. "
             f"Wall time: {timings['total_s'] / 60:.1f} min (sweep {timings['sweep_s'] / 60:.1f}, tournaments "
             f"{timings['tournament_s'] / 60:.1f}).")
    report = write_report(out / "report.md", fit, figure_files, tradeoff, title=f"hexzero reproduction: {config.name}",
                          notes=notes)
    _log(f"report: {report}")
    return report


def _board_picture(db, board_ratings: dict, stem: Path):
    """Self-play of the top-rated snapshot on the largest board, final position drawn."""
    from experiments.plots import plot_board
    from hexzero.agents import make_agent
    from hexzero.hex import HexGames

    board = max(board_ratings)
    ratings = board_ratings[board]
    rows = {r.name: r for r in db.agents(board)}
    order = np.argsort(-ratings.elo)
    name = next((ratings.names[k] for k in order if rows[ratings.names[k]].kind == "snapshot"), None)
    agent = make_agent(rows[name].spec) if name else make_agent({"kind": "random", "n": board})
    games = HexGames(board, 1)
    rng = np.random.default_rng(0)
    last = None
    while not games.done[0]:
        last = int(agent.act(games.board, games.to_play, rng)[0])
        games.step(np.array([last]))
    winner = "black" if games.winner[0] == 1 else "white"
    return plot_board(games.board[0], board, stem, title=f"{name or 'random'} vs itself: {winner} wins", last_move=last)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
