"""Single-neuron semantics of the built network, measured on real MOOSE runs: Brunel's
neuron (a jump of exactly J per event, threshold crossed on the step's input, input
ignored while refractory).

A 20-neuron network (C_E = C_I = 1) starts near 0 mV with no external drive;
chosen neurons get pulses of external events at chosen steps. Vm column k of the
recording is the membrane after step k + 1, i.e. at time (k + 1) dt.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import in_fresh_process

SETUP = ["network.N_E=10", "network.N_I=10", "network.epsilon=0.1", "sim.duration=10",
         "sim.transient=0", "sim.V_init_low=0", "sim.V_init_high=0.001", "sim.vm_sample=20",
         "analysis.welch_segment=5", "analysis.pop_bin=0.1", "analysis.sync_bin=0.1"]


def _pulses(overrides: list[str], pulses: dict[tuple[int, int], int]) -> dict:
    """Run with external events only at {(neuron, step): count}; steps count from 1."""
    from sweep.config import load_config
    from sweep.network import build, simulate, wiring

    cfg = load_config(SETUP + overrides)
    net = build(cfg)

    def counts(neuron: int, n: int) -> np.ndarray:
        row = np.zeros(n)
        for (who, step), c in pulses.items():
            if who == neuron:
                row[step - 1] = c
        return row

    rec = simulate(net, counts)
    return {"times": rec.spike_times, "ids": rec.spike_ids, "vm": rec.vm,
            "vm_ids": rec.vm_ids, "wiring": wiring(net), "dt": cfg.sim.dt,
            "tau": cfg.network.tau, "J": cfg.network.J, "g": cfg.network.g}


def test_one_spike_moves_each_target_by_exactly_j_after_exactly_d():
    r = in_fresh_process(_pulses, ["network.D=1.5"], {(0, 10): 250})
    dt, x = r["dt"], np.exp(-r["dt"] / r["tau"])
    assert r["ids"].tolist() == [0]  # 250 events x 0.1 mV = 25 mV > theta
    t_spike = r["times"][0]
    assert t_spike == pytest.approx(10 * dt)  # spikes carry the time of their step
    w = r["wiring"]
    targets = w["target"][w["source"] == 0]
    assert targets.size > 0
    vm = r["vm"][np.searchsorted(r["vm_ids"], np.arange(20))]
    # Jump of each step, with the leak of the step removed: V_k / x - V_{k-1}.
    jumps = vm[:, 1:] / x - vm[:, :-1]
    arrival = round((t_spike + 1.5) / dt) - 1  # column of time t_spike + D
    for t in range(20):
        expected = np.zeros(jumps.shape[1])
        if t in targets:
            expected[arrival - 1] = r["J"] * np.count_nonzero(targets == t)
        if t == 0:
            continue  # the sender itself fired and reset
        np.testing.assert_allclose(jumps[t], expected, atol=1e-9)


@pytest.mark.parametrize("D", [0.2, 1.5, 2.0])
def test_delay_is_a_whole_number_of_steps(D):
    r = in_fresh_process(_pulses, [f"network.D={D}"], {(0, 5): 250})
    x = np.exp(-r["dt"] / r["tau"])
    w = r["wiring"]
    target = int(w["target"][w["source"] == 0][0])
    vm = r["vm"][int(np.searchsorted(r["vm_ids"], target))]
    moved = np.flatnonzero(np.abs(vm[1:] / x - vm[:-1]) > 1e-9)
    assert moved.size == 1
    t_arrival = (moved[0] + 2) * r["dt"]  # column k + 1 is the time (k + 2) dt
    assert t_arrival - r["times"][0] == pytest.approx(D)


def test_input_during_the_refractory_period_is_ignored():
    # Fire at step 10; 3 mV at step 12 and at step 30 (refractory: tau_rp = 20 steps,
    # 11..30), 1 mV at step 31, the first free step.
    r = in_fresh_process(_pulses, ["network.tau_rp=2.0"],
                         {(0, 10): 250, (0, 12): 30, (0, 30): 30, (0, 31): 10})
    x = np.exp(-r["dt"] / r["tau"])
    vm0 = r["vm"][int(np.searchsorted(r["vm_ids"], 0))]
    own = r["times"][r["ids"] == 0]
    assert own.tolist() == pytest.approx([10 * r["dt"]])
    # Step 10 resets to V_r (column 9); steps 11..30 are clamped at V_r.
    np.testing.assert_allclose(vm0[9:30], 10.0, atol=1e-12)
    # Brunel's neuron: the inputs of steps 12 and 30 are gone; step 31's counts.
    assert vm0[30] == pytest.approx((10.0 + 1.0) * x, abs=1e-9)


def test_refractory_period_is_exact_and_the_first_free_step_can_fire():
    # Enough input to fire at once at step 30 (still refractory) and at step 31.
    r = in_fresh_process(_pulses, ["network.tau_rp=2.0"],
                         {(0, 10): 250, (0, 30): 250, (0, 31): 250})
    own = r["times"][r["ids"] == 0]
    assert own.size == 2
    assert own[1] - own[0] == pytest.approx(2.0 + r["dt"])


@pytest.mark.parametrize(("events", "fires"), [(100, False), (101, True)])
def test_a_potential_exactly_at_threshold_does_not_fire(events, fires):
    # Fire at step 10; at step 31, the first free step, V = V_r + events x J: exactly
    # theta = 20 mV with 100 events (strict test: no spike), above it with 101.
    r = in_fresh_process(_pulses, [], {(0, 10): 250, (0, 31): events})
    assert (r["ids"] == 0).sum() == 1 + fires


def test_no_neuron_fires_before_its_first_input():
    # All start just below theta = 20 mV; only neuron 0 gets input (0.1 mV at step 1).
    r = in_fresh_process(_pulses, ["sim.V_init_low=19.95", "sim.V_init_high=20"],
                         {(0, 1): 1})
    assert r["ids"].tolist() == [0]
    assert r["times"][0] == pytest.approx(r["dt"])


def _free_membrane(overrides: list[str]) -> dict:
    from sweep.config import load_config
    from sweep.model import derive
    from sweep.network import build, simulate

    cfg = load_config(overrides)
    rec = simulate(build(cfg))
    first = round(cfg.sim.transient / cfg.sim.dt)
    return {"vm": rec.vm[:, first:], "n_spikes": rec.spike_times.size,
            "lam": derive(cfg).ext_rate * cfg.sim.dt * 1e-3, "cfg": cfg}


def test_free_membrane_has_the_poisson_mean_and_variance():
    # Threshold out of reach: no recurrent spikes, only the external drive acts.
    # theta = 1000 mV and eta = 0.015 give a mean input of 15 mV.
    r = in_fresh_process(_free_membrane, [
        "network.N_E=400", "network.N_I=100", "network.theta=1000", "network.eta=0.015",
        "sim.duration=1000", "sim.transient=200", "sim.vm_sample=500"])
    assert r["n_spikes"] == 0
    cfg = r["cfg"]
    J, x, lam = cfg.network.J, np.exp(-cfg.sim.dt / cfg.network.tau), r["lam"]
    # V_k = x (V_{k-1} + J n_k), n_k ~ Poisson(lam): the exact stationary moments.
    mean = x * J * lam / (1 - x)
    var = x**2 * J**2 * lam / (1 - x**2)
    # The diffusion limit (mu = J C_E nu_ext tau, sigma^2 / 2) is within 0.3% of them.
    assert mean == pytest.approx(15.0, rel=3e-3)
    assert r["vm"].mean() == pytest.approx(mean, rel=3e-3)
    # Pooled over independent neurons: a per-neuron variance over the 800 ms window
    # would be biased low by about 2 tau / window = 5%.
    assert r["vm"].var() == pytest.approx(var, rel=0.03)


def _played(overrides: list[str]) -> dict:
    """Each step's external current as neuron 0's drive table played it, and the
    events it was given (Poisson, mean 2, as at Brunel's eta = 2)."""
    import moose

    from sweep.config import load_config
    from sweep.network import build, simulate

    cfg = load_config(SETUP + overrides)
    net = build(cfg)
    rng = np.random.default_rng(7)
    given = {}

    def counts(neuron: int, n: int) -> np.ndarray:
        given.setdefault(neuron, []).append(rng.poisson(2.0, n))
        return given[neuron][-1]

    played = moose.Table("/played")
    moose.connect(played, "requestOut", net.drive[0], "getOutputValue")
    simulate(net, counts)
    return {"played": np.asarray(played.vector), "events": np.concatenate(given[0]),
            "per_event": net.params.current(cfg.network.J)}


def test_the_drive_plays_every_step_s_events_exactly():
    # 1 s in chunks of 4,000 steps: a table over 4,000 entries would play 24 of them as
    # an interpolation between two entries, some an ulp off.
    r = in_fresh_process(_played, ["sim.duration=1000", "sim.chunk=400",
                                   "network.theta=1000"])
    events, played = r["events"], r["played"]
    # The recorder samples after the table on each step; reinit and the extra detection
    # step add one sample each. The first step also carries the start from Vm(0).
    assert played.size == events.size + 2
    expected = np.array([k * r["per_event"] for k in range(events.max() + 1)])[events]
    assert np.array_equal(played[2:-1], expected[1:])
