"""AlphaZero training: self-play workers (Ray actors) feed a learner (Adam) through a buffer of
recent samples, with exact compute accounting and snapshots at log-spaced compute.

Read top to bottom: config -> compute accounting -> learner -> the loop (`train`).

The loop is pipelined but deterministic: while the workers play round i with the weights of
round i, the driver trains on the samples of round i-1. Every data dependency is fixed, so a run
with a fixed seed repeats exactly (on CPU, where torch's kernels are deterministic).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from hexzero.hex import check_size
from hexzero.selfplay import FIELDS, Samples, SelfPlayWorker, rotate_180
from hexzero.storage import (SNAPSHOT_FORMAT, SNAPSHOT_VERSION, append_jsonl, atomic_save_torch,
                             atomic_write_json, list_snapshots, snapshot_path)

# The paper's compute range per board size (paper units), the lower end of the snapshot grid.
PAPER_COMPUTE_RANGE = {3: (1e10, 5e11), 4: (1e10, 1e13), 5: (1e11, 3e13), 6: (1e11, 4e14),
                       7: (1e11, 1e16), 8: (1e11, 3e16), 9: (1e12, 1e17)}


class ConfigError(ValueError):
    """A training configuration that cannot run: the message names the field."""


@dataclass
class TrainConfig:
    board: int = 5
    width: int = 16
    depth: int = 4
    arch: str = "mlp"
    compute: float = 1e12            # budget in paper units (samples x nodes x parameters)
    compute_start: float | None = None  # first snapshot; default: the paper's lower bound
    snapshots: int = 21
    mode: str = "fast"
    search: dict = field(default_factory=dict)
    envs: int = 256                  # games played at once per worker
    moves_per_round: int = 4         # moves per game per worker round
    workers: int = 1
    batch_size: int = 512
    lr: float = 1e-3
    replay_ratio: float = 1.0        # learner samples drawn per new sample
    buffer_size: int = 50_000
    augment: bool = True
    value_window: int | None = None
    random_opening: float = 0.0      # games open with up to this fraction of n^2 random moves
    seed: int = 0
    device: str = "auto"
    learner_threads: int = 1
    max_samples: int | None = None   # the paper's sample cap: the run ends here even under budget
    max_seconds: float | None = None  # stop this invocation after so long (a resumed run gets it anew)
    evaluate: bool | None = None     # measure against perfect play at snapshots; None: wherever
                                     # the solver reaches (boards up to 5x5)
    eval_games: int = 64             # games as black against the perfect agent per snapshot
    stop_at_perfect: bool = False    # end the run at the first snapshot that plays perfectly

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        try:
            check_size(self.board)
        except ValueError as exc:
            raise ConfigError(f"board: {exc}") from None
        for name in ("width", "depth", "snapshots", "envs", "moves_per_round", "workers", "batch_size", "buffer_size",
                     "learner_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.compute, (int, float)) and math.isfinite(self.compute) and self.compute > 0):
            raise ConfigError(f"compute must be a positive number, got {self.compute!r}")
        if self.max_samples is not None and (isinstance(self.max_samples, bool) or not isinstance(self.max_samples, int)
                                             or self.max_samples < 1):
            raise ConfigError(f"max_samples must be a positive integer, got {self.max_samples!r}")
        if self.compute_start is not None and not (0 < self.compute_start <= self.compute):
            raise ConfigError(f"compute_start must be in (0, compute], got {self.compute_start!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.lr > 0 or not self.replay_ratio > 0:
            raise ConfigError("lr and replay_ratio must be positive")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be auto, cpu or cuda, got {self.device!r}")

    @classmethod
    def for_mode(cls, mode: str = "fast", **overrides) -> "TrainConfig":
        """A config with the mode's recipe, then the caller's overrides (search merged)."""
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        base = dict(MODES[mode])
        search = {**base.pop("search"), **overrides.pop("search", {})}
        board = overrides.get("board", cls.board)
        if mode == "paper":
            search.setdefault("dirichlet_alpha", 10.0 / board**2)
        return cls(mode=mode, search=search, **{**base, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The two recipes. `paper`: the paper's hyperparameters (reference/jones2021.md). `fast`: what
# reached perfect play with the least wall time on a 2-core CPU in our measurements (README).
MODES = {
    "paper": dict(search=dict(policy="regularized", nodes=64, c=1 / 16, lambda_form="paper",
                              dirichlet_eps=0.25, greedy=False),
                  replay_ratio=1.0, augment=False, value_window=64, batch_size=1024, lr=1e-3),
    "fast": dict(search=dict(policy="gumbel", nodes=16, greedy=False),
                 replay_ratio=4.0, augment=True, value_window=None, batch_size=256, lr=3e-3,
                 random_opening=0.5),
}


# ----------------------------------------------------------------------------- compute

def snapshot_points(config: TrainConfig) -> np.ndarray:
    """Compute (paper units) at which snapshots are taken: `snapshots` points log-spaced from
    the start (the paper's per-board lower bound, capped at the budget) to the budget."""
    start = config.compute_start
    if start is None:
        start = min(PAPER_COMPUTE_RANGE.get(config.board, (1e10,))[0], config.compute / 100)
    return np.logspace(math.log10(start), math.log10(config.compute), config.snapshots)


@dataclass
class ComputeLedger:
    """Everything spent so far. `paper` = self-play samples x nodes x parameters (the paper's
    measure); `flops` = true FLOPs of every forward pass of self-play plus the learner's forward
    and backward passes (backward counted as 2x forward)."""

    samples: int = 0          # self-play positions searched (each becomes a training sample
                              # once its game's result is known)
    games: int = 0
    evaluations: int = 0      # network forward passes in self-play, per position
    trained: int = 0          # samples passed through the learner
    wall_s: float = 0.0       # wall time of the run, evaluations included
    eval_s: float = 0.0       # of which measuring snapshots against perfect play

    @property
    def train_s(self) -> float:
        return self.wall_s - self.eval_s

    def paper(self, nodes: int, macs_per_forward: int) -> float:
        return float(self.samples) * nodes * macs_per_forward

    def flops(self, flops_per_forward: int) -> float:
        return float(self.evaluations) * flops_per_forward + 3.0 * self.trained * flops_per_forward


# ----------------------------------------------------------------------------- learner

def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


class Learner:
    """Adam on policy cross-entropy + value MSE (equal weights, as the paper) over a buffer of
    the most recent samples."""

    def __init__(self, network, config: TrainConfig, device: torch.device, rng: np.random.Generator):
        self.network = network.to(device)
        self.rng = rng
        self.device = device
        self.config = config
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr)
        self.buffer: Samples | None = None
        self.owed = 0.0  # learner samples owed by the replay ratio, carried between rounds

    def add(self, samples: Samples) -> None:
        n = self.config.board
        if self.config.augment and len(samples):
            # Each new position joins in one of its two orientations, chosen at random, so
            # the buffer holds both without doubling.
            flip = self.rng.random(len(samples)) < 0.5
            rotated = rotate_180(samples, n)
            samples = Samples(*(np.where(flip.reshape((-1,) + (1,) * (getattr(samples, f).ndim - 1)),
                                         getattr(rotated, f), getattr(samples, f))
                                for f in FIELDS))
        merged = samples if self.buffer is None else Samples.concatenate([self.buffer, samples], n)
        keep = self.config.buffer_size
        self.buffer = Samples(*(getattr(merged, f)[-keep:] for f in FIELDS))
        self.owed += self.config.replay_ratio * len(samples)

    def train(self) -> dict:
        """Spend the samples owed: minibatches drawn uniformly from the buffer."""
        stats = {"policy_loss": [], "value_loss": []}
        bs = self.config.batch_size
        trained = 0
        self.network.train()
        while self.buffer is not None and self.owed >= min(bs, len(self.buffer)) > 0:
            size = min(bs, len(self.buffer))
            idx = self.rng.integers(0, len(self.buffer), size)
            obs = torch.from_numpy(self.buffer.obs[idx]).to(self.device)
            target_pi = torch.from_numpy(self.buffer.policy[idx]).to(self.device)
            target_v = torch.from_numpy(self.buffer.value[idx]).to(self.device)
            log_pi, value = self.network(obs)
            # Occupied cells have log-probability ~ -3e38 and target 0: drop them explicitly.
            occupied = (obs[:, 0] + obs[:, 1]).flatten(1) > 0
            policy_loss = -(target_pi * log_pi.masked_fill(occupied, 0.0)).sum(dim=1).mean()
            value_loss = ((value - target_v) ** 2).mean()
            self.optimizer.zero_grad(set_to_none=True)
            (policy_loss + value_loss).backward()
            self.optimizer.step()
            stats["policy_loss"].append(policy_loss.item())
            stats["value_loss"].append(value_loss.item())
            self.owed -= size
            trained += size
        self.network.eval()
        return {"trained": trained, **{k: (float(np.mean(v)) if v else None) for k, v in stats.items()}}

    def weights(self) -> dict:
        return {k: v.detach().cpu().clone() for k, v in self.network.state_dict().items()}


