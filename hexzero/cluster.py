"""What sweeps and tournaments share to run on a Ray cluster without a shared filesystem:
each node's own scratch folder, pinning an actor to the driver's node, and telling a lost node
(replay the work elsewhere) from a failed task (report it).

The driver's node is "the head" here: it holds the output folder and the tournament database;
every other node works in its scratch folder and sends results home through Ray.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Each node's working folder for runs it trains and snapshots it plays: $HEXZERO_SCRATCH, else
# hexzero-scratch in the system temp folder. Nothing in it is the only copy of a result.
SCRATCH_ENV = "HEXZERO_SCRATCH"

# How often one run or one tournament batch may lose its node before the sweep gives up: a
# task that keeps dying is more likely killing its node (memory) than unlucky.
MAX_NODE_LOSSES = 3


def ensure_ray(address: str | None = None, num_cpus: int = 2):
    """Ray, started when none runs in this process: the cluster at `address` (or $RAY_ADDRESS),
    else a local Ray of this process's own with `num_cpus` CPUs. "local" on purpose: a bare
    ray.init() joins any Ray it finds on the machine (a `ray start`, another program's)."""
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or "local"
        if address == "local":
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    return ray


def scratch_root() -> Path:
    return Path(os.environ.get(SCRATCH_ENV) or Path(tempfile.gettempdir()) / "hexzero-scratch")


def lost_node_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean the work was lost with its worker or node, not that it failed: such
    work is submitted again (its results are keyed, so nothing counts twice)."""
    from ray import exceptions as rx

    return (rx.NodeDiedError, rx.WorkerCrashedError, rx.ObjectLostError, rx.LocalRayletDiedError)


def here_node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def on_node(node_id: str):
    """A scheduling strategy that runs a task or actor on that node and nowhere else."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)


def node_label() -> str:
    """The address of the node this code runs on, as `ray status` shows it."""
    import ray

    return ray.util.get_node_ip_address() + ":" + ray.get_runtime_context().get_node_id()[:6]


def alive_nodes() -> list[dict]:
    """Alive nodes that can run tasks (some CPU), as ray.nodes() rows."""
    import ray

    return [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
