"""Where a full-size point's build and drive time goes, piece by piece, at (5, 2):

  python docs/data/build_drive_split.py > docs/data/build_drive_split.txt

The build and the drive's first two chunks are the project's own (``sweep.network``).
The pieces are then timed on their own, the way the builder does them: the relays' index
lists and MOOSE's ``SparseMsg::tripletFill`` for every block, then the search that ends
every ``moose.start`` (a one-step start), with relays in arrays of ``RELAY_BLOCK`` and of
500 (the builder's earlier size); and per neuron of one chunk the Poisson draws, the list
of currents, and MOOSE's ``StimulusTable`` vector set. Each part runs in its own fresh
process (MOOSE keeps global state).
"""

from __future__ import annotations

import subprocess
import sys
import time

CFG = ["network.g=5", "network.eta=2"]


def whole() -> None:
    from sweep.config import load_config
    from sweep.network import _fill_drive, build

    net = build(load_config(CFG))
    print(f"build {net.build_s:.2f} s: instance (numpy) {net.instance_s:.2f} s, "
          f"MOOSE objects and messages {net.build_s - net.instance_s:.2f} s")
    counts, n = net.instance.drive(), round(net.cfg.sim.chunk / net.cfg.sim.dt)
    for first in (True, False):
        t = time.perf_counter()
        _fill_drive(net, counts, n, first=first)
        print(f"drive chunk of {n} steps: {time.perf_counter() - t:.2f} s")


def relays(block: int | None = None) -> None:
    import moose
    import numpy as np

    from sweep.config import load_config
    from sweep.instance import draw_instance
    from sweep.network import RELAY_BLOCK

    inst = draw_instance(load_config(CFG))
    row_start, targets = inst.out_edges()
    n, block = inst.derived.N, block or RELAY_BLOCK
    moose.seed(-1)
    moose.Neutral("/m")
    moose.LIF("/m/lif", n)
    ints = np.arange(n).astype(object)
    lists_s = fill_s = 0.0
    for b, first in enumerate(range(0, n, block)):
        k = min(block, n - first)
        moose.SimpleSynHandler(f"/m/relay{b}", k)
        lo, hi = row_start[first], row_start[first + k]
        fan = moose.connect(moose.element(f"/m/relay{b}"), "activationOut",
                            moose.element("/m/lif"), "injectMsg", "Sparse")
        t = time.perf_counter()
        rows = ints[np.repeat(np.arange(k), np.diff(row_start[first:first + k + 1]))].tolist()
        cols, zeros = ints[targets[lo:hi]].tolist(), [0] * int(hi - lo)
        t1 = time.perf_counter()
        fan.tripletFill(rows, cols, zeros)
        lists_s, fill_s = lists_s + t1 - t, fill_s + time.perf_counter() - t1
    for tick in range(10):
        moose.setClock(tick, 1e-4)
    moose.reinit()
    moose.start(1e-3)
    t = time.perf_counter()
    moose.start(1e-4)
    search = time.perf_counter() - t
    e = targets.size
    print(f"relays, {e} connections in arrays of {block}: index lists {lists_s:.2f} s "
          f"({lists_s / e * 1e9:.0f} ns each), tripletFill {fill_s:.2f} s "
          f"({fill_s / e * 1e9:.0f} ns each); a one-step moose.start {search:.3f} s")


def drive() -> None:
    import moose
    import numpy as np

    from sweep.config import load_config
    from sweep.instance import draw_instance

    inst = draw_instance(load_config(CFG))
    n, steps = inst.derived.N, 4000
    counts = inst.drive()
    moose.Neutral("/m")
    tables = moose.StimulusTable("/m/drive", n).vec
    currents = np.array([k * 1e-9 for k in range(64)], dtype=object)
    index = np.zeros(steps + 1, dtype=np.intp)
    took = dict.fromkeys(("Poisson draws", "list of currents", "MOOSE vector set"), 0.0)
    for i, table in enumerate(tables):
        t0 = time.perf_counter()
        index[1:] = counts(i, steps)
        t1 = time.perf_counter()
        row = currents[index].tolist()
        t2 = time.perf_counter()
        table.vector = row
        t3 = time.perf_counter()
        for key, dt in zip(took, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            took[key] += dt
    entries = n * (steps + 1)
    print(f"drive, one chunk ({n} tables x {steps + 1} entries): " + ", ".join(
        f"{k} {v:.2f} s ({v / entries * 1e9:.1f} ns each)" for k, v in took.items()))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        part = {"whole": whole, "relays": relays, "drive": drive}[sys.argv[1]]
        part(*map(int, sys.argv[2:]))
    else:
        for args in (["whole"], ["relays"], ["relays", "500"], ["drive"]):
            subprocess.run([sys.executable, __file__, *args], check=True)
