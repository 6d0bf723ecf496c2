"""Standard errors against seeds: the evidence for calibrating them (issue: uncertainty
calibrated against seeds).

  brunel-sweep grid=calibration hydra.run.dir=outputs/calibration
  python docs/data/calibration.py build outputs/calibration   # -> calibration_windows.parquet
  python docs/data/calibration.py report > docs/data/calibration.txt

``build`` recomputes, from each realization's saved spikes, every statistic over three
analysis windows that start after Brunel's 200-ms transient (to 450, 700 and 1,200 ms:
the looks a point that stops early would take) and the block-jackknife standard error of
each thresholded measure with K = 4, 5, 8, 10, 16 and 20 blocks (``<measure>_se_k<K>``),
so that a method can be chosen and validated from the committed file alone. One row per
realization and window.

``report`` prints, for each thresholded measure, window and K, the leave-one-seed-out
standardized deviation of each realization,

    d_i = (x_i - mean_{j != i} x_j) / sqrt(SE_i^2 + sum_{j != i} SE_j^2 / (n - 1)^2),

whose standard deviation over realizations is 1 where the standard errors are the
spread over seeds; separately for the points that tune a method (the g = 6 and
g = 4.5 lines and the SR line at eta = 2) and the others, which validate it. A measure
enters where the classifier thresholds it: the rate everywhere, the CV of ISIs and the
envelope CV at active points (rate at least analysis.quiescent_rate).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import stats
from analysis.states import STANDARD_ERRORS as SE
from analysis.summary import summarize
from sweep.config import AnalysisConfig
from sweep.storage import load, row_config

HERE = Path(__file__).resolve().parent
WINDOWS = HERE / "calibration_windows.parquet"
STOPS_MS = (450.0, 700.0, 1200.0)
BLOCKS = (4, 5, 8, 10, 16, 20)
KEEP = ["point_id", "replicate", "seed", "network.g", "network.eta", "N"]
TUNE = {(3.25, 2.0), (4.5, 0.85), (4.5, 0.9), (6.0, 3.0), (6.0, 3.25)}
MEASURES = tuple(SE)
POINT = ["network.g", "network.eta"]


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


def active(df: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The rows where the classifier thresholds ``measure``: the rate everywhere, the
    CVs at active points (rate at least ``analysis.quiescent_rate``)."""
    return df if measure == "rate_hz" else df[df.rate_hz >= AnalysisConfig().quiescent_rate]


