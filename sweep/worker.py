"""One point in its own process: ``python -m sweep.worker`` reads a point spec (JSON)
on stdin, runs it and writes its Parquet part. A Python error becomes a failed row
with its traceback; a crash is recorded by the parent (``sweep.runner``).

Test hook (tests only): ``SWEEP_TEST_FAULT=<kind>@<key>=<value>[;...]`` makes the
point whose setting <key> equals <value> fail: kind is ``segfault``, ``memory``
(allocates without bound), ``hang`` or ``raise``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sweep.config import Config, from_dictconfig
from sweep.storage import base_row, now, write_part

FAULT_ENV = "SWEEP_TEST_FAULT"


def point_spec(point_id: str, replicate: int, cfg: Config, run_dir: Path,
               save_spikes: bool, git_commit: str | None) -> dict[str, Any]:
    return {"point_id": point_id, "replicate": replicate, "config": dataclasses.asdict(cfg),
            "run_dir": str(run_dir), "save_spikes": save_spikes, "git_commit": git_commit}


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


def run_spec(spec: dict[str, Any], started_at) -> dict[str, Any]:
    from sweep.point import run_point

    cfg = from_dictconfig(OmegaConf.create(spec["config"]))
    run_dir = Path(spec["run_dir"])
    row = base_row(spec["point_id"], spec["replicate"], cfg)
    row.update(started_at=started_at, git_commit=spec["git_commit"])
    try:
        _maybe_fault(cfg)
        spikes = None
        if spec["save_spikes"]:
            spikes = run_dir / "spikes" / f"{spec['point_id']}.npz"
            spikes.parent.mkdir(parents=True, exist_ok=True)
        result = run_point(cfg, spikes)
        row.update({k: v for k, v in result.items() if k in row and k not in ("seed", "N")})
        row.update(status="ok", spikes_file=str(spikes.relative_to(run_dir)) if spikes else None)
    except Exception:
        row.update(status="failed", error=traceback.format_exc())
    return row


def main() -> int:
    import psutil

    created = psutil.Process().create_time()  # total_s counts interpreter start and imports
    spec = json.loads(sys.stdin.read())
    row = run_spec(spec, now())
    row.update(finished_at=now(), total_s=time.time() - created,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    write_part(Path(spec["run_dir"]), row)
    return 0 if row["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
