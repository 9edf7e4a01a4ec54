"""Shared fixtures, and a suite that touches nothing outside itself.

Before any test module is imported, the session points every folder hexzero and its libraries
would write into at a temporary folder of its own, removed at the end:
- HEXZERO_CACHE: the solver's tables and position sets. A stale table in the user's
  ~/.cache/hexzero would otherwise decide test outcomes (and the suite would write there).
- MPLCONFIGDIR: matplotlib's font cache, which defaults to ~/.cache/matplotlib.
- HYPOTHESIS_STORAGE_DIRECTORY: hypothesis's examples and caches, by default .hypothesis/ in
  the working folder.
Subprocesses and Ray workers inherit the environment, so they use the same folders. Nothing
is written under $HOME: the suite passes with HOME pointed at a read-only folder (Ray keeps its
session files in /tmp/ray; its authentication token, by default ~/.ray/auth_token, is a
session file: RAY_AUTH_TOKEN_PATH). RAY_ADDRESS=local: every Ray the suite starts is its own,
never one it finds on the machine.

Ray: `ray_local` gives a test the shared local Ray (two CPUs), starting it when none runs;
`ray_fresh` gives a test no Ray at all, for one that starts its own (a multi-node
`ray.cluster_utils.Cluster`), and shuts down whatever it started at the end; the session shuts
Ray down at its end. So no test depends on which ran before it (the suite runs in random
order: `pytest -p random_order --random-order`).
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

ISOLATED_ENV = ("HEXZERO_CACHE", "MPLCONFIGDIR", "HYPOTHESIS_STORAGE_DIRECTORY")
_session_root: Path | None = None


def pytest_configure(config):
    global _session_root
    _session_root = Path(tempfile.mkdtemp(prefix="hexzero-tests-"))
    for name in ISOLATED_ENV:
        folder = _session_root / name.lower()
        folder.mkdir()
        os.environ[name] = str(folder)
    # "local": a Ray of the session's own. ray.init() without an address joins any Ray it finds
    # on the machine (another suite's `ray.cluster_utils.Cluster`, a `ray start`), and
    # subprocesses (the CLI under test) start theirs through code that passes no address.
    os.environ["RAY_ADDRESS"] = "local"
    # Ray's token authentication writes ~/.ray/auth_token unless it is given a token file.
    token = _session_root / "ray_auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token)
    # hypothesis may have read its storage folder already, when its plugin loaded.
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"])


def pytest_unconfigure(config):
    if _session_root is not None:
        shutil.rmtree(_session_root, ignore_errors=True)


@pytest.fixture(scope="session")
def session_folder() -> Path:
    """The session's own folder (HEXZERO_CACHE and MPLCONFIGDIR live under it)."""
    return _session_root


@pytest.fixture(scope="session", autouse=True)
def _ray_ends_with_the_session():
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture()
def ray_local():
    """The shared real local Ray with two CPUs, started when none runs (the first test to ask,
    or the first after a test that ran its own)."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    return ray


@pytest.fixture()
def ray_fresh():
    """No Ray running when the test starts, and none left when it ends: for a test that
    starts its own (a `ray.cluster_utils.Cluster`, a given address)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    yield ray
    if ray.is_initialized():
        ray.shutdown()
