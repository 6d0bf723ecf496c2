"""All of a point's statistics from its recording, after the transient.

``STATISTICS`` declares them once: each is a column of every dataset
(``sweep.storage.SCHEMA``) with this type. Adding a statistic is one entry here and
its value in ``summarize`` (its formula in the docstring of its function in
``analysis.stats``); a statistic computed but not declared, or declared but not
computed, is an error."""

from __future__ import annotations

import numpy as np

from analysis import stats
from analysis.states import classify, margin
from sweep.config import AnalysisConfig, Config

STATISTICS: dict[str, type] = {
    "rate_hz": float,  # stats.mean_rate
    "rate_E_hz": float,  # stats.mean_rate of the excitatory neurons
    "rate_I_hz": float,  # stats.mean_rate of the inhibitory neurons
    "cv_isi": float,  # stats.cv_isi
    "cv_neurons": int,  # neurons in the CV mean
    "cv_isi_E": float,  # stats.cv_isi of the excitatory neurons
    "cv_isi_I": float,  # stats.cv_isi of the inhibitory neurons
    "chi": float,  # stats.chi_vm
    "spike_sync": float,  # stats.spike_synchrony
    "osc_freq_hz": float,  # stats.oscillation
    "osc_power": float,  # stats.oscillation
    "env_cv": float,  # stats.envelope_cv
    "coherence": float,  # stats.spike_coherence at osc_freq_hz
    "silent_frac": float,  # stats.silent_fraction
    "rate_se": float,  # stats.mean_rate_se
    "cv_isi_se": float,  # stats.cv_isi_se
    "env_cv_se": float,  # stats.envelope_cv_se
    "state": str,  # analysis.states.classify
    "margin": float,  # analysis.states.margin
}

# The block jackknife's blocks per analysis window (stats.block_jackknife_se): 8
# blocks of Brunel's 1-s window are 125 ms, longer than the envelope's correlation
# time in every state (about 1 / (0.6 f_peak): 80 ms at SI-slow's 20 Hz, 10 ms at
# SI-fast's 160 Hz). A constant, not a setting, so that point ids stay as they were.
BLOCKS = 8


def summarize(spike_times: np.ndarray, spike_ids: np.ndarray, vm: np.ndarray,
              n_neurons: int, n_exc: int, t_start: float, t_stop: float, dt: float,
              th: AnalysisConfig) -> dict[str, float | int | str]:
    """Statistics in the window [t_start, t_stop) ms of ``n_neurons`` neurons, the first
    ``n_exc`` excitatory; ``vm`` is sampled every ``dt`` ms from time dt (one column
    per step)."""
    args = (spike_times, spike_ids)
    rate = stats.mean_rate(*args, n_neurons, t_start, t_stop)
    cv, n_cv = stats.cv_isi(*args, t_start, t_stop, th.cv_min_isis)
    exc = spike_ids < n_exc
    per_pop = {}
    for name, mine, size in (("E", exc, n_exc), ("I", ~exc, n_neurons - n_exc)):
        pop_args = (spike_times[mine], spike_ids[mine])
        per_pop[f"rate_{name}_hz"] = stats.mean_rate(*pop_args, size, t_start, t_stop)
        per_pop[f"cv_isi_{name}"] = stats.cv_isi(*pop_args, t_start, t_stop, th.cv_min_isis)[0]
    first = round(t_start / dt)
    chi = stats.chi_vm(vm[:, first:]) if vm.shape[0] >= 2 else float("nan")
    counts = stats.spike_counts(*args, n_neurons, t_start, t_stop, th.sync_bin)
    sync = stats.spike_synchrony(counts)
    pop = stats.population_rate(*args, n_neurons, t_start, t_stop, th.pop_bin)
    freqs, power = stats.power_spectrum(pop, th.pop_bin, th.welch_segment)
    f_peak, p_peak = stats.oscillation(freqs, power, th.f_min)
    env_cv = stats.envelope_cv(pop, th.pop_bin, f_peak, th.rhythm_band)
    ses = {"rate_se": stats.mean_rate_se(*args, n_neurons, t_start, t_stop, BLOCKS),
           "cv_isi_se": stats.cv_isi_se(*args, t_start, t_stop, th.cv_min_isis, BLOCKS),
           "env_cv_se": stats.envelope_cv_se(pop, th.pop_bin, f_peak, th.rhythm_band,
                                             BLOCKS)}
    sample = np.isin(spike_ids, np.linspace(0, n_neurons - 1, th.coherence_neurons).astype(int))
    f_coh, kappa = stats.spike_coherence(spike_times[sample], spike_ids[sample], t_start,
                                         t_stop, th.pop_bin, th.welch_segment)
    coherence = (float(kappa[np.argmin(np.abs(f_coh - f_peak))]) if np.isfinite(f_peak)
                 else float("nan"))
    out = {
        "rate_hz": rate,
        "cv_isi": cv,
        "cv_neurons": n_cv,
        **per_pop,
        "chi": chi,
        "spike_sync": sync,
        "osc_freq_hz": f_peak,
        "osc_power": p_peak,
        "env_cv": env_cv,
        "coherence": coherence,
        "silent_frac": stats.silent_fraction(*args, n_neurons, t_start, t_stop),
        **ses,
        "state": classify(rate, cv, f_peak, env_cv, th),
        "margin": margin(rate, ses["rate_se"], cv, ses["cv_isi_se"], env_cv,
                         ses["env_cv_se"], th),
    }
    if out.keys() != STATISTICS.keys():
        raise KeyError(f"statistics {sorted(out.keys() ^ STATISTICS.keys())}: computed but "
                       "not declared in STATISTICS, or declared but not computed")
    return out


def summarize_point(spike_times: np.ndarray, spike_ids: np.ndarray, vm: np.ndarray,
                    cfg: Config) -> dict[str, float | int | str]:
    """``summarize`` over the analysis window of a point's configuration."""
    s = cfg.sim
    return summarize(spike_times, spike_ids, vm, cfg.network.N, cfg.network.N_E, s.transient,
                     s.duration,
                     s.dt, cfg.analysis)
