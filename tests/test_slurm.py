"""The sweep on a real single-node Slurm (the developers' tool slurm-local.sh beside the
project, at ../shared/tools, with accounting for submitit): array jobs with status,
scancel and resubmit, and Hydra's submitit launcher, each compared with a local run of
the same grid."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sweep.storage import load
from tests import helpers as h

pytestmark = pytest.mark.slurm

SLURM_LOCAL = h.ROOT.parent / "shared" / "tools" / "slurm-local.sh"
LINE = ["grid.axes.network.g=[4,5,6,7]", "grid.axes.network.eta=[2]"]


@pytest.fixture(scope="module")
def slurm_env():
    """A single-node Slurm with accounting for this module; stopped afterwards."""
    if not SLURM_LOCAL.exists():
        pytest.skip(f"no local Slurm here ({SLURM_LOCAL} is the developers' tool; CI has it)")
    if os.geteuid() != 0:
        pytest.skip("the local Slurm installs and starts its daemons as root")
    env = {**os.environ, "SLURM_LOCAL_ACCOUNTING": "1"}
    up = subprocess.run(["bash", str(SLURM_LOCAL), "up"], env=env, capture_output=True,
                        text=True, timeout=900, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    base = Path(os.environ.get("SLURM_LOCAL_BASE", Path(os.environ.get("TMPDIR", "/tmp"))
                               / "slurm-local"))
    conf = (base / "env.sh").read_text().split("SLURM_CONF=", 1)[1].strip()
    yield {"SLURM_CONF": conf}
    subprocess.run(["bash", str(SLURM_LOCAL), "down"], env=env, capture_output=True,
                   timeout=300, check=False)


def slurm(env: dict, *args: str) -> subprocess.CompletedProcess:
    return h.run_cli("-m", "sweep.slurm", *args, env=env)


def queued(env: dict, job_ids: list[str]) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-r", "-j", ",".join(job_ids), "-o", "%i %T"],
                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return out.stdout.split("\n")[:-1]


def job_id(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, out.stderr
    return out.stdout.split(" job ")[1].split(";")[0].split()[0]


@pytest.fixture(scope="module")
def local_line(tmp_path_factory) -> pd.DataFrame:
    run_dir = tmp_path_factory.mktemp("local") / "run"
    out = h.sweep(run_dir, *LINE)
    assert out.returncode == 0, out.stderr
    df, _ = load(run_dir)
    return df


def test_dry_run_writes_manifest_and_script_only(slurm_env, tmp_path):
    run_dir = tmp_path / "dry"
    out = slurm(slurm_env, "submit", "--dry-run", "--run-dir", str(run_dir), *h.TINY, *LINE,
                "slurm.points_per_task=3", "slurm.max_running=2", "slurm.partition=debug",
                'slurm.extra=["--comment=brunel"]')
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("4 points in 2 tasks")
    script = (run_dir / "slurm" / "array.sbatch").read_text()
    for option in ("--array=0-1%2", "--partition=debug", "--comment=brunel",
                   "--mem-per-cpu=8000M", "--cpus-per-task=1", "--time=04:00:00"):
        assert f"#SBATCH {option}\n" in script
    assert not (run_dir / "slurm" / "jobs.json").exists()  # nothing submitted
    status = slurm(slurm_env, "status", str(run_dir))
    assert "4 points: 0 done, 0 failed, 4 pending; 0 tasks queued" in status.stdout
    again = slurm(slurm_env, "submit", "--run-dir", str(run_dir), *h.TINY, *LINE)
    assert again.returncode == 2 and "holds a sweep already" in again.stderr
    for bad_input, message in (("slurm.time=soon", "error: slurm.time='soon': must be"),
                               ("slurm.time=30", "error: run.timeout=3600.0: must be below "
                                                 "slurm.time=30 (1800 s)"),
                               ("'slurm.extra=[\"--mem=1G\"]'", "error: slurm.extra='--mem=1G'")):
        bad = slurm(slurm_env, "submit", "--dry-run", "--run-dir", str(tmp_path / "bad"),
                    bad_input.strip("'"))
        assert bad.returncode == 2 and bad.stderr.startswith(message), bad.stderr
    assert not (tmp_path / "bad").exists()
    too_many = slurm(slurm_env, "submit", "--run-dir", str(tmp_path / "big"), *h.TINY,
                     "grid.axes.network.g=0:10.01:0.01", "grid.axes.network.eta=[2]",
                     "slurm.points_per_task=1")
    assert too_many.returncode == 2, too_many.stderr
    assert too_many.stderr == ("error: slurm.points_per_task=1: makes 1002 tasks, more than "
                               "this cluster's MaxArraySize=1001; use at least 2\n")
    assert not (tmp_path / "big").exists()


def test_array_sweep_scancel_resubmit_matches_local_run(slurm_env, local_line, tmp_path):
    run_dir = tmp_path / "array"
    # Shards of 2 points, each task running both at once on 2 CPUs. The point g=6
    # hangs: its task (shard 1) is cancelled once g=7 is done.
    hang = {**slurm_env, "SWEEP_TEST_FAULT": "hang@network.g=6.0"}
    first = job_id(slurm(hang, "submit", "--run-dir", str(run_dir), *h.TINY, *LINE,
                         "slurm.points_per_task=2", "slurm.cpus_per_task=2"))
    log = run_dir / "slurm" / "logs" / f"{first}_1.out"

    def stuck_at_g6() -> bool:
        done = len(list((run_dir / "parts").glob("*.parquet"))) == 3
        return done and log.exists() and "2 to run" in log.read_text() and any(
            "RUNNING" in line for line in queued(slurm_env, [first]))

    h.wait_until(stuck_at_g6, what="3 points done and shard 1 running")
    status = slurm(slurm_env, "status", str(run_dir)).stdout
    assert f"shard 1: 1 pending; task {first}_1 RUNNING" in status
    waiting_next = jobs(run_dir)[1]["job_id"]  # afterany: held until the array has ended
    assert f"next job {waiting_next} PENDING (then: advance, gather)" in status
    waiting = slurm(slurm_env, "resubmit", str(run_dir)).stdout  # shard 1 is still queued
    assert waiting.strip() == "nothing to resubmit (1 tasks, 1 next jobs queued or running)"
    subprocess.run(["scancel", f"{first}_1"], env={**os.environ, **slurm_env}, check=True)
    h.wait_until(lambda: not queued(slurm_env, [first]), what="the cancelled task to end")
    h.wait_until(lambda: not h.running_workers(run_dir), timeout=30, what="the points to stop")

    # The cancelled point is pending, not failed: Slurm's SIGTERM is a stop request.
    status = slurm(slurm_env, "status", str(run_dir)).stdout
    assert "4 points: 3 done, 0 failed, 1 pending; 0 tasks queued or running" in status
    assert "shard 1: 1 pending; no task queued" in status
    assert "shard 0" not in status
    # The array's next job finds a point missing: it gathers the 3 done and fails.
    first_next = jobs(run_dir)[1]["job_id"]
    h.wait_until(lambda: not queued(slurm_env, [first_next]), what="the first next job")
    log = (run_dir / "slurm" / "logs" / f"next_{first_next}.out").read_text()
    assert "1 points have no part" in log and "(3 rows: 3 ok, 0 failed)" in log

    resubmitted = slurm(slurm_env, "resubmit", str(run_dir))
    assert resubmitted.stdout.startswith("resubmitted shards [1] as array job")
    second = job_id(resubmitted)
    h.wait_until(lambda: not queued(slurm_env, [second]), what="the resubmitted shard")
    logs = sorted(p.name for p in (run_dir / "slurm" / "logs").glob(f"{second}_*.out"))
    assert logs == [f"{second}_0.out"]  # every array is numbered from 0: task 0 is shard 1
    assert "shard 1: 2 points, 1 to run" in (run_dir / "slurm" / "logs" / logs[0]).read_text()
    assert "4 points: 4 done, 0 failed, 0 pending" in slurm(slurm_env, "status",
                                                             str(run_dir)).stdout
    # The resubmitted shard's next job completes the sweep and gathers all 4.
    assert [j.get("next_after") for j in jobs(run_dir)] == [None, first, None, second]
    last_next = jobs(run_dir)[3]["job_id"]
    h.wait_until(lambda: not queued(slurm_env, [last_next]), what="the last next job")
    log = (run_dir / "slurm" / "logs" / f"next_{last_next}.out").read_text()
    assert "complete: 4 points, 0 failed" in log and "(4 rows: 4 ok, 0 failed)" in log
    assert "complete: no round left to plan" in slurm(slurm_env, "status", str(run_dir)).stdout
    nothing = slurm(slurm_env, "resubmit", str(run_dir))
    assert nothing.stdout.strip() == "nothing to resubmit: every point is done"

    df, meta = load(run_dir)  # gathered by the next job
    pd.testing.assert_frame_equal(h.stable(df), h.stable(local_line))
    assert "slurm" in meta["run_config"]


def jobs(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "slurm" / "jobs.json").read_text())


def wait_complete(env: dict, run_dir: Path, what: str) -> None:
    """Until the manifest says complete and none of the run's jobs is queued."""
    def complete() -> bool:
        manifest = json.loads((run_dir / "slurm" / "manifest.json").read_text())
        return manifest["complete"] and not queued(env, [j["job_id"] for j in jobs(run_dir)])

    h.wait_until(complete, timeout=600, what=what)


