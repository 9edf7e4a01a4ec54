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
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from experiments.anchoring import (GUIDED_OPPONENT_WINDOW, higher_rated, measured_elo, rate_subpool,
                                   top_agent_evidence, top_of_scale)
from experiments.frontier import CurvePoint, RunCurve, fit_frontier, per_seed_fits
from experiments.sweep import RunSpec, run_dir, run_sweep
from experiments.sweep_config import PRESETS_DIR, SweepConfig, SweepConfigError, load_sweep_config
from experiments.tradeoff import TestTimeRating, default_levels, fit_tradeoff, iso_elo_curves
from hexzero.solver import MAX_SOLVED_SIZE
from hexzero.storage import atomic_write_json, list_snapshots
from hexzero.train import TrainConfig

# Boards where the perfect agent anchors Elo at 0: every board the solver reaches (the paper,
# without a solver, anchored to its strongest agent; so do boards above 6x6 here).
SOLVED_BOARDS = tuple(range(2, MAX_SOLVED_SIZE + 1))


def _log(message: str) -> None:
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sweep_data(source, seed_offset: int = 0) -> tuple[SweepConfig, dict]:
    """The sweep config of a preset name or file, validated, and the JSON it is pinned as.
    seed_offset K: a rerun with fresh seeds, every seed s becoming s + K x (max seed + 1), so
    the reruns of offsets 0, 1, 2, ... never share a seed (a shared seed trains the same run)."""
    load_sweep_config(source)  # validates, with errors naming the file and field
    path = Path(source)
    data = json.loads(path.read_text()) if path.is_file() else json.loads((PRESETS_DIR / f"{source}.json").read_text())
    if isinstance(seed_offset, bool) or not isinstance(seed_offset, int) or seed_offset < 0:
        raise SweepConfigError(f"seed offset must be an integer >= 0, got {seed_offset!r}")
    if seed_offset:
        span = max(data["seeds"]) + 1
        data = {**data, "seeds": [s + seed_offset * span for s in data["seeds"]]}
    return SweepConfig.from_dict(data), data


def _pin_config(out: Path, data: dict) -> None:
    """Record the sweep config in OUT; refuse to continue a folder started with another one
    (its description aside: prose changes no number a run computes)."""
    path = out / "sweep.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if {**saved, "description": None} != {**data, "description": None}:
            raise ValueError(f"{out} was started with another sweep config ({saved.get('name')!r}, seeds "
                             f"{saved.get('seeds')}); use a new --out or delete {path}")
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


def guided_perfect_spec(board: int, guide: dict) -> dict:
    """The perfect agent that anchors a solved board: the solver's wins, and in lost positions
    the guide's moves (hexzero.guided_perfect; experiments.anchoring says why)."""
    return {"kind": "perfect", "n": board, "lost": guide}


def register_board(db, out: Path, specs: list[RunSpec], board: int, nodes: int, policy: str) -> tuple[list[int], dict]:
    """Every snapshot of the board's runs (at `nodes`), the random agent and, on solved boards,
    the solver's perfect agent (the tournament's anchor). Returns the ids and {"random",
    "solver_perfect"} -> id (the perfect agent absent above the solver's reach)."""
    ids = []
    for spec in specs:
        if spec.board != board:
            continue
        for snap in list_snapshots(run_dir(out, spec)):
            # each snapshot plays with its own recipe's search policy
            ids.append(db.add_agent(snapshot_spec(snap["path"], nodes, spec.config.search.get("policy", policy)), board,
                                    name=f"{spec.name}/{snap['index']:02d}@{nodes}", run=spec.name,
                                    compute=snap["compute"], snapshot_index=snap["index"]))
    special = {"random": db.add_agent({"kind": "random", "n": board}, board, name=f"random-{board}")}
    if board in SOLVED_BOARDS:
        special["solver_perfect"] = db.add_agent({"kind": "perfect", "n": board}, board, name=f"perfect-{board}")
    # Random play first and perfect play last, so a chain round links each to its nearest
    # snapshots (the first run's first, the last run's last) and never to each other: on 6x6
    # the perfect agent's games against random play cost ~100 s a batch.
    return [special["random"]] + ids + ([special["solver_perfect"]] if "solver_perfect" in special else []), special