def point_sds(df: pd.DataFrame, measure: str, se: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every realization's leave-one-seed-out standardized deviation
    (``analysis.stats.seed_deviations``, with the standard errors ``se``), and each
    point's sd of them."""
    per_point = [stats.seed_deviations(sub[measure].to_numpy(), sub._se.to_numpy())
                 for _, sub in df.assign(_se=se).groupby(POINT)]
    per_point = [d for d in per_point if d.size]
    every = np.concatenate(per_point) if per_point else np.array([])
    return every, np.array([np.sqrt(np.mean(d ** 2)) for d in per_point])


def summary(df: pd.DataFrame, measure: str, se: pd.Series) -> tuple[float, float, int]:
    """(sd of the standardized deviations over every realization, median over points of
    each point's sd, realizations)."""
    every, sds = point_sds(df, measure, se)
    return (float(np.sqrt(np.mean(every ** 2))) if every.size else float("nan"),
            float(np.median(sds)) if sds.size else float("nan"), int(every.size))


def per_point(df: pd.DataFrame, window: float, k: int) -> None:
    """Per point and measure: mean, sd over seeds, rms of the realizations' SEs, ratio."""
    print(f"\nper point, {window:g}-ms window, K = {k}: mean, sd over seeds, rms SE, sd / SE")
    sub = df[df.window_ms == window]
    for (g, e), pt in sub.groupby(POINT):
        cells = []
        for m in MEASURES:
            x, se = pt[m].to_numpy(float), pt[f"{SE[m]}_k{k}"].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(se)
            if ok.sum() < 2:
                cells.append(f"{m} -")
                continue
            sd, rms = np.std(x[ok], ddof=1), np.sqrt(np.mean(se[ok] ** 2))
            cells.append(f"{m} {np.mean(x[ok]):.4g} sd {sd:.3g} SE {rms:.3g} ({sd / rms:.2f})")
        tag = "tune" if (g, e) in TUNE else "validate"
        print(f"  ({g:g}, {e:g}) {tag}, {len(pt)} seeds, state {'/'.join(sorted(set(pt.state)))}: "
              + "; ".join(cells))


INFLATION = np.round(np.arange(0.5, 3.01, 0.05), 2)  # c: the jackknife's SE times c
# tau: the spread between network instances that no run's blocks see, per measure
TAU = {"rate_hz": (0.0, 0.01, 0.03, 0.1, 0.3, 1.0),
       "cv_isi": (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
       "env_cv": (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)}


def calibrated(df: pd.DataFrame, measure: str, k: int, c: float, tau: float) -> pd.Series:
    """SE^2 = (c SE_K)^2 + tau^2: the jackknife's error over K blocks, scaled, and the
    spread between network instances."""
    return np.sqrt((c * df[f"{SE[measure]}_k{k}"]) ** 2 + tau ** 2)


def fit(df: pd.DataFrame, measure: str, k: int) -> tuple[float, float]:
    """The (c, tau) of ``calibrated`` that bring the tuning points' sds of the
    standardized deviations closest to 1 (least squares of their logarithms, so that
    every point counts alike and a factor too large weighs as one too small)."""
    best = (np.inf, 1.0, 0.0)
    for f in TAU[measure]:
        for c in INFLATION:
            sds = point_sds(df, measure, calibrated(df, measure, k, c, f))[1]
            loss = float(np.sum(np.log(sds) ** 2)) if sds.size else np.inf
            best = min(best, (loss, c, f))
    return best[1], best[2]


RUN = HERE / "calibration.parquet"  # the calibration run's results.parquet


def product() -> None:
    """The standard errors every row carries (the block jackknife, K = 8 over Brunel's
    1-s window) against the seeds, over all 13 points; and the sequential rule on the
    same realizations moved onto each threshold."""
    from analysis.sequential import decision_z, ends_decided_on_threshold
    from analysis.states import MEASURES as DECISION
    from sweep.config import AnalysisConfig

    df = pd.read_parquet(RUN)
    print(f"{RUN.name}: {len(df)} realizations at {df.groupby(POINT).ngroups} points, the "
          "rows' own standard "
          "errors (K = 8, 1,000 ms)")
    for measure in MEASURES:
        rows = active(df, measure)
        sd, med, n = summary(rows, measure, rows[SE[measure]])
        print(f"  {measure}: sd of the standardized deviations {sd:.2f} over {n} "
              f"realizations, {med:.2f} at the median point")
    th, looks = AnalysisConfig(), 5
    print(f"\nseeds added one by one while undecided, at most {looks}, each point's "
          "realizations moved onto the threshold (every decision wrong); 200 orders per point")
    for measure, key in (("env_cv", "sync_env_cv"), ("rate_hz", "quiescent_rate"),
                         ("cv_isi", "cv_regular")):
        for z in (2.0, decision_z(2.0, looks)):
            rng = np.random.default_rng(0)
            rates = [ends_decided_on_threshold(sub[list(DECISION)].to_dict("records"), measure,
                                               getattr(th, key), th, z, looks, 200, rng)
                     for _, sub in df.groupby(POINT) if sub[measure].notna().sum() >= looks]
            print(f"  {measure} at {key}: z = {z:.2f}: ends decided {np.mean(rates):.1%} "
                  f"(over {len(rates)} points; worst point {max(rates):.1%})")


def report() -> None:
    product()
    df = pd.read_parquet(WINDOWS)
    for window in sorted(df.window_ms.unique()):
        per_point(df, window, 8)
    tune = [(g, e) in TUNE for g, e in zip(df["network.g"], df["network.eta"], strict=True)]
    sets = {"tune": df[tune], "validate": df[~np.array(tune)]}
    points = df.groupby(POINT).ngroups
    print(f"{df.point_id.nunique()} realizations at {points} points; windows "
          f"{', '.join(f'{w:g}' for w in sorted(df.window_ms.unique()))} ms after the transient")
    print("\nsd of the standardized deviations over all realizations / at the median point")
    print("(1 = the SEs are the spread over seeds); realizations in brackets")
    print(f"{'measure':8} {'window':>6} {'set':8} " + " ".join(f"{f'K={k}':>11}" for k in BLOCKS))
    for measure in MEASURES:
        for window in sorted(df.window_ms.unique()):
            for name, part in sets.items():
                part = active(part[part.window_ms == window], measure)
                cells = [summary(part, measure, part[f"{SE[measure]}_k{k}"]) for k in BLOCKS]
                print(f"{measure:8} {window:6g} {name:8} "
                      + " ".join(f"{sd:5.2f}/{med:5.2f}" for sd, med, _ in cells)
                      + f"  ({cells[0][2]})")
    print("\ncalibrated: SE^2 = (c SE_K)^2 + tau^2, (c, tau) fitted on the tuning points;")
    print("sd of the standardized deviations over all realizations / median point / worst point")
    for measure in MEASURES:
        for window in sorted(df.window_ms.unique()):
            for k in (8, 10):
                use = active(df[df.window_ms == window], measure)
                c, f = fit(use[use.index.isin(sets["tune"].index)], measure, k)
                se = calibrated(use, measure, k, c, f)
                line = []
                for name, part in sets.items():
                    part = use[use.index.isin(part.index)]
                    every, sds = point_sds(part, measure, se.loc[part.index])
                    line.append(f"{name} {np.sqrt(np.mean(every ** 2)):.2f}/"
                                f"{np.median(sds):.2f}/{sds.max():.2f}"
                                if sds.size else f"{name} -")
                print(f"{measure:8} {window:6g} K={k:<3} c={c:.2f} tau={f:g}: " + "; ".join(line))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "build":
        build(Path(sys.argv[2]))
    elif len(sys.argv) == 2 and sys.argv[1] == "report":
        report()
    else:
        sys.exit(__doc__)
