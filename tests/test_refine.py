"""The refinement rule (``sweep.refine``) on synthetic state maps."""

from __future__ import annotations

import numpy as np

from sweep.refine import next_round, point_states, transitions

G, ETA = "network.g", "network.eta"


def _map(gs, etas, state_of) -> dict:
    rows = [({G: g, ETA: e, "replicate": 0}, state_of(g, e)) for g in gs for e in etas]
    return point_states(rows)


def _refine(states, steps, min_step, rounds=10, state_of=None):
    """Run rounds to completion on a synthetic map: new points get ``state_of``."""
    for r in range(rounds):
        new = next_round(states, steps, min_step)
        if not new:
            return states, r
        states = {**states, **point_states(
            [({**p, "replicate": 0}, state_of(p[G], p[ETA])) for p in new])}
    return states, rounds


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


def test_failed_points_make_no_neighbours_and_replicates_vote():
    rows = [({G: 3.0, ETA: 1.0, "replicate": r}, s) for r, s in enumerate(["SR", "AI", "SR"])]
    rows += [({G: 4.0, ETA: 1.0, "replicate": 0}, "AI"), ({G: 5.0, ETA: 1.0, "replicate": 0}, None)]
    states = point_states(rows)
    assert states[((ETA, 1.0), (G, 3.0))] == "SR"
    assert [p[G] for p in next_round(states, {G: 1.0}, 0.125)] == [3.5]  # not 4.5: 5 failed


def test_a_midpoint_reached_twice_is_planned_once_and_a_done_point_never():
    states = point_states([({G: g, ETA: e, "replicate": 0}, s) for g, e, s in [
        (3.0, 1.0, "SR"), (4.0, 1.0, "AI"), (3.0, 2.0, "SR"), (4.0, 2.0, "AI"),
        (3.5, 1.0, "AI")]])
    steps = {G: 1.0, ETA: 1.0}
    planned = next_round(states, steps, 0.125)
    assert sorted((p[G], p[ETA]) for p in planned) == [(3.25, 1.0), (3.5, 2.0)]
    assert next_round(states, steps, 0.6) == []  # half of 1.0 is below 0.6


def test_a_refined_sweep_runs_rounds_writes_its_boundaries_and_resumes(tmp_path):
    """Real MOOSE runs of the tiny network along g: each round runs the midpoints of
    the previous rounds' neighbours whose states differ; a rerun runs nothing."""
    import pandas as pd

    from sweep.storage import load
    from tests.helpers import sweep

    run_dir = tmp_path / "run"
    args = ("grid.axes.network.g=[2.0,8.0]", "grid.axes.network.eta=[1.0]",
            "grid.refine.levels=3", "grid.refine.min_step=0.5", "grid.refine.axes=[network.g]")
    out = sweep(run_dir, *args)
    assert out.returncode == 0, out.stderr
    assert "round 0: 2 points" in out.stderr
    df, _ = load(run_dir)
    states = point_states(({G: r[G], ETA: r[ETA], "replicate": r.replicate}, r.state)
                          for _, r in df.iterrows())
    # Every point beyond the grid is the midpoint of two simulated neighbours that differ,
    # and nothing is left to refine at half-spacings of 0.5 or more.
    assert next_round(states, {G: 6.0}, 0.5) == []
    gs = sorted(df[G])
    for g in set(gs) - {2.0, 8.0}:
        below, above = max(x for x in gs if x < g), min(x for x in gs if x > g)
        assert np.isclose(g, (below + above) / 2) or any(
            np.isclose(g, (a + b) / 2) for a in gs for b in gs if a < g < b)
    located = pd.read_parquet(run_dir / "boundaries.parquet")
    expected = {(lo[G], hi[G]) for _, lo, hi in transitions(states, {G: 6.0})}
    assert set(zip(located.low, located.high, strict=True)) == expected
    again = sweep(run_dir, *args)
    assert again.returncode == 0 and "to run" in again.stderr
    assert all(" 0 to run" in line for line in again.stderr.splitlines() if "to run" in line)


def test_refine_needs_numeric_grid_axes():
    from tests.helpers import run_cli

    out = run_cli("-m", "sweep", "grid.refine.min_step=0.25", "grid.refine.axes=[network.D]")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "error: grid.refine.axes: network.D must be a numeric grid axis; the axes are: "
        "network.g, network.eta")
