"""Wiring read back from MOOSE, determinism, and the point command, on real runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import in_fresh_process, run_cli


def _wiring(overrides: list[str]) -> dict:
    from sweep.config import load_config
    from sweep.network import build, wiring

    cfg = load_config(overrides)
    net = build(cfg)
    return {"w": wiring(net), "cfg": cfg, "sources": net.instance.sources}


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_in_degree_weights_delays_no_self_loops(multapses):
    r = in_fresh_process(_wiring, ["network.N_E=400", "network.N_I=100", "network.g=4.5",
                                   f"network.multapses={str(multapses).lower()}"])
    w, net = r["w"], r["cfg"].network
    N, C_E, C_I = 500, 40, 10
    src, tgt = w["source"], w["target"]
    assert src.size == N * (C_E + C_I)
    assert not (src == tgt).any()
    # MOOSE holds exactly the drawn connections, repeated pairs included.
    drawn = np.sort(r["sources"].ravel() * N + np.repeat(np.arange(N), C_E + C_I))
    np.testing.assert_array_equal(np.sort(src * N + tgt), drawn)
    exc = src < net.N_E
    assert (np.bincount(tgt[exc], minlength=N) == C_E).all()
    assert (np.bincount(tgt[~exc], minlength=N) == C_I).all()
    # Weights and delays as MOOSE's relays hold them, converted back to the jump they
    # make and the delay they produce (the arrival itself: test_moose_neuron).
    np.testing.assert_allclose(w["weight"][exc], net.J, rtol=1e-12)
    np.testing.assert_allclose(w["weight"][~exc], -net.g * net.J, rtol=1e-12)
    np.testing.assert_allclose(w["delay"], net.D, rtol=1e-12)
    pairs = np.unique(src * N + tgt).size
    if multapses:
        assert pairs < src.size  # repeated pairs occur, as the paper allows
    else:
        assert pairs == src.size
    # Sources are spread over the whole population, not clustered.
    assert np.unique(src[exc]).size > 0.95 * net.N_E


@pytest.mark.parametrize("g_I", [4.5, 3.0])  # 3.0: a second relay per I neuron
def test_two_populations_jumps_per_source_and_target(g_I):
    r = in_fresh_process(_wiring, ["network.N_E=400", "network.N_I=100", "network.g=4.5",
                                   "network.J_I=0.13", f"network.g_I={g_I}",
                                   "network.tau_I=8"])
    w = r["w"]
    src, tgt = w["source"], w["target"]
    assert src.size == 500 * 50  # every connection once, however the relays are split
    exc, onto_e = src < 400, tgt < 400
    expected = {(True, True): 0.1, (False, True): -0.45, (True, False): 0.13,
                (False, False): -g_I * 0.13}
    for (from_e, to_e), jump in expected.items():
        mine = (exc == from_e) & (onto_e == to_e)
        assert mine.sum() > 0
        np.testing.assert_allclose(w["weight"][mine], jump, rtol=1e-12)


def _spikes(overrides: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from sweep.config import load_config
    from sweep.network import build, simulate

    rec = simulate(build(load_config(overrides)))
    return rec.spike_times, rec.spike_ids


def test_same_seed_same_spikes_other_seed_differs(tiny):
    a = in_fresh_process(_spikes, [*tiny, "sim.seed=3"])
    b = in_fresh_process(_spikes, [*tiny, "sim.seed=3"])
    c = in_fresh_process(_spikes, [*tiny, "sim.seed=4"])
    assert a[0].size > 1000
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].size != c[0].size or not np.array_equal(a[0], c[0])


def test_chunked_drive_runs_the_same_network(tiny):
    # Refilling the drive between moose.start calls keeps time and spikes consistent.
    one = in_fresh_process(_spikes, [*tiny, "sim.chunk=400"])
    four = in_fresh_process(_spikes, [*tiny, "sim.chunk=100"])
    assert four[0].max() > 390  # spikes all the way to the end
    # Different chunking draws the Poisson stream in another order: same statistics.
    assert four[0].size == pytest.approx(one[0].size, rel=0.05)


def test_point_command_prints_statistics(tiny):
    out = run_cli("-m", "sweep.point", *tiny, "network.g=5", "network.eta=2")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("rate_hz", "cv_isi", "chi", "osc_freq_hz", "state", "seed", "build_s", "run_s",
                "spike_sync", "osc_power", "silent_frac", "cv_neurons", "neuron_rule"):
        assert key in r
    assert 50 < r["rate_hz"] < 300
    assert r["state"] in ("SR", "AR", "AI", "SI-fast", "SI-slow", "quiescent")


def test_switched_off_parts_do_no_work(tiny):
    """``brunel-point --switch-off`` (the split benchmark's variants): without the
    fan-out no event is delivered and, free of recurrent inhibition, the network fires
    faster; without the relays the same network fires alike; without the drive too,
    nothing fires."""
    def point(*off: str) -> dict:
        args = ["--switch-off", *off] if off else []
        out = run_cli("-m", "sweep.point", *tiny, "network.g=5", "network.eta=2", *args)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    whole, no_fan, no_relays, nothing = point(), point("fan"), point("relays"), point(
        "drive", "relays")
    assert whole["syn_events"] > 0 and no_fan["syn_events"] == 0
    assert no_fan["rate_hz"] > whole["rate_hz"] and no_relays["rate_hz"] == no_fan["rate_hz"]
    assert nothing["n_spikes"] == 0
    refused = run_cli("-m", "sweep.point", *tiny, "--switch-off", "neurons")
    assert refused.returncode == 2 and "invalid choice: 'neurons'" in refused.stderr
