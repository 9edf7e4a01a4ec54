"""Run a sweep of training runs as Ray tasks: one task per run, each training in-process on
the node that takes it. Resumable: a finished run (its summary says it spent its budget or hit
its sample cap) is never trained again, an unfinished one resumes from its last snapshot."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hexzero.train import TrainConfig


@dataclass(frozen=True)
class RunSpec:
    """One training run of a sweep."""

    name: str
    config: TrainConfig

    @property
    def board(self) -> int:
        return self.config.board


def run_dir(root: str | Path, spec: RunSpec) -> Path:
    return Path(root) / "runs" / spec.name


def is_finished(root: str | Path, spec: RunSpec) -> bool:
    summary = run_dir(root, spec) / "summary.json"
    if not summary.exists():
        return False
    try:
        data = json.loads(summary.read_text())
    except (json.JSONDecodeError, OSError):
        return False
    return bool(data.get("finished"))


def _train_one(config_dict: dict, out: str) -> dict:
    import numba
    import torch

    from hexzero.train import train

    # A run owns one core: its self-play and learner share it.
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    return train(TrainConfig(**config_dict), out, progress=False, use_ray=False)


def run_sweep(specs: list[RunSpec], root: str | Path, progress: bool = True) -> list[dict]:
    """Train every unfinished run, as many at once as Ray has CPUs. Returns the summaries of
    all runs (finished earlier or now)."""
    import ray

    root = Path(root)
    todo = [s for s in specs if not is_finished(root, s)]
    summaries = {s.name: json.loads((run_dir(root, s) / "summary.json").read_text())
                 for s in specs if s not in todo}
    if todo:
        task = ray.remote(num_cpus=1, max_retries=0)(_train_one)
        pending = {task.remote(s.config.to_dict(), str(run_dir(root, s))): s for s in todo}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="sweep", unit="run")
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            summaries[spec.name] = ray.get(done[0])
            if bar is not None:
                bar.set_postfix_str(spec.name)
                bar.update(1)
        if bar is not None:
            bar.close()
    return [summaries[s.name] for s in specs]
