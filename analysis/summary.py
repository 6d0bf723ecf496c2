"""All of a point's statistics from its recording, after the transient.

``STATISTICS`` declares them once: each is a column of every dataset
(``sweep.storage.SCHEMA``) with this type. Adding a statistic is one entry here and
its value in ``summarize`` (its formula in the docstring of its function in
``analysis.stats``); a statistic computed but not declared, or declared but not
computed, is an error."""

from __future__ import annotations

import numpy as np

from analysis import stats
from analysis.states import classify
from sweep.config import AnalysisConfig, Config

STATISTICS: dict[str, type] = {
    "rate_hz": float,  # stats.mean_rate
    "cv_isi": float,  # stats.cv_isi
    "cv_neurons": int,  # neurons in the CV mean
    "chi": float,  # stats.chi_vm
    "spike_sync": float,  # stats.spike_synchrony
    "osc_freq_hz": float,  # stats.oscillation
    "osc_power": float,  # stats.oscillation
    "env_cv": float,  # stats.envelope_cv
    "coherence": float,  # stats.spike_coherence at osc_freq_hz
    "silent_frac": float,  # stats.silent_fraction
    "state": str,  # analysis.states.classify
}


def summarize(spike_times: np.ndarray, spike_ids: np.ndarray, vm: np.ndarray,
              n_neurons: int, t_start: float, t_stop: float, dt: float,
              th: AnalysisConfig) -> dict[str, float | int | str]:
    """Statistics in the window [t_start, t_stop) ms; ``vm`` is sampled every ``dt`` ms
    from time dt (one column per step)."""
    args = (spike_times, spike_ids)
    rate = stats.mean_rate(*args, n_neurons, t_start, t_stop)
    cv, n_cv = stats.cv_isi(*args, t_start, t_stop, th.cv_min_isis)
    first = round(t_start / dt)
    chi = stats.chi_vm(vm[:, first:]) if vm.shape[0] >= 2 else float("nan")
    counts = stats.spike_counts(*args, n_neurons, t_start, t_stop, th.sync_bin)
    sync = stats.spike_synchrony(counts)
    pop = stats.population_rate(*args, n_neurons, t_start, t_stop, th.pop_bin)
    freqs, power = stats.power_spectrum(pop, th.pop_bin, th.welch_segment)
    f_peak, p_peak = stats.oscillation(freqs, power, th.f_min)
    env_cv = stats.envelope_cv(pop, th.pop_bin, f_peak, th.rhythm_band)
    sample = np.isin(spike_ids, np.linspace(0, n_neurons - 1, th.coherence_neurons).astype(int))
    f_coh, kappa = stats.spike_coherence(spike_times[sample], spike_ids[sample], t_start,
                                         t_stop, th.pop_bin, th.welch_segment)
    coherence = (float(kappa[np.argmin(np.abs(f_coh - f_peak))]) if np.isfinite(f_peak)
                 else float("nan"))
    out = {
        "rate_hz": rate,
        "cv_isi": cv,
        "cv_neurons": n_cv,
        "chi": chi,
        "spike_sync": sync,
        "osc_freq_hz": f_peak,
        "osc_power": p_peak,
        "env_cv": env_cv,
        "coherence": coherence,
        "silent_frac": stats.silent_fraction(*args, n_neurons, t_start, t_stop),
        "state": classify(rate, cv, f_peak, env_cv, th),
    }
    if out.keys() != STATISTICS.keys():
        raise KeyError(f"statistics {sorted(out.keys() ^ STATISTICS.keys())}: computed but "
                       "not declared in STATISTICS, or declared but not computed")
    return out


def summarize_point(spike_times: np.ndarray, spike_ids: np.ndarray, vm: np.ndarray,
                    cfg: Config) -> dict[str, float | int | str]:
    """``summarize`` over the analysis window of a point's configuration."""
    s = cfg.sim
    return summarize(spike_times, spike_ids, vm, cfg.network.N, s.transient, s.duration,
                     s.dt, cfg.analysis)
