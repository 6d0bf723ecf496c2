"""Brunel's mean-field theory against the reference values of Brunel (2000) (docs/theory.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import theory
from analysis.theory import Params, mu_sigma, nu0, rate_response, siegert
from sweep.config import AnalysisConfig, load_config
from sweep.grid import fig2_plane

STANDARD = Params.from_config(load_config(["network=brunel_a"]).network)
TH = AnalysisConfig()


def predict(p: Params, g: float, eta: float):
    """The theory's state with the classifier's own thresholds."""
    return theory.predict(p, g, eta, TH.f_fast, TH.quiescent_rate)


@pytest.mark.fast
@pytest.mark.parametrize(("g", "eta", "rate"), [(3, 2, 327.0), (5, 2, 37.95), (6, 4, 55.84),
                                                (8, 1, 2.68)])
def test_stationary_rate_reference_values(g, eta, rate):
    assert nu0(STANDARD, g, eta) == pytest.approx(rate, rel=0.02)

@pytest.mark.fast
def test_nu_thr_and_inhibition_dominated_limit():
    assert STANDARD.nu_thr == pytest.approx(10.0)
    # For g > 4 and strong drive (far from saturation) nu0 -> (nu_ext - nu_thr) / (g gamma - 1).
    g, eta = 8.0, 8.0
    limit = (eta - 1) * STANDARD.nu_thr / (g * STANDARD.gamma - 1)
    assert nu0(STANDARD, g, eta) == pytest.approx(limit, rel=0.05)


@pytest.mark.parametrize(("g", "eta"), [(5, 2), (4.5, 0.9), (6, 4)])
def test_rate_response_tends_to_the_derivatives_of_the_stationary_rate(g, eta):
    p = STANDARD
    nu = nu0(p, g, eta)
    mu, sigma = mu_sigma(p, g, eta * p.nu_thr, nu)
    r0 = nu * p.tau * 1e-3
    chi_mu, chi_d = rate_response(p, mu, sigma, r0, 1e-4)

    def r(mu_, dn_):  # stationary rate in units of 1/tau
        return siegert(p, mu_, math.sqrt(2 * dn_)) * p.tau * 1e-3

    dn, h_mu, h_dn = sigma**2 / 2, 1e-4 * sigma, 1e-4 * sigma**2 / 2
    d_mu = (r(mu + h_mu, dn) - r(mu - h_mu, dn)) / (2 * h_mu)
    d_dn = (r(mu, dn + h_dn) - r(mu, dn - h_dn)) / (2 * h_dn)
    assert chi_mu.real == pytest.approx(d_mu, rel=1e-3)
    assert chi_d.real == pytest.approx(d_dn, rel=1e-3)
    assert abs(chi_mu.imag) < 1e-3 * abs(chi_mu.real)

@pytest.mark.fast
def test_ai_to_si_fast_line_at_g6():
    below, above = predict(STANDARD, 6, 3.15), predict(STANDARD, 6, 3.35)
    assert below.state == "AI" and above.state == "SI-fast"
    assert 165 < above.f_unstable < 190  # onset near 176 Hz
    at_b = predict(STANDARD, 6, 4)
    assert at_b.state == "SI-fast" and at_b.f_unstable == pytest.approx(188, abs=4)


def test_asynchronous_to_sr_line_at_eta2():
    below, above = predict(STANDARD, 3.2, 2), predict(STANDARD, 3.35, 2)
    assert below.state == "SR" and above.state == "AR"
    assert below.f_unstable == pytest.approx(650, rel=0.05)

@pytest.mark.fast
def test_si_slow_band_just_above_onset():
    slow = predict(STANDARD, 4.5, 0.88)
    assert slow.state == "SI-slow" and 20 <= slow.f_unstable <= 35
    assert predict(STANDARD, 4.5, 0.6).state == "quiescent"
    assert predict(STANDARD, 4.5, 1.2).state == "AI"

@pytest.mark.fast
def test_brunel_a_is_the_papers_standard_network():
    assert STANDARD == Params(C_E=1000, gamma=0.25, J=0.1, D=1.5, theta=20.0, V_r=10.0,
                              tau=20.0, tau_rp=2.0)


def test_fig2_command_draws_and_caches(tmp_path, lines):
    """The command draws the lines the ``lines`` fixture computed, from the session's cache
    (conftest), which the fixture filled through the same cached function."""
    import os

    from tests.helpers import run_cli

    args = ("-m", "analysis.fig2", "--out", str(tmp_path / "f.png"))
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "f.png").stat().st_size > 10_000
    counts = ", ".join(f"{n} {len(ln)}" for n, ln in lines.groupby("line", sort=False))
    assert f"points on each line: {counts};" in out.stdout
    assert f"cache {os.environ['BRUNEL_SWEEP_CACHE']})" in out.stdout


@pytest.fixture(scope="module")
def lines():
    from analysis.theory import cached, code_version
    from analysis.theory_lines import theory_lines

    return cached(theory_lines)(STANDARD, TH.quiescent_rate, fig2_plane(), jobs=2,
                                code=code_version())


def _at(lines, name, fixed, value):
    ln = lines[(lines.line == name) & np.isclose(lines[fixed], value)]
    assert len(ln), f"{name} has no point at {fixed}={value}"
    return ln


def test_lines_pass_the_reference_points(lines):
    # brunel-model.md: async -> SR at g = 3.27 for eta = 2 (near 650 Hz); AI -> SI-fast at
    # eta = 3.25 for g = 6 (near 176 Hz); the SI-slow band at eta 0.84-0.92 for g 4-5
    # with modes of 20-35 Hz, just above the onset of activity.
    sr = _at(lines, "SR", "eta", 2.0).iloc[0]
    assert sr.g == pytest.approx(3.27, rel=0.02) and sr.f_hz == pytest.approx(650, rel=0.02)
    fast = _at(lines, "SI-fast", "g", 6.0).iloc[0]
    assert fast.eta == pytest.approx(3.25, rel=0.02) and fast.f_hz == pytest.approx(176, rel=0.02)
    band = _at(lines, "SI-slow", "g", 4.5)
    assert len(band) == 2 and band.eta.between(0.84, 0.92).all()
    assert band.f_hz.max() == pytest.approx(32, abs=4)
    onset = _at(lines, "onset", "g", 4.5).iloc[0]
    assert band.eta.min() > onset.eta == pytest.approx(0.84, abs=0.01)
    assert nu0(STANDARD, 4.5, onset.eta) == pytest.approx(0.2, rel=0.01)


@pytest.mark.parametrize(("name", "fixed", "value", "inside", "outside"), [
    ("SI-fast", "g", 7.0, "SI-fast", "AI"),
    ("SI-fast", "g", 5.5, "SI-fast", "AI"),
    ("SR", "eta", 3.5, "SR", "AR"),
    ("SR", "eta", 1.0, "SR", "AR"),
])
def test_lines_separate_the_states_predict_finds(lines, name, fixed, value, inside, outside):
    """The root-found lines against the independent frequency scan of ``predict``, at
    places the reference values do not cover: 0.03 on either side of the line."""
    point = _at(lines, name, fixed, value).iloc[0]
    free = "eta" if fixed == "g" else "g"
    sign = 1 if free == "eta" else -1  # SI-fast lies above its line, SR left of its line
    for delta, state in ((0.03, inside), (-0.03, outside)):
        where = {fixed: value, free: point[free] + sign * delta}
        assert predict(STANDARD, where["g"], where["eta"]).state == state, where


def test_bistable_where_a_quiescent_state_coexists():
    assert predict(STANDARD, 2.5, 0.5).bistable  # roots 0, 10.7 and 364 Hz
    assert not predict(STANDARD, 2.5, 1.5).bistable
    assert not predict(STANDARD, 5, 2).bistable

@pytest.mark.fast
def test_agreement_counts_only_points_far_from_lines():
    import pandas as pd

    from analysis.agreement import agreement_text, compare

    # Theory: AI for g <= 5, SI-fast for g >= 6, on g 3..8 x eta 1..3; its line at g = 5.5.
    theory = pd.DataFrame([(g, e, "AI" if g <= 5 else "SI-fast", 10.0 * e, 0.6, False)
                           for g in range(3, 9) for e in (1, 2, 3)],
                          columns=["g", "eta", "state", "nu0", "cv", "bistable"])
    lines = pd.DataFrame({"line": "SI-fast", "g": 5.5, "eta": [0.5, 3.5], "f_hz": 180.0})
    sim = pd.DataFrame([(f"p{g}", g, 2, s, r, 0.5) for g, s, r in
                        [(4, "AI", 21.0), (5, "AI", 20.0), (6, "AI", 20.0), (7, "SI-fast", 20.0)]],
                       columns=["point_id", "network.g", "network.eta", "state", "rate_hz",
                                "cv_isi"])
    sim["status"], sim["replicate"] = "ok", 0
    cmp = compare(sim, theory, lines)
    # g = 5 and 6 lie within one step (1) of the line; g = 4 (AI) and 7 (SI-fast) do not.
    assert cmp.far.tolist() == [True, False, False, True]
    text = agreement_text(cmp, lines)
    assert "state agreement, far points: 100% (2/2)" in text
    assert "rate vs nu0 in the AI region (1 far points): mean +5.0%" in text
    assert "CV of ISIs in the AI region: median 0.50, the theory's (Poisson inputs) 0.60" in text
    assert ("SI-fast line:\n  g=7: SI-fast simulated at eta = 2; the theory's line does not "
            "cross it") in text
    assert "numpy reference on the same instances: not run" in text
    # The same points run by the reference: equal at g = 5-7, 5% lower at g = 4.
    reference = pd.DataFrame({"point_id": ["p4", "p5", "p6", "p7"],
                              "state": ["SR", "AI", "AI", "SI-fast"],
                              "rate_hz": [20.0, 20.0, 20.0, 20.0], "cv_isi": [0.5] * 4})
    out = agreement_text(cmp, lines, reference).splitlines()
    assert out[-1] == ("MOOSE vs the numpy reference of Brunel's neuron on the same instances "
                       "(4 points): same rate at 3, max |rate difference| 5.00%; "
                       "1 points change state")


def test_isi_cv_limits_and_a_direct_simulation():
    from analysis.theory import isi_cv

    p = STANDARD
    assert isi_cv(p, 5.0, 3.0) == pytest.approx(1.0, abs=0.01)  # rare spikes: Poisson
    assert isi_cv(p, 40.0, 0.3) < 0.05  # strong mean drive, little noise: a clock
    # One LIF under white noise, tau dV = (mu - V) dt + sigma sqrt(tau) dW: Euler-
    # Maruyama, 1000 neurons, 3 s at 0.02 ms, threshold, reset, refractory period. The
    # neurons are independent copies of one renewal process: their ISIs are pooled.
    mu, sigma, dt, steps = 18.0, 4.0, 0.02, 150_000  # mV, mV, ms
    rng = np.random.default_rng(1)
    v, free_at = rng.uniform(p.V_r, p.theta, 1000), np.zeros(1000)
    spikes = [[] for _ in range(1000)]
    noise = sigma * math.sqrt(dt / p.tau)
    for k in range(steps):
        t = k * dt
        free = t >= free_at
        v = np.where(free, v + (mu - v) * dt / p.tau + noise * rng.standard_normal(1000), p.V_r)
        fired = free & (v > p.theta)
        for i in np.flatnonzero(fired):
            spikes[i].append(t)
        v[fired], free_at[fired] = p.V_r, t + p.tau_rp
    isis = np.concatenate([np.diff(s) for s in spikes])
    cv_sim = isis.std() / isis.mean()
    rate_sim = sum(len(s) for s in spikes) / (1000 * steps * dt * 1e-3)
    assert rate_sim == pytest.approx(siegert(p, mu, sigma), rel=0.03)
    assert cv_sim == pytest.approx(isi_cv(p, mu, sigma), rel=0.03)


def test_lines_of_another_network_start_from_a_scan():
    """C_E = 200 (network=small): the standard network's starting guess does not
    converge; the coarse scan finds the AI -> SI-fast line, above Fig. 2's plane."""
    import dataclasses

    from analysis.theory_lines import line

    p = dataclasses.replace(STANDARD, C_E=200)
    fast = line(p, "SI-fast", TH.quiescent_rate, ((2.0, 8.0), (0.5, 6.0)))
    assert len(fast) >= 8 and all(5.0 < r["eta"] < 6.5 for r in fast)
    at7 = next(r for r in fast if r["g"] == 7.0)
    assert predict(p, 7.0, at7["eta"] + 0.05).state == "SI-fast"
    assert predict(p, 7.0, at7["eta"] - 0.05).state == "AI"

