"""Repeated looks at accumulating evidence: the boundary that keeps a decision's error
rate what one look would give.

A point's state is decided when its margin (``analysis.states.margin``) reaches a
boundary; with confidence on, seeds are added and the point looked at again until it
is decided. Each look is another chance for noise to cross the boundary, so a point
that lies exactly on a threshold ends "decided" more often the more looks it gets. The
boundary here is Pocock's (1977): one constant c for every look, chosen so that the
chance of crossing at any of L looks equals the chance ``error`` that one look at the
standard normal boundary would give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from analysis.states import point_decision
from sweep.config import AnalysisConfig, ConfidenceConfig

# Paths of the Monte Carlo below: the boundary to about +-0.005 (its quantile's SE).
PATHS = 400_000
# Below this error the Monte Carlo's tail is too thin: Bonferroni's bound instead.
MC_ERROR = 1e-3


def two_sided_error(z: float) -> float:
    """The chance that one standard normal look lies beyond +-z: 2 (1 - Phi(z)), e.g.
    0.0455 at z = 2."""
    return math.erfc(z / math.sqrt(2))


@lru_cache(maxsize=64)
def pocock_boundary(looks: int, error: float) -> float:
    """The constant boundary c for ``looks`` equally informative looks at a statistic
    with no true distance from its threshold: with Z_k = S_k / sqrt(k), S_k a sum of k
    independent standard normals, P(max_k |Z_k| >= c) = ``error`` (Pocock 1977;
    c = 2.41 for 5 looks at 5%, against 1.96 for one look).

    Computed by a seeded Monte Carlo of ``PATHS`` paths, so the same arguments give the
    same boundary; one look gives the normal quantile exactly; an error below
    ``MC_ERROR`` gives Bonferroni's c = Phi^-1(1 - error / (2 L)), a little higher than
    Pocock's, so that the error stays at most ``error``.

    Parameters
    ----------
    looks : int
        The most looks a point can get (``grid.confidence.max_replicates``), at least 1.
    error : float
        The chance, in (0, 1), that a point exactly on a threshold ends decided.
    """
    if looks < 1 or not 0 < error < 1:
        raise ValueError(f"looks={looks}, error={error}: need looks >= 1 and 0 < error < 1")
    from scipy.stats import norm

    if looks == 1 or error < MC_ERROR:
        return float(norm.isf(error / (2 * looks)))
    rng = np.random.default_rng(20261206)
    sums = np.cumsum(rng.standard_normal((PATHS, looks)), axis=1)
    peak = np.max(np.abs(sums) / np.sqrt(np.arange(1, looks + 1)), axis=1)
    return float(np.quantile(peak, 1 - error))


def decision_z(z: float, looks: int) -> float:
    """The boundary for a point that may be looked at ``looks`` times, so that it ends
    decided while exactly on a threshold as often as one look at ``z`` would be:
    ``pocock_boundary(looks, two_sided_error(z))`` (``z`` itself for one look, or for a
    ``z`` so large that no noise reaches it)."""
    error = two_sided_error(z)
    return z if looks <= 1 or error == 0 else max(z, pocock_boundary(looks, error))


def confidence_bar(c: ConfidenceConfig) -> float:
    """The margin a point needs to be decided under ``grid.confidence``: ``decision_z``
    for ``max_replicates`` looks when extra seeds are on, else one look at ``z``."""
    return decision_z(c.z, c.max_replicates if c.on else 1)


def ends_decided_on_threshold(realizations: Sequence[Mapping[str, float]], measure: str,
                              threshold: float, th: AnalysisConfig, z: float, looks: int,
                              orders: int, rng: np.random.Generator) -> float:
    """How often a point whose realizations are moved to lie exactly on a threshold ends
    decided when its seeds are added one by one while undecided, up to ``looks``: each
    realization's ``measure`` shifted by threshold - (the realizations' mean), so that
    their spread and standard errors are real and their mean sits on the threshold; the
    fraction of ``orders`` random orders of them in which ``point_decision`` at ``z``
    decides at some look. Every such decision is wrong: the point lies on the line."""
    records = [dict(r) for r in realizations if np.isfinite(r[measure])]
    shift = threshold - np.mean([r[measure] for r in records])
    for r in records:
        r[measure] += shift
    ended = 0
    for _ in range(orders):
        order = [records[i] for i in rng.permutation(len(records))[:looks]]
        ended += any(point_decision(order[:k], th, z)[1] for k in range(1, len(order) + 1))
    return ended / orders
