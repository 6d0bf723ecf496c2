"""Classify a simulated point into one of Brunel's states from its statistics.

No published thresholds exist; the rules, their principle and their validation are
in docs/states.md and the values in ``conf/analysis/default.yaml``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

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


def majority_state(states: Iterable[str | None]) -> str | None:
    """A point's state over its replicates, given in replicate order.

    Parameters
    ----------
    states : iterable of str or None
        Each replicate's state, lowest replicate index first; None for a replicate
        that failed.

    Returns
    -------
    str or None
        The state seen most often among the replicates that finished. A tie goes to
        the tied state seen first (at the lowest replicate index), so that more seeds
        overturn a one-seed result only by a strict majority. Failed replicates are
        left out; None when no replicate finished.
    """
    finished = [s for s in states if s is not None]
    if not finished:
        return None
    counts = Counter(finished)
    top = max(counts.values())
    return next(s for s in finished if counts[s] == top)
