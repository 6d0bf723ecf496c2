"""What survives what: random kill -9s resumed to the same dataset, two sweeps sharing
one run directory, a full disk, a run directory that cannot be written, MOOSE that
cannot be imported (docs/reliability.md).

The chaos test's number of kills is ``CHAOS_KILLS`` (default 3; ``CHAOS_KILLS=30
python -m pytest tests/test_reliability.py -k chaos`` for the documented many), its
random moments from ``CHAOS_SEED``."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sweep.cli import EXIT_ENVIRONMENT
from sweep.storage import load
from tests.helpers import ROOT, TINY, running_workers, stable, sweep, wait_until

GRID = ["grid.axes.network.g=[3.0,4.0,5.0,6.0]", "grid.axes.network.eta=[1.0,2.0]"]
HALF = ["grid.axes.network.g=[3.0,4.0]"]  # 4 of GRID's points (a later override wins)
WORKER_LINE = "sweep.worker: point "


def _command(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sweep", *TINY, *GRID, *extra, f"hydra.run.dir={run_dir}"]


def _same_points(df: pd.DataFrame, reference: pd.DataFrame) -> None:
    """``df`` is ``reference`` at its points, but for the columns that differ by run."""
    ref = reference[reference.point_id.isin(df.point_id)].reset_index(drop=True)
    pd.testing.assert_frame_equal(stable(df), stable(ref))


def _start(run_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(_command(run_dir, *extra), cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _attempts(run_dir: Path) -> dict[str, int]:
    """How many times each point's process started (every attempt is in its log)."""
    return {log.stem: log.read_text().count(WORKER_LINE)
            for log in (run_dir / "logs").glob("*.log")}


def _hidden(run_dir: Path) -> list[str]:
    """Claims and temporary files left in the run directory (the claims' lock file is a
    fixture of the layout, not a leftover)."""
    return sorted(str(p.relative_to(run_dir)) for folder in ("", "parts", "spikes")
                  for p in (run_dir / folder).glob(".*")
                  if p.is_file() and p.name != ".claims.lock")


@pytest.fixture(scope="module")
def one_sweep(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("one") / "run"
    out = sweep(run_dir, *GRID)
    assert out.returncode == 0, out.stderr
    return run_dir


def test_two_sweeps_at_once_share_the_points(one_sweep, tmp_path):
    run_dir = tmp_path / "run"
    first = _start(run_dir, *HALF, "run.jobs=1")
    time.sleep(0.5)
    second = _start(run_dir, *HALF, "run.jobs=1")
    outs = [p.communicate(timeout=600) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    attempts = _attempts(run_dir)
    assert len(attempts) == 4 and set(attempts.values()) == {1}  # every point once
    assert any("waiting for " in stderr for _, stderr in outs)  # for the other's points
    _same_points(load(run_dir)[0], load(one_sweep)[0])
    assert _hidden(run_dir) == []


def test_chaos_kill_9_at_random_moments_resumes_to_the_same_dataset(one_sweep, tmp_path):
    """kill -9 of the sweep or of one of its point processes at random moments; each
    time the same command resumes (a point killed from outside is a failed row, which
    run.retry_failed=true runs again)."""
    kills = int(os.environ.get("CHAOS_KILLS", "3"))
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "0")))
    run_dir = tmp_path / "run"
    extra = ("run.jobs=2", "run.retry_failed=true")
    done = 0
    while done < kills:
        proc = _start(run_dir, *extra)
        time.sleep(rng.uniform(0.5, 6.0))
        if proc.poll() is not None:  # finished before the kill: start over from scratch
            assert proc.returncode in (0, 1), proc.communicate()
            proc.communicate()
            continue
        workers = running_workers(run_dir)
        if workers and rng.random() < 0.5:
            rng.choice(workers).send_signal(signal.SIGKILL)  # one point's process
            proc.wait(timeout=600)  # the sweep goes on, with a failed row
        else:
            proc.send_signal(signal.SIGKILL)  # the sweep itself
            proc.wait()
        proc.communicate()
        done += 1
    time.sleep(0.5)
    assert not running_workers(run_dir)  # nothing outlives its sweep
    final = _start(run_dir, *extra)
    out = final.communicate(timeout=600)
    assert final.returncode == 0, out
    _same_points(load(run_dir)[0], load(one_sweep)[0])
    assert not running_workers(run_dir)
    assert _hidden(run_dir) == []


def _root_mount(*args: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    subprocess.run(["mount", *args], check=True)


def test_a_full_disk_is_one_line_exit_4_and_the_same_command_resumes(one_sweep, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _root_mount("-t", "tmpfs", "-o", "size=120k", "tmpfs", str(disk))
    try:
        run_dir = disk / "run"
        full = subprocess.run(_command(run_dir, *HALF, "run.save_spikes=true"), cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              capture_output=True, text=True, timeout=600, check=False)
        assert full.returncode == EXIT_ENVIRONMENT, full.stderr
        err = full.stderr.strip().splitlines()[-1]
        assert err.startswith(f"error: no space left on device writing {run_dir}")
        assert "run the same command again: it resumes" in err
        assert "Traceback" not in full.stderr + full.stdout
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        again = subprocess.run(_command(run_dir, *HALF, "run.save_spikes=true"), cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)},
                               capture_output=True, text=True, timeout=600, check=False)
        assert again.returncode == 0, again.stderr
        _same_points(load(run_dir)[0].drop(columns="spikes_file"),
                     load(one_sweep)[0].drop(columns="spikes_file"))
        assert _hidden(run_dir) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize("where", ["under a file", "read-only"])
def test_a_run_directory_that_cannot_be_written_is_one_line_exit_4(tmp_path, where):
    if where == "under a file":
        (tmp_path / "file").write_text("x")
        run_dir, expected = tmp_path / "file" / "run", "Not a directory"
    else:
        target = tmp_path / "ro"
        target.mkdir()
        if os.geteuid() == 0:  # root writes through file modes: mount it read-only
            _root_mount("-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target))
        else:
            target.chmod(0o500)
        run_dir, expected = target / "run", "cannot be written"
    try:
        out = subprocess.run(_command(run_dir), cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
                             check=False)
    finally:
        if where == "read-only" and os.geteuid() == 0:
            subprocess.run(["umount", str(tmp_path / "ro")], check=False)
    assert out.returncode == EXIT_ENVIRONMENT
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {run_dir}") and expected in lines[0]


def test_moose_that_cannot_be_imported_is_one_line_exit_4(tmp_path):
    fake = tmp_path / "fake" / "moose"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("libmoose.so: cannot open shared '
                                      'object file")\n')
    run_dir = tmp_path / "run"
    out = subprocess.run(_command(run_dir), cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": f"{fake.parent}:{ROOT}"},
                         timeout=300, check=False)
    assert out.returncode == EXIT_ENVIRONMENT
    assert out.stderr.strip().splitlines()[-1] == (
        "error: MOOSE cannot be imported (libmoose.so: cannot open shared object file); "
        "this project needs pymoose==5.0.0: pip install pymoose==5.0.0")
    assert not list((run_dir / "parts").glob("*.parquet"))  # no point is failed for it
    wait_until(lambda: not running_workers(run_dir), timeout=30, what="no point process")
