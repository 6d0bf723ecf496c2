"""Helpers shared by the tests (no test module imports another one, nor conftest).

MOOSE keeps global state for the life of a process, so every test that builds a
network runs it in a fresh interpreter (``in_fresh_process``)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from sweep.storage import VOLATILE

ROOT = Path(__file__).resolve().parent.parent
# A 500-neuron network (C_E = 40, C_I = 10), 300 ms: a sweep point in about a second.
TINY = ["network.N_E=400", "network.N_I=100", "sim.duration=300", "sim.transient=100",
        "analysis.welch_segment=100", "run.progress=false", "run.theory=false"]


def in_fresh_process(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` in a new (spawned) Python process and return its result."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def run_cli(*args: str, timeout: float = 600, env: dict | None = None, python: bool = True
            ) -> subprocess.CompletedProcess:
    """Run ``python <args>`` (or, ``python=False``, the command ``args``) from the project
    root, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args] if python else list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def wait_until(condition, timeout: float = 300, what: str = "", poll: float = 0.5) -> None:
    """Poll ``condition`` until it holds; TimeoutError after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(poll)


def sweep(run_dir: Path, *overrides: str, env: dict | None = None,
          timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m sweep`` on the TINY network into ``run_dir``."""
    return run_cli("-m", "sweep", *TINY, *overrides, f"hydra.run.dir={run_dir}",
                   env=env, timeout=timeout)


def stable(df: pd.DataFrame) -> pd.DataFrame:
    """The dataset without the columns that differ between two runs of the same points."""
    return df.drop(columns=list(VOLATILE)).reset_index(drop=True)


def running_workers(run_dir: Path) -> list:
    """Point processes still working for ``run_dir``."""
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if "sweep.worker" in " ".join(p.info["cmdline"] or []) and any(
                    str(run_dir) in f.path for f in p.open_files()):
                found.append(p)
        except psutil.Error:
            pass
    return found


def tree_digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}
