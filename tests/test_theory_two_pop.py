"""The two-population mean field (``analysis.theory``, ``analysis.theory_two_pop``):
model A as its exact special case, and networks whose I neurons differ
(docs/theory.md#two-populations)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analysis import theory
from analysis.theory import (
    Params,
    gain_matrix,
    loop_gain,
    nu0_pair,
    siegert,
    stationary_pairs,
    stationary_rates,
)
from analysis.theory_lines import line
from analysis.theory_two_pop import characteristic_gain, self_consistent_pairs
from sweep.config import AnalysisConfig, load_config

STANDARD = Params.from_config(load_config(["network=brunel_a"]).network)
TH = AnalysisConfig()
TO_W = 2 * math.pi * STANDARD.tau * 1e-3  # Hz -> w in units of 1/tau


def two_pop(**inhibitory: float) -> Params:
    """The standard network with the I population's own values."""
    return dataclasses.replace(STANDARD, **inhibitory)


def predict(p: Params, g: float, eta: float):
    return theory.predict(p, g, eta, TH.f_fast, TH.quiescent_rate)


def force_two_pop_path(monkeypatch) -> None:
    """Identical populations through the two-population code, not model A's 1D path."""
    monkeypatch.setattr(theory, "_model_a", lambda p, g, eta: False)


def phi(p: Params, pop: str, g: float, eta: float, nu_e: float, nu_i: float) -> float:
    """Population ``pop``'s Siegert rate (Hz), its input written out from the formulas
    (not ``theory_two_pop.mean_field``)."""
    e, i = p.populations(g, eta)
    a = e if pop == "E" else i
    tau, c_e, c_i = a.tau * 1e-3, p.C_E, p.gamma * p.C_E
    drive = c_e * (a.eta * p.nu_thr + nu_e)
    mu = tau * a.J * (drive - a.g * c_i * nu_i)
    sigma = math.sqrt(tau * a.J**2 * (drive + a.g**2 * c_i * nu_i))
    return siegert(p.neuron(a), mu, sigma)


# The two-population stationary theory at full size (C_E = 1000, C_I = 250,
# J = 0.1 mV, D = 1.5 ms): (I values, g, eta, nu_E, nu_I), quoted to 0.1 Hz.
REFERENCE = [({}, 5, 2, 37.95, 37.95), ({"J_I": 0.105}, 5, 2, 24.1, 28.1),
             ({"theta_I": 19.5}, 5, 2, 28.9, 31.6), ({"theta_I": 18.0}, 5, 3, 26.9, 38.4),
             ({"tau_I": 15.0}, 6, 3, 71.9, 58.3)]


@pytest.mark.fast
def test_params_carry_the_inhibitory_population():
    net = load_config(["network=brunel_a", "network.J_I=0.105", "network.eta_I=1.5"]).network
    p = Params.from_config(net)
    assert (p.J_I, p.eta_I, p.g_I, p.theta_I) == (0.105, 1.5, None, None)
    e, i = p.populations(6, 3)
    assert (e.J, e.g, e.eta) == (0.1, 6, 3)
    assert (i.J, i.g, i.eta, i.theta) == (0.105, 6, 1.5, 20.0)  # g_I follows g; eta_I fixed
    assert i == dataclasses.replace(net.population("I"), g=6.0)  # the config's resolution
    assert theory._model_a(STANDARD, 6, 3) and not theory._model_a(p, 6, 3)
    assert theory._model_a(two_pop(g_I=6.0), 6, 3) and not theory._model_a(two_pop(g_I=6.0), 5, 3)


@pytest.mark.fast
@pytest.mark.parametrize(("g", "eta"), [(5, 2), (6, 4), (8, 1), (2.5, 0.5)])
def test_identical_populations_two_population_rates_are_model_a(monkeypatch, g, eta):
    one = stationary_rates(STANDARD, g, eta)  # (2.5, 0.5): 0, 10.7 and 364 Hz
    force_two_pop_path(monkeypatch)
    pairs = stationary_pairs(STANDARD, g, eta)
    assert len(pairs) == len(one)
    for nu, (nu_e, nu_i) in zip(one, pairs, strict=True):
        assert nu_e == pytest.approx(nu, rel=1e-10, abs=1e-12)
        assert nu_i == pytest.approx(nu, rel=1e-10, abs=1e-12)
    assert nu0_pair(STANDARD, g, eta)[0] == pytest.approx(one[-1], rel=1e-10)


@pytest.mark.fast
@pytest.mark.parametrize(("inhibitory", "g", "eta", "nu_e", "nu_i"), REFERENCE)
def test_stationary_rates_meet_the_reference_values(inhibitory, g, eta, nu_e, nu_i):
    p = two_pop(**inhibitory)
    pairs = stationary_pairs(p, g, eta)
    assert len(pairs) == 1
    # 0.1 Hz: quoted to one decimal (J_I = 0.105 gives 24.048 Hz, quoted 24.1).
    assert pairs[0] == pytest.approx((nu_e, nu_i), abs=0.1)
    assert nu0_pair(p, g, eta) == pairs[0]


