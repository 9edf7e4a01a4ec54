"""Run a sweep of training runs as Ray tasks, on one machine or a cluster. Resumable: a
finished run (its summary says it spent its budget or hit its sample cap) is never trained
again, an unfinished one resumes from its last snapshot.

Results come home through Ray (the default): a run task trains into its node's scratch folder
(hexzero.cluster.scratch_root) and sends each snapshot's files, as the trainer reports them, to
`ResultsHome`, an actor pinned to the driver's node that writes them atomically into the run
folder there. A task that starts (or starts again after its node was lost) first pulls its run's
resume point from home, so a rescheduled run resumes from its last snapshot on any node and a
lost node costs at most the work since that snapshot. With `shared_fs=True` every node trains
straight into the run folder instead; the sweep first checks that each node sees it.

Each start of a run task is logged in RUN/attempts.jsonl (node, snapshots it resumed from).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from experiments.sweep_config import RunResources
from hexzero.cluster import (MAX_NODE_LOSSES, alive_nodes, here_node_id, lost_node_errors, node_label, on_node,
                             scratch_root)
from hexzero.storage import append_jsonl, atomic_write_bytes, atomic_write_text, read_jsonl

if TYPE_CHECKING:  # torch stays out of ResultsHome's process: it only writes files
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


# ----------------------------------------------------------------------------- results home

# The files a run needs to resume (besides its last snapshot, which the trainer's catalogue
# check reads): everything else stays home.
RESUME_FILES = ("config.json", "metrics.jsonl", "snapshots.jsonl", "state/latest.pt")
# Written last, in this order: a resume point never names a snapshot that is not home yet, and
# a summary never precedes the files it sums up.
WRITTEN_LAST = ("state/latest.pt", "summary.json")


class ResultsHome:
    """The run folders on the driver's node, and what every running run reported last.

    Each start of a run gets a token; writes and reports under an older token (a task from a
    node that was given up on but still talks) are refused, so two attempts never interleave."""

    def __init__(self, root: str, ship_files: bool):
        self.root = Path(root)
        self.ship_files = ship_files
        self.tokens: dict[str, str] = {}
        self.status: dict[str, dict] = {}

    def start(self, name: str, node: str, scratch: str) -> tuple[str, dict[str, bytes]]:
        """Register an attempt at run `name` on `node`; returns its token and (when files are
        shipped) the run's resume files from home."""
        folder = self.root / "runs" / name
        token = uuid.uuid4().hex
        self.tokens[name] = token
        snapshots = read_jsonl(folder / "snapshots.jsonl")
        attempts = read_jsonl(folder / "attempts.jsonl")
        append_jsonl(folder / "attempts.jsonl", {
            "attempt": len(attempts) + 1, "node": node, "scratch": scratch, "time": time.time(),
            "resumed_from_snapshot": snapshots[-1]["index"] if snapshots else None})
        self.status[name] = {"node": node, "attempt": len(attempts) + 1, "samples": 0}
        files = {}
        if self.ship_files:
            wanted = list(RESUME_FILES) + ([snapshots[-1]["file"]] if snapshots else [])
            files = {rel: (folder / rel).read_bytes() for rel in wanted if (folder / rel).is_file()}
        return token, files

    def report(self, name: str, token: str, info: dict) -> None:
        if self.tokens.get(name) == token:
            self.status[name].update(info)

    def write(self, name: str, token: str, files: dict[str, bytes]) -> bool:
        """Write a run's files atomically into its folder; False (nothing written) for a stale
        attempt."""
        if self.tokens.get(name) != token:
            return False
        folder = self.root / "runs" / name
        for rel in sorted(files, key=lambda r: WRITTEN_LAST.index(r) + 1 if r in WRITTEN_LAST else 0):
            atomic_write_bytes(folder / rel, files[rel])
        return True

    def finished(self, name: str) -> None:
        self.status.pop(name, None)

    def running(self) -> dict[str, dict]:
        return self.status


# ----------------------------------------------------------------------------- the run task

REPORT_EVERY_S = 0.5  # progress reports per run: enough for a live display, little traffic