# ----------------------------------------------------------------------------- the loop

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


class Run:
    """A run folder: config, metrics, snapshots, and the resume point (state/latest.pt)."""

    def __init__(self, out: str | os.PathLike):
        self.dir = Path(out)

    def check_writable(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"output folder {self.dir} is not writable: {exc.strerror}") from None

    @property
    def latest(self) -> Path:
        return self.dir / "state" / "latest.pt"


def train(config: TrainConfig, out: str | os.PathLike, progress: bool = True, use_ray: bool = True,
          ray_address: str | None = None, tensorboard: bool = False, on_event=None) -> dict:
    """Train until the compute budget is spent, snapshotting at log-spaced compute. Resumes
    from `out/state/latest.pt` when it exists. Returns the final summary.

    on_event(kind, info), when given, hears the run's progress (the sweep ships results home
    and shows progress with it): "round" after every round {samples, target_samples, compute,
    target_compute}; "snapshot" once a snapshot and its resume point are durably written
    {index, files}; "end" once summary.json is written {summary, files}. `files`: the paths,
    relative to the run folder, of every file written since the previous event."""
    from hexzero.network import make_network, network_config

    run = Run(out)
    run.check_writable()
    # The learner gets one CPU thread: the self-play workers hold the other cores, and torch's
    # thread pool stalls badly on small batches when its threads are descheduled.
    torch.set_num_threads(config.learner_threads)
    resume = _load_resume_point(run, config)
    # --- trainer hook (cluster branch; `house` owns the final form): files written since the
    # last event, relative to the run folder.
    written: list[str] = []

    def wrote(path) -> None:
        rel = str(Path(path).relative_to(run.dir))
        if rel not in written:
            written.append(rel)

    def emit(kind: str, info: dict) -> None:
        if on_event is not None:
            on_event(kind, info)
    torch.manual_seed(config.seed)
    network = make_network(config.arch, config.board, config.width, config.depth)
    net_cfg = network_config(network)
    device = pick_device(config.device)
    learner = Learner(network, config, device, np.random.default_rng(config.seed + 7))
    ledger = ComputeLedger()
    snapshot_index = 0  # snapshots taken so far (their file numbers)
    point_index = 0     # the next point of the log-spaced compute grid
    if resume is not None:
        learner.network.load_state_dict(resume["network_state"])
        learner.optimizer.load_state_dict(resume["optimizer_state"])
        learner.buffer = resume["buffer"]
        learner.owed = resume["owed"]
        learner.rng.bit_generator.state = resume["learner_rng"]
        ledger = ComputeLedger(**resume["ledger"])
        snapshot_index = resume["snapshot_index"]
        point_index = resume["point_index"]
    else:
        atomic_write_json(run.dir / "config.json", config.to_dict())
        wrote(run.dir / "config.json")

    params = network.parameter_count()
    # The paper's unit per evaluation: multiply-accumulates (= parameters for its MLP).
    unit = network.forward_compute()
    flops = network.forward_flops()
    nodes = int(config.search.get("nodes", 64))
    points = snapshot_points(config)

    if use_ray:
        _ensure_ray(ray_address, config.workers)
    workers = make_workers(config, net_cfg, use_ray)
    # Workers restart with fresh games on resume: a game in flight at the kill is lost, which
    # costs a few samples and no correctness (its samples were never counted).
    bar = _progress_bar(progress, config)
    writer = _tensorboard_writer(run, tensorboard)
    session_start = time.perf_counter()
    started = session_start - ledger.wall_s
    last, record = {}, {}
    capped = resume is not None and resume.get("capped", False)
    while point_index < len(points) and not capped:
        weights = learner.weights()
        futures = _submit(workers, weights, config.moves_per_round, use_ray)
        if learner.buffer is not None:  # train on the previous round while this one plays
            last = learner.train()
            ledger.trained += last["trained"]
        results = _collect(futures, use_ray)
        new = Samples.concatenate([s for s, _ in results], config.board)
        for _, counts in results:
            ledger.games += counts["games"]
            ledger.evaluations += counts["evaluations"]
            ledger.samples += counts["positions"]
        learner.add(new)
        ledger.wall_s = time.perf_counter() - started
        spent = ledger.paper(nodes, unit)
        record = {"samples": ledger.samples, "games": ledger.games, "compute": spent,
                  "flops": ledger.flops(flops), **last}
        _update_bar(bar, record, points[-1])
        emit("round", {"samples": ledger.samples, "target_samples": config.max_samples, "compute": spent,
                       "target_compute": float(points[-1])})
        crossed = point_index < len(points) and spent >= points[point_index]
        if crossed:
            metrics = _evaluate(learner.network, config)
            ledger.eval_s += metrics.get("eval_s", 0.0)
            ledger.wall_s = time.perf_counter() - started
            record.update(metrics)
        record.update(wall_s=round(ledger.wall_s, 3), train_s=round(ledger.train_s, 3))
        if crossed:
            # One snapshot per round, however many grid points the round crossed (a round can
            # cross several early on): two snapshots of the same weights would add nothing.
            while point_index < len(points) and spent >= points[point_index]:
                point_index += 1
            _save_snapshot(run, config, learner, net_cfg, ledger, snapshot_index, spent, flops, params, record)
            wrote(snapshot_path(run.dir, snapshot_index))
            wrote(run.dir / "snapshots.jsonl")
            snapshot_index += 1
            _save_resume_point(run, config, learner, ledger, snapshot_index, point_index)
            wrote(run.latest)
            if bar is not None:
                bar.set_postfix_str(_postfix(record), refresh=True)
        append_jsonl(run.dir / "metrics.jsonl", record)
        wrote(run.dir / "metrics.jsonl")
        if crossed:
            emit("snapshot", {"index": snapshot_index - 1, "files": written[:]})
            written.clear()
        if writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)):
                    writer.add_scalar(key, value, ledger.samples)
        if config.max_samples is not None and ledger.samples >= config.max_samples:
            capped = True
            break
        if config.max_seconds is not None and time.perf_counter() - session_start > config.max_seconds:
            break
        if config.stop_at_perfect and record.get("perfect"):
            break
    if bar is not None:
        bar.close()
    if writer is not None:
        writer.close()
    if capped:
        # The cap ends the run: the last state becomes a final snapshot (off the log grid).
        if not list_snapshots(run.dir) or list_snapshots(run.dir)[-1]["samples"] < ledger.samples:
            record.update(_evaluate(learner.network, config))
            _save_snapshot(run, config, learner, net_cfg, ledger, snapshot_index, spent, flops, params, record)
            wrote(snapshot_path(run.dir, snapshot_index))
            wrote(run.dir / "snapshots.jsonl")
            snapshot_index += 1
        _save_resume_point(run, config, learner, ledger, snapshot_index, point_index, capped=True)
        wrote(run.latest)
    finished = capped or point_index >= len(points)
    summary = {"run": str(run.dir), "snapshots": snapshot_index, "finished": finished, "capped": capped,
               "params": params, "flops_per_forward": flops, **{k: v for k, v in record.items()}}
    atomic_write_json(run.dir / "summary.json", summary)
    wrote(run.dir / "summary.json")
    emit("end", {"summary": summary, "files": written[:]})
    return summary


