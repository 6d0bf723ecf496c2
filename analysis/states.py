"""Classify a simulated point into one of Brunel's states from its statistics.

No published thresholds exist; the rules, their principle and their validation are
in docs/states.md and the values in ``conf/analysis/default.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sweep.config import AnalysisConfig

STATES = ("quiescent", "SR", "AR", "AI", "SI-fast", "SI-slow")


def classify(rate_hz: float, cv_isi: float, osc_freq_hz: float, env_cv: float,
             th: AnalysisConfig) -> str:
    """Quiescent below a rate floor. Otherwise synchronous when the population rate's
    dominant rhythm is self-sustained: its amplitude envelope is steadier
    (``env_cv`` below ``sync_env_cv``) than the Rayleigh envelope (CV 0.52) of the
    Gaussian fluctuations a stable network shows however much a resonance amplifies
    them. Regular when the mean CV of ISIs is small. Synchronous irregular states are
    split by the rhythm's frequency."""
    if not rate_hz >= th.quiescent_rate:
        return "quiescent"
    synchronous = not math.isnan(env_cv) and env_cv < th.sync_env_cv
    regular = not math.isnan(cv_isi) and cv_isi < th.cv_regular
    if regular:
        return "SR" if synchronous else "AR"
    if not synchronous:
        return "AI"
    return "SI-fast" if osc_freq_hz >= th.f_fast else "SI-slow"


def margin(rate_hz: float, rate_se: float, cv_isi: float, cv_isi_se: float,
           env_cv: float, env_cv_se: float, th: AnalysisConfig) -> float:
    """How surely ``classify`` decided: the smallest distance, in standard errors,
    from a measure the decision used to its threshold::

        m = min_k |x_k - threshold_k| / SE_k,

    over the rate (quiescent or not) and, for an active point, the envelope CV
    (synchronous or not) and the CV of ISIs (regular or not). A measure that is NaN
    (no rhythm, too few intervals) has no threshold to be near and does not enter;
    a zero SE gives an infinite distance unless the measure sits on its threshold;
    an unknown (NaN) SE gives a NaN margin. The rhythm's frequency (SI-fast or
    SI-slow) does not enter: in Brunel's plane the two SI states never touch."""
    terms = [(rate_hz, rate_se, th.quiescent_rate)]
    if rate_hz >= th.quiescent_rate:
        terms += [(env_cv, env_cv_se, th.sync_env_cv), (cv_isi, cv_isi_se, th.cv_regular)]
    out = math.inf
    for x, se, threshold in terms:
        if math.isnan(x):
            continue
        if math.isnan(se):
            return float("nan")
        gap = abs(x - threshold)
        out = min(out, gap / se if se > 0 else (math.inf if gap > 0 else 0.0))
    return out


# Each statistic that has a standard error, and the column that holds it.
STANDARD_ERRORS = {"rate_hz": "rate_se", "cv_isi": "cv_isi_se", "env_cv": "env_cv_se"}
# What a point's decision reads of each realization (``pool``, ``point_decision``).
MEASURES = (*STANDARD_ERRORS, *STANDARD_ERRORS.values(), "osc_freq_hz")


def mean_and_se(values: Sequence[float], ses: Sequence[float]) -> tuple[float, float]:
    """The mean of n realizations' values, x = (1/n) sum_r x_r, and its standard error

        SE^2 = max(sum_r SE_r^2 / n^2, s^2 / n),   s^2 = sum_r (x_r - x)^2 / (n - 1),

    the larger of the realizations' own errors of the mean and the spread between them
    (n >= 2): seeds are different networks, and what differs between network instances
    no single run can measure (the method-of-moments estimate of a random effect between
    seeds, never below the within-run errors). With one SE_r unknown (NaN) the spread
    alone; NaN for no values, or for one whose SE is unknown."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    x = math.fsum(values) / n
    within = math.fsum(se ** 2 for se in ses) / n ** 2
    if n < 2:
        return x, math.sqrt(within)
    between = math.fsum((v - x) ** 2 for v in values) / (n - 1) / n
    return x, math.sqrt(between if math.isnan(within) else max(within, between))


def pool(realizations: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The evidence of several realizations (seeds) of a point as one: each measure's
    mean over the realizations where it is finite and its standard error
    (``mean_and_se``); the rhythm's frequency averaged alike."""
    out: dict[str, float] = {}
    for name in (*STANDARD_ERRORS, "osc_freq_hz"):
        se_name = STANDARD_ERRORS.get(name)
        values = [(r[name], r[se_name] if se_name else math.nan)
                  for r in realizations if not math.isnan(r[name])]
        x, se = mean_and_se([v for v, _ in values], [s for _, s in values])
        out[name] = x
        if se_name:
            out[se_name] = se
    return out


def point_decision(realizations: Sequence[Mapping[str, float] | None], th: AnalysisConfig,
                   z: float) -> tuple[str | None, bool, float]:
    """A point's state from all its realizations: ``classify`` of their pooled measures
    (``pool``), decided when the pooled ``margin`` is at least ``z`` standard errors.
    Each seed shrinks the standard errors by about sqrt(n), so more seeds decide a
    point that lies off its threshold, however little. Failed realizations (None) are
    left out.

    Returns
    -------
    (state, decided, margin) : (str or None, bool, float)
        State None (and not decided) when no realization finished; the margin NaN
        when a standard error is unknown (a part from before they were recorded).
    """
    finished = [r for r in realizations if r is not None]
    if not finished:
        return None, False, math.nan
    m = pool(finished)
    state = classify(m["rate_hz"], m["cv_isi"], m["osc_freq_hz"], m["env_cv"], th)
    distance = margin(m["rate_hz"], m["rate_se"], m["cv_isi"], m["cv_isi_se"], m["env_cv"],
                      m["env_cv_se"], th)
    return state, distance >= z, distance


# The theory's line between two simulated states (either way round).
_LINE_BETWEEN = {frozenset((state, other)): line
                 for line, state in (("SR", "SR"), ("SI-fast", "SI-fast"), ("SI-slow", "SI-slow"))
                 for other in ("AI", "AR")}


def line_between(a: str, b: str) -> str | None:
    """The theoretical line that a transition from state ``a`` to ``b`` should lie on:
    onset for quiescent against any active state; None where the theory has none."""
    if a != b and "quiescent" in (a, b):
        return "onset"
    return _LINE_BETWEEN.get(frozenset((a, b)))


_SYNCHRONOUS, _REGULAR = {"SR", "SI-fast", "SI-slow"}, {"SR", "AR"}


def separating_measure(a: str, b: str) -> tuple[str, str] | None:
    """The statistic whose threshold ``classify`` uses to tell state ``a`` from ``b``,
    and the threshold's name in ``AnalysisConfig``: the rate against quiescence, else
    the envelope CV where one is synchronous and the other not, else the CV of ISIs
    where one is regular; None for SI-fast against SI-slow (the rhythm's frequency,
    which has no standard error)."""
    if a == b:
        return None
    if "quiescent" in (a, b):
        return "rate_hz", "quiescent_rate"
    if (a in _SYNCHRONOUS) != (b in _SYNCHRONOUS):
        return "env_cv", "sync_env_cv"
    if (a in _REGULAR) != (b in _REGULAR):
        return "cv_isi", "cv_regular"
    return None