@pytest.mark.fast
def test_agreement_counts_a_point_with_replicates_once_by_its_pooled_state():
    import pandas as pd

    from analysis.agreement import compare, model_scores

    theory = pd.DataFrame([(g, e, "AI" if g <= 5 else "SI-fast", 10.0 * e, 0.6, False)
                           for g in range(2, 10) for e in (1, 2, 3)],
                          columns=["g", "eta", "state", "nu0", "cv", "bistable"])
    lines = pd.DataFrame({"line": "SI-fast", "g": 5.5, "eta": [0.5, 3.5], "f_hz": 180.0})
    # Replicates pool their measures: g = 3 averages to an envelope CV of 0.5 (AI) and
    # g = 8 to 0.3 (SI-fast).
    rows = [(3, "AI", 20.0, 0.6), (3, "SI-fast", 22.0, 0.3), (3, "AI", 24.0, 0.6),
            (4, "AI", 20.0, 0.6), (7, "AI", 20.0, 0.6), (8, "SI-fast", 20.0, 0.2),
            (8, "AI", 20.0, 0.5), (8, "SI-fast", 20.0, 0.2)]
    sim = pd.DataFrame([(f"p{i}", g, 2, s, r, 0.5, env, 160.0)
                        for i, (g, s, r, env) in enumerate(rows)],
                       columns=["point_id", "network.g", "network.eta", "state", "rate_hz",
                                "cv_isi", "env_cv", "osc_freq_hz"])
    sim["status"] = "ok"
    sim["replicate"] = sim.groupby("network.g").cumcount()
    text = "\n".join(model_scores(compare(sim, theory, lines), "X"))
    assert ("theory vs simulation (4 points, 4 farther than one grid step from a theoretical "
            "boundary; 2 with replicates, counted once by their pooled state)") in text
    assert "state agreement, far points: 75% (3/4)" in text  # g = 7 is AI, not SI-fast
    assert "rate vs nu0 in the AI region (2 far points): mean +5.0%" in text  # 22 and 20 Hz


