"""Build Brunel's model A in MOOSE, simulate it, and return what was recorded.

Recipe (measurements in ../shared/docs/moose-notes.md and tests/test_moose_*):
- neurons: one ``LIF`` array (E first, then I), Em = 0, Rm Cm = tau;
- recurrent synapses: one ``SimpleSynHandler`` per neuron, fed by a single Sparse
  message filled in bulk with ``tripletFill`` (fixed in-degree C_E + C_I);
- external drive: one ``StimulusTable`` per neuron replaying precomputed Poisson
  counts of rate C_E nu_ext per step, each event a jump of J;
- every tick runs at ``sim.dt``.

Importing this module imports MOOSE; MOOSE keeps global state, so build once per
process.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass

# moose/__init__ imports its SBML and NeuroML readers, which pull in scipy, sympy and
# matplotlib: 1.7 of the 1.8 s that ``import moose`` takes, paid by every point's
# process, for features this project does not use. An empty module in their place
# leaves the core API intact (import then takes 0.08 s). Only if MOOSE is not
# imported yet: a process that already has the full package keeps it.
sys.modules.setdefault("moose.model_utils", types.ModuleType("moose.model_utils"))
import moose  # noqa: E402
import numpy as np  # noqa: E402

from sweep.config import Config  # noqa: E402
from sweep.instance import Instance, draw_instance  # noqa: E402
from sweep.model import MS, MV, MooseParams, to_moose  # noqa: E402

ROOT = "/brunel"
# Ticks used by the classes below: StimulusTable 0, SimpleSynHandler 1, LIF 2, Table 8.
TICKS = (0, 1, 2, 8)
SPARSE_MSG_LIMIT = 200_000  # MOOSE silently makes an empty Sparse message beyond this


class BuildError(RuntimeError):
    """MOOSE did not build the network that was asked for."""


@dataclass
class Network:
    cfg: Config
    params: MooseParams
    lif: moose.vec
    synh: moose.vec
    sparse: moose.ObjId  # the recurrent Sparse message
    drive: moose.vec
    spike_tables: moose.vec
    vm_tables: moose.vec | None
    instance: Instance
    out_degree: np.ndarray  # recurrent targets of each neuron
    build_s: float


@dataclass
class Recording:
    """Spikes of all neurons (times in ms) and Vm of a sample (mV); Vm column k is the
    membrane at the end of step k + 1, time (k + 1) dt."""

    spike_times: np.ndarray  # ms, sorted by neuron then time
    spike_ids: np.ndarray  # neuron index, 0..N-1 (E first)
    vm: np.ndarray  # mV, shape (len(vm_ids), n_steps)
    vm_ids: np.ndarray
    syn_events: int  # recurrent synaptic events delivered
    run_s: float  # wall time in moose.start
    build_s: float  # wall time building the network
    drive_s: float  # wall time drawing and loading the external drive


def _set_clocks(dt: float) -> None:
    for tick in range(10):
        moose.setClock(tick, dt)


def build(cfg: Config) -> Network:
    """Create the neurons, wire them, attach drive and recorders. Units: SI inside."""
    t0 = time.perf_counter()
    inst = draw_instance(cfg)
    d = inst.derived
    p = to_moose(cfg, d)
    if d.N > SPARSE_MSG_LIMIT:
        raise BuildError(f"N={d.N} exceeds MOOSE's Sparse message limit {SPARSE_MSG_LIMIT}")
    if moose.exists(ROOT):
        raise BuildError(f"{ROOT} exists: build each network in a fresh process")
    moose.seed(cfg.sim.seed)
    _set_clocks(p.dt)
    moose.Neutral(ROOT)

    lif = moose.LIF(f"{ROOT}/lif", d.N).vec
    lif.Em = 0.0
    lif.Cm = 1.0
    lif.Rm = p.tau
    lif.thresh = p.theta
    lif.vReset = p.V_r
    lif.refractoryPeriod = p.refractory
    lif.initVm = inst.v_init * MV

    synh = moose.SimpleSynHandler(f"{ROOT}/synh", d.N).vec
    moose.connect(synh, "activationOut", lif, "activation", "OneToOne")
    src = inst.sources
    k = d.C_E + d.C_I
    sparse = moose.connect(lif, "spikeOut", moose.element(f"{ROOT}/synh/synapse"),
                           "addSpike", "Sparse")
    sparse.tripletFill(src.ravel().astype(np.uint32),
                       np.repeat(np.arange(d.N, dtype=np.uint32), k),
                       np.tile(np.arange(k, dtype=np.uint32), d.N))
    # tripletFill resizes each target's synapse array; fix the size after all fills.
    synh.numSynapses = k
    weights = np.empty((d.N, k))
    weights[:, :d.C_E] = p.J_E
    weights[:, d.C_E:] = p.J_I
    synh.synapse.weight = weights
    synh.synapse.delay = p.delay

    drive = moose.StimulusTable(f"{ROOT}/drive", d.N).vec
    drive.startTime = 0.0
    drive.stepSize = 1.0  # integer positions: each step reads one entry, exactly
    drive.doLoop = False
    moose.connect(drive, "output", lif, "activation", "OneToOne")

    spike_tables = moose.Table(f"{ROOT}/spikes", d.N).vec
    moose.connect(lif, "spikeOut", spike_tables, "input", "OneToOne")
    spike_tables.tick = -1  # records through its input message; no per-step work

    vm_tables = None
    if inst.vm_ids.size:
        vm_tables = moose.Table(f"{ROOT}/vm", inst.vm_ids.size).vec
        for table, nid in zip(vm_tables, inst.vm_ids, strict=True):
            moose.connect(table, "requestOut", lif[int(nid)], "getVm")

    # MOOSE reports some wiring failures only on stdout: check what it built.
    made = moose.element(sparse)
    if made.numEntries != src.size or made.numRows != d.N:
        raise BuildError(f"Sparse message has {made.numEntries} entries, expected {src.size}")
    out_degree = np.bincount(src.ravel(), minlength=d.N)
    return Network(cfg, p, lif, synh, sparse, drive, spike_tables, vm_tables, inst,
                   out_degree, time.perf_counter() - t0)


def _fill_drive(network: Network, counts: Callable[[int, int], np.ndarray], n: int) -> None:
    """Load the next ``n`` steps of external event counts into the tables.

    Entry i is played at the i-th step after (re)start; entry 0 is only sent
    during reinit, which the LIF discards, so it is a placeholder.
    """
    p = network.params
    jump_rate = p.J_E / p.dt  # an activation of count * J / dt moves Vm by count * J
    row = np.zeros(n + 1)
    for i, table in enumerate(network.drive):
        np.multiply(counts(i, n), jump_rate, out=row[1:])
        table.vector = row.tolist()  # pymoose converts a list 2x faster than an array
    network.drive.stopTime = float(n)
    network.drive.stepPosition = 0.0


def simulate(network: Network,
             counts: Callable[[int, int], np.ndarray] | None = None) -> Recording:
    """Run the whole duration, in as few ``moose.start`` calls as ``sim.chunk`` allows.

    ``counts(neuron, n)`` gives the external events of the next n steps of a neuron
    (default: the instance's Poisson drive); tests pass their own.
    """
    d, dt = network.instance.derived, network.params.dt
    counts = counts or network.instance.drive()
    chunk = round(network.cfg.sim.chunk / network.cfg.sim.dt)
    t0 = time.perf_counter()
    done = 0
    fill_s = 0.0
    while done < d.n_steps:
        n = min(chunk, d.n_steps - done)
        tf = time.perf_counter()
        _fill_drive(network, counts, n)
        fill_s += time.perf_counter() - tf
        if done == 0:
            moose.reinit()
        moose.start(n * dt)
        done += n
    run_s = time.perf_counter() - t0 - fill_s
    times, ids = _collect_spikes(network.spike_tables)
    vm = (np.vstack([np.asarray(t.vector) for t in network.vm_tables]) / MV
          if network.vm_tables is not None else np.empty((0, d.n_steps + 1)))
    # Spikes in the last D before the end are still in flight, not delivered.
    sent = times < (d.n_steps - d.delay_steps) * network.cfg.sim.dt + 1e-9
    events = int(network.out_degree[ids[sent]].sum())
    # Tables also record at reinit: drop that sample so that column k is time (k+1) dt.
    if vm.shape[1] != d.n_steps + 1:
        raise BuildError(f"Vm tables hold {vm.shape[1]} samples, expected {d.n_steps + 1}")
    return Recording(times, ids, vm[:, 1:], network.instance.vm_ids, events, run_s,
                     network.build_s, fill_s)


def _collect_spikes(tables: moose.vec) -> tuple[np.ndarray, np.ndarray]:
    per_neuron = [np.asarray(t.vector) for t in tables]
    counts = np.fromiter((len(v) for v in per_neuron), dtype=np.int64, count=len(per_neuron))
    times = np.concatenate(per_neuron) / MS if counts.sum() else np.empty(0)
    return times, np.repeat(np.arange(len(per_neuron)), counts)


def wiring(network: Network) -> dict[str, np.ndarray]:
    """Read the recurrent connectivity back from MOOSE (not from what was passed in):
    per synapse its source, target, synapse index, weight (mV) and delay (ms)."""
    msg = moose.element(network.sparse)
    row_start = np.asarray(msg.rowStart, dtype=np.int64)
    source = np.repeat(np.arange(len(row_start) - 1), np.diff(row_start))
    target = np.asarray(msg.columnIndex, dtype=np.int64)
    index = np.asarray(msg.matrixEntry, dtype=np.int64)
    weight = np.asarray(network.synh.synapse.weight) / MV
    delay = np.asarray(network.synh.synapse.delay) / MS
    return {"source": source, "target": target, "index": index,
            "weight": weight[target, index], "delay": delay[target, index],
            "num_synapses": np.asarray(network.synh.numSynapses)}
