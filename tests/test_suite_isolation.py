"""The suite touches nothing outside itself (tests/conftest.py): the solver's tables,
matplotlib's and hypothesis's files go to the session's own folder, in this process, in
subprocesses and in Ray workers alike."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hexzero.solver import default_cache_dir

REPO = Path(__file__).resolve().parents[1]


def test_caches_live_in_the_session_folder(session_folder):
    for name in ("HEXZERO_CACHE", "MPLCONFIGDIR", "HYPOTHESIS_STORAGE_DIRECTORY"):
        assert Path(os.environ[name]).parent == session_folder
    assert default_cache_dir() == Path(os.environ["HEXZERO_CACHE"]) / "solver"
    assert not str(default_cache_dir()).startswith(str(Path.home()))
    import matplotlib

    assert Path(matplotlib.get_cachedir()).parent == session_folder


def test_subprocesses_and_ray_workers_share_the_session_cache(ray_local):
    expected = str(default_cache_dir())
    child = subprocess.run([sys.executable, "-c", "from hexzero.solver import default_cache_dir; "
                            "print(default_cache_dir())"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert child.stdout.strip() == expected, child.stderr
    # (a function of an installed module: Ray workers cannot import test modules)
    assert str(ray_local.get(ray_local.remote(default_cache_dir).remote())) == expected
