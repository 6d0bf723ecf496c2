"""Where a boundary lies, with an interval: the crossing of the continuous measure that
separates two states (``analysis.states.separating_measure``) with its threshold.

A refined sweep brackets each transition between two neighbouring points. Inside and
around the bracket the measure behind the classifier (the envelope CV for the
synchronous lines, the rate for the onset of activity, the CV of ISIs for regular
firing) changes continuously where the transition is a smooth one, so a straight line
fitted to it over the nearby points says where it crosses its threshold, and a
parametric bootstrap of that fit, with each realization's own standard error (the
block jackknife, ``analysis.stats.block_jackknife_se``), says how well. Where the
measure jumps (the fit's residuals are far larger than the standard errors allow), the
transition is known only to its bracket, and the bracket is the interval. The
principle and its validation: docs/states.md#boundaries-with-intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.states import STANDARD_ERRORS, line_between, mean_and_se, separating_measure

WINDOW = 0.5  # points within this distance of a bracket's midpoint (along its axis) enter
LEVEL = 0.9  # the intervals' confidence
MIN_P = 0.01  # below this chi-square p-value the straight line does not describe the points
BOOT = 2000  # bootstrap draws
END_Z = 2.0  # standard errors from the threshold at which a bracket's end is clearly on its side
COLUMNS = ("line", "measure", "estimate", "ci_low", "ci_high", "method")


@dataclass(frozen=True)
class Crossing:
    """Where a measure crosses its threshold: estimate and interval; ``method`` says how
    they were found ("fit": the straight-line fit and its bootstrap; "bracket": the
    bracket, the estimate interpolated between its two ends)."""

    estimate: float
    low: float
    high: float
    method: str


def _point_means(x: np.ndarray, y: np.ndarray, se: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct x: the mean over realizations and its standard error, as a point's
    pooled measures have them (``analysis.states.mean_and_se``: the realizations' own
    errors, or the spread between seeds where that is larger)."""
    xs = np.unique(x)
    pairs = [mean_and_se(list(y[x == v]), list(se[x == v])) for v in xs]
    return xs, np.array([m for m, _ in pairs]), np.array([s for _, s in pairs])


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares y = a + b x along the last axis of ``y`` (one fit per
    row): (a, b)."""
    xm = np.average(x, weights=w)
    ym = np.sum(w * y, axis=-1) / np.sum(w)
    b = np.sum(w * (x - xm) * (y - ym[..., None]), axis=-1) / np.sum(w * (x - xm) ** 2)
    return ym - b * xm, b


def crossing(x: np.ndarray, y: np.ndarray, se: np.ndarray, threshold: float,
             bracket: tuple[float, float], seed: int = 0) -> Crossing:
    """Where ``y`` crosses ``threshold`` along ``x``.

    Parameters
    ----------
    x, y, se : arrays, one entry per realization
        Position, measure and the measure's standard error (realizations at the same
        position are averaged: mean y_i and its error s_i, ``_point_means``).
    threshold : float
    bracket : (low, high)
        The two neighbouring positions whose states differ.
    seed : int
        Of the bootstrap's draws, so that the interval is reproducible.

    Returns
    -------
    Crossing
        Where at least one end of the bracket lies within ``END_Z`` standard errors of
        the threshold (the crossing's neighbourhood is sampled), at least three
        positions, and a straight line y = a + b x (weighted least
        squares, weights 1 / s_i^2) that describes them (chi-square p-value at least
        ``MIN_P``) and crosses the threshold between the outermost positions:
        x* = (threshold - a) / b and the ``LEVEL`` percentile interval of
        x* over ``BOOT`` refits to y_i* = a + b x_i + s_i e_i, e_i standard normal.
        Otherwise the bracket (both ends clearly on their sides: the crossing lies in
        the gap between them, unsampled), with x* interpolated linearly between the
        bracket's ends (clipped to it).
    """
    from scipy.stats import chi2

    x, y, se = (np.asarray(v, dtype=float) for v in (x, y, se))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(se)
    xs, mean, err = _point_means(x[ok], y[ok], se[ok])
    lo, hi = bracket
    ends = [np.isclose(xs, v) for v in (lo, hi)]
    # Both ends clearly on their sides: the crossing lies in the unsampled gap between
    # them, where a fitted line says only what its shape assumes; the bracket it is.
    sampled = not all(e.any() and abs(mean[e][0] - threshold) >= END_Z * err[e][0]
                      for e in ends)
    if xs.size >= 3 and sampled:
        s = np.maximum(err, 1e-9 * max(abs(threshold), 1.0))
        w = 1 / s ** 2
        a, b = _wls(xs, mean, w)
        dof = xs.size - 2
        estimate = (threshold - a) / b if b != 0 else np.nan
        # No extrapolation: a line that crosses outside the points does not locate it.
        if (xs.min() <= estimate <= xs.max()
                and chi2.sf(np.sum(w * (mean - a - b * xs) ** 2), dof) >= MIN_P):
            rng = np.random.default_rng(seed)
            ak, bk = _wls(xs, a + b * xs + s * rng.standard_normal((BOOT, xs.size)), w)
            with np.errstate(divide="ignore", invalid="ignore"):
                at = (threshold - ak) / bk
            at = at[np.isfinite(at)]
            tail = 100 * (1 - LEVEL) / 2
            return Crossing(float(estimate), float(np.percentile(at, tail)),
                            float(np.percentile(at, 100 - tail)), "fit")
    estimate = (lo + hi) / 2
    if all(e.any() for e in ends) and mean[ends[0]][0] != mean[ends[1]][0]:
        t = (threshold - mean[ends[0]][0]) / (mean[ends[1]][0] - mean[ends[0]][0])
        estimate = lo + float(np.clip(t, 0, 1)) * (hi - lo)
    return Crossing(estimate, lo, hi, "bracket")


def locate(found: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """``found`` (a refined sweep's brackets, ``sweep.refine.boundaries``' rows with
    both plane coordinates) with, for each, the theory's ``line`` between its states,
    the ``measure`` that separates them and where it crosses its threshold
    (``crossing``: ``estimate``, ``ci_low``, ``ci_high``, ``method``) over the finished
    realizations in ``df`` on the bracket's line within ``WINDOW`` of its midpoint. A
    pair of states with no such measure (SI-fast against SI-slow) keeps its bracket."""
    from sweep.storage import ETA, G

    ok = df[df.status == "ok"]
    rows = []
    for i, (_, b) in enumerate(found.iterrows()):
        axis = b["axis"]
        other = ETA if axis == G else G
        measure = separating_measure(b["from_state"], b["to_state"])
        row = {"line": line_between(b["from_state"], b["to_state"]),
               "measure": measure[0] if measure else None}
        if measure is None:
            mid = (b["low"] + b["high"]) / 2
            row.update(estimate=mid, ci_low=b["low"], ci_high=b["high"], method="bracket")
        else:
            column, threshold_key = measure
            near = ok[np.isclose(ok[other], b[other])
                      & ((ok[axis] - b["midpoint"]).abs() <= WINDOW + 1e-9)]
            threshold = float(ok[f"analysis.{threshold_key}"].iloc[0])
            se = near[STANDARD_ERRORS[column]]
            c = crossing(near[axis], near[column], se, threshold, (b["low"], b["high"]),
                         seed=i)
            row.update(estimate=c.estimate, ci_low=c.low, ci_high=c.high, method=c.method)
        rows.append(row)
    located = pd.DataFrame(rows, columns=list(COLUMNS))
    return pd.concat([found.reset_index(drop=True).drop(columns=list(COLUMNS),
                                                        errors="ignore"), located], axis=1)


def group_coverage(x: np.ndarray, y: np.ndarray, se: np.ndarray, replicate: np.ndarray,
                   threshold: float, bracket: tuple[float, float], size: int, splits: int,
                   seed: int = 0) -> tuple[float, float, int]:
    """How often a crossing located from a few seeds covers the one located from all:
    the replicates are split at random into disjoint groups of ``size``, ``splits``
    times; each group's ``crossing`` interval is checked against the all-seeds estimate.

    Returns
    -------
    (coverage, median width, intervals) : (float, float, int)
    """
    x, y, se, replicate = (np.asarray(v) for v in (x, y, se, replicate))
    truth = crossing(x, y, se, threshold, bracket).estimate
    reps = np.unique(replicate)
    rng = np.random.default_rng(seed)
    hits, widths = [], []
    for k in range(splits):
        order = rng.permutation(reps)
        for start in range(0, reps.size - size + 1, size):
            mine = np.isin(replicate, order[start:start + size])
            c = crossing(x[mine], y[mine], se[mine], threshold, bracket, seed=k)
            hits.append(c.low <= truth <= c.high)
            widths.append(c.high - c.low)
    return float(np.mean(hits)), float(np.median(widths)), len(hits)
