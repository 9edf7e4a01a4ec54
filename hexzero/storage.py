"""Files and formats: atomic writes, JSON lines, and the snapshot format (written by
`save_snapshot`, read by `load_snapshot`, nowhere else).

Every file hexzero writes goes through these helpers: the bytes land in a temporary file in the
same folder, are fsynced, and are renamed over the target, so a reader (or a run killed with
kill -9 at any moment) sees either the old file or the new one, never half of one.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; outputs are for sharing
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_save_torch(path: str | os.PathLike, obj: Any) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line. A crash can leave at most a partial last line, which
    `read_jsonl` skips, so earlier records are never lost."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line from a killed writer
    return records


def write_jsonl(path: str | os.PathLike, records: list[dict]) -> None:
    """Replace a JSON-lines file whole, atomically (`append_jsonl` writes it line by line)."""
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


# ----------------------------------------------------------------------------- torch files

def save_torch_file(path: str | os.PathLike, kind: str, version: int, payload: dict) -> None:
    """A torch file tagged with its kind and format version (read back by `load_torch_file`)."""
    atomic_save_torch(path, {"format": kind, "version": version, **payload})


def load_torch_file(path: str | os.PathLike, kind: str, version: int, what: str, error=ValueError) -> dict:
    """Read a file written by `save_torch_file`, checking its kind and version; `what` names it
    in errors ("snapshot", "resume point"), raised as `error`."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many kinds for a torn or foreign file
        raise error(f"{what} {path} is corrupt or not a torch file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != kind:
        raise error(f"{path} is not a hexzero {what}")
    if data.get("version") != version:
        raise error(f"{what} {path} has format version {data.get('version')}, this hexzero reads {version}")
    return data


# ----------------------------------------------------------------------------- snapshots

SNAPSHOT_FORMAT = "hexzero-snapshot"
SNAPSHOT_VERSION = 1
SNAPSHOT_FIELDS = ("network_config", "network_state", "train_config", "compute")


class SnapshotError(ValueError):
    """A snapshot that is missing, corrupt or of another kind: the message names the file."""


def snapshot_path(run_dir: str | os.PathLike, index: int) -> Path:
    return Path(run_dir) / "snapshots" / f"snapshot-{index:02d}.pt"


def save_snapshot(path: str | os.PathLike, *, network_config: dict, network_state: dict, train_config: dict,
                  compute: float, **extra) -> None:
    """Write a snapshot: the network (architecture and CPU weights), the config that trained
    it, the compute spent (paper units) and any further JSON-able facts (`extra`: index, flops,
    params, ledger, metrics)."""
    weights = {k: v.detach().cpu().clone() for k, v in network_state.items()}
    save_torch_file(path, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
                    {"network_config": dict(network_config), "network_state": weights,
                     "train_config": dict(train_config), "compute": float(compute), **extra})


def load_snapshot(path: str | os.PathLike) -> dict:
    """Read a snapshot written by `save_snapshot`, checking that it is one."""
    data = load_torch_file(path, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, "snapshot", SnapshotError)
    for key in SNAPSHOT_FIELDS:
        if key not in data:
            raise SnapshotError(f"snapshot {path} lacks '{key}'")
    return data


def list_snapshots(run_dir: str | os.PathLike) -> list[dict]:
    """The snapshots of a run, in order, as records {path, index, run, board, width, depth,
    compute, flops, samples, ...} read from the run's catalogue (snapshots.jsonl)."""
    run_dir = Path(run_dir)
    records = []
    for rec in read_jsonl(run_dir / "snapshots.jsonl"):
        path = run_dir / rec["file"]
        if path.is_file():
            records.append({**rec, "path": str(path), "run": rec.get("run", run_dir.name)})
    # a run killed between a snapshot and its resume point logs that snapshot again: keep the
    # last record per index
    by_index = {r["index"]: r for r in records}
    return [by_index[i] for i in sorted(by_index)]
