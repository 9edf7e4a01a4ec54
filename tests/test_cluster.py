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

ROOT = Path(__file__).resolve().parents[1]


def tiny_specs():
    from experiments.sweep import RunSpec
    from hexzero.train import TrainConfig

    return [RunSpec(f"b3-w{w}", TrainConfig.for_mode("fast", board=3, width=w, depth=1, compute=4e7, compute_start=1e5,
                                                     snapshots=5, envs=32, seed=0, max_samples=30_000, evaluate=False,
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


def scenario_results_come_home(out: Path) -> dict:
    """Three runs over two nodes, then a tournament over their snapshots, played on both."""
    import ray

    from elo.db import TournamentDB
    from elo.tournament import run_tournament
    from experiments.sweep import run_sweep
    from hexzero.storage import list_snapshots

    cluster, worker, _ = start_cluster(out)
    try:
        recorder = Recorder()
        summaries = run_sweep(tiny_specs(), out / "sweep", progress=recorder, keep_scratch=True, poll_s=0.2)
        db = TournamentDB(out / "t.sqlite")
        ids = [db.add_agent({"kind": "snapshot", "path": s["path"], "nodes": 2, "policy": "gumbel"}, 3,
                            name=f"{s['run']}/{s['index']}")
               for spec in tiny_specs() for s in list_snapshots(out / "sweep" / "runs" / spec.name)[-2:]]
        report = run_tournament(db, ids, scheme="round-robin", games=4, rounds=1)
        return {"summaries": summaries, "nodes": {k: sorted(v) for k, v in recorder.nodes.items()},
                "samples": recorder.samples, "games": report.games_played, "batches": report.batches_played,
                "worker_node": worker.node_id}
    finally:
        ray.shutdown()
        cluster.shutdown()


def scenario_node_lost(out: Path) -> dict:
    """The worker node is removed once a run training there has sent a snapshot home: its runs
    finish on the head. Then a fresh node joins and a tournament loses it mid-way."""
    import ray

    from elo.db import TournamentDB
    from elo.tournament import run_tournament
    from experiments.sweep import run_sweep
    from hexzero.storage import read_jsonl

    cluster, worker, node_args = start_cluster(out)
    runs = out / "sweep" / "runs"
    removed = {}

    def remove_when_worker_has_a_snapshot_home():
        while not removed:
            for attempts in runs.glob("*/attempts.jsonl"):
                first = read_jsonl(attempts)[0]
                run = attempts.parent
                if (worker.node_id[:6] in first["node"] and read_jsonl(run / "snapshots.jsonl")
                        and not (run / "summary.json").exists()):
                    removed["run"], removed["snapshots_home"] = run.name, len(read_jsonl(run / "snapshots.jsonl"))
                    cluster.remove_node(worker, allow_graceful=False)
                    return
            time.sleep(0.05)

    try:
        watcher = threading.Thread(target=remove_when_worker_has_a_snapshot_home, daemon=True)
        watcher.start()
        recorder = Recorder()
        summaries = run_sweep(tiny_specs(), out / "sweep", progress=recorder, poll_s=0.2)
        watcher.join(timeout=60)

        # A tournament among random players (one batch ~ a second of games), its node removed
        # after the first batches are recorded.
        db = TournamentDB(out / "t.sqlite")
        ids = [db.add_agent({"kind": "random", "n": 13, "tag": t}, 13, name=f"random{t}") for t in range(4)]
        victim = cluster.add_node(**node_args("replacement-scratch", 2))  # (from the main thread only)

        def remove_mid_tournament():
            while db_batches(out / "t.sqlite") < 2:
                time.sleep(0.05)
            cluster.remove_node(victim, allow_graceful=False)

        killer = threading.Thread(target=remove_mid_tournament, daemon=True)
        killer.start()
        report = run_tournament(db, ids, scheme="round-robin", games=400, rounds=2, max_in_flight=4)
        killer.join(timeout=60)
        return {"summaries": summaries, "removed": {k: v for k, v in removed.items()}, "lost": recorder.lost_runs,
                "games": report.games_played, "batches": report.batches_played,
                "replayed": report.batches_replayed, "victim": victim.node_id}
    finally:
        ray.shutdown()
        cluster.shutdown()


def db_batches(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def run_scenario(name: str, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEXZERO_SCRATCH": str(out / "driver-scratch")}
    result = subprocess.run([sys.executable, __file__, name, str(out)], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads((out / "result.json").read_text())


def snapshot_weights(path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)["network_state"]


# ----------------------------------------------------------------------------- tests

def test_results_of_runs_on_every_node_come_home_and_match_a_local_sweep(tmp_path):
    from hexzero.storage import list_snapshots, read_jsonl
    from hexzero.train import train

    result = run_scenario("results_come_home", tmp_path)
    worker = result["worker_node"][:6]
    nodes = {node for seen in result["nodes"].values() for node in seen}
    assert any(worker in n for n in nodes) and any(worker not in n for n in nodes), nodes  # both nodes trained
    assert all(s["finished"] for s in result["summaries"])
    for spec in tiny_specs():
        home = tmp_path / "sweep" / "runs" / spec.name
        attempt = read_jsonl(home / "attempts.jsonl")
        assert len(attempt) == 1 and attempt[0]["resumed_from_snapshot"] is None
        # It trained in its node's own scratch folder, and every file came home.
        scratch = Path(attempt[0]["scratch"])
        node_root = "worker-scratch" if worker in attempt[0]["node"] else "head-scratch"
        assert scratch.is_relative_to(tmp_path / node_root), (scratch, attempt)
        snaps = list_snapshots(home)
        assert [s["index"] for s in snaps] == list(range(len(snaps))) and len(snaps) >= 3
        for snap in snaps:
            assert (scratch / snap["file"]).read_bytes() == Path(snap["path"]).read_bytes()
        summary = json.loads((home / "summary.json").read_text())
        assert summary["run"] == str(home) and summary["snapshots"] == len(snaps)
        # The same run trained locally (what a one-machine sweep does) gives the same snapshots.
        local = tmp_path / "local" / spec.name
        train(spec.config, local, progress=False, use_ray=False)
        local_snaps = list_snapshots(local)
        assert [(s["compute"], s["samples"]) for s in local_snaps] == [(s["compute"], s["samples"]) for s in snaps]
        for a, b in zip(local_snaps, snaps):
            wa, wb = snapshot_weights(a["path"]), snapshot_weights(b["path"])
            assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa), (spec.name, a["index"])
    # Progress was reported live: samples grew while the runs trained.
    assert any(len(set(s)) > 2 for s in result["samples"].values()), result["samples"]
    # Tournament games ran on the worker too, from its scratch copies of the snapshots.
    assert result["batches"] == 15 and result["games"] == 60
    assert list((tmp_path / "worker-scratch" / "snapshots").glob("*.pt"))


def test_a_lost_node_costs_only_its_last_snapshot_and_nothing_counts_twice(tmp_path):
    from elo.db import TournamentDB
    from hexzero.storage import list_snapshots, read_jsonl

    result = run_scenario("node_lost", tmp_path)
    removed = result["removed"]
    assert removed, "the worker node was never removed mid-run"
    assert removed["run"] in result["lost"]
    assert all(s["finished"] for s in result["summaries"])
    home = tmp_path / "sweep" / "runs" / removed["run"]
    first, second = read_jsonl(home / "attempts.jsonl")
    # Resumed elsewhere from the last snapshot that had come home.
    assert second["node"] != first["node"]
    assert second["resumed_from_snapshot"] is not None
    assert second["resumed_from_snapshot"] >= removed["snapshots_home"] - 1
    snaps = list_snapshots(home)
    assert [s["index"] for s in snaps] == list(range(len(snaps)))
    catalogue = read_jsonl(home / "snapshots.jsonl")
    assert len(catalogue) == len(snaps)  # no snapshot recorded twice
    samples = [m["samples"] for m in read_jsonl(home / "metrics.jsonl")]
    assert samples == sorted(set(samples))  # no round recorded twice
    # The tournament: batches lost with the node were played again, each counted once.
    assert result["replayed"] >= 1
    db = TournamentDB(tmp_path / "t.sqlite")
    batches, games = db.result_count()
    assert batches == result["batches"] == 2 * 6 and games == result["games"] == 2 * 6 * 400


def test_shared_fs_check_names_a_node_that_cannot_see_the_folder(tmp_path):
    from experiments.sweep import _sees

    probe = tmp_path / "probe"
    probe.write_text("token")
    assert _sees(str(probe), "token")
    assert not _sees(str(probe), "another node's file") and not _sees(str(tmp_path / "absent"), "token")


if __name__ == "__main__":
    scenario, out = sys.argv[1], Path(sys.argv[2])
    found = globals()[f"scenario_{scenario}"](out)
    (out / "result.json").write_text(json.dumps(found, default=str))
