"""A numpy reference simulator of the same network, to measure MOOSE's one deviation.

It steps the instance drawn by ``sweep.instance`` (same sources, initial potentials
and external counts as the MOOSE run) with MOOSE's update order: the step's input
is added, the threshold is checked (strictly), then the exact leak is applied; a
neuron that fired is held at V_r for tau_rp / dt steps. During those steps Brunel's
neuron ignores its input (``accumulate=False``), while MOOSE's LIF keeps it and
adds it at the first free step (``accumulate=True``).

``python -m sweep.reference [--sizes N ...] [--moose] [overrides]`` prints both
rates per size (and the MOOSE run's with ``--moose``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from sweep.config import Config, ConfigError, load_config, standard_size
from sweep.instance import draw_instance


@dataclass
class ReferenceRun:
    spike_times: np.ndarray  # ms
    spike_ids: np.ndarray
    vm: np.ndarray  # mV, (len(vm_ids), n_steps), column k at time (k + 1) dt
    vm_ids: np.ndarray
    run_s: float


def simulate_reference(cfg: Config, accumulate: bool) -> ReferenceRun:
    t0 = time.perf_counter()
    inst = draw_instance(cfg)
    d, net, dt = inst.derived, cfg.network, cfg.sim.dt
    N, m, n_ref = d.N, d.delay_steps, d.refractory_steps
    x = np.exp(-dt / net.tau)

    # Out-going edges of each neuron (CSR), with their weights in mV.
    src = inst.sources.ravel()
    tgt = np.repeat(np.arange(N), inst.sources.shape[1])
    w = np.where(np.tile(np.arange(inst.sources.shape[1]) < d.C_E, N), net.J, -net.g * net.J)
    order = np.argsort(src, kind="stable")
    out_tgt, out_w = tgt[order], w[order]
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=N))])

    ring = np.zeros((m + 1, N))  # recurrent input due at step k sits in ring[k % (m+1)]
    V = inst.v_init.copy()
    pending = np.zeros(N)
    last = np.full(N, -(10**9))
    vm = np.empty((inst.vm_ids.size, d.n_steps))
    times, ids = [], []
    counts = inst.drive()
    chunk = round(cfg.sim.chunk / dt)
    for first in range(0, d.n_steps, chunk):
        n = min(chunk, d.n_steps - first)
        ext = np.vstack([counts(i, n).astype(np.uint16) for i in range(N)])
        for j in range(n):
            k = first + j + 1
            slot = k % (m + 1)
            inp = ext[:, j] * net.J + ring[slot]
            ring[slot] = 0.0
            refractory = k <= last + n_ref
            free = ~refractory
            if accumulate:
                pending[refractory] += inp[refractory]
                inp[free] += pending[free]
                pending[free] = 0.0
            V[free] += inp[free]
            fired = free & (V > net.theta)
            V[refractory | fired] = net.V_r
            V[free & ~fired] *= x
            vm[:, k - 1] = V[inst.vm_ids]
            spk = np.flatnonzero(fired)
            if spk.size:
                last[spk] = k
                times.append(np.full(spk.size, k * dt))
                ids.append(spk)
                lens = row_ptr[spk + 1] - row_ptr[spk]
                first_edge = row_ptr[spk] - np.cumsum(lens) + lens
                edge = np.repeat(first_edge, lens) + np.arange(lens.sum())
                ring[(k + m) % (m + 1)] += np.bincount(out_tgt[edge], weights=out_w[edge],
                                                       minlength=N)
    t = np.concatenate(times) if times else np.empty(0)
    i = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
    order = np.lexsort((t, i))
    return ReferenceRun(t[order], i[order], vm, inst.vm_ids, time.perf_counter() - t0)


def _rate(run: ReferenceRun, cfg: Config) -> float:
    from analysis.stats import mean_rate

    N = cfg.network.N_E + cfg.network.N_I
    return mean_rate(run.spike_times, run.spike_ids, N, cfg.sim.transient, cfg.sim.duration)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="MOOSE's refractory deviation, measured")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500])
    ap.add_argument("--moose", action="store_true", help="also run MOOSE on each instance")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args(argv)
    runs = []
    try:
        for n in args.sizes:
            overrides = [*standard_size(n), *args.overrides]
            runs.append((n, overrides, load_config(overrides)))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{'N':>6} {'ignore_Hz':>10} {'accumulate_Hz':>13} {'moose_Hz':>9} {'excess':>7}")
    for n, overrides, cfg in runs:
        brunel = _rate(simulate_reference(cfg, accumulate=False), cfg)
        moose_like = _rate(simulate_reference(cfg, accumulate=True), cfg)
        moose_rate = "-"
        if args.moose:
            out = subprocess.run([sys.executable, "-m", "sweep.point", *overrides],
                                 capture_output=True, text=True, check=True)
            moose_rate = f"{json.loads(out.stdout.strip().splitlines()[-1])['rate_hz']:.2f}"
        print(f"{n:>6} {brunel:>10.2f} {moose_like:>13.2f} {moose_rate:>9} "
              f"{moose_like / brunel - 1:>+7.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
