"""The numpy reference reproduces MOOSE exactly; Brunel's refractoriness differs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import in_fresh_process


def _both(overrides: list[str]) -> dict:
    from sweep.config import load_config
    from sweep.network import build, simulate
    from sweep.reference import simulate_reference

    cfg = load_config(overrides)
    rec = simulate(build(cfg))
    moose_like = simulate_reference(cfg, accumulate=True)
    brunel = simulate_reference(cfg, accumulate=False)
    return {"moose": (rec.spike_times, rec.spike_ids, rec.vm),
            "moose_like": (moose_like.spike_times, moose_like.spike_ids, moose_like.vm),
            "brunel": (brunel.spike_times, brunel.spike_ids)}


@pytest.mark.parametrize("point", [("5", "2"), ("3", "2")])
def test_reference_with_moose_semantics_matches_moose_spike_for_spike(tiny, point):
    g, eta = point
    r = in_fresh_process(_both, [*tiny, f"network.g={g}", f"network.eta={eta}",
                                 "sim.vm_sample=50"])
    (t, i, vm), (rt, ri, rvm) = r["moose"], r["moose_like"]
    assert t.size > 5000
    np.testing.assert_allclose(rt, t, atol=1e-9)
    np.testing.assert_array_equal(ri, i)
    np.testing.assert_allclose(rvm, vm, atol=1e-9)
    # Dropping the input that arrives during refractoriness (Brunel) lowers the rate.
    assert r["brunel"][0].size < 0.95 * t.size