def guided_opponents(ids: list[int], names: dict[int, str], ratings, top_name: str,
                     window: float = GUIDED_OPPONENT_WINDOW) -> list[int]:
    """The ids the guided perfect agent plays: those rated at most `window` Elo below T (T and
    everything above it included, so the solver's perfect agent always is: the two perfect
    agents meet) and any the ratings do not hold."""
    elo = dict(zip(ratings.names, ratings.elo))
    floor = elo[top_name] - window
    return [i for i in ids if names[i] not in elo or elo[names[i]] >= floor]


def play_dominating_perfect(db, ids: list[int], special: dict, ratings, games_per_colour: int, progress: bool,
                            ray_address=None) -> list[int]:
    """On a solved board, after the tournament: the perfect agent guided by the top-rated
    snapshot T (hexzero.guided_perfect, with T's own spec: sampled moves, T's nodes), one batch
    against every agent rated within GUIDED_OPPONENT_WINDOW of T. It plays T's moves in lost
    positions and wins every won one, so from any position it does at least as well as T
    against any opponent (by induction over the game): it dominates the pool's best agent,
    which the solver's perfect agent (fewest winning replies) does not
    (experiments.anchoring). Returns the pool's ids with it; special["perfect"] names it."""
    from elo.tournament import run_tournament

    if "solver_perfect" not in special:
        return ids
    rows = {r.id: r for r in (db.agent(i) for i in ids)}
    elo = dict(zip(ratings.names, ratings.elo))
    top = max((r for r in rows.values() if r.run is not None and r.name in elo), key=lambda r: elo[r.name], default=None)
    if top is None:
        return ids
    board = top.board
    perfect = db.add_agent(guided_perfect_spec(board, top.spec), board, name=f"perfect-{board}+{top.name}")
    special["perfect"] = perfect
    opponents = guided_opponents([i for i in ids if i != perfect], {i: r.name for i, r in rows.items()},
                                 ratings, top.name)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"{db.agent(perfect).name} vs the {len(opponents)} agents within "
                        f"{GUIDED_OPPONENT_WINDOW:.0f} Elo of the top", unit="game")
    try:
        run_tournament(db, [perfect] + opponents, scheme="top",
                       games=2 * max(1, games_per_colour // 2), rounds=1, seed=2, progress=bar,
                       ray_address=ray_address)
    finally:
        if bar is not None:
            bar.close()
    return ids + [perfect]


def board_scale(db, ids: list[int], special: dict, ratings) -> tuple[object, dict]:
    """The ratings the frontier uses and what the report says about the top of the scale.
    With both perfect agents in the pool (experiments.anchoring): every game rated, anchored
    to the higher-rated of the two ("after"), and the games without the guided agent anchored
    to the solver's ("before", the old scale); `top_of_scale` of each."""
    solver_perfect = special.get("solver_perfect")
    perfect = special.get("perfect", solver_perfect)
    random_name = db.agent(special["random"]).name
    if perfect is None:  # above the solver's reach: anchored to the strongest agent
        return ratings, {"random": measured_elo(ratings, random_name)}
    info = {}
    if solver_perfect is not None and solver_perfect != perfect:
        names = (db.agent(perfect).name, db.agent(solver_perfect).name)
        ratings = rate_subpool(db, ids, perfect)
        anchor = higher_rated(ratings, names)
        if anchor != ratings.anchor:
            ratings = rate_subpool(db, ids, solver_perfect)
        other = names[1] if anchor == names[0] else names[0]
        info["other_perfect"] = {**measured_elo(ratings, other), "agent": other}
        info["before"] = top_of_scale(rate_subpool(db, ids, solver_perfect, leave_out=(perfect,))).as_dict()
        info["after"] = top_of_scale(ratings, exclude=(other,)).as_dict()
    else:
        info["after"] = top_of_scale(ratings).as_dict()
    info["random"] = measured_elo(ratings, random_name)
    return ratings, info


def anchored_boards(db, curves: list[RunCurve], board_ratings: dict, scale: dict, analysis) -> set[int]:
    """The boards whose Elo 0 is perfect play: every solved board, and each board above the
    solver's reach whose top agent (its anchor) sits on a frontier that flattened
    and took off (experiments.anchoring.top_agent_evidence, stored in scale[board]["top_agent"])."""
    anchored = set()
    for board, ratings in board_ratings.items():
        if board in SOLVED_BOARDS:
            anchored.add(board)
            continue
        if not any(c.board == board for c in curves):
            continue
        top = next((r for r in db.agents(board) if r.name == ratings.anchor), None)
        evidence = top_agent_evidence(curves, board, ratings.anchor, top.compute if top else None,
                                      scale[board].get("random"), analysis.points_per_decade, analysis.bootstrap,
                                      analysis.confidence)
        scale[board]["top_agent"] = evidence.as_dict()
        if evidence.perfect_play:
            anchored.add(board)
    return anchored


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


def run_curves(db, ratings, board: int, specs: list[RunSpec], recipes: dict[str, str] | None = None) -> list[RunCurve]:
    """Each run's rated snapshots as an Elo-vs-compute curve; `recipes`: run name -> its recipe."""
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
            curves.append(RunCurve(spec.name, board, spec.config.width, spec.config.depth, tuple(by_run[spec.name]),
                                   seed=spec.config.seed, recipe=(recipes or {}).get(spec.name, "")))
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
            agent_id = db.add_agent(snapshot_spec(snap["path"], nodes, spec.config.search.get("policy", config.search.policy)), tt.board, name=name,
                                    run=f"tt/{spec.name}", compute=snap["compute"], snapshot_index=snap["index"])
            ids.append(agent_id)
            # at the tournament's node count the agent is already registered under its own name
            meta[db.agent(agent_id).name] = (f"{spec.name}/{snap['index']:02d}", snap["compute"], snap["params"], nodes)
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
              skip_tradeoff: bool = False, seed_offset: int = 0, shared_fs: bool = False) -> Path:
    """Run the whole reproduction for a preset name or sweep config file, its seeds shifted by
    `seed_offset` (a rerun with other seeds); returns the report. shared_fs: every Ray node
    sees `out` at the same path (experiments.sweep)."""
    started = time.perf_counter()
    config, data = sweep_data(source, seed_offset)
    out = Path(out)
    _log(f"sweep '{config.name}' (seeds {list(config.seeds)}) into {out}: starting Ray")
    out.mkdir(parents=True, exist_ok=True)
    _pin_config(out, data)

    from elo.db import TournamentDB
    from hexzero.cluster import ensure_ray
    from experiments import plots
    from experiments.report import write_report

    _log("starting a local Ray" if ray_address is None else f"joining the Ray cluster at {ray_address}")
    ensure_ray(ray_address)
    specs = run_specs(config)

    _log(f"training {len(specs)} runs on boards {[b.board for b in config.boards]} "
         f"(finished runs are kept; each run takes one core)")
    run_sweep(specs, out, progress=progress, resources=config.resources, shared_fs=shared_fs)
    timings = {"sweep_s": time.perf_counter() - started}

    t = time.perf_counter()
    db = TournamentDB(out / "tournament.sqlite")
    curves, board_ratings, scale = [], {}, {}
    for sweep in config.boards:
        ids, special = register_board(db, out, specs, sweep.board, config.tournament.nodes, config.search.policy)
        _log(f"tournament {sweep.board}x{sweep.board}: {len(ids)} agents")
        ratings = play_tournament(db, ids, config.tournament, config.tournament.games_per_colour, seed=0,
                                  label=f"tournament {sweep.board}x{sweep.board}", progress=progress,
                                  ray_address=ray_address)
        ids = play_dominating_perfect(db, ids, special, ratings, config.tournament.games_per_colour, progress,
                                      ray_address)
        ratings, scale[sweep.board] = board_scale(db, ids, special, ratings)
        board_ratings[sweep.board] = ratings
        curves += run_curves(db, ratings, sweep.board, specs, recipes={r.name: r.recipe for r in config.runs()})
    timings["tournament_s"] = time.perf_counter() - t

    t = time.perf_counter()
    a = config.analysis
    anchored = anchored_boards(db, curves, board_ratings, scale, a)
    for board in sorted(set(board_ratings) - anchored):
        _log(f"{board}x{board} left out of the law: its top agent is not known to play perfectly "
             f"({scale[board]['top_agent']['reason']})")
    # The law is fitted where 0 is perfect play; with no such board, over every board, and then
    # no perfect-play figure is read off it.
    fit_curves = [c for c in curves if c.board in anchored] or curves
    # With several recipes the headline law is the first recipe's (the presets list the paper's
    # first): recipes cover different compute ranges, and a frontier pooled over them drops
    # wherever one recipe's runs end, which no change-point law describes. Each recipe's own
    # law is in the recipes section.
    law_recipe = config.recipes[0].name if len(config.recipes) > 1 else None
    law_curves = [c for c in fit_curves if c.recipe == law_recipe] if law_recipe else fit_curves
    _log(f"fitting the frontier law ({a.bootstrap} bootstrap refits, {a.resample})")
    fit = fit_frontier(law_curves, points_per_decade=a.points_per_decade, bootstrap=a.bootstrap, resample=a.resample,
                       confidence=a.confidence, progress=progress)
    fit = replace(fit, unanchored=tuple(b for b in fit.boards if b not in anchored), recipe=law_recipe or "")
    seed_fits = per_seed_fits(law_curves, a.points_per_decade) if len(fit.seeds) > 1 else {}
    timings["fit_s"] = time.perf_counter() - t

    tradeoff, tt_ratings, iso = None, [], []
    if not skip_tradeoff:
        t = time.perf_counter()
        _log(f"test-time re-rating on {config.test_time.board}x{config.test_time.board}")
        tt_ratings = tradeoff_ratings(db, out, config, specs, curves, progress, ray_address)
        if tt_ratings:
            iso = iso_elo_curves(tt_ratings, default_levels(tt_ratings))
            try:
                tradeoff = fit_tradeoff(iso)
            except ValueError as exc:  # too few iso-Elo points on small boards
                _log(f"trade-off fit skipped: {exc}")
        timings["tradeoff_s"] = time.perf_counter() - t

    _log("figures and report")
    figures = out / "figures"
    figure_files = {
        plots.RUNS_CAPTION: plots.plot_run_curves(curves, fit.frontiers, figures / "runs"),
        plots.FRONTIER_FIT_CAPTION: plots.plot_frontier_fit(fit.frontiers, fit.params, figures / "frontier_fit"),
    }
    if tt_ratings:
        figure_files[plots.TEST_TIME_CAPTION] = plots.plot_test_time(tt_ratings, figures / "test_time")
        figure_files[plots.TRADEOFF_CAPTION] = plots.plot_tradeoff(iso, tradeoff, figures / "tradeoff")
    figure_files["A game of the strongest agent against itself"] = _board_picture(db, board_ratings, figures / "board")

    # recipes hook (issue 13): recipes compared on one Elo scale, compute-optimal model size
    from experiments.recipes import analyse_recipes

    t = time.perf_counter()
    recipe_analysis = analyse_recipes(fit_curves, config, {s.name: list_snapshots(run_dir(out, s)) for s in specs},
                                      fit.params, figures, progress=progress)
    for reason in recipe_analysis.skipped:
        _log(f"skipped: {reason}")
    figure_files.update(recipe_analysis.figures)
    timings["recipes_s"] = time.perf_counter() - t

    timings["total_s"] = time.perf_counter() - started
    results = {"config": config.name, "seeds": list(config.seeds), "timings_s": timings,
               "params": asdict(fit.params), "intervals": fit.intervals, "resample": fit.resample,
               "intervals_include_seeds": fit.intervals_include_seeds, "r2_incline": fit.r2_incline,
               "boards": list(fit.boards), "derived": fit.derived(),
               "per_seed_slope": {str(s): p.m_flops for s, p in seed_fits.items()},
               "perfect_play_compute": {str(b): 10.0 ** float(fit.params.perfect_play_log10_compute(b))
                                        for b in fit.boards if b not in fit.unanchored},
               "anchored_boards": sorted(anchored),
               "scale": scale,
               "tradeoff": asdict(tradeoff) if tradeoff is not None else None,
               "anchors": {str(b): r.anchor for b, r in board_ratings.items()}, **recipe_analysis.results}
    atomic_write_json(out / "results.json", _jsonable(results))
    notes = (f"Sweep `{config.name}`: {len(specs)} runs (seeds {', '.join(map(str, config.seeds))}), "
             f"{sum(len(c.points) for c in curves)} rated snapshots; "
             f"Elo anchors: {', '.join(f'{b}x{b}: {r.anchor}' for b, r in board_ratings.items())}. "
             "Compute is in the paper's units (self-play positions x search nodes x parameters); our trainer "
             "searches fewer nodes and learns from fewer samples than the paper's, so absolute compute "
             "(the intercepts) differs from the paper's while slopes compare directly. "
             f"Wall time: {timings['total_s'] / 60:.1f} min (sweep {timings['sweep_s'] / 60:.1f}, tournaments "
             f"{timings['tournament_s'] / 60:.1f}).")
    report = write_report(out / "report.md", fit, figure_files, tradeoff, title=f"hexzero reproduction: {config.name}",
                          notes=notes, scale=scale, per_seed=seed_fits, sections=recipe_analysis.sections)
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
