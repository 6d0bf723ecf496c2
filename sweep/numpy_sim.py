"""Brunel's network in numpy: the reference simulator of the same instance that MOOSE runs.

It steps the instance drawn by ``sweep.instance`` (same sources, initial potentials
and external counts as the MOOSE run) in the paper's arithmetic: the step's input is
added, the threshold is checked (strictly; exact ties resolved as in
``sweep.model.THRESHOLD_TIE``), then the exact leak is applied; a neuron that fired
is held at V_r for tau_rp / dt steps. During those steps Brunel's neuron ignores its
input (``accumulate=False``: what MOOSE runs, spike for spike); MOOSE's native LIF
rule, which keeps that input and adds it at the first free step, is available as
``accumulate=True`` to measure what that rule would change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sweep.config import Config
from sweep.instance import draw_instance
from sweep.model import THRESHOLD_TIE, jumps


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
    N, m = d.N, d.delay_steps
    # Each neuron's own constants (the two populations' values; one value in model A).
    e, i = net.population("E"), net.population("I")
    n_ref = d.per_neuron(d.refractory_steps, d.refractory_steps_I)
    x = d.per_neuron(np.exp(-dt / e.tau), np.exp(-dt / i.tau))
    theta = d.per_neuron(e.theta, i.theta) * (1 + THRESHOLD_TIE)
    V_r = d.per_neuron(e.V_r, i.V_r)
    J_ext = d.per_neuron(e.J, i.J)

    # Out-going edges of each neuron (CSR), with their weights in mV.
    row_ptr, out_tgt = inst.out_edges()
    pop = d.per_neuron(0, 1)  # each neuron's population: E = 0, I = 1
    out_w = jumps(net)[np.repeat(pop, np.diff(row_ptr)), pop[out_tgt]]

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
            inp = ext[:, j] * J_ext + ring[slot]
            ring[slot] = 0.0
            refractory = k <= last + n_ref
            free = ~refractory
            if accumulate:
                pending[refractory] += inp[refractory]
                inp[free] += pending[free]
                pending[free] = 0.0
            V[free] += inp[free]
            fired = free & (V > theta)
            V[refractory | fired] = V_r[refractory | fired]
            leak = free & ~fired
            V[leak] *= x[leak]
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
