"""Adaptive sampling: refinement of a grid where the states change (``grid.refine``)
and more seeds where a point is undecided (``grid.confidence``).

A round's result is a set of points, each a dict of swept settings with a state
(from the pooled measures of its replicates, ``analysis.states.point_decision``;
``None`` for a point none of whose replicates finished). Along
each refined axis, points that agree on every other setting form a line; on it,
two adjacent points are neighbours when they are at most the grid's own step apart
(farther apart, unsampled ground lies between them). Every two neighbours whose
states differ get their midpoint, as long as half their spacing is at least the
minimum step. The next round runs only the new points.
Pure functions: the runner and the Slurm rounds call them with what the parts say.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise
from typing import Any

from analysis.states import point_decision
from sweep.config import AnalysisConfig

Params = dict[str, Any]
Measures = dict[str, float]  # a realization's analysis.states.MEASURES
Evidence = tuple[Params, "Measures | None"]  # a replicate's params and measures (None: failed)


def _key(params: Params, skip: str) -> tuple:
    return tuple(sorted((k, v) for k, v in params.items() if k != skip))


def point_key(params: Params) -> tuple:
    """A point's key: its swept settings without the replicate index."""
    return _key(params, "replicate")


def _by_point(rows: Iterable[Evidence]) -> dict[tuple, list[tuple[int, Measures | None]]]:
    """Each point's (replicate, measures), in replicate order."""
    seen: dict[tuple, list[tuple[int, Measures | None]]] = defaultdict(list)
    for params, measures in rows:
        seen[point_key(params)].append((params.get("replicate", 0), measures))
    return {k: sorted(reps, key=lambda r: r[0]) for k, reps in seen.items()}


def point_decisions(rows: Iterable[Evidence], th: AnalysisConfig, z: float
                    ) -> dict[tuple, tuple[str | None, bool]]:
    """(state, decided) per point (``point_key``) from all its replicates
    (``analysis.states.point_decision``); state None if none of them finished."""
    return {k: point_decision([m for _, m in reps], th, z)[:2]
            for k, reps in _by_point(rows).items()}


def point_states(rows: Iterable[Evidence], th: AnalysisConfig, z: float
                 ) -> dict[tuple, str | None]:
    """One state per point (``point_key``): ``point_decisions`` without the flag."""
    return {k: state for k, (state, _) in point_decisions(rows, th, z).items()}


def extra_seeds(rows: Iterable[Evidence], th: AnalysisConfig, z: float,
                max_replicates: int) -> list[Params]:
    """The next round of ``grid.confidence``: one more replicate (the next index) of
    every point that is not decided (``analysis.states.point_decision``) and has fewer
    than ``max_replicates`` replicates, failed ones included (a point that keeps failing
    does not get seeds forever). A point whose margin is unknown (a standard error that
    its realizations leave undefined) gets none: it stays undecided rather than spend
    seeds on evidence that cannot be weighed."""
    out = []
    for key, reps in _by_point(rows).items():
        state, decided, distance = point_decision([m for _, m in reps], th, z)
        unweighable = state is not None and math.isnan(distance)
        if not decided and not unweighable and len(reps) < max_replicates:
            out.append({**dict(key), "replicate": reps[-1][0] + 1})
    return out


def _midpoint(a: float, b: float) -> float:
    """(a + b) / 2 in decimal, so that repeated halving of 0.5 gives 0.25, 0.125, ..."""
    return float((Decimal(str(a)) + Decimal(str(b))) / 2)


def transitions(states: dict[tuple, str | None], steps: dict[str, float]
                ) -> list[tuple[str, Params, Params]]:
    """Every two neighbours along a refined axis (``steps``: each axis's grid step)
    whose states differ, failed points left out: (axis, params at the lower value,
    params at the higher value)."""
    out = []
    for axis, step in steps.items():
        lines: dict[tuple, list[tuple[float, Params, str]]] = defaultdict(list)
        for key, state in states.items():
            params = dict(key)
            if axis in params:
                lines[_key(params, axis)].append((params[axis], params, state))
        for line in lines.values():
            # A failed point is skipped, not a wall: its neighbours keep their bracket.
            line = sorted((t for t in line if t[2] is not None), key=lambda t: t[0])
            for (_, lo, s_lo), (_, hi, s_hi) in pairwise(line):
                if s_lo != s_hi and hi[axis] - lo[axis] <= step + 1e-9:
                    out.append((axis, lo, hi))
    return out


def next_round(states: dict[tuple, str | None], steps: dict[str, float], min_step: float
               ) -> list[Params]:
    """The new points of the next round: the midpoint of every transition whose
    half-spacing is at least ``min_step``, each once, none already simulated."""
    new: dict[tuple, Params] = {}
    for axis, lo, hi in transitions(states, steps):
        if (hi[axis] - lo[axis]) / 2 < min_step - 1e-9:
            continue
        mid = {**lo, axis: _midpoint(lo[axis], hi[axis])}
        key = point_key(mid)
        if key not in states:
            new[key] = mid
    return list(new.values())


def boundaries(states: dict[tuple, str | None], rounds: dict[tuple, int],
               steps: dict[str, float]) -> list[dict[str, Any]]:
    """Every located transition as a row: the axis, the states on either side, the
    bracket and its midpoint, the round that closed it (``rounds``: the round of each
    point), and the settings where it lies (the axis's at the midpoint)."""
    rows = []
    for axis, lo, hi in transitions(states, steps):
        k_lo, k_hi = point_key(lo), point_key(hi)
        mid = (lo[axis] + hi[axis]) / 2
        rows.append({"axis": axis, "from_state": states[k_lo], "to_state": states[k_hi],
                     "low": lo[axis], "high": hi[axis], "midpoint": mid,
                     "round": max(rounds[k_lo], rounds[k_hi]), **lo, axis: mid})
    return rows
