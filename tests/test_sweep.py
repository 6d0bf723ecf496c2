"""Sweeps through the real command: dataset content, failures as rows, resume,
schema checks, bad input, Hydra multirun + gather."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sweep.storage import SCHEMA, load
from tests.helpers import (
    ROOT,
    TINY,
    run_cli,
    running_workers,
    stable,
    sweep,
    tree_digest,
    wait_until,
)

GRID = ["grid.axes.network.g=[4,6]", "grid.axes.network.eta=[1,2]"]


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("grid") / "run"
    out = sweep(run_dir, *GRID, "run.theory=true")
    assert out.returncode == 0, out.stderr
    return run_dir


def test_sweep_writes_dataset_with_provenance(grid_run):
    df, meta = load(grid_run)
    assert len(df) == 4
    assert (df.status == "ok").all() and df.error.isna().all()
    assert sorted(zip(df["network.g"], df["network.eta"], strict=True)) == [
        (4, 1), (4, 2), (6, 1), (6, 2)]
    assert df.point_id.is_unique and df.seed.is_unique
    assert (df.N == 500).all() and (df.C_E == 40).all() and (df.C_I == 10).all()
    # nu_thr = theta / (J C_E tau) = 20 / (0.1 * 40 * 0.02 s) = 250 Hz
    assert df.nu_thr.tolist() == pytest.approx([250.0] * 4)
    assert (df.nu_ext == df["network.eta"] * df.nu_thr).all()
    assert (df.rate_hz > 1).all()
    assert set(df.state) <= {"SR", "AR", "AI", "SI-fast", "SI-slow", "quiescent"}
    assert (df.total_s > df.run_s).all() and (df.peak_rss_mb > 50).all()
    assert df.neuron_rule.eq("brunel").all()
    assert meta["versions"]["pymoose"] == "5.0.0"
    assert "network" in meta["run_config"] and meta["started_at"] and meta["finished_at"]
    assert "refractory period is ignored" in meta["neuron_rule"]
    table = pq.read_table(grid_run / "results.parquet")
    assert table.schema.equals(SCHEMA, check_metadata=False)
    import pyarrow.dataset as ds

    assert ds.dataset(grid_run / "results.parquet").to_table().num_rows == 4
    assert (grid_run / "phase_diagram.png").stat().st_size > 10_000
    # Brunel's theory for this network (C_E = 40), compared point by point.
    agreement = (grid_run / "agreement.txt").read_text()
    assert agreement.startswith("theory vs simulation (4 points")
    assert "neuron rule: Brunel's neuron" in agreement
    theory = pd.read_parquet(grid_run / "theory.parquet")
    # At the simulated points, no others (far-ness comes from the lines).
    assert sorted(zip(theory.g, theory.eta, strict=True)) == [(4, 1), (4, 2), (6, 1), (6, 2)]
    assert (grid_run / "theory_lines.parquet").exists()
    assert set(theory.state) <= {"quiescent", "SR", "AR", "AI", "SI-fast", "SI-slow"}


def test_resume_skips_done_points(grid_run):
    before = tree_digest(grid_run / "parts")
    out = sweep(grid_run, *GRID)
    assert out.returncode == 0, out.stderr
    assert "4 points, 4 already done, 0 to run" in out.stderr
    assert tree_digest(grid_run / "parts") == before


def test_seed_and_id_follow_the_point_not_its_position(grid_run, tmp_path):
    # The same points listed in another order, inside a larger grid.
    out = sweep(tmp_path / "run", "grid.axes.network.g=[6,5,4]", "grid.axes.network.eta=[2]")
    assert out.returncode == 0, out.stderr
    a, _ = load(grid_run)
    b, _ = load(tmp_path / "run")
    common = a.merge(b, on="point_id", suffixes=("", "_b"))
    assert len(common) == 2
    assert (common.seed == common.seed_b).all()
    assert (common.rate_hz == common.rate_hz_b).all()


def test_analysis_command_redraws_from_the_dataset_alone(grid_run):
    (grid_run / "phase_diagram.png").unlink()
    out = run_cli("-m", "analysis", str(grid_run))
    assert out.returncode == 0, out.stderr
    assert "4 points: 4 ok" in out.stdout
    assert (grid_run / "phase_diagram.png").exists()


def test_failures_become_rows_and_the_sweep_goes_on(tmp_path):
    faults = ("segfault@network.g=4.0;memory@network.g=5.0;hang@network.g=6.0;"
              "raise@network.g=7.0")
    out = sweep(tmp_path / "run", "grid.axes.network.g=[3,4,5,6,7]", "grid.axes.network.eta=[1]",
                "run.mem_cap_mb=700", "run.timeout=15", "run.jobs=2",
                env={"SWEEP_TEST_FAULT": faults})
    assert out.returncode == 1, out.stderr  # the run finished; some points failed
    df, _ = load(tmp_path / "run")
    by_g = df.set_index("network.g")
    assert by_g.loc[3.0, "status"] == "ok"
    assert by_g.loc[[4.0, 5.0, 6.0, 7.0], "status"].eq("failed").all()
    assert "SIGSEGV" in by_g.loc[4.0, "error"]
    assert "memory cap exceeded" in by_g.loc[5.0, "error"]
    assert "wall-time limit exceeded" in by_g.loc[6.0, "error"]
    assert "RuntimeError: test fault" in by_g.loc[7.0, "error"]
    assert "Traceback" in by_g.loc[7.0, "error"]
    assert by_g.loc[[4.0, 5.0, 6.0, 7.0], "rate_hz"].isna().all()
    # Failed points are retried only when asked.
    again = sweep(tmp_path / "run", "grid.axes.network.g=[3,4,5,6,7]",
                  "grid.axes.network.eta=[1]")
    assert "5 points, 5 already done, 0 to run" in again.stderr
    assert again.returncode == 1
    retry = sweep(tmp_path / "run", "grid.axes.network.g=[3,4,5,6,7]",
                  "grid.axes.network.eta=[1]", "run.retry_failed=true")
    assert "1 already done, 4 to run" in retry.stderr
    assert retry.returncode == 0, retry.stderr
    df, _ = load(tmp_path / "run")
    assert (df.status == "ok").all()


def test_killed_sweep_resumes_to_the_same_dataset(grid_run, tmp_path):
    run_dir = tmp_path / "run"
    # The g = 6 points hang, so that the kill finds the sweep mid-flight however fast
    # the g = 4 points are (one at a time, in grid order); the resume runs them.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEP_TEST_FAULT": "hang@network.g=6.0"}
    cmd = [sys.executable, "-m", "sweep", *TINY, *GRID, "run.jobs=1", f"hydra.run.dir={run_dir}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: list((run_dir / "parts").glob("*.parquet")), timeout=120,
               what="a first part", poll=0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep, mid-flight
    proc.wait()
    time.sleep(0.5)
    assert not running_workers(run_dir)  # its running point died with it
    done = len(list((run_dir / "parts").glob("*.parquet")))
    assert 1 <= done < 4
    for part in (run_dir / "parts").glob("*.parquet"):  # no half-written part is visible
        assert pq.read_table(part).num_rows == 1
    out = sweep(run_dir, *GRID)
    assert out.returncode == 0, out.stderr
    assert f"{done} already done, {4 - done} to run" in out.stderr
    resumed, _ = load(run_dir)
    uninterrupted, _ = load(grid_run)
    pd.testing.assert_frame_equal(stable(resumed), stable(uninterrupted))


def test_ctrl_c_keeps_finished_points(tmp_path):
    run_dir = tmp_path / "run"
    # The g = 6 points hang, so that Ctrl-C finds the sweep mid-flight however fast
    # the g = 4 points are (one at a time, in grid order).
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEP_TEST_FAULT": "hang@network.g=6.0"}
    cmd = [sys.executable, "-m", "sweep", *TINY, *GRID, "run.jobs=1", f"hydra.run.dir={run_dir}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(list((run_dir / "parts").glob("*.parquet"))) == 2, timeout=120,
               what="the g = 4 parts", poll=0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    df, _ = load(run_dir)  # what finished is gathered
    assert len(df) == 2 and (df.status == "ok").all() and (df["network.g"] == 4).all()
    time.sleep(0.5)
    assert not running_workers(run_dir)


def test_incompatible_parts_are_reported_not_mixed(grid_run, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(grid_run, run_dir)
    bad = pa.table({"point_id": ["x"], "status": ["ok"], "rate_hz": ["fast"]})
    pq.write_table(bad, run_dir / "parts" / "x.parquet")
    out = run_cli("-m", "sweep.gather", str(run_dir), "--no-theory")
    assert out.returncode == 3  # sweep.cli.EXIT_PARTS_LEFT_OUT
    assert "x.parquet: incompatible schema" in out.stderr
    # The sweep command itself (every point already done) says the same.
    again = sweep(run_dir, *GRID)
    assert again.returncode == 3, again.stderr
    assert "x.parquet: incompatible schema" in again.stderr
    df, meta = load(run_dir)
    assert len(df) == 4 and "x" not in set(df.point_id)
    assert meta["incompatible_parts"]


@pytest.mark.parametrize(("overrides", "message"), [
    (["grid.axes.network.g=1:0:1"], "grid.axes.network.g='1:0:1': needs step > 0"),
    (["grid.axes.network.g=1:nan:1"], "grid.axes.network.g='1:nan:1': start, stop and step "
                                      "must be finite numbers"),
    (["grid.axes.network.g=1:3:inf"], "must be finite numbers"),
    (["grid.axes.network.g=[4,nan]"], "network.g=nan: must be a finite number (grid point"),
    (["grid.axes.network.g=[]"], "grid.axes.network.g=[]: empty list"),
    (["+grid.axes.network.gg=[1]"], "grid.axes.network.gg: unknown key"),
    (["grid.axes.network.g=[4,-1]"], "network.g=-1.0: must be >= 0 (grid point"),
    (["grid.axes.network.g=[4,abc]"], "network.g: Value 'abc' of type 'str' could not be "
                                      "converted to Float (grid point"),
    (["grid.axes.network.N_E=[800]"], "grid.axes.network.N_E: not in this config; add it "
                                      "with +grid.axes.network.N_E=..."),
    (["network.foo=1"], "network.foo: unknown key"),
    (["grid=nope"], "grid=nope: no such preset"),
    (["run.jobs=-2"], "run.jobs=-2: must be >= 0"),
])
def test_bad_input_leaves_an_existing_run_untouched(grid_run, overrides, message):
    before = tree_digest(grid_run)
    out = sweep(grid_run, *GRID, *overrides)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: {out.stderr.strip()[7:]}"]
    assert message in out.stderr
    assert tree_digest(grid_run) == before


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_multirun_gathers_itself_and_matches_the_grid_run(grid_run, tmp_path, launcher):
    """A multirun, one job at a time or two at once in loky's reused processes, prints a
    line per job and ends with the dataset, its figures and its agreement report, equal
    to the grid run's; every point still ran in a process of its own."""
    sweep_dir = tmp_path / "multi"
    chosen = ["launcher=joblib", "run.jobs=2"] if launcher == "joblib" else []
    out = run_cli("-m", "sweep", "-m", *chosen, *TINY, "run.theory=true", "network.g=4,6",
                  "network.eta=1,2", f"hydra.sweep.dir={sweep_dir}")
    assert out.returncode == 0, out.stderr
    jobs = sorted(line for line in out.stdout.splitlines() if line.startswith("job "))
    assert [line.split(":")[0] for line in jobs] == ["job 0", "job 1", "job 2", "job 3"]
    assert "it/s" not in out.stderr and "point/s" not in out.stderr  # no progress bars
    assert "wrote" in out.stdout and "(4 rows: 4 ok, 0 failed)" in out.stdout
    assert (sweep_dir / "phase_diagram.png").exists() and (sweep_dir / "agreement.txt").exists()
    multi, _ = load(sweep_dir)
    grid, _ = load(grid_run)
    pd.testing.assert_frame_equal(stable(multi), stable(grid))
    procs = [log.read_text().split("in process ")[1].split(")")[0].split(" (parent ")
             for log in (sweep_dir / "logs").glob("*.log")]
    points, parents = {p for p, _ in procs}, {q for _, q in procs}
    assert len(points) == 4 and not points & parents
    if launcher == "joblib":
        assert "Joblib.Parallel(n_jobs=2" in out.stdout
        assert len(parents) <= 2  # loky ran 4 jobs in at most 2 processes, reused