def test_lines_on_another_plane_meet_fig2s_where_the_planes_cross():
    """The (g, D) plane at eta = 3.5 crosses Fig. 2's plane on the line D = 1.5: there its
    AI -> SI-fast line has Fig. 2's g at eta = 3.5 (solved directly), and the states on
    either side of it differ as the line says."""
    import dataclasses

    from analysis.theory_lines import FIG2_AXES, _Frame, _solve, line

    fast = line(STANDARD, "SI-fast", TH.quiescent_rate, ((2.0, 8.0), (1.0, 3.0)),
                axes=("g", "network.D"), held=(5.0, 3.5))
    assert len(fast) >= 20 and set(fast[0]) == {"line", "g", "D", "f_hz"}
    at_d = next(r for r in fast if abs(r["D"] - 1.5) < 1e-9)
    f, g_fig2 = _solve(_Frame(STANDARD, FIG2_AXES, (5.0, 2.0)), 1, 3.5, (176.0, 5.7))
    assert at_d["g"] == pytest.approx(g_fig2, abs=1e-5)
    assert at_d["f_hz"] == pytest.approx(f, rel=1e-5)
    other = next(r for r in fast if abs(r["D"] - 2.5) < 1e-9)
    p = dataclasses.replace(STANDARD, D=2.5)
    assert predict(p, other["g"] + 0.1, 3.5).state == "SI-fast"
    assert predict(p, other["g"] - 0.1, 3.5).state == "AI"
    assert line(STANDARD, "balance", TH.quiescent_rate, ((2.0, 8.0), (1.0, 3.0)),
                axes=("g", "D"))[0]["g"] == pytest.approx(4.0)
    assert line(STANDARD, "balance", TH.quiescent_rate, ((1.0, 3.0), (0.1, 0.2)),
                axes=("D", "J")) == []


@pytest.mark.fast
@pytest.mark.parametrize(("plane", "says"), [(("g=2:8", "X=1:2"), "cannot be an axis"),
                                             (("g=2:8", "J_I"), "give KEY=LO:HI"),
                                             (("g=2:8", "g=1:3"), "not g twice"),
                                             (("g=8:2", "D=1:2"), "LO must be below HI")])
def test_fig2_command_refuses_a_bad_plane_in_one_line(plane, says):
    from tests.helpers import run_cli

    out = run_cli("-m", "analysis.fig2", "--plane", *plane)
    assert out.returncode == 2 and says in out.stderr and len(out.stderr.splitlines()) == 1
