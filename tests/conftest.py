"""Shared helpers. MOOSE keeps global state for the life of a process, so every
test that builds a network runs it in a fresh interpreter (``in_fresh_process``)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def in_fresh_process(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` in a new (spawned) Python process and return its result."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def run_cli(*args: str, timeout: float = 600, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the project root, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def wait_until(condition, timeout: float = 300, what: str = "", poll: float = 0.5) -> None:
    """Poll ``condition`` until it holds; TimeoutError after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(poll)


@pytest.fixture
def tiny() -> list[str]:
    """Overrides for a 500-neuron network (C_E = 40, C_I = 10), 400 ms."""
    return ["network.N_E=400", "network.N_I=100", "sim.duration=400", "sim.transient=100",
            "analysis.welch_segment=100"]