def test_multirun_with_a_failed_point_keeps_its_row_and_exits_1(tmp_path):
    sweep_dir = tmp_path / "multi"
    env = {**os.environ, "SWEEP_TEST_FAULT": "raise@network.g=6.0"}
    out = run_cli("-m", "sweep", "-m", *TINY, "network.g=4,6", "network.eta=1",
                  f"hydra.sweep.dir={sweep_dir}", env=env)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr  # no job raised
    failed = [ln for ln in out.stdout.splitlines() if ln.startswith("job 1:")]
    assert len(failed) == 1 and "failed after" in failed[0]
    assert "RuntimeError: test fault at network.g=6.0" in failed[0]
    assert "(2 rows: 1 ok, 1 failed)" in out.stdout
    df, _ = load(sweep_dir)
    assert sorted(df.status) == ["failed", "ok"]


def test_multirun_bad_value_fails_before_any_job(tmp_path):
    out = run_cli("-m", "sweep", "-m", *TINY, "network.g=4,-1",
                  f"hydra.sweep.dir={tmp_path / 'multi'}")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: network.g=-1.0: must be >= 0"
    assert not (tmp_path / "multi").exists()


def test_fig8_grid_saves_spikes_and_draws_rasters(tmp_path):
    run_dir = tmp_path / "run"
    out = sweep(run_dir, "grid=fig8")
    assert out.returncode == 0, out.stderr
    df, _ = load(run_dir)
    assert sorted(zip(df["network.g"], df["network.eta"], strict=True)) == [
        (3.0, 2.0), (4.5, 0.9), (5.0, 2.0), (6.0, 4.0)]
    assert df.spikes_file.notna().all()
    assert all((run_dir / f).exists() for f in df.spikes_file)
    assert (run_dir / "fig8.png").stat().st_size > 10_000
    # The saved spikes re-measured: the run's own window gives the run's states; a
    # window beyond the simulation is refused.
    same = run_cli("-m", "analysis.windows", str(run_dir), "100:300")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("window 100-300 ms: 0/4 points change state; |rate change| "
                                  "median 0.0%, max 0.0%")
    beyond = run_cli("-m", "analysis.windows", str(run_dir), "100:900")
    assert beyond.returncode == 2 and "must end by sim.duration=300" in beyond.stderr


