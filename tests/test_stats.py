"""Statistics on synthetic spike trains with known answers, and the classifier."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import stats
from analysis.states import classify
from sweep.config import AnalysisConfig


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
    ((0.0, np.nan, np.nan, np.nan, 0.0), "quiescent"),
    ((330.0, 0.05, 0.1, 650.0, 0.7), "SR"),  # two anti-phase clusters: chi low
    ((300.0, 0.1, 0.08, 600.0, 0.05), "AR"),
    ((38.0, 0.5, 0.2, 148.0, 0.18), "AI"),  # broad 100-200 Hz resonance, no peak
    ((57.0, 0.7, 0.4, 190.0, 0.6), "SI-fast"),
    ((6.0, 0.6, 0.47, 20.0, 0.28), "SI-slow"),
    ((6.0, 0.6, 0.47, 20.0, 0.1), "SI-slow"),  # chi alone suffices
    ((40.0, 0.6, np.nan, 150.0, 0.1), "AI"),  # no Vm sample recorded
])
def test_classifier_clear_cases(args, state):
    assert classify(*args, TH) == state


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
