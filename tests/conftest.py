"""Fixtures shared by the tests; helpers live in ``tests/helpers.py``."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny() -> list[str]:
    """Overrides for a 500-neuron network (C_E = 40, C_I = 10), 400 ms."""
    return ["network.N_E=400", "network.N_I=100", "sim.duration=400", "sim.transient=100",
            "analysis.welch_segment=100"]


@pytest.fixture(autouse=True, scope="session")
def _one_theory_cache_per_session(tmp_path_factory):
    """The theory computed once per test session and shared by its tests (and the commands
    they start; with pytest-xdist, by its workers), never read from a user's cache nor left
    in it."""
    import os

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n: one cache for all workers
        root = root.parent
    cache = root / "theory-cache"
    cache.mkdir(exist_ok=True)
    os.environ["BRUNEL_SWEEP_CACHE"] = str(cache)
    yield
    del os.environ["BRUNEL_SWEEP_CACHE"]


@pytest.fixture(autouse=True)
def _fast_tests_stay_pure(request):
    """A test of the fast tier must not bring MOOSE into the test process."""
    yield
    if request.node.get_closest_marker("fast"):
        import sys

        assert "moose" not in sys.modules, "a fast test imported MOOSE"