def test_refined_sweep_runs_round_by_round_and_matches_local_run(slurm_env, tmp_path):
    """Each round an array and a next job that plans and submits the next round; the
    last next job gathers. Same points, dataset and boundaries as a local refined run."""
    refined = ("grid.axes.network.g=[2.0,8.0]", "grid.axes.network.eta=[1.0]",
               "grid.refine.min_step=0.5", "grid.refine.axes=[network.g]")
    local = tmp_path / "local"
    assert h.sweep(local, *refined).returncode == 0
    run_dir = tmp_path / "refined"
    submitted = slurm(slurm_env, "submit", "--run-dir", str(run_dir), *h.TINY, *refined)
    assert submitted.returncode == 0, submitted.stderr

    wait_complete(slurm_env, run_dir, "the last round's next job")
    manifest = json.loads((run_dir / "slurm" / "manifest.json").read_text())
    rounds = max(p["round"] for p in manifest["points"])
    assert rounds >= 1
    arrays = [j for j in jobs(run_dir) if "shards" in j]
    nexts = [j for j in jobs(run_dir) if "next_after" in j]
    assert len(arrays) == rounds + 1 and [j["next_after"] for j in nexts] == [
        j["job_id"] for j in arrays]
    status = slurm(slurm_env, "status", str(run_dir)).stdout
    assert f"round {rounds}: " in status and "complete: no round left to plan" in status
    df, _ = load(run_dir)
    pd.testing.assert_frame_equal(h.stable(df), h.stable(load(local)[0]))
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "boundaries.parquet"),
                                  pd.read_parquet(local / "boundaries.parquet"))


