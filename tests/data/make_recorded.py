"""Write ``full_size_rhythms.npz``: the population rate of full-size MOOSE runs (seed,
point and run as listed in docs/states.md), for the classifier's tests
on recorded cases. ``python tests/data/make_recorded.py RUN_DIR:G:ETA[:REPLICATE] ...``
(runs made with run.save_spikes=true)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis import stats  # noqa: E402
from sweep.storage import ETA, G, load, row_config  # noqa: E402


def main(specs: list[str]) -> None:
    out = {}
    for spec in specs:
        run_dir, g, eta, *rep = spec.split(":")
        df, _ = load(Path(run_dir))
        row = df[(df[G] == float(g)) & (df[ETA] == float(eta))
                 & (df.replicate == int(rep[0] if rep else 0))].iloc[0]
        cfg = row_config(row.to_dict())
        with np.load(Path(run_dir) / row.spikes_file) as s:
            pop = stats.population_rate(s["times"], s["ids"], cfg.network.N, cfg.sim.transient,
                                        cfg.sim.duration, cfg.analysis.pop_bin)
        key = f"g={float(g):g},eta={float(eta):g},seed={int(row.seed)}"
        out[key] = pop.astype(np.float32)
        out[key + ":stats"] = np.array([row.rate_hz, row.cv_isi, cfg.analysis.pop_bin])
    np.savez_compressed(Path(__file__).with_name("full_size_rhythms.npz"), **out)


if __name__ == "__main__":
    main(sys.argv[1:])
