"""Internal: the benchmark's NEST peer (brunel-bench engine --peer nest), the same
network in NEST, the peer a user of this project would otherwise pick.

``python -m sweep.nest_peer [overrides]`` builds Brunel's model A in NEST with this
project's configuration and prints the point's statistics (the same ``summarize`` as
a MOOSE point) and timings as one JSON object. One thread; ``iaf_psc_delta`` with
``refractory_input`` off (Brunel's neuron), E_L = 0, fixed in-degree C_E and C_I
without autapses and with multapses, one ``poisson_generator`` per neuron at
C_E nu_ext, the initial potentials of this project's instance. The connectivity and
Poisson streams are NEST's own draws: rates and states compare, spike trains do not.

NEST comes from the optional extra ``peers`` (``pip install -e '.[peers]'``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np

from sweep.cli import UsageError, add_overrides, command, parser
from sweep.config import Config, load_config, require_model_a
from sweep.instance import draw_instance

INSTALL_HINT = "NEST is not installed: pip install -e '.[peers]'"


def nest_available() -> bool:
    from importlib.util import find_spec

    return find_spec("nest") is not None


def run_nest(cfg: Config) -> dict:
    """Build, simulate and measure the point in NEST; statistics and timings."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    from analysis.summary import summarize_point

    inst = draw_instance(cfg)  # initial potentials and the Vm sample; wiring is NEST's
    d, net, sim = inst.derived, cfg.network, cfg.sim
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": sim.dt, "local_num_threads": 1,
                          "rng_seed": sim.seed + 1, "print_time": False})
    neuron = {"tau_m": net.tau, "t_ref": net.tau_rp, "E_L": 0.0, "V_reset": net.V_r,
              "V_th": net.theta, "refractory_input": False, "C_m": 1.0}
    exc = nest.Create("iaf_psc_delta", net.N_E, params=neuron)
    inh = nest.Create("iaf_psc_delta", net.N_I, params=neuron)
    allnodes = exc + inh
    allnodes.V_m = inst.v_init.tolist()
    noise = nest.Create("poisson_generator", d.N, params={"rate": d.ext_rate})
    spikes = nest.Create("spike_recorder")
    nest.Connect(noise, allnodes, "one_to_one", {"weight": net.J, "delay": sim.dt})
    multapses = {"allow_autapses": False, "allow_multapses": net.multapses}
    nest.Connect(exc, allnodes, {"rule": "fixed_indegree", "indegree": d.C_E, **multapses},
                 {"weight": net.J, "delay": net.D})
    nest.Connect(inh, allnodes, {"rule": "fixed_indegree", "indegree": d.C_I, **multapses},
                 {"weight": -net.g * net.J, "delay": net.D})
    nest.Connect(allnodes, spikes)
    vm = None
    if inst.vm_ids.size:
        vm = nest.Create("voltmeter", params={"interval": sim.dt})
        nest.Connect(vm, allnodes[inst.vm_ids.tolist()])
    nest.Prepare()  # NEST's own setup, part of its build as ours is
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    nest.Run(sim.duration)
    run_s = time.perf_counter() - t1
    nest.Cleanup()
    ev = spikes.events
    ids = np.asarray(ev["senders"], dtype=np.int64) - allnodes[0].global_id
    times = np.asarray(ev["times"], dtype=float)
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    samples = np.empty((0, d.n_steps))
    if vm is not None:
        v = vm.events
        sender = np.asarray(v["senders"]) - allnodes[0].global_id
        step = np.rint(np.asarray(v["times"]) / sim.dt).astype(np.int64)
        # NEST hands over the last min-delay of samples only in a later run: the
        # sample ends there (chi is computed over what was recorded).
        samples = np.empty((inst.vm_ids.size, step.max()))
        samples[np.searchsorted(inst.vm_ids, sender), step - 1] = v["V_m"]
    result = summarize_point(times, ids, samples, cfg)
    result.update(
        engine="nest", nest_version=nest.__version__, seed=sim.seed, g=net.g, eta=net.eta,
        N=d.N, duration_ms=sim.duration, n_spikes=int(times.size), build_s=build_s,
        drive_s=0.0, run_s=run_s,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return result


@command
def main(argv: list[str]) -> int:
    ap = parser("python -m sweep.nest_peer", __doc__, "sweep.nest_peer")
    add_overrides(ap)
    cfg = load_config(ap.parse_args(argv).overrides)
    require_model_a(cfg.network, "the NEST peer")
    if not nest_available():
        raise UsageError(INSTALL_HINT)
    print(json.dumps(run_nest(cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