def train_on_node(config_dict: dict, name: str, home_dir: str, home, ship_files: bool, sweep_key: str,
                  keep_scratch: bool) -> dict:
    """One run task: pull the resume point, train, send each snapshot's files home."""
    import numba
    import ray
    import torch

    from hexzero.train import TrainConfig, train

    # A run owns the CPUs it declared: its self-play and learner share them.
    cpus = max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
    torch.set_num_threads(1)
    numba.set_num_threads(min(cpus, numba.config.NUMBA_NUM_THREADS))
    local = scratch_root() / sweep_key / name if ship_files else Path(home_dir)
    token, files = ray.get(home.start.remote(name, node_label(), str(local)))
    if ship_files:
        # Home holds the truth: whatever an earlier attempt left here may be ahead of it.
        shutil.rmtree(local, ignore_errors=True)
        for rel, data in files.items():
            atomic_write_bytes(local / rel, data)
    last_report, last_round = 0.0, {}

    def on_event(kind: str, info: dict) -> None:
        nonlocal last_report, last_round
        if kind == "round":
            last_round = info
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                last_report = time.monotonic()
                home.report.remote(name, token, info)
            return
        if kind == "end" and last_round:
            # The run's final count always reaches home before the task returns, however
            # short the run: the display's last look at a run shows where it ended.
            ray.get(home.report.remote(name, token, last_round))
        if kind == "snapshot":
            home.report.remote(name, token, {"snapshot": info["index"]})
        if not ship_files:
            return
        shipped = {rel: (local / rel).read_bytes() for rel in info["files"]}
        # Wait until home has them: the next snapshot may not start before this one is safe.
        if not ray.get(home.write.remote(name, token, shipped)):
            raise RuntimeError(f"run {name}: a newer attempt took over; this one stops")

    summary = train(TrainConfig(**config_dict), local, progress=False, use_ray=False, on_event=on_event)
    if ship_files and not keep_scratch:
        shutil.rmtree(local, ignore_errors=True)
    return {**summary, "run": home_dir}



# ----------------------------------------------------------------------------- shared folder

def _sees(path: str, token: str) -> bool:
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


def check_shared_folder(root: Path) -> None:
    """ValueError unless every node with CPUs reads the probe file written here at the same
    path (with the same contents: a node's own disk may have a folder of the same name)."""
    import ray

    token = uuid.uuid4().hex
    probe = root / f".shared-fs-probe-{token[:8]}"
    atomic_write_text(probe, token)
    try:
        sees = ray.remote(num_cpus=0, max_retries=0)(_sees)
        nodes = alive_nodes()
        answers = ray.get([sees.options(scheduling_strategy=on_node(n["NodeID"])).remote(str(probe), token)
                           for n in nodes])
    finally:
        probe.unlink(missing_ok=True)
    blind = [n["NodeManagerAddress"] + ":" + n["NodeID"][:6] for n, ok in zip(nodes, answers) if not ok]
    if blind:
        raise ValueError(f"--shared-fs: node(s) {', '.join(blind)} cannot see the output folder {root}; mount it "
                         f"at the same path on every node, or leave out --shared-fs to send results through Ray")


# ----------------------------------------------------------------------------- progress

class SweepDisplay:
    """The sweep on the terminal: a bar of finished runs and a bar per running run, named with
    its node, counting its self-play samples towards the run's end (its sample cap or its
    compute budget, whichever comes first: both grow linearly with samples)."""

    MAX_RUN_LINES = 12

    def __init__(self, total: int, done: int):
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar = tqdm(total=total, initial=done, desc="sweep", unit="run", position=0)
        self.lines: dict[str, object] = {}

    def update(self, running: dict[str, dict]) -> None:
        for name, status in running.items():
            line = self.lines.get(name)
            if line is None:
                # A line starts with the run's first samples, so its rate and ETA leave out the
                # task's start-up (imports, resume state from home).
                if len(self.lines) >= self.MAX_RUN_LINES or not status.get("samples"):
                    continue
                line = self.lines[name] = self._tqdm(total=None, desc=name, unit="sample", leave=False,
                                                     position=len(self.lines) + 1, unit_scale=True)
            attempt = f" (attempt {status['attempt']})" if status.get("attempt", 1) > 1 else ""
            line.set_description_str(f"{name} @ {status['node']}{attempt}", refresh=False)
            if "snapshot" in status:
                line.set_postfix_str(f"snapshot {status['snapshot']}", refresh=False)
            line.total = run_end_samples(status)
            line.update(status.get("samples", 0) - line.n)  # through update: tqdm's smoothed rate
            line.refresh()
        self.bar.set_postfix_str(f"{len(running)} running", refresh=True)

    def finished(self, name: str) -> None:
        line = self.lines.pop(name, None)
        if line is not None:
            line.close()
        self.bar.set_postfix_str(name, refresh=False)
        self.bar.update(1)

    def lost(self, name: str, node: str) -> None:
        self.bar.write(f"run {name}: lost with node {node}; rescheduled from its last snapshot", file=sys.stderr)

    def close(self) -> None:
        for line in self.lines.values():
            line.close()
        self.bar.close()


