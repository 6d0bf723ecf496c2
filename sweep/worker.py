"""Internal: one point in its own process, started by the sweep runner, not by users.

``python -m sweep.worker`` reads a point spec (JSON) on
stdin, runs the point and writes its result (statistics, timings, status and, for a
Python error, the traceback) to ``RESULT_PATH`` atomically: a temporary file, then a
rename. The parent (``sweep.runner``) turns it into the point's Parquet part, or
records a crash, a timeout or a memory kill when no result appears. The worker
imports neither pyarrow nor pandas (0.3 s per point).

Test hook (tests only): ``SWEEP_TEST_FAULT=<kind>@<key>=<value>[;...]`` makes the
point whose setting <key> equals <value> fail: kind is ``segfault``, ``memory``
(allocates without bound), ``hang`` or ``raise``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sweep.cli import EXIT_ENVIRONMENT, environment_problem, parser
from sweep.config import Config, config_from_dict
from sweep.rundir import RunDir, write_text

FAULT_ENV = "SWEEP_TEST_FAULT"


def point_spec(point_id: str, cfg: Config, run_dir: Path, save_spikes: bool,
               result_path: Path) -> dict[str, Any]:
    return {"point_id": point_id, "config": dataclasses.asdict(cfg), "run_dir": str(run_dir),
            "save_spikes": save_spikes, "result_path": str(result_path),
            "parent_pid": os.getpid()}


def _die_with_parent() -> None:
    """Get SIGKILL when the parent dies, even by SIGKILL, so that no point outlives its
    sweep (Linux; elsewhere a no-op). Done here, not in a preexec_fn: forking from a
    threaded parent must not run Python code before exec."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _maybe_fault(cfg: Config) -> None:
    for fault in filter(None, os.environ.get(FAULT_ENV, "").split(";")):
        kind, _, condition = fault.partition("@")
        key, _, value = condition.partition("=")
        group, _, name = key.partition(".")
        if str(getattr(getattr(cfg, group), name)) == value:
            _fault(kind, f"{key}={value}")


def _fault(kind: str, where: str) -> None:
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    elif kind == "memory":
        hog = []
        while True:
            hog.append(bytearray(50 * 2**20))  # bytearray zero-fills: pages are touched
    elif kind == "hang":
        time.sleep(10**6)
    elif kind == "raise":
        raise RuntimeError(f"test fault at {where}")


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The point's measurements, or its traceback: {"status", "error", "stats", ...}."""
    from sweep.point import simulate_point

    cfg = config_from_dict(spec["config"])
    run_dir = Path(spec["run_dir"])
    try:
        _maybe_fault(cfg)
        spikes = None
        if spec["save_spikes"]:
            spikes = RunDir(run_dir).spikes(spec["point_id"])
        stats = simulate_point(cfg, spikes)
        return {"status": "ok", "error": None, "stats": stats,
                "spikes_file": str(spikes.relative_to(run_dir)) if spikes else None}
    except Exception as err:
        problem = (environment_problem(err, str(run_dir)) if isinstance(err, OSError) else
                   err if isinstance(err, ImportError) and err.name == "moose" else None)
        # The machine, not the point, failed: no row; the sweep stops with exit code 4.
        status, error = ("environment", str(problem)) if problem else (
            "failed", traceback.format_exc())
        return {"status": status, "error": error, "stats": {}, "spikes_file": None}


def main(argv: list[str] | None = None) -> int:
    import psutil

    parser("python -m sweep.worker", __doc__, "sweep.worker").parse_args(
        sys.argv[1:] if argv is None else argv)
    _die_with_parent()
    created = psutil.Process().create_time()  # total_s counts interpreter start and imports
    started_at = datetime.now(UTC).isoformat()
    spec = json.loads(sys.stdin.read())
    if os.getppid() != spec["parent_pid"]:  # the parent died before prctl took effect
        return 1
    print(f"sweep.worker: point {spec['point_id']} in process {os.getpid()} "
          f"(parent {os.getppid()})", flush=True)
    result = run_spec(spec)
    result.update(started_at=started_at, finished_at=datetime.now(UTC).isoformat(),
                  total_s=time.time() - created,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    try:
        write_text(Path(spec["result_path"]), json.dumps(result))
    except OSError as err:  # the parent reads this line and stops the sweep
        with contextlib.suppress(OSError):  # the log may be on the same full disk
            print(f"sweep.worker: {environment_problem(err) or err}", flush=True)
        return EXIT_ENVIRONMENT
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
