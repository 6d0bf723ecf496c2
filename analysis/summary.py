"""All of a point's statistics from its recording, after the transient."""

from __future__ import annotations

import numpy as np

from analysis import stats
from analysis.states import classify
from sweep.config import AnalysisConfig, Config


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
    return {
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


def summarize_point(spike_times: np.ndarray, spike_ids: np.ndarray, vm: np.ndarray,
                    cfg: Config) -> dict[str, float | int | str]:
    """``summarize`` over the analysis window of a point's configuration."""
    s = cfg.sim
    return summarize(spike_times, spike_ids, vm, cfg.network.N, s.transient, s.duration,
                     s.dt, cfg.analysis)
