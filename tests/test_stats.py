"""Statistics on synthetic spike trains with known answers, and the classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import stats
from analysis.states import classify
from sweep.config import AnalysisConfig

pytestmark = pytest.mark.fast  # pure: no MOOSE process (docs/development.md)


def poisson_trains(rng, n, rate_hz, t_ms):
    counts = rng.poisson(rate_hz * t_ms * 1e-3, n)
    ids = np.repeat(np.arange(n), counts)
    return rng.uniform(0, t_ms, counts.sum()), ids


def periodic_trains(n, period_ms, t_ms, phases):
    times = [np.arange(ph, t_ms, period_ms) for ph in phases]
    return np.concatenate(times), np.repeat(np.arange(n), [len(t) for t in times])


def test_mean_rate_counts_only_the_window():
    times = np.array([5.0, 150.0, 250.0, 999.9, 1000.0])
    ids = np.array([0, 1, 1, 2, 0])
    # 3 spikes in [100, 1000) over 4 neurons x 0.9 s
    assert stats.mean_rate(times, ids, 4, 100, 1000) == pytest.approx(3 / (4 * 0.9))
    assert stats.silent_fraction(times, ids, 4, 100, 1000) == pytest.approx(0.5)


def test_cv_of_poisson_is_one_and_of_periodic_is_zero():
    rng = np.random.default_rng(1)
    t, i = poisson_trains(rng, 200, 50.0, 10_000)
    cv, n = stats.cv_isi(t, i, 0, 10_000, min_isis=5)
    assert n == 200
    assert cv == pytest.approx(1.0, abs=0.03)
    t, i = periodic_trains(10, 10.0, 1000, rng.uniform(0, 10, 10))
    cv, n = stats.cv_isi(t, i, 0, 1000)
    assert (cv, n) == (pytest.approx(0.0, abs=1e-9), 10)


def test_cv_by_hand_and_qualification():
    # Neuron 0: ISIs 1, 3 -> mean 2, std 1 -> CV 0.5. Neuron 1: one ISI only.
    times = np.array([0.0, 1.0, 4.0, 2.0, 5.0])
    ids = np.array([0, 0, 0, 1, 1])
    assert stats.cv_isi(times, ids, 0, 10, min_isis=2) == (pytest.approx(0.5), 1)
    cv, n = stats.cv_isi(times, ids, 0, 10, min_isis=3)
    assert np.isnan(cv) and n == 0
    with pytest.raises(ValueError, match="min_isis"):
        stats.cv_isi(times, ids, 0, 10, min_isis=1)


def test_chi_synchronous_is_one_and_independent_is_one_over_sqrt_n():
    rng = np.random.default_rng(2)
    common = rng.normal(size=5000)
    assert stats.chi_vm(np.tile(common, (50, 1)) * 3 + 1) == pytest.approx(1.0)
    for n in (16, 100, 400):
        chi = stats.chi_vm(rng.normal(size=(n, 20_000)))
        assert chi == pytest.approx(1 / np.sqrt(n), rel=0.1)
    with pytest.raises(ValueError):
        stats.chi_vm(np.ones((1, 10)))


def test_spike_synchrony_zero_for_independent_one_for_identical_at_any_size():
    rng = np.random.default_rng(3)
    for n in (50, 500):
        t, i = poisson_trains(rng, n, 20.0, 20_000)
        c = stats.spike_counts(t, i, n, 0, 20_000, 2.0)
        assert stats.spike_synchrony(c) == pytest.approx(0.0, abs=0.01)
    base = rng.uniform(0, 2000, 100)
    t = np.tile(base, 30)
    i = np.repeat(np.arange(30), 100)
    c = stats.spike_counts(t, i, 30, 0, 2000, 2.0)
    assert stats.spike_synchrony(c) == pytest.approx(1.0)


def test_spike_counts_by_hand():
    c = stats.spike_counts(np.array([0.5, 1.5, 1.9, 3.0]), np.array([0, 1, 1, 0]), 2, 0, 4, 1.0)
    np.testing.assert_array_equal(c, [[1, 0, 0, 1], [0, 2, 0, 0]])


def test_population_oscillation_peak_and_power():
    rng = np.random.default_rng(4)
    bin_ms, f0 = 0.5, 180.0
    t = np.arange(0, 4000, bin_ms)
    signal = 50 + 40 * np.sin(2 * np.pi * f0 * t * 1e-3) + rng.normal(0, 5, t.size)
    f, p = stats.power_spectrum(signal, bin_ms, 250.0)
    assert f[1] - f[0] == pytest.approx(4.0)
    peak, power = stats.oscillation(f, p, 5.0)
    assert peak == pytest.approx(f0, abs=4.0)
    assert power > 0.8
    white = rng.normal(0, 5, t.size)
    _, flat = stats.oscillation(*stats.power_spectrum(white, bin_ms, 250.0), 5.0)
    assert flat < 0.1


def test_population_rate_in_hz():
    r = stats.population_rate(np.array([0.1, 0.2, 1.5]), np.array([0, 1, 0]), 10, 0, 2, 1.0)
    np.testing.assert_allclose(r, [2 / (10 * 1e-3), 1 / (10 * 1e-3)])


TH = AnalysisConfig()


@pytest.mark.parametrize(("args", "state"), [
    ((0.0, np.nan, np.nan, np.nan), "quiescent"),
    ((330.0, 0.05, 650.0, 0.01), "SR"),  # clusters firing in turn: a steady 650 Hz rhythm
    ((230.0, 0.1, 650.0, 0.52), "AR"),  # regular neurons, Gaussian population fluctuations
    ((38.0, 0.45, 132.0, 0.48), "AI"),  # a resonance, but with a Rayleigh envelope
    ((57.0, 0.8, 176.0, 0.35), "SI-fast"),
    ((6.0, 0.55, 24.0, 0.35), "SI-slow"),
    ((40.0, 0.6, 150.0, np.nan), "AI"),  # no rhythm measured
])
def test_classifier_clear_cases(args, state):
    assert classify(*args, TH) == state


def _band_signal(k_factor: float, f0: float, rng: np.random.Generator, n: int = 20_000,
                 bin_ms: float = 0.5) -> np.ndarray:
    """A sinusoid at f0 with Rice factor K against white noise filtered to its band."""
    from scipy import signal

    t = np.arange(n) * bin_ms * 1e-3
    sos = signal.butter(4, [0.8 * f0, 1.2 * f0], btype="bandpass", fs=1 / (bin_ms * 1e-3),
                        output="sos")
    noise = signal.sosfiltfilt(sos, rng.normal(size=n))
    amplitude = np.sqrt(2 * k_factor * noise.var())
    return amplitude * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 6.3)) + noise + 50.0


@pytest.mark.parametrize(("k_factor", "low", "high"), [
    (0.0, 0.47, 0.57),  # Gaussian: Rayleigh envelope, CV 0.523
    (1.0, 0.42, 0.51),  # Rice K = 1: 0.466
    (4.0, 0.27, 0.37),  # Rice K = 4: 0.319
    (1e4, 0.0, 0.05),   # a steady oscillation
])
def test_envelope_cv_follows_the_rice_distribution(k_factor, low, high):
    rng = np.random.default_rng(3)
    for f0 in (24.0, 176.0):
        cv = stats.envelope_cv(_band_signal(k_factor, f0, rng), 0.5, f0, 0.3)
        assert low < cv < high, (f0, cv)


def test_envelope_cv_is_nan_without_a_band():
    x = np.random.default_rng(0).normal(size=1000)
    assert np.isnan(stats.envelope_cv(x, 0.5, float("nan"), 0.3))
    assert np.isnan(stats.envelope_cv(x[:150], 0.5, 100.0, 0.3))  # all edge


def test_spike_coherence_separates_regular_from_coherent():
    rng = np.random.default_rng(4)
    n, period = 400, 10.0  # 100 Hz clocks with random phases: independent, regular
    phase = rng.uniform(0, period, n)
    k = np.arange(100)
    times = (phase[:, None] + period * k + rng.normal(0, 0.3, (n, k.size))).ravel()
    ids = np.repeat(np.arange(n), k.size)
    f, kappa = stats.spike_coherence(times, ids, 0.0, 1000.0, 0.5, 250.0)
    at_100 = np.argmin(np.abs(f - 100))
    assert abs(kappa[at_100]) < 0.02
    # The population spectrum of the same trains still peaks at 100 Hz.
    pop = stats.population_rate(times, ids, n, 0.0, 1000.0, 0.5)
    peak, _ = stats.oscillation(*stats.power_spectrum(pop, 0.5, 250.0), 5.0)
    assert peak == pytest.approx(100, abs=4)
    # Identical trains are fully coherent; a shared 40 Hz modulation is partly so.
    same = np.tile(times[:100], 3)
    f, kappa = stats.spike_coherence(same, np.repeat([0, 1, 2], 100), 0.0, 1000.0, 0.5, 250.0)
    assert kappa[np.argmin(np.abs(f - 100))] == pytest.approx(1.0, abs=1e-9)
    t = np.arange(0, 1000, 0.1)
    p_spike = 0.004 * (1 + 0.8 * np.sin(2 * np.pi * 40 * t * 1e-3))
    fires = rng.random((n, t.size)) < p_spike
    ids, steps = np.nonzero(fires)
    f, kappa = stats.spike_coherence(t[steps], ids, 0.0, 1000.0, 0.5, 250.0)
    assert kappa[np.argmin(np.abs(f - 40))] > 0.1
    assert abs(np.nanmedian(kappa[f > 100])) < 0.01


@pytest.mark.parametrize("lam", [0.05, 2.0, 4.0, 30.0])
def test_drive_counts_are_poisson(lam):
    from scipy.stats import poisson

    from sweep.instance import PoissonSampler

    sampler = PoissonSampler(lam)
    cdf = sampler.cdf
    np.testing.assert_allclose(cdf, poisson.cdf(np.arange(cdf.size), lam), atol=1e-14)
    counts = sampler.draw(np.random.default_rng(5), 2_000_000)
    # The bucket table changes speed, not results: the same as searching the CDF.
    u = np.random.default_rng(5).random(2_000_000)
    np.testing.assert_array_equal(counts, np.searchsorted(cdf, u, side="right"))
    assert counts.mean() == pytest.approx(lam, rel=5e-3)
    assert counts.var() == pytest.approx(lam, rel=1e-2)
    k = np.arange(min(cdf.size, int(lam) + 6))
    expected = poisson.pmf(k, lam) * counts.size
    observed = np.bincount(counts, minlength=k.size)[: k.size]
    big = expected > 100
    assert np.all(np.abs(observed[big] - expected[big]) < 5 * np.sqrt(expected[big]))


RECORDED = Path(__file__).parent / "data" / "full_size_rhythms.npz"


@pytest.mark.parametrize(("key", "state"), [
    ("g=2.5,eta=2", "SR"),
    ("g=3.5,eta=2", "AR"),  # regular neurons whose summed spectrum peaks at 668 Hz
    ("g=5,eta=2", "AI"),  # a 132 Hz resonance of the stable state
    ("g=6,eta=2", "AI"),
    ("g=5,eta=3", "AI"),
    ("g=6,eta=2.5", "AI"),
    ("g=5.5,eta=3.5", "AI"),  # 0.04 below instability (margin -0.039)
    ("g=6,eta=4", "SI-fast"),
    ("g=7,eta=4", "SI-fast"),
    ("g=8,eta=3.5", "SI-fast"),
    ("g=4.5,eta=0.9", "SI-slow"),  # inside the band; 2 of the lines run's 3 seeds
])
def test_classifier_on_population_rates_recorded_at_full_size(key, state):
    """Population rates of the full-size phase-diagram and lines runs (docs/results.md, "Brunel's
    phase diagram at Brunel's size"; tests/data/make_recorded.py), classified from
    scratch: the theory's state at each point."""
    with np.load(RECORDED) as data:
        name = next(k for k in data.files if k.startswith(key + ",seed="))
        pop, (rate, cv, bin_ms) = data[name], data[name + ":stats"]
    th = AnalysisConfig()
    f_peak, _ = stats.oscillation(*stats.power_spectrum(pop, bin_ms, th.welch_segment), th.f_min)
    env = stats.envelope_cv(pop, bin_ms, f_peak, th.rhythm_band)
    assert classify(rate, cv, f_peak, env, th) == state, (f_peak, env)