def test_api_runs_points_repeatedly_in_one_interpreter(grid_run, tmp_path, monkeypatch):
    from sweep.api import load_results, point_row, redraw_figures, run_point

    monkeypatch.chdir(tmp_path)
    overrides = [o for o in TINY if not o.startswith("run.")] + ["network.g=4", "network.eta=2"]
    first, second = point_row(overrides), run_point(overrides)  # the 0.1 name too
    assert first["status"] == "ok" and first["rate_hz"] == second["rate_hz"]
    grid = load_results(grid_run)
    same = grid[(grid["network.g"] == 4) & (grid["network.eta"] == 2)].iloc[0]
    assert first["point_id"] == same.point_id and first["rate_hz"] == same.rate_hz
    assert grid.attrs["provenance"]["versions"]["pymoose"] == "5.0.0"
    assert redraw_figures(grid_run) == [grid_run / "phase_diagram.png"]


@pytest.fixture(scope="module")
def reference_of_grid_run(grid_run) -> pd.DataFrame:
    """``brunel-reference run`` on the grid run: its reference.parquet."""
    out = run_cli("-m", "sweep.reference", "run", str(grid_run), "--jobs", "2")
    assert out.returncode == 0, out.stderr
    return pd.read_parquet(grid_run / "reference.parquet").set_index("point_id")