def _ensure_ray(address: str | None, workers: int) -> None:
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=max(2, workers), include_dashboard=False, log_to_driver=False)


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


PERFECT_ACCURACY = 0.99


def _evaluate(network, config: TrainConfig) -> dict:
    """Measures against perfect play at snapshot time, where the board is solved: move
    accuracy, and losses as first player against the perfect agent (greedy search with the
    training node count). 'perfect' = accuracy >= 0.99 and no loss as first player."""
    from hexzero.solver import MAX_SOLVED_SIZE, PerfectAgent, get_solver

    wanted = config.evaluate is not False
    if not wanted or config.board > MAX_SOLVED_SIZE:
        return {}
    from hexzero.arena import play_match
    from hexzero.mcts import SearchAgent, SearchConfig
    from hexzero.measures import accuracy_positions, move_accuracy

    started = time.perf_counter()
    search = {**config.search, "greedy": True, "dirichlet_eps": 0.0}
    agent = SearchAgent(network, SearchConfig(**search))
    # one fixed position set for every run (seed 0): a run's seed varies only the agent's draws
    accuracy = float(move_accuracy(agent, config.board, positions=accuracy_positions(config.board), seed=config.seed))
    result = play_match(agent, PerfectAgent(config.board, seed=config.seed), config.eval_games,
                        seed=config.seed, a_black=np.ones(config.eval_games, dtype=bool))
    losses = int((~result.a_won).sum())
    get_solver(config.board).save()  # what this evaluation solved serves every later one
    return {"accuracy": accuracy, "black_losses_vs_perfect": losses,
            "perfect": bool(accuracy >= PERFECT_ACCURACY and losses == 0),
            "eval_s": time.perf_counter() - started}


