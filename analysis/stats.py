"""Summary statistics of a simulated network, in pure numpy (no MOOSE).

Spikes are given as two parallel arrays, ``times`` (ms) and ``ids`` (neuron index
in ``0..n_neurons-1``); every function takes the analysis window [t_start, t_stop)
in ms and ignores spikes outside it, so the transient is discarded by the caller's
choice of ``t_start``.
"""

from __future__ import annotations

import numpy as np

from sweep.model import MS


def _window(times: np.ndarray, ids: np.ndarray, t_start: float, t_stop: float
            ) -> tuple[np.ndarray, np.ndarray]:
    times, ids = np.asarray(times, dtype=float), np.asarray(ids)
    if times.shape != ids.shape:
        raise ValueError(f"times {times.shape} and ids {ids.shape} differ in shape")
    if not t_stop > t_start:
        raise ValueError(f"empty window [{t_start}, {t_stop})")
    keep = (times >= t_start) & (times < t_stop)
    return times[keep], ids[keep]


def mean_rate(times: np.ndarray, ids: np.ndarray, n_neurons: int,
              t_start: float, t_stop: float) -> float:
    """Mean firing rate in Hz: nu = n_spikes / (n_neurons * (t_stop - t_start))."""
    times, _ = _window(times, ids, t_start, t_stop)
    return times.size / (n_neurons * (t_stop - t_start) * MS)


def block_jackknife_se(leave_one_out: np.ndarray) -> float:
    """Standard error of a statistic from its K leave-one-block-out estimates
    theta_(j) (the statistic recomputed without block j of the window):

        SE = sqrt((K - 1) / K * sum_j (theta_(j) - mean_j theta_(j))^2).

    Contiguous blocks longer than the signal's correlation time make the blocks
    nearly independent, so this is the spread one realization's statistic would show
    over repeated realizations of the same window length (Efron & Stein's jackknife,
    applied to blocks as for time series; validated against seeds in
    docs/states.md). NaN (unknown) if any estimate is not finite, or there are fewer than
    two: a statistic that a block's absence leaves undefined rests on too little data
    for its spread to be known, and dropping those estimates would report the spread of
    the few that remain, near zero where one neuron's intervals make the statistic."""
    theta = np.asarray(leave_one_out, dtype=float)
    k = theta.size
    if k < 2 or not np.isfinite(theta).all():
        return float("nan")
    return float(np.sqrt((k - 1) / k * np.sum((theta - theta.mean()) ** 2)))


def _blocks(times: np.ndarray, t_start: float, t_stop: float, n_blocks: int) -> np.ndarray:
    """The block (0..n_blocks-1) of each time in [t_start, t_stop), equal lengths."""
    b = ((times - t_start) * n_blocks / (t_stop - t_start)).astype(np.int64)
    return np.clip(b, 0, n_blocks - 1)


def mean_rate_se(times: np.ndarray, ids: np.ndarray, n_neurons: int,
                 t_start: float, t_stop: float, n_blocks: int) -> float:
    """Standard error of ``mean_rate`` by the block jackknife: the rate without
    block j is nu_(j) = (n - n_j) / (n_neurons * (T - T / K)), n_j the spikes in
    block j of K equal blocks of the window of length T."""
    times, _ = _window(times, ids, t_start, t_stop)
    per_block = np.bincount(_blocks(times, t_start, t_stop, n_blocks), minlength=n_blocks)
    rest = (t_stop - t_start) * (1 - 1 / n_blocks)
    return block_jackknife_se((times.size - per_block) / (n_neurons * rest * MS))


def silent_fraction(times: np.ndarray, ids: np.ndarray, n_neurons: int,
                    t_start: float, t_stop: float) -> float:
    """Fraction of neurons with no spike in the window."""
    _, ids = _window(times, ids, t_start, t_stop)
    return 1.0 - np.unique(ids).size / n_neurons