def test_reference_run_rebuilds_each_point_and_gives_moose_rates(grid_run,
                                                                 reference_of_grid_run):
    df, _ = load(grid_run)
    ref = reference_of_grid_run
    assert sorted(ref.index) == sorted(df.point_id)
    # The rows rebuild the very instance MOOSE ran, and MOOSE runs Brunel's neuron:
    # the reference's statistics are MOOSE's, exactly.
    for col in ("rate_hz", "cv_isi", "osc_freq_hz", "osc_power", "state"):
        np.testing.assert_array_equal(ref.loc[df.point_id, col].to_numpy(),
                                      df[col].to_numpy(), err_msg=col)
    # chi comes from Vm, whose last bits depend on the order a step's inputs are summed.
    np.testing.assert_allclose(ref.loc[df.point_id, "chi"], df.chi, rtol=1e-12)
    text = run_cli("-m", "analysis", str(grid_run)).stdout
    assert ("MOOSE vs the numpy reference of Brunel's neuron on the same instances "
            "(4 points): same rate at 4, max |rate difference| 0.00%; 0 points change "
            "state") in text


def test_reference_grid_gives_the_same_points_without_moose(reference_of_grid_run, tmp_path):
    out = run_cli("-m", "sweep.reference", "grid", str(tmp_path / "ref"), *TINY, *GRID,
                  "--jobs", "2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("theory vs simulation (4 points")
    assert "Brunel's neuron (numpy):" in out.stdout
    from_grid = pd.read_parquet(tmp_path / "ref" / "reference.parquet").set_index("point_id")
    pd.testing.assert_frame_equal(from_grid.sort_index(), reference_of_grid_run.sort_index())
