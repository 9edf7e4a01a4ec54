"""AlphaZero training, the loop: self-play workers (Ray actors) feed a learner through a buffer
of recent samples, with exact compute accounting and snapshots at log-spaced compute.

Beside it: `config` (what a run is asked to do, the recipes), `ledger` (compute spent, the
snapshot grid), `learner` (Adam on the buffer), `run_folder` (the files of a run, the resume
point), `selfplay` (the workers).

The loop is pipelined but deterministic: while the workers play round i with the weights of
round i, the driver trains on the samples of round i-1. Every data dependency is fixed, and the
resume point holds all the state a round reads (learner, optimizer, buffer, every worker's
random stream and games in flight), so a run with a fixed seed repeats exactly on CPU, killed
and resumed or not.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Callable

import numpy as np
import torch

from hexzero.cluster import ensure_ray
from hexzero.config import PAPER_COMPUTE_RANGE, ConfigError, TrainConfig  # noqa: F401 (re-exported)
from hexzero.hex import seed_kernels
from hexzero.learner import Learner, pick_device
from hexzero.ledger import ComputeLedger, snapshot_points, target_samples  # noqa: F401 (re-exported)
from hexzero.run_folder import RunFolder
from hexzero.selfplay import Samples, SelfPlayWorker

PERFECT_ACCURACY = 0.99
# From this board on, a snapshot's games against the perfect agent are played only once its
# accuracy passes PERFECT_ACCURACY: a weak 6x6 agent's openings send the perfect agent to
# positions of 2-4 stones that can take it minutes each.
GAMES_ONLY_IF_ACCURATE_FROM = 6


def train(config: TrainConfig, out: str | os.PathLike, progress: bool = True, use_ray: bool = True,
          ray_address: str | None = None, tensorboard: bool = False,
          on_event: Callable[[str, dict], None] | None = None) -> dict:
    """Train until the compute budget is spent (or the sample cap, or perfect play when asked),
    snapshotting at log-spaced compute; resume from `out/state/latest.pt` when it exists.
    `on_event(kind, info)` hears of every round ("round"), of every snapshot once it and its
    resume point are on disk ("snapshot") and of the end ("end"): see README. Returns the
    summary."""
    from hexzero.network import make_network, network_config

    run = RunFolder(out)
    run.check_writable()
    run.check_config(config)
    resume = run.load_resume_point()
    emit = on_event or (lambda kind, info: None)
    # The learner gets one CPU thread: the self-play workers hold the other cores, and torch's
    # thread pool stalls badly on small batches when its threads are descheduled.
    torch.set_num_threads(config.learner_threads)
    torch.manual_seed(config.seed)
    network = make_network(config.arch, config.board, config.width, config.depth)
    net_cfg = network_config(network)
    learner = Learner(network, config, pick_device(config.device), np.random.default_rng(config.seed + 7))
    params = network.parameter_count()
    unit = network.forward_compute()  # the paper's unit per evaluation: MACs (= parameters for its MLP)
    flops = network.forward_flops()
    points = snapshot_points(config)
    target = target_samples(config, unit)

    ledger, snapshot_index, point_index, metrics_rows, ended_by, record = ComputeLedger(), 0, 0, 0, None, {}
    if resume is None:
        run.cut_back(0, 0)  # what a start killed before its first snapshot left
        run.write_config(config)
    else:
        ledger = ComputeLedger(**resume["ledger"])
        snapshot_index, point_index = resume["snapshot_index"], resume["point_index"]
        metrics_rows, ended_by = resume["metrics_rows"], resume["ended_by"]
        learner.restore(resume["learner"])
        record = run.cut_back(metrics_rows, snapshot_index)[-1]
        _say_where(run, ledger.paper(config.nodes, unit), record["samples"], snapshot_index, ended_by)

    workers = []
    if ended_by is None:
        if use_ray:
            ensure_ray(ray_address, num_cpus=max(2, config.workers))
        workers = make_workers(config, net_cfg, use_ray)
        if resume is not None:
            _restore_workers(workers, resume["workers"], use_ray)
    bar = _progress_bar(progress, config, target, ledger.samples)
    writer = _tensorboard_writer(run, tensorboard)
    session_start = time.perf_counter()
    started = session_start - ledger.wall_s
    while ended_by is None:
        futures = _submit(workers, learner.weights(), config.moves_per_round, use_ray)
        trained = learner.train() if learner.buffer is not None else {}  # the previous round's
        ledger.trained += trained.get("trained", 0)
        results = _collect(futures, use_ray)
        for _, counts in results:
            ledger.add_round(counts)
        learner.add(Samples.concatenate([samples for samples, _ in results], config.board))
        spent = ledger.paper(config.nodes, unit)
        record = {"samples": ledger.samples, "games": ledger.games, "compute": spent,
                  "flops": ledger.flops(flops), **trained}
        capped = config.max_samples is not None and ledger.samples >= config.max_samples
        # One snapshot per round, however many grid points the round crossed (a round can
        # cross several early on): two snapshots of the same weights would add nothing.
        take_snapshot = spent >= points[point_index] or capped
        if take_snapshot:
            measures = _evaluate(learner.published, config)
            ledger.eval_s += measures.get("eval_s", 0.0)
            record.update(measures)
            while point_index < len(points) and spent >= points[point_index]:
                point_index += 1
            ended_by = ("budget" if point_index == len(points) else "sample cap" if capped
                        else "perfect play" if config.stop_at_perfect and record.get("perfect") else None)
        ledger.wall_s = time.perf_counter() - started
        record.update(wall_s=round(ledger.wall_s, 3), train_s=round(ledger.train_s, 3))
        if take_snapshot:
            run.save_snapshot(snapshot_index, _catalogue_record(config, ledger, record, flops, params),
                              network_config=net_cfg, network_state=learner.weights(),
                              train_config=config.to_dict(), compute=spent, flops=ledger.flops(flops),
                              params=params, ledger=dataclasses.asdict(ledger), metrics=record)
            snapshot_index += 1
        run.append_metrics(record)
        metrics_rows += 1
        if take_snapshot:
            # Last: what the resume point covers (the snapshot, the metrics line) is on disk.
            run.save_resume_point({"train_config": config.to_dict(), "learner": learner.state(),
                                   "workers": _worker_states(workers, use_ray), "ledger": dataclasses.asdict(ledger),
                                   "snapshot_index": snapshot_index, "point_index": point_index,
                                   "metrics_rows": metrics_rows, "ended_by": ended_by})
            emit("snapshot", {"index": snapshot_index - 1, "files": run.take_changes()})
        emit("round", {"samples": ledger.samples, "target_samples": target, "compute": spent,
                       "target_compute": config.compute})
        _update_bar(bar, record, target)
        _log_tensorboard(writer, record)
        if config.max_seconds is not None and time.perf_counter() - session_start > config.max_seconds:
            break
    if bar is not None:
        bar.close()
    if writer is not None:
        writer.close()
    summary = {"run": run.dir.name, "snapshots": snapshot_index, "finished": ended_by is not None,
               "ended_by": ended_by, "capped": ended_by == "sample cap", "params": params,
               "flops_per_forward": flops, **record}
    run.write_summary(summary)
    emit("end", {"summary": summary, "files": run.take_changes()})
    return summary


def _say_where(run: RunFolder, spent: float, samples: int, snapshots: int, ended_by: str | None) -> None:
    doing = f"{run.dir} ended ({ended_by}) at" if ended_by else f"resuming {run.dir} from"
    print(f"{doing} snapshot {snapshots - 1:02d} ({spent:.2g} compute, {samples:,} samples)", file=sys.stderr)


# ----------------------------------------------------------------------------- workers

def make_workers(config: TrainConfig, network_config: dict, use_ray: bool):
    """Self-play workers: Ray actors (the default), or in-process objects for debugging."""
    kwargs = dict(n=config.board, envs=config.envs, network_config=network_config,
                  search_config=config.search, value_window=config.value_window,
                  random_opening=config.random_opening)
    if not use_ray:
        return [SelfPlayWorker(seed=config.seed * 1000 + i, **kwargs) for i in range(config.workers)]
    import ray

    actor = ray.remote(num_cpus=1)(SelfPlayWorker)
    return [actor.remote(seed=config.seed * 1000 + i, **kwargs) for i in range(config.workers)]


def _submit(workers, weights, moves, use_ray):
    if not use_ray:
        return [w.play(weights, moves) for w in workers]
    import ray

    ref = ray.put(weights)
    return [w.play.remote(ref, moves) for w in workers]


def _collect(futures, use_ray):
    if not use_ray:
        return futures
    import ray

    return ray.get(futures)


def _worker_states(workers, use_ray) -> list[dict]:
    return _collect([w.state.remote() if use_ray else w.state() for w in workers], use_ray)


def _restore_workers(workers, states: list[dict], use_ray) -> None:
    _collect([w.restore.remote(s) if use_ray else w.restore(s) for w, s in zip(workers, states)], use_ray)


# ----------------------------------------------------------------------------- measures

def _evaluate(network, config: TrainConfig) -> dict:
    """Measures against perfect play at snapshot time, where the board is solved (none above
    the solver's reach or when the config turns them off)."""
    from hexzero.solver import MAX_SOLVED_SIZE

    if config.evaluate is False or config.board > MAX_SOLVED_SIZE:
        return {}
    return evaluate_network(network, config, games_only_if_accurate=config.board >= GAMES_ONLY_IF_ACCURATE_FROM)


def evaluate_network(network, config: TrainConfig, games_only_if_accurate: bool = False) -> dict:
    """Move accuracy, and losses as first player against the perfect agent (greedy search with
    the training node count). 'perfect' = accuracy >= 0.99 and no loss as first player. With
    `games_only_if_accurate`, the games are skipped (losses None) below that accuracy, since
    the snapshot cannot be perfect then."""
    from hexzero.arena import play_match
    from hexzero.mcts import SearchAgent, SearchConfig
    from hexzero.measures import accuracy_positions, move_accuracy
    from hexzero.solver import PerfectAgent, get_solver

    started = time.perf_counter()
    seed_kernels(config.seed)  # the measures repeat on resume whatever numba drew before
    search = {**config.search, "greedy": True, "dirichlet_eps": 0.0}
    agent = SearchAgent(network, SearchConfig(**search))
    # one fixed position set for every run (seed 0): a run's seed varies only the agent's draws
    accuracy = float(move_accuracy(agent, config.board, positions=accuracy_positions(config.board), seed=config.seed))
    if games_only_if_accurate and accuracy < PERFECT_ACCURACY:
        return {"accuracy": accuracy, "black_losses_vs_perfect": None, "perfect": False,
                "eval_s": time.perf_counter() - started}
    result = play_match(agent, PerfectAgent(config.board, seed=config.seed), config.eval_games,
                        seed=config.seed, a_black=np.ones(config.eval_games, dtype=bool))
    losses = int((~result.a_won).sum())
    get_solver(config.board).save()  # what this evaluation solved serves every later one
    return {"accuracy": accuracy, "black_losses_vs_perfect": losses,
            "perfect": bool(accuracy >= PERFECT_ACCURACY and losses == 0),
            "eval_s": time.perf_counter() - started}


def _catalogue_record(config: TrainConfig, ledger: ComputeLedger, record: dict, flops: int, params: int) -> dict:
    return {"board": config.board, "width": config.width, "depth": config.depth, "arch": config.arch,
            "compute": record["compute"], "flops": ledger.flops(flops), "params": params,
            "samples": ledger.samples, "wall_s": ledger.wall_s, "train_s": ledger.train_s,
            **{k: record[k] for k in ("accuracy", "black_losses_vs_perfect", "perfect") if k in record}}


# ----------------------------------------------------------------------------- progress

def _progress_bar(progress: bool, config: TrainConfig, target: int, done: int):
    """A bar over the samples the budget buys (linear in compute), counting from where this
    invocation starts so its rate and ETA are this invocation's."""
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=target, initial=min(done, target), unit="sample", unit_scale=True, smoothing=0.1,
                desc=f"train {config.board}x{config.board} w{config.width}d{config.depth}")


def _update_bar(bar, record, target) -> None:
    if bar is None:
        return
    bar.set_postfix_str(_postfix(record), refresh=False)
    bar.update(min(record["samples"], target) - bar.n)


def _postfix(record) -> str:
    parts = [f"C {record['compute']:.2g}"]
    if record.get("policy_loss") is not None:
        parts.append(f"pl {record['policy_loss']:.3f} vl {record['value_loss']:.3f}")
    if "accuracy" in record:
        parts.append(f"acc {record['accuracy']:.3f}")
    return ", ".join(parts)


def _tensorboard_writer(run: RunFolder, enabled: bool):
    if not enabled:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install tensorboard") from exc
    return SummaryWriter(str(run.dir / "tensorboard"))


def _log_tensorboard(writer, record: dict) -> None:
    if writer is None:
        return
    for key, value in record.items():
        if isinstance(value, (int, float)):
            writer.add_scalar(key, value, record["samples"])
