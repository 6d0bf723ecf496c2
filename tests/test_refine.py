"""The refinement rule (``sweep.refine``) on synthetic state maps, refined sweeps of
the tiny network (rounds, boundaries, a kill mid-round), and located boundaries
against the theory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.states import MEASURES
from sweep.config import AnalysisConfig
from sweep.refine import next_round, point_states, transitions
from sweep.storage import load
from tests.helpers import ROOT, TINY, running_workers, stable, sweep, wait_until

G, ETA = "network.g", "network.eta"


_SIGNATURE = {"quiescent": (0.0, 0.5, 0.6, 160.0), "SR": (300.0, 0.1, 0.01, 600.0),
              "AR": (300.0, 0.1, 0.6, 600.0), "AI": (20.0, 0.8, 0.6, 160.0),
              "SI-fast": (40.0, 0.8, 0.2, 160.0), "SI-slow": (5.0, 0.8, 0.2, 20.0)}
# rate, CV of ISIs, envelope CV, rhythm


def _measures(state: str | None) -> dict | None:
    """Measures that ``classify`` reads as ``state``, far from every threshold."""
    if state is None:
        return None
    rate, cv, env, f = _SIGNATURE[state]
    return {"rate_hz": rate, "rate_se": 0.01, "cv_isi": cv, "cv_isi_se": 0.01,
            "env_cv": env, "env_cv_se": 0.01, "osc_freq_hz": f}


def _states(rows) -> dict:
    """``point_states`` of (params, state) rows."""
    return point_states(((p, _measures(s)) for p, s in rows), AnalysisConfig(), 2.0)


def _map(gs, etas, state_of) -> dict:
    rows = [({G: g, ETA: e, "replicate": 0}, state_of(g, e)) for g in gs for e in etas]
    return _states(rows)


def _refine(states, steps, min_step, rounds=10, state_of=None):
    """Run rounds to completion on a synthetic map: new points get ``state_of``."""
    for r in range(rounds):
        new = next_round(states, steps, min_step)
        if not new:
            return states, r
        states = {**states, **_states(
            [({**p, "replicate": 0}, state_of(p[G], p[ETA])) for p in new])}
    return states, rounds

@pytest.mark.fast
def test_a_vertical_boundary_gets_bracketed_to_the_minimum_step():
    def state_of(g, e):
        return "SR" if g < 3.3 else "AI"
    start = _map([2.0, 2.5, 3.0, 3.5, 4.0], [1.0, 2.0], state_of)
    steps = {G: 0.5, ETA: 1.0}
    states, rounds = _refine(start, steps, 0.125, state_of=state_of)
    assert rounds == 2  # 3.25 at 0.25 spacing, then 3.375 (half-spacing 0.125)
    new = sorted(set(dict(k)[G] for k in states) - {2.0, 2.5, 3.0, 3.5, 4.0})
    assert new == [3.25, 3.375]
    brackets = {(lo[G], hi[G]) for _, lo, hi in transitions(states, steps)}
    assert brackets == {(3.25, 3.375)}  # on both rows, 0.125 wide, around 3.3

@pytest.mark.fast
def test_a_diagonal_boundary_is_refined_along_both_axes_and_only_there():
    def state_of(g, e):
        return "SI-fast" if e > 6.5 - 0.5 * g else "AI"
    gs, etas = np.arange(2.0, 8.01, 1.0), np.arange(0.5, 4.01, 1.0)
    start = _map(gs, etas, state_of)
    steps = {G: 1.0, ETA: 1.0}
    states, _ = _refine(start, steps, 0.25, state_of=state_of)
    for axis, lo, hi in transitions(states, steps):
        assert hi[axis] - lo[axis] <= 0.25 + 1e-9
        # The true boundary crosses the bracket: eta* = 6.5 - 0.5 g, g* = 13 - 2 eta.
        cross = 6.5 - 0.5 * lo[G] if axis == ETA else 13 - 2 * lo[ETA]
        assert lo[axis] <= cross < hi[axis], (axis, lo, hi)
    uniform = (6 / 0.25 + 1) * (3 / 0.25 + 1)
    assert len(states) < 0.5 * uniform

@pytest.mark.fast
def test_failed_points_make_no_neighbours_and_failed_replicates_are_left_out():
    rows = [({G: 3.0, ETA: 1.0, "replicate": r}, s) for r, s in enumerate(["SR", None, "SR"])]
    rows += [({G: 4.0, ETA: 1.0, "replicate": 0}, "AI"), ({G: 5.0, ETA: 1.0, "replicate": 0}, None)]
    states = _states(rows)
    assert states[((ETA, 1.0), (G, 3.0))] == "SR"
    assert [p[G] for p in next_round(states, {G: 1.0}, 0.125)] == [3.5]  # not 4.5: 5 failed

@pytest.mark.fast
def test_a_midpoint_reached_twice_is_planned_once_and_a_done_point_never():
    states = _states([({G: g, ETA: e, "replicate": 0}, s) for g, e, s in [
        (3.0, 1.0, "SR"), (4.0, 1.0, "AI"), (3.0, 2.0, "SR"), (4.0, 2.0, "AI"),
        (3.5, 1.0, "AI")]])
    steps = {G: 1.0, ETA: 1.0}
    planned = next_round(states, steps, 0.125)
    assert sorted((p[G], p[ETA]) for p in planned) == [(3.25, 1.0), (3.5, 2.0)]
    assert next_round(states, steps, 0.6) == []  # half of 1.0 is below 0.6

@pytest.mark.fast
def test_points_farther_apart_than_the_grid_step_are_not_neighbours():
    """On a line that only midpoints reach (g = 3.25), two points 1.0 apart in eta are
    separated by unsampled ground: no bracket, no midpoint. 0.5 apart, they are."""
    states = _states([({G: 3.25, ETA: e, "replicate": 0}, s) for e, s in
                           [(1.0, "SR"), (2.0, "AR"), (2.5, "SR")]])
    steps = {G: 0.5, ETA: 0.5}
    assert [(lo[ETA], hi[ETA]) for _, lo, hi in transitions(states, steps)] == [(2.0, 2.5)]
    assert [p[ETA] for p in next_round(states, steps, 0.125)] == [2.25]

@pytest.mark.fast
def test_located_boundaries_are_measured_against_the_line_between_their_states():
    from analysis.agreement import boundary_report, line_between, located_boundaries

    assert line_between("AI", "SR") == "SR" and line_between("SI-fast", "AR") == "SI-fast"
    assert line_between("quiescent", "AI") == "onset" and line_between("AI", "AR") is None
    lines = pd.DataFrame({"line": ["SR", "SR", "SI-fast", "SI-fast"],
                          "g": [3.0, 3.0, 5.0, 8.0], "eta": [0.0, 4.0, 4.0, 1.0]})
    found = pd.DataFrame([
        {"axis": G, "from_state": "SR", "to_state": "AI", "low": 3.125, "high": 3.25,
         "midpoint": 3.1875, "round": 2, G: 3.1875, ETA: 2.0},
        {"axis": ETA, "from_state": "AI", "to_state": "SI-fast", "low": 2.5, "high": 3.0,
         "midpoint": 2.75, "round": 0, G: 6.0, ETA: 2.75},
        {"axis": G, "from_state": "AR", "to_state": "AI", "low": 4.0, "high": 4.5,
         "midpoint": 4.25, "round": 0, G: 4.25, ETA: 2.0}])
    # As analysis.boundaries.locate leaves them: at 3.2 [3.15, 3.3], 2.9 [2.6, 3.05],
    # and the third at its bracket.
    found = found.assign(estimate=[3.2, 2.9, 4.25], ci_low=[3.15, 2.6, 4.0],
                         ci_high=[3.3, 3.05, 4.5], method=["fit", "fit", "bracket"])
    out = located_boundaries(found, lines)
    assert out.line.tolist()[:2] == ["SR", "SI-fast"] and pd.isna(out.line[2])
    assert out.theory_at[0] == pytest.approx(3.0) and out.distance[0] == pytest.approx(0.1875)
    # The SI-fast line here is eta = 9 - g: it crosses g = 6 at eta 3; the distance from
    # (6, 2.75) to the line is 0.25 / sqrt(2).
    assert out.theory_at[1] == pytest.approx(3.0)
    assert out.distance[1] == pytest.approx(0.25 / np.sqrt(2))
    assert out.estimate_distance[0] == pytest.approx(0.2)
    assert out.covers.tolist() == [False, True, False]  # 3.0 lies in [2.6, 3.05] only
    report = boundary_report(out)
    assert "  SR: brackets 1/1 within 0.25, median distance 0.188, max 0.188" in report
    assert ("    estimates within 0.25 or their 90% interval containing the line: 1/1 (100%); "
            "estimates within 0.25: 1, intervals containing it: 0; median estimate distance "
            "0.200, median interval 0.150 wide; by fit 1") in report
    assert "  no theoretical line between: AR->AI (1)" in report


REFINED = ("grid.axes.network.g=[2.0,8.0]", "grid.axes.network.eta=[1.0]",
           "grid.refine.min_step=0.5", "grid.refine.axes=[network.g]")


@pytest.fixture(scope="module")
def refined_run(tmp_path_factory) -> Path:
    """Real MOOSE runs of the tiny network along g, refined until half-spacings of 0.5."""
    run_dir = tmp_path_factory.mktemp("refined") / "run"
    out = sweep(run_dir, *REFINED)
    assert out.returncode == 0, out.stderr
    assert "round 0: 2 points" in out.stderr and "round 1: 1 points" in out.stderr
    return run_dir


def test_a_refined_sweep_runs_rounds_writes_its_boundaries_and_resumes(refined_run):
    """Each round runs the midpoints of the previous rounds' neighbours whose states
    differ; the boundaries are the last brackets; a rerun runs nothing."""
    df, _ = load(refined_run)
    states = point_states((({G: r[G], ETA: r[ETA], "replicate": r.replicate},
                            r[list(MEASURES)].astype(float).to_dict()) for _, r in df.iterrows()),
                          AnalysisConfig(), 2.0)
    # Every point beyond the grid is the midpoint of two simulated neighbours that differ,
    # and nothing is left to refine at half-spacings of 0.5 or more.
    assert next_round(states, {G: 6.0}, 0.5) == []
    gs = sorted(df[G])
    assert len(gs) > 2
    for g in set(gs) - {2.0, 8.0}:
        assert any(np.isclose(g, (a + b) / 2) for a in gs for b in gs if a < g < b)
    located = pd.read_parquet(refined_run / "boundaries.parquet")
    expected = {(lo[G], hi[G]) for _, lo, hi in transitions(states, {G: 6.0})}
    assert expected and set(zip(located.low, located.high, strict=True)) == expected
    assert (located.high - located.low <= 1.5).all()  # 6 -> 3 -> 1.5 (-> 0.75 < 2 x 0.5)
    again = sweep(refined_run, *REFINED)
    assert again.returncode == 0 and "to run" in again.stderr
    assert all(" 0 to run" in line for line in again.stderr.splitlines() if "to run" in line)


def test_a_refined_sweep_killed_mid_round_resumes_to_the_same_dataset(refined_run, tmp_path):
    """The round-1 midpoint (g = 5) hangs, so that the kill finds the sweep in round 1;
    the same command then finishes the rounds, and the dataset is the uninterrupted one."""
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEP_TEST_FAULT": "hang@network.g=5.0"}
    err = tmp_path / "stderr"
    with err.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sweep", *TINY, *REFINED, "run.jobs=1",
                                 f"hydra.run.dir={run_dir}"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=out)
    wait_until(lambda: running_workers(run_dir) and "round 1:" in err.read_text(),
               timeout=120, what="round 1 running", poll=0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Its points die with it (PR_SET_PDEATHSIG), within moments on a loaded machine.
    wait_until(lambda: not running_workers(run_dir), timeout=30, what="the points to die")
    assert len(list((run_dir / "parts").glob("*.parquet"))) == 2  # round 0 only
    resumed = sweep(run_dir, *REFINED)
    assert resumed.returncode == 0, resumed.stderr
    assert "round 0: 2 points, 2 already done, 0 to run" in resumed.stderr
    assert "round 1: 1 points, 0 already done, 1 to run" in resumed.stderr
    pd.testing.assert_frame_equal(stable(load(run_dir)[0]), stable(load(refined_run)[0]))
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "boundaries.parquet"),
                                  pd.read_parquet(refined_run / "boundaries.parquet"))


def test_refine_needs_real_valued_grid_axes():
    from tests.helpers import run_cli

    for axis, extra in (("network.D", []), ("network.N_E", ["+grid.axes.network.N_E=[400,800]"])):
        out = run_cli("-m", "sweep", *extra, "grid.refine.min_step=0.25",
                      f"grid.refine.axes=[{axis}]")
        assert out.returncode == 2
        assert out.stderr.strip().splitlines()[-1] == (
            f"error: grid.refine.axes: {axis} must be a grid axis of real values (midpoints); "
            "such axes here: network.g, network.eta")


def test_a_failed_midpoint_keeps_the_bracket_around_it():
    states = _states([({G: g, ETA: 1.0, "replicate": 0}, s) for g, s in
                           [(3.0, "SR"), (3.5, None), (4.0, "AI")]])
    steps = {G: 1.0}
    assert [(lo[G], hi[G]) for _, lo, hi in transitions(states, steps)] == [(3.0, 4.0)]
    assert next_round(states, steps, 0.125) == []  # its midpoint failed: not planned again


def test_a_refined_run_without_transitions_reports_none():
    from analysis.agreement import boundary_report, located_boundaries

    found = pd.DataFrame(columns=["axis", "from_state", "to_state", "low", "high", "midpoint",
                                  "round", G, ETA])
    lines = pd.DataFrame({"line": ["SR", "SR"], "g": [3.0, 3.0], "eta": [0.0, 4.0]})
    assert len(boundary_report(located_boundaries(found, lines))) == 1