@pytest.mark.parametrize(("inhibitory", "g", "eta"), [({"J_I": 0.105}, 5, 2),
                                                      ({"tau_I": 15.0, "V_r_I": 12.0}, 6, 3),
                                                      ({"theta_I": 22.0}, 6, 0.7)])
def test_every_reported_pair_is_self_consistent(inhibitory, g, eta):
    p = two_pop(**inhibitory)
    pairs = stationary_pairs(p, g, eta)
    for nu_e, nu_i in pairs:
        assert phi(p, "E", g, eta, nu_e, nu_i) == pytest.approx(nu_e, rel=1e-9, abs=1e-9)
        assert phi(p, "I", g, eta, nu_e, nu_i) == pytest.approx(nu_i, rel=1e-9, abs=1e-9)
    assert [e for e, _ in pairs] == sorted(e for e, _ in pairs) == stationary_rates(p, g, eta)


@pytest.mark.fast
@pytest.mark.parametrize(("key", "values"), [("theta_I", [21.0, 20.0, 19.5, 19.0, 18.0]),
                                             ("J_I", [0.095, 0.1, 0.102, 0.105, 0.11])])
def test_a_more_excitable_inhibitory_population_lowers_the_e_rate(key, values):
    """Lowering theta_I or raising J_I: the E rate falls, the I rate rises relative to
    it; in this inhibition-dominated state the I rate falls too (the paradoxical
    response of a network stabilised by inhibition, as in the reference values)."""
    rates = [nu0_pair(two_pop(**{key: v}), 5, 2) for v in values]
    nu_e, nu_i = np.array(rates).T
    assert np.all(np.diff(nu_e) < 0)
    assert np.all(np.diff(nu_i / nu_e) > 0)
    assert np.all(np.diff(nu_i) < 0)


@pytest.mark.fast
def test_gain_matrix_of_identical_populations_has_model_a_gain_as_eigenvalue():
    nu = theory.nu0(STANDARD, 6, 4)
    w = 188 * TO_W
    m = gain_matrix(STANDARD, 6, 4, w, (nu, nu))
    g1 = loop_gain(STANDARD, 6, 4, w, nu)
    assert m[0] == pytest.approx(m[1], rel=1e-12)  # rank 1
    small, big = sorted(np.linalg.eigvals(m), key=abs)
    assert abs(small) < 1e-12 * abs(big)
    assert big == pytest.approx(g1, rel=1e-10)
    assert characteristic_gain(m) == pytest.approx(g1, rel=1e-10)


@pytest.mark.fast
def test_gain_matrix_at_zero_frequency_is_the_jacobian_of_the_rate_maps():
    """G_ab(w -> 0) = d phi_a / d nu_b: checks each population's own time scale (tau_I =
    15 ms: w_I = w tau_I / tau, the response per 1/tau_I)."""
    p, g, eta = two_pop(tau_I=15.0, J_I=0.11), 6, 3
    rates = nu0_pair(p, g, eta)
    m = gain_matrix(p, g, eta, 1e-4, rates)
    for a, pop in enumerate("EI"):
        for b in range(2):
            h = np.array([0.0, 0.0])
            h[b] = 1e-4 * rates[b]
            up, down = np.array(rates) + h, np.array(rates) - h
            d = (phi(p, pop, g, eta, *up) - phi(p, pop, g, eta, *down)) / (2 * h[b])
            assert m[a, b].real == pytest.approx(d, rel=1e-3)
            assert abs(m[a, b].imag) < 1e-3 * abs(m[a, b].real)


@pytest.mark.fast
def test_solver_finds_every_pair_of_known_rate_maps():
    """Rate maps with known solutions: the I nullcline nu_I = nu_E / 2 + 2 and an E
    equation with roots at nu_E = 1, 5 and 20 Hz on it."""
    def phi_e(e: float, i: float) -> float:
        return e - (e - 1) * (e - 5) * (e - 20) / 1000 + (i - e / 2 - 2)

    def phi_i(e: float, i: float) -> float:
        return e / 2 + 2

    pairs = self_consistent_pairs(phi_e, phi_i, 100.0, 100.0)
    np.testing.assert_allclose(pairs, [(1, 2.5), (5, 4.5), (20, 12)], rtol=1e-10)
    highest = self_consistent_pairs(phi_e, phi_i, 100.0, 100.0, highest_only=True)
    np.testing.assert_allclose(highest, [(20, 12)], rtol=1e-10)
    with pytest.warns(RuntimeWarning, match="I equation has 3 roots"):  # a folded nullcline
        self_consistent_pairs(phi_e, lambda e, i: i - (i - 1) * (i - 3) * (i - 8) / 10,
                              100.0, 100.0)


