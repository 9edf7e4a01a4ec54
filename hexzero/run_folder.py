"""A run folder, and every file in it:

    config.json        the run's TrainConfig (a resumed run must ask for the same one)
    metrics.jsonl      one line per round
    snapshots.jsonl    the catalogue: one line per snapshot, `file` relative to the folder
    snapshots/snapshot-XX.pt
    state/latest.pt    the resume point, written after each snapshot
    summary.json       written when an invocation ends

Nothing in it names an absolute path, so a copied or moved folder resumes. The resume point
records how many metrics lines and snapshots it covers; resuming cuts both files back to it, so
a run killed at any moment continues as if never stopped. Every write is noted in `changed`
(paths relative to the folder) for callers that ship files elsewhere as they change.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from hexzero.config import ConfigError, TrainConfig, config_differences
from hexzero.storage import (append_jsonl, atomic_write_json, load_torch_file, read_jsonl, save_snapshot,
                             save_torch_file, snapshot_path, write_jsonl)

RESUME_FORMAT = "hexzero-resume"
RESUME_VERSION = 2


class RunFolder:
    def __init__(self, out: str | os.PathLike):
        self.dir = Path(out)
        self.changed: set[str] = set()

    config_file = property(lambda self: self.dir / "config.json")
    metrics_file = property(lambda self: self.dir / "metrics.jsonl")
    catalogue_file = property(lambda self: self.dir / "snapshots.jsonl")
    latest = property(lambda self: self.dir / "state" / "latest.pt")
    summary_file = property(lambda self: self.dir / "summary.json")

    def _note(self, path: Path) -> None:
        self.changed.add(path.relative_to(self.dir).as_posix())

    def take_changes(self) -> list[str]:
        """The files written since the last call, relative to the folder."""
        changed, self.changed = sorted(self.changed), set()
        return changed

    def check_writable(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"output folder {self.dir} is not writable: {exc.strerror}") from None

    # ------------------------------------------------------------------------- config

    def check_config(self, config: TrainConfig) -> None:
        """Refuse a config that differs from the stored one (if any) in anything but the
        per-invocation fields, naming every difference."""
        if not self.config_file.exists():
            return
        try:
            stored = json.loads(self.config_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{self.config_file} is unreadable ({type(exc).__name__}): choose another --out") from None
        differences = config_differences(stored, config)
        if differences:
            raise ConfigError(f"{self.dir} holds a run with another config ({'; '.join(differences)}): "
                              f"run it with its own settings to resume, or choose another --out")

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_json(self.config_file, config.to_dict())
        self._note(self.config_file)

    # ------------------------------------------------------------------------- records

    def append_metrics(self, record: dict) -> None:
        append_jsonl(self.metrics_file, record)
        self._note(self.metrics_file)

    def cut_back(self, metrics_rows: int, snapshots: int) -> list[dict]:
        """Keep the first `metrics_rows` metrics lines and `snapshots` catalogue lines (what the
        resume point covers), rewriting each file only if it holds more. Returns the metrics."""
        metrics = read_jsonl(self.metrics_file)
        catalogue = read_jsonl(self.catalogue_file)
        if len(metrics) < metrics_rows:
            raise ConfigError(f"{self.metrics_file} holds {len(metrics)} rounds, its resume point "
                              f"{metrics_rows}: the run folder is damaged, choose another --out")
        for path, records, keep in ((self.metrics_file, metrics, metrics_rows),
                                    (self.catalogue_file, catalogue, snapshots)):
            if path.exists() and (len(records) > keep or path.stat().st_size != _jsonl_size(records[:keep])):
                write_jsonl(path, records[:keep])
                self._note(path)
        return metrics[:metrics_rows]

    def save_snapshot(self, index: int, catalogue_record: dict, **snapshot) -> None:
        path = snapshot_path(self.dir, index)
        save_snapshot(path, index=index, **snapshot)
        append_jsonl(self.catalogue_file, {"index": index, "file": path.relative_to(self.dir).as_posix(),
                                           "run": self.dir.name, **catalogue_record})
        self._note(path)
        self._note(self.catalogue_file)

    def write_summary(self, summary: dict) -> None:
        atomic_write_json(self.summary_file, summary)
        self._note(self.summary_file)

    # ------------------------------------------------------------------------- resume point

    def save_resume_point(self, state: dict) -> None:
        save_torch_file(self.latest, RESUME_FORMAT, RESUME_VERSION, state)
        self._note(self.latest)

    def load_resume_point(self) -> dict | None:
        if not self.latest.exists():
            return None
        return load_torch_file(self.latest, RESUME_FORMAT, RESUME_VERSION, "resume point", _ResumeError)


class _ResumeError(ConfigError):
    def __init__(self, message: str):
        super().__init__(f"{message}; delete the run folder's state/ to restart the run from scratch")


def _jsonl_size(records: list[dict]) -> int:
    return sum(len((json.dumps(r, sort_keys=True) + "\n").encode("utf-8")) for r in records)
