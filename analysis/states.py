"""Classify a simulated point into one of Brunel's states from its statistics.

No published thresholds exist; the rules, their principle and their validation are
in the README ("Classifying states") and the values in ``conf/analysis/default.yaml``.
"""

from __future__ import annotations

import math

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
