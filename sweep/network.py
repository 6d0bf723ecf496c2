"""Build Brunel's model A in MOOSE, simulate it, and return what was recorded.

Recipe (docs/model.md; measured in tests/test_moose_*.py):
- neurons: one ``LIF`` array (E first, then I), Em = 0, Rm Cm = tau, every input on
  ``injectMsg`` so that input arriving while refractory is ignored, as in Brunel's
  neuron (encodings: ``sweep.model.MooseParams``);
- recurrent synapses: no per-synapse objects. Each neuron's spikes go to its own relay,
  a ``SimpleSynHandler`` with one synapse holding the delay and that neuron's weight;
  each block of relays fans out to all its targets through one Sparse message that
  lists every target once per connection (multapses delivered twice). Two populations
  share a relay per source by their encodings (``sweep.model.to_moose``) unless g_I
  differs from g: then each I neuron has a second relay for its I targets;
- external drive: one ``StimulusTable`` per neuron replaying precomputed Poisson
  counts of rate C_E nu_ext per step, each event a jump of J (J_I onto I neurons);
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
try:  # missing, or its compiled core does not load: the machine's fault, not the point's
    import moose
except ImportError as err:
    raise ImportError(f"MOOSE cannot be imported ({err}); this project needs "
                      "pymoose==5.0.0: pip install pymoose==5.0.0", name="moose") from err
import numpy as np  # noqa: E402

from sweep.config import Config  # noqa: E402
from sweep.instance import Instance, draw_instance  # noqa: E402
from sweep.model import MOOSE_PARTS, MV, MooseParams, jumps, to_moose  # noqa: E402

ROOT = "/brunel"
SPARSE_MSG_LIMIT = 200_000  # MOOSE silently makes an empty Sparse message beyond this
# Every moose.start ends with a search whose cost grows with the square of each
# SimpleSynHandler array's size (``Shell::doStart`` lists every entry's children): relays
# come in arrays of this many (docs/performance.md#where-mooses-time-goes).
RELAY_BLOCK = 125


class BuildError(RuntimeError):
    """MOOSE did not build the network that was asked for."""


@dataclass
class Relays:
    """One block of relays: neurons ``first .. first + len(handlers) - 1``."""

    first: int
    handlers: moose.vec
    feed: moose.ObjId  # Sparse: each neuron's spikeOut -> its relay's synapse
    fan: moose.ObjId  # Sparse: each relay's activationOut -> its targets' injectMsg


@dataclass
class Network:
    cfg: Config
    params: MooseParams  # of the E neurons (model A: of every neuron)
    params_I: MooseParams
    lif: moose.vec
    relays: list[Relays]
    drive: moose.vec
    spike_tables: moose.vec
    vm_tables: moose.vec | None
    instance: Instance
    out_degree: np.ndarray  # recurrent targets of each neuron
    build_s: float  # wall time of build, of which
    instance_s: float  # drawing the instance (numpy); the rest is filling MOOSE


@dataclass
class Recording:
    """Spikes of all neurons (times in ms) and Vm of a sample (mV), as Brunel's neuron
    reports them: a spike at the time of the step whose input made it cross theta, and
    Vm column k is the membrane at the end of step k + 1, time (k + 1) dt, V_r at a
    spike's step."""

    spike_times: np.ndarray  # ms, sorted by neuron then time
    spike_ids: np.ndarray  # neuron index, 0..N-1 (E first)
    vm: np.ndarray  # mV, shape (len(vm_ids), n_steps)
    vm_ids: np.ndarray
    syn_events: int  # recurrent synaptic events delivered
    run_s: float  # wall time in moose.start
    build_s: float  # wall time building the network
    drive_s: float  # wall time drawing and loading the external drive
    starts: int  # moose.start calls (each ends with a search costing 0.2 s at full size)


def _set_clocks(dt: float) -> None:
    for tick in range(10):
        moose.setClock(tick, dt)


def _relay_sets(cfg: Config, p: MooseParams, p_i: MooseParams
                ) -> list[tuple[range, int | None, np.ndarray]]:
    """(source neurons, target population or None for both, each source's jump onto
    its targets as the current of a handler's weight / dt). A current that means the
    right jump onto an E target means J_I / J of it onto an I target (``to_moose``),
    which is right for every source when g_I = g."""
    net = cfg.network
    n_e, N = net.N_E, net.N
    w = jumps(net)
    per_source = np.where(np.arange(N) < n_e, w[0, 0], w[1, 0])
    if net.population("I").g == net.population("E").g:
        return [(range(N), None, p.current(per_source))]
    return [(range(n_e), None, p.current(per_source[:n_e])),
            (range(n_e, N), 0, p.current(per_source[n_e:])),
            (range(n_e, N), 1, p_i.current(np.full(N - n_e, w[1, 1])))]