def check_room(resources: RunResources) -> None:
    """ValueError when no node of the cluster can hold one run: Ray would wait forever."""
    fits = [n for n in alive_nodes() if n["Resources"].get("CPU", 0) >= resources.cpus
            and n["Resources"].get("GPU", 0) >= resources.gpus]
    if not fits:
        raise ValueError(f"no node of the Ray cluster has room for one run ({resources.cpus:g} CPUs, "
                         f"{resources.gpus:g} GPUs, the sweep config's \"resources\")")


def run_end_samples(status: dict) -> int | None:
    """The sample count at which a run ends: its cap, or where its compute budget runs out."""
    samples, compute = status.get("samples", 0), status.get("compute", 0)
    ends = [status.get("target_samples")]
    if compute and status.get("target_compute"):
        ends.append(samples * status["target_compute"] / compute)
    ends = [e for e in ends if e]
    return int(min(ends)) if ends else None


# ----------------------------------------------------------------------------- the sweep

def run_sweep(specs: list[RunSpec], root: str | Path, progress: bool | SweepDisplay = True,
              resources: RunResources | None = None, shared_fs: bool = False, keep_scratch: bool = False,
              poll_s: float = 1.0) -> list[dict]:
    """Train every unfinished run, as many at once as the cluster has room for (each run takes
    `resources`; runs spread over the nodes). Returns the summaries of all runs (finished
    earlier or now). progress: True for the terminal display, or a SweepDisplay-like object
    (update(running), finished(name), lost(name, node), close()); keep_scratch: leave each
    node's scratch copy of its runs (to inspect)."""
    import ray

    from hexzero.cluster import ensure_ray

    root = Path(root).resolve()
    resources = resources or RunResources()
    todo = [s for s in specs if not is_finished(root, s)]
    summaries = {s.name: json.loads((run_dir(root, s) / "summary.json").read_text())
                 for s in specs if s not in todo}
    if not todo:
        return [summaries[s.name] for s in specs]
    ensure_ray()
    check_room(resources)
    if shared_fs:
        check_shared_folder(root)
    home = ray.remote(ResultsHome).options(num_cpus=0, scheduling_strategy=on_node(here_node_id())).remote(
        str(root), not shared_fs)
    # Runs of different sweeps (output folders) never share a node's scratch folder.
    sweep_key = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    task = ray.remote(train_on_node).options(num_cpus=resources.cpus, num_gpus=resources.gpus, max_retries=0,
                                             scheduling_strategy="SPREAD")
    # A run's device follows its resources: a run without a GPU leaves the node's GPUs to
    # the runs that hold them.
    device = "cuda" if resources.gpus > 0 else "cpu"

    def submit(spec: RunSpec):
        config = spec.config if spec.config.device != "auto" else replace(spec.config, device=device)
        return task.remote(config.to_dict(), spec.name, str(run_dir(root, spec)), home, not shared_fs, sweep_key,
                           keep_scratch)

    display = progress if not isinstance(progress, bool) else (
        SweepDisplay(len(specs), len(specs) - len(todo)) if progress else None)
    pending = {submit(s): s for s in todo}
    losses: Counter[str] = Counter()
    lost = lost_node_errors()
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=poll_s)
            running = ray.get(home.running.remote())
            if display is not None:
                display.update(running)
            for ref in done:
                spec = pending.pop(ref)
                try:
                    summaries[spec.name] = ray.get(ref)
                except lost as exc:
                    losses[spec.name] += 1
                    if losses[spec.name] > MAX_NODE_LOSSES:
                        raise RuntimeError(f"run {spec.name} lost its node {losses[spec.name]} times; "
                                           f"last: {type(exc).__name__}") from None
                    if display is not None:
                        display.lost(spec.name, running.get(spec.name, {}).get("node", "?"))
                    pending[submit(spec)] = spec
                    continue
                home.finished.remote(spec.name)
                if display is not None:
                    display.finished(spec.name)
    finally:
        if display is not None:
            display.close()
        ray.kill(home)
    return [summaries[s.name] for s in specs]