def _isis(times: np.ndarray, ids: np.ndarray, t_start: float, t_stop: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every inter-spike interval in the window: (interval, its neuron, its end time)."""
    times, ids = _window(times, ids, t_start, t_stop)
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    same = ids[1:] == ids[:-1]
    return np.diff(times)[same], ids[1:][same], times[1:][same]


def _moments(isi: np.ndarray, inverse: np.ndarray, bins: np.ndarray, n_bins: int
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per neuron its mean interval c, and per (neuron, bin) the count, sum and sum of
    squares of the intervals' deviations from c (centred, so that a variance of nearly
    equal intervals does not cancel to rounding noise)."""
    n = inverse.max() + 1
    centre = np.bincount(inverse, weights=isi) / np.bincount(inverse)
    d = isi - centre[inverse]
    flat = inverse * n_bins + bins
    return centre, [np.bincount(flat, weights=d ** p, minlength=n * n_bins).reshape(n, n_bins)
                    for p in (0, 1, 2)]


def _mean_cv(centre: np.ndarray, count: np.ndarray, total: np.ndarray,
             squares: np.ndarray, min_isis: int) -> tuple[float, int]:
    """Mean CV over neurons from per-neuron centred moments (``_moments``)."""
    ok = count >= min_isis
    if not ok.any():
        return float("nan"), 0
    shift = total[ok] / count[ok]
    var = np.maximum(squares[ok] / count[ok] - shift ** 2, 0.0)
    return float(np.mean(np.sqrt(var) / (centre[ok] + shift))), int(ok.sum())


def cv_isi(times: np.ndarray, ids: np.ndarray, t_start: float, t_stop: float,
           min_isis: int = 5) -> tuple[float, int]:
    """Mean coefficient of variation of inter-spike intervals.

    CV_i = std(ISI_i) / mean(ISI_i) for each neuron i with at least ``min_isis``
    intervals in the window; returns (mean of CV_i, number of such neurons). The
    mean is NaN when no neuron qualifies.
    """
    if min_isis < 2:
        raise ValueError(f"min_isis={min_isis}: need at least 2 intervals for a std")
    isi, owner, _ = _isis(times, ids, t_start, t_stop)
    if isi.size == 0:
        return float("nan"), 0
    _, inverse = np.unique(owner, return_inverse=True)
    centre, sums = _moments(isi, inverse, np.zeros(isi.size, dtype=np.int64), 1)
    return _mean_cv(centre, *(x[:, 0] for x in sums), min_isis)


def cv_isi_se(times: np.ndarray, ids: np.ndarray, t_start: float, t_stop: float,
              min_isis: int, n_blocks: int) -> float:
    """Standard error of ``cv_isi`` by the block jackknife: the mean CV recomputed
    without the intervals that end in block j, for each of K equal blocks."""
    isi, owner, end = _isis(times, ids, t_start, t_stop)
    if isi.size == 0:
        return float("nan")
    _, inverse = np.unique(owner, return_inverse=True)
    centre, sums = _moments(isi, inverse, _blocks(end, t_start, t_stop, n_blocks), n_blocks)
    totals = [x.sum(axis=1) for x in sums]
    return block_jackknife_se([
        _mean_cv(centre, *(t - x[:, j] for t, x in zip(totals, sums, strict=True)),
                 min_isis)[0] for j in range(n_blocks)])


def chi_vm(vm: np.ndarray) -> float:
    """Golomb's synchrony measure from membrane potentials (rows: neurons, cols: time).

    chi^2 = Var_t[mean_i V_i(t)] / mean_i Var_t[V_i(t)]. About 1/sqrt(n) for n
    independent neurons, 1 for identical traces.
    """
    vm = np.asarray(vm, dtype=float)
    if vm.ndim != 2 or vm.shape[0] < 2 or vm.shape[1] < 2:
        raise ValueError(f"vm must be (neurons >= 2, samples >= 2), got {vm.shape}")
    individual = np.mean(np.var(vm, axis=1))
    if individual == 0:
        return float("nan")
    return float(np.sqrt(np.var(vm.mean(axis=0)) / individual))


def spike_counts(times: np.ndarray, ids: np.ndarray, n_neurons: int,
                 t_start: float, t_stop: float, bin_ms: float) -> np.ndarray:
    """Counts per neuron and bin, shape (n_neurons, n_bins); partial last bin dropped."""
    n_bins = int(np.floor((t_stop - t_start) / bin_ms + 1e-9))
    if n_bins < 2:
        raise ValueError(f"bin {bin_ms} ms leaves fewer than 2 bins in the window")
    times, ids = _window(times, ids, t_start, t_start + n_bins * bin_ms)
    b = np.minimum(((times - t_start) / bin_ms).astype(np.int64), n_bins - 1)
    flat = np.bincount(ids.astype(np.int64) * n_bins + b, minlength=n_neurons * n_bins)
    return flat.reshape(n_neurons, n_bins)


def spike_synchrony(counts: np.ndarray) -> float:
    """Mean pairwise correlation of binned spike counts, from the population variance.

    With x_i the count series of neuron i and S = sum_i x_i,
    Var(S) = sum_i Var(x_i) + sum_{i != j} Cov(x_i, x_j), so
    rho = (Var(S) - sum_i v_i) / ((sum_i sqrt v_i)^2 - sum_i v_i), v_i = Var(x_i).
    It is 0 for independent neurons whatever their number and 1 for identical
    trains, so unlike a Fano factor of the population it is comparable across
    network sizes. Neurons that never fire (v_i = 0) do not enter. NaN if fewer
    than two neurons fire.
    """
    counts = np.asarray(counts, dtype=float)
    v = counts.var(axis=1)
    active = v > 0
    if active.sum() < 2:
        return float("nan")
    pop_var = counts[active].sum(axis=0).var()
    sum_v = v[active].sum()
    return float((pop_var - sum_v) / (np.sqrt(v[active]).sum() ** 2 - sum_v))


def population_rate(times: np.ndarray, ids: np.ndarray, n_neurons: int,
                    t_start: float, t_stop: float, bin_ms: float) -> np.ndarray:
    """Population rate in Hz per bin: spikes / (n_neurons * bin)."""
    n_bins = int(np.floor((t_stop - t_start) / bin_ms + 1e-9))
    times, _ = _window(times, ids, t_start, t_start + n_bins * bin_ms)
    counts = np.bincount(((times - t_start) / bin_ms).astype(np.int64), minlength=n_bins)
    return counts[:n_bins] / (n_neurons * bin_ms * MS)


def power_spectrum(signal: np.ndarray, bin_ms: float, segment_ms: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Welch estimate: mean periodogram of Hann-windowed, half-overlapping segments
    of the mean-removed signal. Returns (frequencies in Hz, power)."""
    x = np.asarray(signal, dtype=float)
    n = round(segment_ms / bin_ms)
    if n < 4 or n > x.size:
        raise ValueError(f"segment of {n} bins does not fit a signal of {x.size} bins")
    window = np.hanning(n)
    starts = range(0, x.size - n + 1, max(n // 2, 1))
    power = np.mean([np.abs(np.fft.rfft((x[s:s + n] - x[s:s + n].mean()) * window)) ** 2
                     for s in starts], axis=0)
    return np.fft.rfftfreq(n, d=bin_ms * MS), power


def oscillation(freqs: np.ndarray, power: np.ndarray, f_min: float) -> tuple[float, float]:
    """Peak frequency (Hz) at or above ``f_min`` and its relative power: the fraction of
    the power at or above ``f_min`` that lies within +-max(2 bins, 10%) of the peak.
    Returns (nan, 0) for a flat zero spectrum."""
    band = freqs >= f_min
    f, p = freqs[band], power[band]
    total = p.sum()
    if f.size == 0 or total <= 0:
        return float("nan"), 0.0
    peak = int(np.argmax(p))
    half = max(2 * (freqs[1] - freqs[0]), 0.1 * f[peak])
    near = np.abs(f - f[peak]) <= half
    return float(f[peak]), float(p[near].sum() / total)


def spike_coherence(times: np.ndarray, ids: np.ndarray, t_start: float, t_stop: float,
                    bin_ms: float, segment_ms: float, chunk: int = 1000
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Frequency-resolved spike coherence of the population: the mean cross-spectrum of
    two neurons' spike trains over their mean auto-spectrum,

        kappa(f) = (S_pop(f) - sum_i S_i(f)) / ((n - 1) sum_i S_i(f)),

    with S_pop the spectrum of the summed trains and S_i neuron i's, all Welch
    estimates (``power_spectrum``'s segments) over the n neurons that fire. The
    population spectrum is the sum of the single-neuron spectra plus every pair's
    cross-spectrum, so kappa is 0 for independent neurons however regular each one is
    (their own spectra peak at their rate, and so does the sum) and 1 for identical
    trains. Returns (frequencies in Hz, kappa); kappa is NaN where no neuron has power
    or fewer than two neurons fire."""
    counts_n = round(segment_ms / bin_ms)
    n_bins = int(np.floor((t_stop - t_start) / bin_ms + 1e-9))
    if counts_n < 4 or counts_n > n_bins:
        raise ValueError(f"segment of {counts_n} bins does not fit {n_bins} bins")
    starts = np.arange(0, n_bins - counts_n + 1, max(counts_n // 2, 1))
    window = np.hanning(counts_n)
    active = np.unique(np.asarray(ids)[(np.asarray(times) >= t_start)
                                       & (np.asarray(times) < t_stop)])
    freqs = np.fft.rfftfreq(counts_n, d=bin_ms * MS)
    if active.size < 2:
        return freqs, np.full(freqs.size, np.nan)
    pop = np.zeros((starts.size, freqs.size), dtype=complex)
    individual = np.zeros(freqs.size)
    segments = starts[:, None] + np.arange(counts_n)
    for first in range(0, active.size, chunk):
        group = active[first:first + chunk]
        keep = np.isin(ids, group)
        local = np.searchsorted(group, np.asarray(ids)[keep])
        counts = spike_counts(np.asarray(times)[keep], local, group.size, t_start, t_stop,
                              bin_ms).astype(float)
        seg = counts[:, segments]  # (neurons, segments, bins)
        seg -= seg.mean(axis=2, keepdims=True)
        spectra = np.fft.rfft(seg * window, axis=2)
        pop += spectra.sum(axis=0)
        individual += (np.abs(spectra) ** 2).mean(axis=1).sum(axis=0)
    population = (np.abs(pop) ** 2).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = (population - individual) / ((active.size - 1) * individual)
    return freqs, np.where(individual > 0, kappa, np.nan)


def envelope(signal: np.ndarray, bin_ms: float, f_peak: float, rel_band: float,
             edge_ms: float = 50.0) -> np.ndarray | None:
    """The amplitude envelope (Hilbert transform) of ``signal`` band-passed to
    f_peak (1 +- rel_band), with ``edge_ms`` dropped at each end for the filter's
    transients; None if f_peak is not a frequency the band fits under Nyquist."""
    from scipy import signal as sig

    nyquist = 0.5 / (bin_ms * MS)
    low, high = f_peak * (1 - rel_band), min(f_peak * (1 + rel_band), 0.99 * nyquist)
    x = np.asarray(signal, dtype=float)
    edge = round(edge_ms / bin_ms)
    if not (0 < rel_band < 1 and 0 < low < high) or x.size <= 2 * edge + 2:
        return None
    sos = sig.butter(2, [low, high], btype="bandpass", fs=2 * nyquist, output="sos")
    return np.abs(sig.hilbert(sig.sosfiltfilt(sos, x - x.mean())))[edge:x.size - edge]


def _cv(x: np.ndarray) -> float:
    mean = x.mean()
    return float(x.std() / mean) if mean > 0 else float("nan")


def envelope_cv(signal: np.ndarray, bin_ms: float, f_peak: float, rel_band: float,
                edge_ms: float = 50.0) -> float:
    """How steady a rhythm is: the coefficient of variation std(E) / mean(E) of the
    amplitude envelope E of ``signal`` band-passed to f_peak (1 +- rel_band)
    (``envelope``).

    Gaussian fluctuations in any narrow band, such as a stable network's noise
    amplified near a resonance, have a Rayleigh-distributed envelope: CV
    sqrt(4/pi - 1) = 0.523, whatever their power. A sinusoid of power A^2/2 in
    Gaussian noise of power s^2 has a Rice envelope whose CV falls with
    K = A^2 / (2 s^2): 0.47 at K = 1, 0.40 at K = 2, 0.32 at K = 4, 0 for a pure
    oscillation. NaN if f_peak is not a frequency the band fits under Nyquist."""
    env = envelope(signal, bin_ms, f_peak, rel_band, edge_ms)
    return float("nan") if env is None else _cv(env)


def envelope_cv_se(signal: np.ndarray, bin_ms: float, f_peak: float, rel_band: float,
                   n_blocks: int, edge_ms: float = 50.0) -> float:
    """Standard error of ``envelope_cv`` by the block jackknife: the CV of the
    envelope without its j-th of K equal contiguous blocks. NaN where
    ``envelope_cv`` is."""
    env = envelope(signal, bin_ms, f_peak, rel_band, edge_ms)
    if env is None or env.size < 2 * n_blocks:
        return float("nan")
    parts = np.array_split(env, n_blocks)
    return block_jackknife_se([_cv(np.concatenate(parts[:j] + parts[j + 1:]))
                               for j in range(n_blocks)])


def seed_deviations(values: np.ndarray, ses: np.ndarray) -> np.ndarray:
    """Each realization's leave-one-seed-out standardized deviation: how far its value
    lies from the mean of the point's other realizations, in the standard errors the
    realizations state,

        d_i = (x_i - mean_{j != i} x_j) / sqrt(SE_i^2 + sum_{j != i} SE_j^2 / (n - 1)^2).

    Over realizations whose standard errors are the spread over seeds, d has standard
    deviation 1; larger, the errors are too small. Realizations with a value or an
    error undefined are left out; empty for fewer than three left."""
    x, s = np.asarray(values, dtype=float), np.asarray(ses, dtype=float)
    ok = np.isfinite(x) & np.isfinite(s)
    x, s = x[ok], s[ok]
    n = x.size
    if n < 3:
        return np.array([])
    rest_mean = (x.sum() - x) / (n - 1)
    rest_var = ((s ** 2).sum() - s ** 2) / (n - 1) ** 2
    return (x - rest_mean) / np.sqrt(s ** 2 + rest_var)
