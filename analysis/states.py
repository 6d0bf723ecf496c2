"""Classify a simulated point into one of Brunel's states from its statistics.

No published thresholds exist; the rules and their reasoning are in the README
("Classifying states") and the values in ``conf/analysis/default.yaml``.
"""

from __future__ import annotations

import math

from sweep.config import AnalysisConfig

STATES = ("quiescent", "SR", "AR", "AI", "SI-fast", "SI-slow")


def classify(rate_hz: float, cv_isi: float, chi: float, osc_freq_hz: float,
             osc_power: float, th: AnalysisConfig) -> str:
    """Quiescent below a rate floor; otherwise synchronous when the population rate has a
    dominant spectral peak or the membrane potentials are synchronous (Golomb's chi),
    and regular when the mean CV of ISIs is small. Synchronous irregular states are
    split by the frequency of the population peak."""
    if not rate_hz >= th.quiescent_rate:
        return "quiescent"
    synchronous = osc_power >= th.sync_osc_power or (
        not math.isnan(chi) and chi >= th.sync_chi)
    regular = not math.isnan(cv_isi) and cv_isi < th.cv_regular
    if regular:
        return "SR" if synchronous else "AR"
    if not synchronous:
        return "AI"
    return "SI-fast" if osc_freq_hz >= th.f_fast else "SI-slow"