def _save_snapshot(run, config, learner, net_cfg, ledger, index, spent, flops, params, record) -> None:
    path = snapshot_path(run.dir, index)
    data = {
        "format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "index": index,
        "train_config": config.to_dict(), "network_config": net_cfg,
        "network_state": learner.weights(),
        "compute": spent, "flops": ledger.flops(flops), "params": params,
        "ledger": dataclasses.asdict(ledger), "metrics": record,
    }
    atomic_save_torch(path, data)
    append_jsonl(run.dir / "snapshots.jsonl", {
        "index": index, "file": str(path.relative_to(run.dir)), "run": run.dir.name, "board": config.board,
        "width": config.width, "depth": config.depth, "arch": config.arch, "compute": spent,
        "flops": ledger.flops(flops), "params": params, "samples": ledger.samples, "wall_s": ledger.wall_s,
        "train_s": ledger.train_s,
        **{k: record[k] for k in ("accuracy", "black_losses_vs_perfect", "perfect") if k in record}})


def _save_resume_point(run, config, learner, ledger, snapshot_index, point_index, capped: bool = False) -> None:
    atomic_save_torch(run.latest, {
        "format": "hexzero-resume", "version": 1, "train_config": config.to_dict(),
        "network_state": learner.network.state_dict(), "optimizer_state": learner.optimizer.state_dict(),
        "buffer": learner.buffer, "owed": learner.owed, "learner_rng": learner.rng.bit_generator.state,
        "ledger": dataclasses.asdict(ledger), "snapshot_index": snapshot_index, "point_index": point_index,
        "capped": capped})


