"""What the LIF's compartment init phase costs per neuron-step: N LIF neurons (Brunel's
encoding, no recurrent wiring), alone or driven by one StimulusTable each (Poisson(1)
events per step), with MOOSE's default clock messages (init on tick 1, process on
tick 2) or with the process phase only (sweep/network.py's arrangement). Each variant
in its own process (MOOSE keeps global state), alternated:

  python docs/data/lif_init_pass.py > docs/data/lif_init_pass.txt

or one variant: python docs/data/lif_init_pass.py {default|process_only} N {lif|drive}.
"""

from __future__ import annotations

import subprocess
import sys
import time
import types

DT, TAU, STEPS = 1e-4, 0.02, 2000


def one(variant: str, n: int, drive: bool) -> float:
    """ns per neuron-step of ``moose.start`` over STEPS - 20 steps."""
    sys.modules.setdefault("moose.model_utils", types.ModuleType("moose.model_utils"))
    import moose
    import numpy as np

    moose.seed(-1)
    for tick in range(10):
        moose.setClock(tick, DT)
    moose.Neutral("/m")
    x = float(np.exp(-DT / TAU))
    lif = moose.LIF("/m/lif", n).vec
    lif.Em, lif.Rm, lif.Cm = 0.0, TAU, 1.0
    lif.thresh, lif.vReset, lif.refractoryPeriod = 0.020 * x, 0.010, 19.5 * DT
    lif.initVm = (np.random.default_rng(1).uniform(0, 0.02, n) * x).tolist()
    if variant == "process_only":
        moose.element("/m/lif").tick = -1
        moose.useClock(2, "/m/lif", "process")
    if drive:
        tables = moose.StimulusTable("/m/drive", n).vec
        tables.startTime, tables.stepSize, tables.doLoop = 0.0, 1.0, False
        moose.connect(tables, "output", lif, "injectMsg", "OneToOne")
        rng, jump = np.random.default_rng(2), 0.1e-3 * x / (TAU * (1 - x))
        values = np.array([k * jump for k in range(40)], dtype=object)
        for table in tables:
            k = rng.poisson(1.0, STEPS + 1)
            k[0] = 0
            table.vector = values[k].tolist()
        tables.stopTime = float(STEPS)
    moose.reinit()
    moose.start(10 * DT)
    t0 = time.perf_counter()
    moose.start((STEPS - 20) * DT)
    return (time.perf_counter() - t0) / ((STEPS - 20) * n) * 1e9


def main() -> None:
    if len(sys.argv) > 1:
        print(f"{one(sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'drive'):.1f}")
        return
    print("N = 12,500, ns per neuron-step of moose.start; three alternations")
    for what in ("lif", "drive"):
        runs: dict[str, list[str]] = {"default": [], "process_only": []}
        for _ in range(3):
            for variant, out in runs.items():
                out.append(subprocess.run([sys.executable, __file__, variant, "12500", what],
                                          capture_output=True, text=True,
                                          check=True).stdout.strip())
        for variant, out in runs.items():
            print(f"{what:>6} {variant:>13}: {' '.join(out)}", flush=True)


if __name__ == "__main__":
    main()
