"""Standard errors against seeds: the evidence for calibrating them (issue: uncertainty
calibrated against seeds).

  brunel-sweep grid=calibration hydra.run.dir=outputs/calibration
  python docs/data/calibration.py build outputs/calibration   # -> calibration_windows.parquet

``build`` recomputes, from each realization's saved spikes, every statistic over three
analysis windows that start after Brunel's 200-ms transient (to 450, 700 and 1,200 ms:
the looks a point that stops early would take) and the block-jackknife standard error of
each thresholded measure with K = 4, 5, 8, 10, 16 and 20 blocks (``<measure>_se_k<K>``),
so that a method can be chosen and validated from the committed file alone. One row per
realization and window.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import stats
from analysis.summary import summarize
from sweep.storage import load, row_config

HERE = Path(__file__).resolve().parent
WINDOWS = HERE / "calibration_windows.parquet"
STOPS_MS = (450.0, 700.0, 1200.0)
BLOCKS = (4, 5, 8, 10, 16, 20)
KEEP = ["point_id", "replicate", "seed", "network.g", "network.eta", "N"]


def _ses(times: np.ndarray, ids: np.ndarray, n: int, t0: float, t1: float, th,
         f_peak: float) -> dict[str, float]:
    pop = stats.population_rate(times, ids, n, t0, t1, th.pop_bin)
    out = {}
    for k in BLOCKS:
        out[f"rate_se_k{k}"] = stats.mean_rate_se(times, ids, n, t0, t1, k)
        out[f"cv_isi_se_k{k}"] = stats.cv_isi_se(times, ids, t0, t1, th.cv_min_isis, k)
        out[f"env_cv_se_k{k}"] = (stats.envelope_cv_se(pop, th.pop_bin, f_peak,
                                                       th.rhythm_band, k)
                                  if np.isfinite(f_peak) else float("nan"))
    return out


def build(run_dir: Path) -> None:
    df, _ = load(run_dir)
    rows = []
    for _, row in df[(df.status == "ok") & df.spikes_file.notna()].iterrows():
        cfg = row_config(row.to_dict())
        spikes = np.load(Path(run_dir) / row.spikes_file)
        times, ids, vm = spikes["times"], spikes["ids"], spikes["vm"]
        t0 = cfg.sim.transient
        for t1 in STOPS_MS:
            if t1 > cfg.sim.duration:
                continue
            measures = summarize(times, ids, vm, cfg.network.N, cfg.network.N_E, t0, t1,
                                 cfg.sim.dt, cfg.analysis)
            rows.append({**{k: row[k] for k in KEEP}, "window_ms": t1 - t0, **measures,
                         **_ses(times, ids, cfg.network.N, t0, t1, cfg.analysis,
                                measures["osc_freq_hz"])})
        print(f"{row.point_id}: g={row['network.g']:g} eta={row['network.eta']:g} "
              f"replicate {row.replicate}", file=sys.stderr)
    out = pd.DataFrame(rows)
    out.to_parquet(WINDOWS)
    print(f"wrote {WINDOWS}: {len(out)} rows ({out.point_id.nunique()} realizations)")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        sys.exit(__doc__)
    build(Path(sys.argv[2]))