def test_state_map_reports_the_i_rate():
    p = two_pop(theta_I=18.0)
    df = theory.state_map(p, [(5, 0.3), (6, 0.4)], TH.f_fast, TH.quiescent_rate, jobs=1)
    assert list(df.columns) == ["g", "eta", "state", "nu0", "nu0_I", "f_unstable", "margin",
                                "cv", "bistable"]
    assert (df.state == "quiescent").all() and (df.nu0_I < TH.quiescent_rate).all()


def test_identical_populations_two_population_modes_are_model_a(monkeypatch):
    one = predict(STANDARD, 6, 4)  # SI-fast, 188 Hz
    force_two_pop_path(monkeypatch)
    two = predict(STANDARD, 6, 4)
    assert (two.state, two.bistable) == (one.state, one.bistable)
    assert two.f_unstable == pytest.approx(one.f_unstable, abs=1e-2)
    assert two.margin == pytest.approx(one.margin, abs=1e-8)
    assert (two.nu0, two.nu0_I, two.cv) == pytest.approx((one.nu0, one.nu0, one.cv), rel=1e-9)


def test_identical_populations_two_population_line_is_model_a(monkeypatch):
    plane = ((5.75, 6.25), (0.5, 4.0))
    one = line(STANDARD, "SI-fast", TH.quiescent_rate, plane)  # eta = 3.255 at g = 6
    force_two_pop_path(monkeypatch)
    two = line(STANDARD, "SI-fast", TH.quiescent_rate, plane)
    assert len(one) == len(two) == 3
    for a, b in zip(one, two, strict=True):
        assert a["g"] == b["g"]
        assert b["eta"] == pytest.approx(a["eta"], abs=1e-7)
        assert b["f_hz"] == pytest.approx(a["f_hz"], abs=1e-5)


def test_two_population_line_separates_the_states_predict_finds():
    """theta_I = 18 mV: the AI -> SI-fast line at g = 6 lies at eta = 1.83 (174 Hz),
    far below the standard network's 3.25."""
    p = two_pop(theta_I=18.0)
    at6 = next(r for r in line(p, "SI-fast", TH.quiescent_rate, ((5.75, 6.25), (0.5, 4.0)))
               if r["g"] == 6.0)
    assert at6["eta"] == pytest.approx(1.827, abs=0.01)
    assert at6["f_hz"] == pytest.approx(174, abs=2)
    assert predict(p, 6, at6["eta"] + 0.03).state == "SI-fast"
    assert predict(p, 6, at6["eta"] - 0.03).state == "AI"


@pytest.mark.parametrize(("inhibitory", "g", "eta", "state", "f"), [
    ({"J_I": 0.105}, 5, 2, "AI", None),
    ({"theta_I": 18.0}, 5, 3, "SI-fast", 194),
    ({"tau_I": 15.0}, 6, 3, "SI-fast", 139),
])
def test_stability_of_the_reference_cases(inhibitory, g, eta, state, f):
    pred = predict(two_pop(**inhibitory), g, eta)
    assert pred.state == state and not pred.bistable
    if f is None:
        assert pred.margin < 0 and pred.f_unstable is None
    else:
        assert pred.margin > 0 and pred.f_unstable == pytest.approx(f, abs=2)


def test_bistable_where_a_quiescent_pair_coexists():
    """theta_I = 22 mV: the less excitable I neurons let the E neurons ignite where
    model A is quiescent; the quiescent pair remains."""
    p = two_pop(theta_I=22.0)
    pairs = stationary_pairs(p, 6, 0.7)  # (1e-9, 0), (1.85, 0.003), (19.1, 11.5) Hz
    assert len(pairs) == 3 and max(pairs[0]) < 1e-6
    at = predict(p, 6, 0.7)
    assert at.bistable and (at.nu0, at.nu0_I) == pytest.approx(pairs[-1])
    assert predict(STANDARD, 6, 0.7).state == "quiescent"
    assert not predict(p, 6, 2).bistable


def test_lines_on_the_g_j_i_plane_divide_the_theorys_states():
    """On the (g, J_I) plane at eta = 2 the AI -> SI-fast line lies where weaker
    excitation of the I neurons lets the rates run away: above it AI, below it
    SI-fast, as ``predict`` says at every sampled g."""
    fast = line(STANDARD, "SI-fast", TH.quiescent_rate, ((4.5, 6.0), (0.08, 0.12)),
                axes=("g", "J_I"), held=(5.0, 2.0))
    assert len(fast) >= 20 and all(0.085 < r["J_I"] < 0.1 for r in fast)
    for r in fast[::8]:
        above = dataclasses.replace(STANDARD, J_I=r["J_I"] + 0.003)
        below = dataclasses.replace(STANDARD, J_I=r["J_I"] - 0.003)
        assert theory.predict(above, r["g"], 2.0, TH.f_fast, TH.quiescent_rate).state == "AI"
        assert theory.predict(below, r["g"], 2.0, TH.f_fast,
                              TH.quiescent_rate).state == "SI-fast"