def _load_resume_point(run: Run, config: TrainConfig) -> dict | None:
    if not run.latest.exists():
        if (run.dir / "config.json").exists():
            _check_same_config(run.dir / "config.json", config)
        return None
    try:
        state = torch.load(run.latest, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ConfigError(f"resume point {run.latest} is corrupt ({type(exc).__name__}); "
                          f"delete it to restart the run from scratch") from None
    if not isinstance(state, dict) or state.get("format") != "hexzero-resume":
        raise ConfigError(f"{run.latest} is not a hexzero resume point")
    _check_same_config(state["train_config"], config)
    return state


def _check_same_config(saved, config: TrainConfig) -> None:
    if not isinstance(saved, dict):
        import json

        saved = json.loads(Path(saved).read_text())
    for key in ("board", "width", "depth", "arch"):
        if saved.get(key) != getattr(config, key):
            raise ConfigError(f"the output folder holds a run with {key}={saved.get(key)}, "
                              f"not {getattr(config, key)}: choose another --out")


def _progress_bar(progress: bool, config: TrainConfig):
    if not progress:
        return None
    from tqdm import tqdm

    total = math.log10(config.compute)
    return tqdm(total=round(total, 3), desc=f"train {config.board}x{config.board} w{config.width}d{config.depth}",
                unit="log10 C", bar_format="{l_bar}{bar}| 1e{n:.2f}/1e{total:.2f} [{elapsed}<{remaining}{postfix}]")


def _update_bar(bar, record, end) -> None:
    if bar is None or record["compute"] <= 0:
        return
    bar.n = round(min(math.log10(record["compute"]), math.log10(end)), 3)
    bar.set_postfix_str(_postfix(record), refresh=False)
    bar.refresh()


def _postfix(record) -> str:
    parts = [f"samples {record['samples']:,}"]
    if record.get("policy_loss") is not None:
        parts.append(f"pl {record['policy_loss']:.3f} vl {record['value_loss']:.3f}")
    if "accuracy" in record:
        parts.append(f"acc {record['accuracy']:.3f}")
    return ", ".join(parts)


def _tensorboard_writer(run: Run, enabled: bool):
    if not enabled:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install tensorboard") from exc
    return SummaryWriter(str(run.dir / "tensorboard"))
