"""The Brian2 peer on small networks (marker ``brian2``, not in the default run:
``python -m pytest -m brian2``). It runs in the Brian2 environment
(``brunel-bench brian2-env``, or ``BRUNEL_BRIAN2_PYTHON``) and compiles each network
in C++; without that environment the tests skip with a one-line reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sweep.brian2_peer import missing
from sweep.config import load_config
from sweep.numpy_sim import simulate_reference
from tests.helpers import run_cli

pytestmark = pytest.mark.brian2

SMALL = ["network=small", "sim.duration=600", "sim.transient=200",
         "analysis.welch_segment=200"]


@pytest.fixture(scope="module")
def brian2():
    problem = missing()
    if problem:
        pytest.skip(problem)


def _point(*args: str) -> dict:
    out = run_cli("-m", *args)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_the_projects_drive_brian2_is_the_reference_spike_for_spike(brian2, tiny,
                                                                        tmp_path):
    """The encoding of Brunel's neuron in Brian2 (threshold, reset, initial potentials,
    delay, refractory input ignored): given this project's external counts, Brian2's
    spike trains are the numpy reference's, and its Vm sample too."""
    spikes = tmp_path / "brian2.npz"
    r = _point("sweep.brian2_peer", "--same-drive", f"--spikes={spikes}", *tiny)
    ref = simulate_reference(load_config(tiny), accumulate=False)
    saved = np.load(spikes)
    assert r["engine"] == "brian2" and r["same_drive"]
    assert saved["times"].size == ref.spike_times.size > 1000
    assert np.array_equal(saved["ids"], ref.spike_ids)
    assert np.array_equal(saved["times"], ref.spike_times)
    assert np.array_equal(saved["vm_ids"], ref.vm_ids)
    assert np.abs(saved["vm"] - ref.vm).max() < 1e-4  # float32 as saved


def test_brian2_rate_is_moose_rate_on_the_same_instance(brian2):
    """With Brian2's own Poisson drive (PoissonInput), the small network's rate is
    MOOSE's within a few percent; the peer's result has NEST's keys and compile_s."""
    moose = _point("sweep.point", *SMALL)
    b2 = _point("sweep.brian2_peer", *SMALL)
    assert b2["engine"] == "brian2" and not b2["same_drive"]
    assert b2["n_spikes"] > 10_000
    assert b2["rate_hz"] == pytest.approx(moose["rate_hz"], rel=0.03)
    for key in ("build_s", "drive_s", "compile_s", "run_s", "peak_rss_mb", "duration_ms",
                "N", "seed", "g", "eta"):
        assert b2[key] >= 0, key
