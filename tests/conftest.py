"""Shared pytest fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray with two CPUs, shared by every test that needs one; shut down at the end
    of the session only if this fixture started it."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    if started_here:
        ray.shutdown()