def test_submitit_launcher_matches_local_run(slurm_env, tmp_path):
    local = tmp_path / "local"
    assert h.sweep(local, "grid.axes.network.g=[4,6]", "grid.axes.network.eta=[1,2]"
                 ).returncode == 0
    sweep_dir = tmp_path / "submitit"
    command = ("-m", "sweep", "-m", "launcher=submitit_slurm", "network.g=4,6",
               "network.eta=1,2", *h.TINY, f"hydra.sweep.dir={sweep_dir}")
    out = h.run_cli(*command, env=slurm_env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(list((sweep_dir / ".submitit").glob("*/*_result.pkl"))) == 4  # ran by Slurm
    parts = h.tree_digest(sweep_dir / "parts")
    again = h.run_cli(*command, env=slurm_env)  # resume: every point is done, none runs again
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(list((sweep_dir / ".submitit").glob("*/*_result.pkl"))) == 8
    assert h.tree_digest(sweep_dir / "parts") == parts
    assert "(4 rows: 4 ok, 0 failed)" in again.stdout  # gathered on the submitting machine
    pd.testing.assert_frame_equal(h.stable(load(sweep_dir)[0]), h.stable(load(local)[0]))


def test_extra_seeds_run_as_their_own_rounds_and_match_a_local_run(slurm_env, tmp_path):
    """grid.confidence on Slurm: the round-0 array's next job submits the undecided
    points' extra seeds as an array with its own next job, which completes the sweep;
    the dataset is the local run's."""
    from tests.test_confidence import SEEDS

    local = tmp_path / "local"
    assert h.sweep(local, *SEEDS).returncode == 0
    run_dir = tmp_path / "seeds"
    submitted = slurm(slurm_env, "submit", "--run-dir", str(run_dir), *h.TINY, *SEEDS)
    assert submitted.returncode == 0, submitted.stderr

    wait_complete(slurm_env, run_dir, "the seeds round's next job")
    manifest = json.loads((run_dir / "slurm" / "manifest.json").read_text())
    assert [(p["round"], bool(p.get("seeds"))) for p in manifest["points"]] == [
        (0, False), (0, False), (0, True), (0, True)]
    assert len([j for j in jobs(run_dir) if "shards" in j]) == 2
    df, _ = load(run_dir)
    pd.testing.assert_frame_equal(h.stable(df), h.stable(load(local)[0]))
