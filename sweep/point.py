"""brunel-point [--spikes FILE] [--switch-off PART ...] [KEY=VALUE ...]: run one point in
this process and print its statistics as one JSON object; --spikes also saves its raw
spikes and Vm sample (npz). --switch-off (drive, relays, fan) takes parts of MOOSE's
network out, to measure what each costs (``brunel-bench split``): the network is then
not Brunel's.

  brunel-point network.g=6 network.eta=4                # Brunel's network (N = 12,500)
  brunel-point network=small network.g=6 network.eta=4  # N = 2,500, for quick work
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from sweep.cli import add_overrides, command, parser
from sweep.config import Config, load_config
from sweep.model import MOOSE_PARTS, NEURON_RULE
from sweep.rundir import atomic_write


def simulate_point(cfg: Config, spikes_path: Path | None = None,
                   switched_off: tuple[str, ...] = ()) -> dict:
    """Build, simulate and measure one network; returns its statistics and timings.
    ``switched_off``: parts left out (``sweep.network.switch_off``)."""
    from analysis.summary import summarize_point
    from sweep.network import build, simulate, switch_off  # imports MOOSE

    network = build(cfg)
    switch_off(network, switched_off)
    rec = simulate(network)
    s, n = cfg.sim, cfg.network
    result = summarize_point(rec.spike_times, rec.spike_ids, rec.vm, cfg)
    if spikes_path is not None:
        def save(tmp: Path) -> None:
            with tmp.open("wb") as f:  # a file: np.savez would append .npz to a name
                np.savez_compressed(f, times=rec.spike_times, ids=rec.spike_ids,
                                    vm=rec.vm.astype(np.float32), vm_ids=rec.vm_ids)

        atomic_write(spikes_path, save)
    result.update(
        seed=s.seed, g=n.g, eta=n.eta, N=n.N, duration_ms=s.duration,
        n_spikes=int(rec.spike_times.size),
        syn_events=rec.syn_events, build_s=rec.build_s, drive_s=rec.drive_s, run_s=rec.run_s,
        build_instance_s=network.instance_s, starts=rec.starts,
        neuron_rule=NEURON_RULE,
    )
    return result


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-point", __doc__, "sweep.point")
    ap.add_argument("--spikes", type=Path, metavar="FILE", help="also save spikes and Vm (npz)")
    ap.add_argument("--switch-off", nargs="+", default=[], choices=MOOSE_PARTS, metavar="PART",
                    help=f"take these parts out ({', '.join(MOOSE_PARTS)}), to measure their cost")
    add_overrides(ap)
    args = ap.parse_intermixed_args(argv)
    cfg = load_config(args.overrides)
    t0 = time.perf_counter()
    result = simulate_point(cfg, args.spikes, tuple(args.switch_off))
    # This process's own totals (a sweep's worker measures its own the same way).
    result.update(total_s=time.perf_counter() - t0,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