def _edges_to(row_start: np.ndarray, targets: np.ndarray, lo: int, hi: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """The CSR ``(row_start, targets)`` keeping only targets in [lo, hi)."""
    keep = (targets >= lo) & (targets < hi)
    owner = np.repeat(np.arange(row_start.size - 1), np.diff(row_start))
    counts = np.bincount(owner[keep], minlength=row_start.size - 1)
    return np.concatenate([[0], np.cumsum(counts)]), targets[keep]


def _relays(cfg: Config, lif: moose.vec, row_start: np.ndarray, targets: np.ndarray,
            p: MooseParams, p_i: MooseParams) -> list[Relays]:
    """Relay blocks: each neuron's handler and the fan-out of its recurrent synapses
    (``Instance.out_edges``)."""
    n_e, N = cfg.network.N_E, cfg.network.N
    # pymoose takes index lists as Python ints; picking them from one array of N int
    # objects makes none per connection (15.6 M at full size).
    ints = np.arange(N).astype(object)
    blocks = []
    for sources, to, currents in _relay_sets(cfg, p, p_i):
        rows, tgts = row_start, targets
        if to is not None:
            rows, tgts = _edges_to(row_start, targets, *((0, n_e) if to == 0 else (n_e, N)))
        weight = currents * p.dt  # a handler sends weight / dt
        for first in range(sources.start, sources.stop, RELAY_BLOCK):
            b = len(blocks)
            ids = np.arange(first, min(first + RELAY_BLOCK, sources.stop), dtype=np.uint32)
            handlers = moose.SimpleSynHandler(f"{ROOT}/relay{b}", ids.size).vec
            feed = moose.connect(lif, "spikeOut", moose.element(f"{ROOT}/relay{b}/synapse"),
                                 "addSpike", "Sparse")
            # pymoose converts lists to its vectors 3x faster than numpy arrays.
            feed.tripletFill(ints[ids].tolist(), ints[ids - first].tolist(), [0] * ids.size)
            handlers.numSynapses = 1  # after the fill, which resizes the synapse arrays
            handlers.synapse.weight = weight[ids - sources.start].reshape(-1, 1)
            handlers.synapse.delay = p.delay
            lo, hi = rows[first], rows[first + ids.size]
            fan_rows = np.repeat(ids - first, np.diff(rows[first: first + ids.size + 1]))
            fan = moose.connect(moose.element(f"{ROOT}/relay{b}"), "activationOut",
                                moose.element(f"{ROOT}/lif"), "injectMsg", "Sparse")
            fan.tripletFill(ints[fan_rows].tolist(), ints[tgts[lo:hi]].tolist(),
                            [0] * int(hi - lo))
            made = moose.element(fan)
            if made.numEntries != hi - lo:  # MOOSE reports some failures only on stdout
                raise BuildError(f"relay block {b} has {made.numEntries} connections, "
                                 f"expected {hi - lo}")
            blocks.append(Relays(first, handlers, feed, fan))
    return blocks


def build(cfg: Config) -> Network:
    """Create the neurons, wire them, attach drive and recorders. Units: SI inside."""
    t0 = time.perf_counter()
    inst = draw_instance(cfg)
    instance_s = time.perf_counter() - t0
    d = inst.derived
    p, p_i = to_moose(cfg, d, "E"), to_moose(cfg, d, "I")
    if d.N > SPARSE_MSG_LIMIT:
        raise BuildError(f"N={d.N} exceeds MOOSE's Sparse message limit {SPARSE_MSG_LIMIT}")
    if moose.exists(ROOT):
        raise BuildError(f"{ROOT} exists: build each network in a fresh process")
    # Nothing here draws from MOOSE's generator, but while its seed is >= 0 (the default
    # is 0) every new Sparse message draws rows x columns random numbers (SparseMsg's
    # constructor calls randomConnect with probability 0): 40 ms per relay block at
    # N = 12,500. A negative seed skips that.
    moose.seed(-1)
    _set_clocks(p.dt)
    moose.Neutral(ROOT)

    lif = moose.LIF(f"{ROOT}/lif", d.N).vec
    # A compartment also runs an init phase on the tick before its own, which only sends
    # axial currents; these neurons have no axial neighbours, so it is a pass over every
    # neuron per step for nothing. Keep the process phase alone (on the element's path,
    # not "lif[]", which would add one clock message per neuron).
    moose.element(f"{ROOT}/lif").tick = -1
    moose.useClock(2, f"{ROOT}/lif", "process")
    lif.Em = 0.0
    for field, name in (("Cm", "Cm"), ("Rm", "Rm"), ("thresh", "thresh"),
                        ("vReset", "V_r"), ("refractoryPeriod", "refractory")):
        setattr(lif, field, d.per_neuron(getattr(p, name), getattr(p_i, name)))
    # Vm(0) x, so that the first threshold test (on Vm(0), before any input) passes no
    # neuron; the first step's drive adds the rest (``_fill_drive``).
    lif.initVm = inst.v_init * MV * d.per_neuron(p.decay, p_i.decay)
    row_start, targets = inst.out_edges()
    relays = _relays(cfg, lif, row_start, targets, p, p_i)

    drive = moose.StimulusTable(f"{ROOT}/drive", d.N).vec
    drive.startTime = 0.0
    drive.stepSize = 1.0  # integer positions: each step reads one entry, exactly
    drive.doLoop = False
    moose.connect(drive, "output", lif, "injectMsg", "OneToOne")

    spike_tables = moose.Table(f"{ROOT}/spikes", d.N).vec
    moose.connect(lif, "spikeOut", spike_tables, "input", "OneToOne")
    spike_tables.tick = -1  # records through its input message; no per-step work

    vm_tables = None
    if inst.vm_ids.size:
        vm_tables = moose.Table(f"{ROOT}/vm", inst.vm_ids.size).vec
        for table, nid in zip(vm_tables, inst.vm_ids, strict=True):
            moose.connect(table, "requestOut", lif[int(nid)], "getVm")

    return Network(cfg, p, p_i, lif, relays, drive, spike_tables, vm_tables, inst,
                   np.diff(row_start), time.perf_counter() - t0, instance_s)


def switch_off(network: Network, parts: tuple[str, ...]) -> None:
    """Take ``parts`` out of the simulation, to measure what each costs per step (the
    network is then not Brunel's): "drive" stops the external drive's tables, "relays"
    the relays (and so every recurrent event), "fan" the relays' fan-out messages (the
    relays still run, no event is delivered)."""
    unknown = set(parts) - set(MOOSE_PARTS)
    if unknown:
        raise ValueError(f"cannot switch off {', '.join(sorted(unknown))}: parts are "
                         f"{', '.join(MOOSE_PARTS)}")
    if "drive" in parts:
        moose.element(f"{ROOT}/drive").tick = -1
    for b, block in enumerate(network.relays):
        if "fan" in parts or "relays" in parts:
            moose.delete(block.fan)
        if "relays" in parts:
            moose.element(f"{ROOT}/relay{b}").tick = -1
    if "fan" in parts or "relays" in parts:
        network.out_degree = np.zeros_like(network.out_degree)  # nothing is delivered


def _fill_drive(network: Network, counts: Callable[[int, int], np.ndarray], n: int,
                first: bool) -> None:
    """Load the next ``n`` steps of external event counts into the tables.

    Entry i is played at the i-th step after (re)start; entry 0 is only sent during
    reinit, which the LIF discards, so it is a placeholder. The very first step also
    carries the current that takes Vm from Vm(0) x (``build``) to Vm(0) before the leak.
    """
    p, p_i, d = network.params, network.params_I, network.instance.derived
    net = network.cfg.network
    per_event = d.per_neuron(p.current(net.J), p_i.current(net.population("I").J))
    init = (network.instance.v_init * MV * d.per_neuron(p.decay, p_i.decay)
            / d.per_neuron(p.Rm, p_i.Rm) if first else None)
    # Each step's entry is one of a few values (k events): a table of them as Python
    # floats, indexed, gives the list pymoose wants 2.5x faster than converting a
    # float array (which makes a new float object per entry).
    currents = np.zeros(1, dtype=object)
    # A table reads position k as vec[j] + (vec[j + 1] - vec[j]) * (k - j), with
    # j = int(L * (k / L)) for a table of L + 1 entries over [0, L]. With L = n, L * (k /
    # L) rounds below k at some k (24 of 4,000) and the sum is then one ulp off vec[k];
    # with L a power of two, k / L is exact, j = k, and every entry is played exactly.
    # Only the extra detection step reads past entry n, and its input is not used.
    length = 1 << (n - 1).bit_length()
    index = np.zeros(length + 1, dtype=np.intp)
    for i, table in enumerate(network.drive):
        index[1:n + 1] = counts(i, n)
        top = int(index.max())
        if top >= currents.size or i == d.N_E:  # I neurons: their own jump
            step = float(per_event[i])
            currents = np.array([k * step for k in range(2 * top + 1)], dtype=object)
        row = currents[index].tolist()
        if init is not None:
            row[1] += init[i]
        table.vector = row
    network.drive.stopTime = float(length)
    network.drive.stepPosition = 0.0


def simulate(network: Network,
             counts: Callable[[int, int], np.ndarray] | None = None) -> Recording:
    """Run the whole duration, in as few ``moose.start`` calls as ``sim.chunk`` allows.

    ``counts(neuron, n)`` gives the external events of the next n steps of a neuron
    (default: the instance's Poisson drive); tests pass their own.
    """
    d, dt = network.instance.derived, network.cfg.sim.dt
    counts = counts or network.instance.drive()
    chunk = round(network.cfg.sim.chunk / dt)
    t0 = time.perf_counter()
    done = starts = 0
    fill_s = 0.0
    while done < d.n_steps:
        n = min(chunk, d.n_steps - done)
        tf = time.perf_counter()
        _fill_drive(network, counts, n, first=done == 0)
        fill_s += time.perf_counter() - tf
        if done == 0:
            moose.reinit()
        # MOOSE sees a spike one step late: one more step detects those of the last step.
        last = done + n == d.n_steps
        moose.start((n + last) * network.params.dt)
        starts += 1
        done += n
    run_s = time.perf_counter() - t0 - fill_s
    steps, ids = _collect_spikes(network.spike_tables, network.params.dt)
    times = steps * dt
    vm = _vm(network, d.n_steps, steps, ids)
    # Spikes in the last D before the end are still in flight, not delivered.
    sent = steps <= d.n_steps - d.delay_steps
    events = int(network.out_degree[ids[sent]].sum())
    return Recording(times, ids, vm, network.instance.vm_ids, events, run_s,
                     network.build_s, fill_s, starts)


def _collect_spikes(tables: moose.vec, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(step of Brunel's neuron, neuron) of every spike: MOOSE's step minus one."""
    per_neuron = [np.asarray(t.vector) for t in tables]
    counts = np.fromiter((len(v) for v in per_neuron), dtype=np.int64, count=len(per_neuron))
    seen = np.concatenate(per_neuron) if counts.sum() else np.empty(0)
    return np.rint(seen / dt).astype(np.int64) - 1, np.repeat(np.arange(len(per_neuron)), counts)


def _vm(network: Network, n_steps: int, steps: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Vm of the sample (mV), column k at time (k + 1) dt. MOOSE holds the post-leak
    value above theta x for the step in which Brunel's neuron fires and resets one step
    later; that one sample per spike is reported as Brunel's, V_r."""
    sample = network.instance.vm_ids
    if network.vm_tables is None:
        return np.empty((0, n_steps))
    vm = np.vstack([np.asarray(t.vector) for t in network.vm_tables]) / MV
    # Tables also record at reinit (dropped) and in the extra detection step.
    if vm.shape[1] != n_steps + 2:
        raise BuildError(f"Vm tables hold {vm.shape[1]} samples, expected {n_steps + 2}")
    vm = vm[:, 1:-1]
    row = np.searchsorted(sample, ids)
    hit = (row < sample.size) & (sample[np.minimum(row, sample.size - 1)] == ids)
    d, net = network.instance.derived, network.cfg.network
    V_r = d.per_neuron(net.V_r, net.population("I").V_r)
    vm[row[hit], steps[hit] - 1] = V_r[ids[hit]]
    return vm


def wiring(network: Network) -> dict[str, np.ndarray]:
    """Read the recurrent connectivity back from MOOSE (not from what was passed in):
    per connection its source, target, jump (mV, from the relay's weight and the
    target's encoding) and delay (ms, the transmission delay the relay's stored delay
    produces)."""
    p, p_i, n_e = network.params, network.params_I, network.cfg.network.N_E
    source, target, weight, delay = [], [], [], []
    for block in network.relays:
        feed = moose.element(block.feed)
        feed_rows = np.asarray(feed.rowStart, dtype=np.int64)
        owner = np.repeat(np.arange(len(feed_rows) - 1), np.diff(feed_rows))  # neuron
        relay_of = np.asarray(feed.columnIndex, dtype=np.int64)
        neuron = np.empty(len(block.handlers), dtype=np.int64)
        neuron[relay_of] = owner
        fan = moose.element(block.fan)
        rows = np.asarray(fan.rowStart, dtype=np.int64)
        relay = np.repeat(np.arange(len(rows) - 1), np.diff(rows))
        w = np.asarray(block.handlers.synapse.weight, dtype=float).ravel()
        dl = np.asarray(block.handlers.synapse.delay, dtype=float).ravel()
        n_syn = np.asarray(block.handlers.numSynapses)
        if not (n_syn == 1).all() or relay_of.size != len(block.handlers):
            raise BuildError(f"relay block at {block.first}: not one synapse per relay")
        source.append(neuron[relay])
        to = np.asarray(fan.columnIndex, dtype=np.int64)
        target.append(to)
        weight.append(np.where(to < n_e, p.jump_mv(w[relay] / p.dt),
                               p_i.jump_mv(w[relay] / p.dt)))
        delay.append(p.delay_ms(dl[relay]))
    return {k: np.concatenate(v) for k, v in
            (("source", source), ("target", target), ("weight", weight), ("delay", delay))}
