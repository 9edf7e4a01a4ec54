"""Sweeps and tournaments on a multi-node Ray cluster (ray.cluster_utils.Cluster) whose nodes
each work in their own scratch folder: results come home to the driver's run folder, and a node
removed mid-run costs only the work since its last snapshot.

Each scenario runs in a subprocess of its own (`python tests/test_cluster.py SCENARIO OUT`):
a process connects to one Ray at a time, and the session's shared local Ray (conftest
`ray_local`) must not notice these clusters come and go.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def tiny_specs():
    from experiments.sweep import RunSpec
    from hexzero.train import TrainConfig

    return [RunSpec(f"b3-w{w}", TrainConfig.for_mode("fast", board=3, width=w, depth=1, compute=4e7, compute_start=3e4,
                                                     snapshots=5, envs=32, seed=0, max_samples=6_000, evaluate=False,
                                                     search={"policy": "gumbel", "nodes": 4}))
            for w in (2, 4, 8)]


class Recorder:
    """A sweep display that remembers which node each run reported from."""

    def __init__(self):
        self.nodes: dict[str, set] = {}
        self.samples: dict[str, list] = {}
        self.lost_runs: list[str] = []

    def update(self, running):
        for name, status in running.items():
            self.nodes.setdefault(name, set()).add(status["node"])
            self.samples.setdefault(name, []).append(status.get("samples", 0))

    def finished(self, name):
        pass

    def lost(self, name, node):
        self.lost_runs.append(name)

    def close(self):
        pass


def start_cluster(out: Path):
    import ray
    from ray.cluster_utils import Cluster

    def node_args(name, cpus):
        return {"num_cpus": cpus, "env_vars": {"HEXZERO_SCRATCH": str(out / name)}, "include_dashboard": False}

    cluster = Cluster(initialize_head=True, head_node_args=node_args("head-scratch", 1))
    worker = cluster.add_node(**node_args("worker-scratch", 2))
    ray.init(address=cluster.address, log_to_driver=False)
    return cluster, worker, node_args


def batch_running_on(raylet_pid: int) -> bool:
    """Whether a worker process of the node whose raylet is `raylet_pid` is playing a
    tournament batch right now (Linux /proc: Ray titles a busy worker ray::TASK, and a node's
    workers are its raylet's children)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::play_batch"):
                continue
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == raylet_pid:
            return True
    return False


def scenario(out: Path) -> dict:
    """One cluster, three acts: (1) three runs over two nodes, then a tournament over their
    snapshots played on both; (2) the same sweep into another folder, the worker node removed
    once a run training there has sent a snapshot home (its runs finish on the head); (3) a
    fresh node joins and a tournament loses it mid-way."""
    import ray

    from elo.db import TournamentDB
    from elo.tournament import run_tournament
    from experiments.sweep import run_sweep
    from hexzero.storage import list_snapshots, read_jsonl

    cluster, worker, node_args = start_cluster(out)
    found = {"worker_node": worker.node_id}
    try:
        recorder = Recorder()
        found["home_summaries"] = run_sweep(tiny_specs(), out / "home", progress=recorder, keep_scratch=True,
                                            poll_s=0.2)
        found["nodes"] = {k: sorted(v) for k, v in recorder.nodes.items()}
        found["samples"] = recorder.samples
        db = TournamentDB(out / "snapshots.sqlite")
        ids = [db.add_agent({"kind": "snapshot", "path": s["path"], "nodes": 2, "policy": "gumbel"}, 3,
                            name=f"{s['run']}/{s['index']}")
               for spec in tiny_specs() for s in list_snapshots(out / "home" / "runs" / spec.name)[-2:]]
        report = run_tournament(db, ids, scheme="round-robin", games=4, rounds=1)
        found["snapshot_tournament"] = [report.games_played, report.batches_played]

        runs = out / "lost" / "runs"
        removed = {}

        def remove_worker_once_it_has_a_snapshot_home():
            while not removed:
                for attempts in runs.glob("*/attempts.jsonl"):
                    first, run = read_jsonl(attempts)[0], attempts.parent
                    home_snapshots = read_jsonl(run / "snapshots.jsonl")
                    if worker.node_id[:6] in first["node"] and home_snapshots and not (run / "summary.json").exists():
                        removed["run"], removed["snapshots_home"] = run.name, len(home_snapshots)
                        cluster.remove_node(worker, allow_graceful=False)
                        return
                time.sleep(0.05)

        watcher = threading.Thread(target=remove_worker_once_it_has_a_snapshot_home, daemon=True)
        watcher.start()
        recorder = Recorder()
        found["lost_summaries"] = run_sweep(tiny_specs(), out / "lost", progress=recorder, poll_s=0.2)
        watcher.join(timeout=60)
        found["removed"], found["lost"] = removed, recorder.lost_runs

        # Random players on 13x13, 1,600 games a batch: seconds each, long enough to be
        # in flight when their node goes.
        db = TournamentDB(out / "random.sqlite")
        ids = [db.add_agent({"kind": "random", "n": 13, "tag": t}, 13, name=f"random{t}") for t in range(4)]
        victim = cluster.add_node(**node_args("replacement-scratch", 2))  # (from the main thread only)
        cluster.wait_for_nodes()

        def remove_mid_tournament():
            # Once a batch is being played on the victim (a worker of its raylet titled
            # ray::play_batch): a batch in flight is what goes down with the node, whatever
            # the machine's speed.
            raylet_pid = victim.all_processes["raylet"][0].process.pid
            deadline = time.monotonic() + 120
            while not batch_running_on(raylet_pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            cluster.remove_node(victim, allow_graceful=False)

        killer = threading.Thread(target=remove_mid_tournament, daemon=True)
        killer.start()
        report = run_tournament(db, ids, scheme="round-robin", games=1600, rounds=2, max_in_flight=4)
        killer.join(timeout=60)
        found["random_tournament"] = [report.games_played, report.batches_played, report.batches_replayed]
        return found
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEXZERO_SCRATCH": str(out / "driver-scratch")}
    result = subprocess.run([sys.executable, __file__, str(out)], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return out, json.loads((out / "result.json").read_text())


def snapshot_weights(path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)["network_state"]


# ----------------------------------------------------------------------------- tests

def test_results_of_runs_on_every_node_come_home_and_match_a_local_sweep(cluster_run, tmp_path):
    from hexzero.storage import list_snapshots, read_jsonl
    from hexzero.train import train

    out, result = cluster_run
    worker = result["worker_node"][:6]
    nodes = {node for seen in result["nodes"].values() for node in seen}
    assert any(worker in n for n in nodes) and any(worker not in n for n in nodes), nodes  # both nodes trained
    assert all(s["finished"] for s in result["home_summaries"])
    for spec in tiny_specs():
        home = out / "home" / "runs" / spec.name
        attempt = read_jsonl(home / "attempts.jsonl")
        assert len(attempt) == 1 and attempt[0]["resumed_from_snapshot"] is None
        # It trained in its node's own scratch folder, and every file came home.
        scratch = Path(attempt[0]["scratch"])
        node_root = "worker-scratch" if worker in attempt[0]["node"] else "head-scratch"
        assert scratch.is_relative_to(out / node_root), (scratch, attempt)
        snaps = list_snapshots(home)
        assert [s["index"] for s in snaps] == list(range(len(snaps))) and len(snaps) >= 3
        for snap in snaps:
            assert (scratch / snap["file"]).read_bytes() == Path(snap["path"]).read_bytes()
        for name in ("metrics.jsonl", "snapshots.jsonl", "state/latest.pt", "config.json"):
            assert (scratch / name).read_bytes() == (home / name).read_bytes(), name
        summary = json.loads((home / "summary.json").read_text())
        assert summary["run"] == home.name and summary["snapshots"] == len(snaps) and summary["finished"]
        # The same run trained on one machine gives the same snapshots, bit for bit: the
        # ratings, frontier and report built on them cannot differ.
        local = tmp_path / spec.name
        train(spec.config, local, progress=False, use_ray=False)
        local_snaps = list_snapshots(local)
        assert [(s["compute"], s["samples"]) for s in local_snaps] == [(s["compute"], s["samples"]) for s in snaps]
        for a, b in zip(local_snaps, snaps):
            wa, wb = snapshot_weights(a["path"]), snapshot_weights(b["path"])
            assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa), (spec.name, a["index"])
    # Progress was reported with each run's node: the samples the display saw never went back,
    # and its last look at each run showed the run's final count.
    for summary in result["home_summaries"]:
        seen = result["samples"][Path(summary["run"]).name]
        assert seen == sorted(seen) and seen[-1] == summary["samples"] > 0, (summary["run"], seen)
    # Tournament games among the snapshots ran on the worker too, from its scratch copies.
    assert result["snapshot_tournament"] == [60, 15]
    assert list((out / "worker-scratch" / "snapshots").glob("*.pt"))


def test_a_lost_node_costs_only_its_last_snapshot_and_nothing_counts_twice(cluster_run):
    from elo.db import TournamentDB
    from hexzero.storage import list_snapshots, read_jsonl

    out, result = cluster_run
    removed = result["removed"]
    assert removed, "the worker node was never removed mid-run"
    assert removed["run"] in result["lost"]
    assert all(s["finished"] for s in result["lost_summaries"])
    home = out / "lost" / "runs" / removed["run"]
    first, second = read_jsonl(home / "attempts.jsonl")
    # Resumed on another node from the last snapshot that had come home.
    assert second["node"] != first["node"]
    assert second["resumed_from_snapshot"] is not None
    assert second["resumed_from_snapshot"] >= removed["snapshots_home"] - 1
    snaps = list_snapshots(home)
    assert [s["index"] for s in snaps] == list(range(len(snaps)))
    assert len(read_jsonl(home / "snapshots.jsonl")) == len(snaps)  # no snapshot recorded twice
    samples = [m["samples"] for m in read_jsonl(home / "metrics.jsonl")]
    assert samples == sorted(set(samples))  # no round recorded twice
    # Every run ends where the undisturbed sweep's ended: the same sample cap, every snapshot home.
    for lost, calm in zip(result["lost_summaries"], result["home_summaries"]):
        assert lost["capped"] and calm["capped"] and lost["snapshots"] == calm["snapshots"]
    # The tournament: batches lost with their node were played again, each counted once.
    games, batches, replayed = result["random_tournament"]
    assert replayed >= 1
    assert TournamentDB(out / "random.sqlite").result_count() == (2 * 6, 2 * 6 * 1600) == (batches, games)


def test_shared_fs_sweep_trains_in_the_folder_itself_after_checking_every_node_sees_it(tmp_path, ray_local):
    from experiments.sweep import _sees, run_sweep
    from experiments.sweep_config import RunResources
    from hexzero.storage import list_snapshots, read_jsonl

    spec = tiny_specs()[0]
    [summary] = run_sweep([spec], tmp_path / "out", progress=False, shared_fs=True)
    home = tmp_path / "out" / "runs" / spec.name
    [attempt] = read_jsonl(home / "attempts.jsonl")
    assert attempt["scratch"] == str(home) and summary["run"] == str(home) and summary["finished"]
    assert len(list_snapshots(home)) == summary["snapshots"] >= 3
    assert not list((tmp_path / "out").glob(".shared-fs-probe-*"))  # the probe is cleaned up
    # A run no node can hold is an error, not a sweep that waits forever.
    with pytest.raises(ValueError, match="no node of the Ray cluster has room for one run"):
        run_sweep([tiny_specs()[1]], tmp_path / "gpu", progress=False, resources=RunResources(cpus=1, gpus=1))
    # The probe a node reads must be the head's file: same path, same contents.
    probe = tmp_path / "probe"
    probe.write_text("token")
    assert _sees(str(probe), "token")
    assert not _sees(str(probe), "another node's file") and not _sees(str(tmp_path / "absent"), "token")


def test_run_resources_are_read_from_the_sweep_config():
    from experiments.sweep_config import RunResources, SweepConfigError

    assert RunResources.parse({}, "resources") == RunResources(1.0, 0.0)
    assert RunResources.parse({"cpus": 2, "gpus": 0.5}, "resources") == RunResources(2.0, 0.5)
    with pytest.raises(SweepConfigError, match="resources.gpus: must be a positive number"):
        RunResources.parse({"gpus": -1}, "resources")
    with pytest.raises(SweepConfigError, match="unknown field"):
        RunResources.parse({"memory": 4}, "resources")


def test_sweep_display_shows_each_running_run_with_its_node_and_samples_to_its_end(capsys):
    from experiments.sweep import SweepDisplay, run_end_samples

    # The run ends at its sample cap or where its compute budget runs out, whichever is first.
    assert run_end_samples({"samples": 1000, "target_samples": 5000, "compute": 1e6, "target_compute": 1e9}) == 5000
    assert run_end_samples({"samples": 1000, "target_samples": None, "compute": 1e6, "target_compute": 2e6}) == 2000
    assert run_end_samples({"samples": 0, "compute": 0, "target_compute": 1e9}) is None
    display = SweepDisplay(total=3, done=1)
    display.update({"b3-w2": {"node": "10.0.0.7:abc123", "attempt": 2, "samples": 1500, "target_samples": 3000,
                              "compute": 1.0, "target_compute": 100.0}})
    line = display.lines["b3-w2"]
    assert (line.n, line.total) == (1500, 3000)
    display.finished("b3-w2")
    display.close()
    err = capsys.readouterr().err
    assert "b3-w2 @ 10.0.0.7:abc123 (attempt 2)" in err and "2/3" in err


if __name__ == "__main__":
    out = Path(sys.argv[1])
    t0 = time.time()
    (out / "result.json").write_text(json.dumps(scenario(out), default=str))
    print(f"scenario took {time.time() - t0:.1f} s", file=sys.stderr)
