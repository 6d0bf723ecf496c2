"""The decision rule and the located crossings validated on many seeds at full size
(docs/states.md#decided-states, docs/results-confidence.md#many-seeds-across-two-lines).

  python docs/data/confidence_lines.py build RUN_DIR   # -> confidence_lines.parquet
  python docs/data/confidence_lines.py report > docs/data/confidence_lines.txt

``build`` recomputes every statistic (with its standard error and margin) of the
points of a run directory from their saved spikes (run.save_spikes=true), so that a
run made before the statistics had standard errors serves too; ``report`` reads the
committed dataset beside this file. The dataset was written by pandas, not by a sweep:
it has no provenance metadata, and the settings added since (the inhibitory keys)
read as model A's (null).
"""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.boundaries import crossing, group_coverage
from analysis.states import MEASURES, STANDARD_ERRORS, point_decision, separating_measure
from analysis.summary import summarize_point
from sweep.config import point_keys
from sweep.storage import load, row_config

HERE = Path(__file__).resolve().parent
DATA = HERE / "confidence_lines.parquet"
G, E = "network.g", "network.eta"
LINES = {"g=6 (AI -> SI-fast)": (G, 6.0, E), "g=4.5 (onset, SI-slow)": (G, 4.5, E),
         "eta=2 (SR)": (E, 2.0, G)}
CAP = 5  # seeds at most, as grid.confidence.max_replicates
SPLITS = 50  # random splits of a line's seeds into disjoint groups
NEAR = 0.2  # how close to its threshold a point's mean must be to count as near it
THRESHOLD = {"rate_hz": "quiescent_rate", "cv_isi": "cv_regular", "env_cv": "sync_env_cv"}


def build(run_dir: Path) -> None:
    df, _ = load(run_dir)
    rows = []
    for _, row in df[(df.status == "ok") & df.spikes_file.notna()].iterrows():
        spikes = np.load(Path(run_dir) / row.spikes_file)
        stats = summarize_point(spikes["times"], spikes["ids"], spikes["vm"],
                                row_config(row.to_dict()))
        rows.append({**row.to_dict(), **stats})
    out = pd.DataFrame(rows)
    out.to_parquet(DATA)
    print(f"wrote {DATA}: {len(out)} realizations")


def _truth(sub: pd.DataFrame, column: str) -> pd.Series:
    return sub.groupby("x")[column].mean()


def report() -> None:
    df = pd.read_parquet(DATA)
    for key in point_keys():  # settings added after the dataset was built: model A's
        if key != "sim.seed" and key not in df:
            df[key] = np.nan
    seeds = df.groupby([G, E]).size()
    print(f"{len(df)} realizations at N = {int(df.N.iloc[0])}, "
          f"{df['sim.duration'].iloc[0] - df['sim.transient'].iloc[0]:g} ms analysed each; "
          f"seeds per point: {seeds.min()}-{seeds.max()}")
    print(f"   {len(seeds)} points: " + "; ".join(
        f"{n} seeds at {k}" for n, k in sorted(
            ((n, ", ".join(f"({g:g}, {e:g})" for g, e in pts.index))
             for n, pts in seeds.groupby(seeds)), reverse=True)))
    th = row_config(df.iloc[0].to_dict()).analysis

    print("\n1. The block-jackknife standard error against the spread over seeds")
    print("   per point: mean, sd over seeds, rms of the realizations' own SE, ratio sd / SE;")
    print("   the CV of ISIs and the envelope CV only where they enter the decision (active")
    print(f"   points); 'near': points whose mean lies within {NEAR:g} of the threshold")
    ratios = {}
    for column, se in STANDARD_ERRORS.items():
        threshold = getattr(th, THRESHOLD[column])
        lines, near, every = [], ([], []), []
        for (g, e), sub in df.groupby([G, E]):
            x, s = sub[column].dropna(), sub[se].dropna()
            active = sub.rate_hz.mean() >= th.quiescent_rate
            if len(x) < 3 or len(s) < 3 or (column != "rate_hz" and not active):
                continue
            sd, rms = x.std(ddof=1), np.sqrt(np.mean(s ** 2))
            if rms > 0:
                every.append(sd / rms)
            if abs(x.mean() - threshold) <= NEAR:
                near[0].append(sd ** 2)
                near[1].append(rms ** 2)
            lines.append(f"     g={g:g} eta={e:g}: {x.mean():.4g}, sd {sd:.3g}, SE {rms:.3g}, "
                         f"ratio {sd / rms:.2f}" if rms > 0 else
                         f"     g={g:g} eta={e:g}: {x.mean():.4g}, sd {sd:.3g}, SE 0")
        pooled = np.sqrt(np.sum(near[0]) / np.sum(near[1])) if near[1] else np.nan
        ratios[column] = pooled
        print(f"   {column}: median ratio {np.median(every):.2f} over {len(every)} points; "
              f"near the threshold {threshold:g}: pooled sd / SE = {pooled:.2f} over "
              f"{len(near[0])} points")
        print("\n".join(lines))

    print("\n2. Decisions against the many-seed truth: classify() of each point's measures")
    print("   pooled over all its seeds (analysis.states.point_decision)")
    points = {k: sub.sort_values("replicate") for k, sub in df.groupby([G, E])}
    truth = {k: point_decision(sub[list(MEASURES)].to_dict("records"), th, 0.0)[0]
             for k, sub in points.items()}
    print("   per point: the pooled state and margin over all its seeds, and the seeds' own")
    print("   states")
    for (g, e), sub in points.items():
        state, decided, distance = point_decision(sub[list(MEASURES)].to_dict("records"), th,
                                                  2.0)
        own = sub.state.value_counts()
        print(f"     g={g:g} eta={e:g}: {state}, margin {distance:.2f} "
              f"({'decided' if decided else 'undecided'} at z = 2); seeds: "
              + ", ".join(f"{s} {n}" for s, n in own.items()))
    for z in (1.0, 1.5, 2.0, 2.5, 3.0):
        sure = df[df.margin >= z]
        wrong = sum(s != truth[(g, e)] for g, e, s in zip(sure[G], sure[E], sure.state,
                                                         strict=True))
        print(f"   z = {z:g}: {len(sure)}/{len(df)} single realizations decided "
              f"({len(sure) / len(df):.0%}); {wrong} of them in another state than "
              f"their point's truth")
    wrong_all = sum(s != truth[(g, e)] for g, e, s in zip(df[G], df[E], df.state,
                                                         strict=True))
    print(f"   every single realization, no decision rule: {wrong_all}/{len(df)} in "
          f"another state than their point's truth ({wrong_all / len(df):.1%})")
    print(f"   seeds in replicate order until a point is decided, at most {CAP}: the pooled")
    print("   rule (the product's) against a vote of the seeds decided on their own (a strict")
    print("   majority of the realizations with margin >= z)")
    for z in (1.5, 2.0, 2.5, 3.0):
        for rule in ("pooled", "vote"):
            used, undecided, wrong = [], 0, 0
            for key, sub in points.items():
                records = sub[list(MEASURES)].to_dict("records")
                for k in range(1, min(CAP, len(sub)) + 1):
                    if rule == "pooled":
                        state, decided, _ = point_decision(records[:k], th, z)
                    else:
                        sure = sub.state[:k][sub.margin[:k] >= z].value_counts()
                        decided = len(sure) > 0 and (len(sure) == 1 or
                                                     sure.iloc[0] > sure.iloc[1])
                        state = sure.index[0] if len(sure) else None
                    if decided:
                        break
                used.append(k)
                undecided += not decided
                wrong += decided and state != truth[key]
            print(f"   z = {z:g}, {rule:6s}: {np.mean(used):.2f} seeds per point, "
                  f"{undecided}/{len(points)} undecided at the cap, {wrong} decided wrongly")

    print("\n3. Crossings: every seed's own line against all seeds' crossing")
    for name, (fixed, value, axis) in LINES.items():
        line = df[np.isclose(df[fixed], value)]
        line = line.assign(x=line[axis])
        if line.empty:
            continue
        states = pd.Series({x: point_decision(sub[list(MEASURES)].to_dict("records"), th,
                                              0.0)[0] for x, sub in line.groupby("x")})
        xs = states.index.to_numpy()
        for lo, hi in pairwise(xs):
            a, b = states[lo], states[hi]
            measure = separating_measure(a, b)
            if measure is None:
                continue
            column, key = measure
            threshold = getattr(th, key)
            near = line[(line.x - (lo + hi) / 2).abs() <= 0.5 + 1e-9]
            best = crossing(near.x, near[column], near[STANDARD_ERRORS[column]], threshold,
                            (lo, hi))
            print(f"   {name}: {a} -> {b} between {lo:g} and {hi:g}; all "
                  f"{near.replicate.nunique()} seeds: {best.estimate:.3f} "
                  f"[{best.low:.3f}, {best.high:.3f}] ({best.method})")
            covered, n, widths = 0, 0, []
            for r, one in near.groupby("replicate"):
                c = crossing(one.x, one[column], one[STANDARD_ERRORS[column]], threshold,
                             (lo, hi), seed=int(r))
                n += 1
                covered += c.low <= best.estimate <= c.high
                widths.append(c.high - c.low)
                print(f"     seed {r}: {c.estimate:.3f} [{c.low:.3f}, {c.high:.3f}] "
                      f"({c.method})")
            print(f"     one seed's 90% interval contains the all-seed estimate: "
                  f"{covered}/{n}; median width {np.median(widths):.3f}")
            for size in (2, 4):
                if near.replicate.nunique() >= 2 * size:
                    cover, width, k = group_coverage(
                        near.x, near[column], near[STANDARD_ERRORS[column]], near.replicate,
                        threshold, (lo, hi), size, SPLITS)
                    print(f"     disjoint groups of {size} seeds ({k} intervals, {SPLITS} random "
                          f"splits): the group's 90% interval contains the all-seed estimate "
                          f"{cover:.0%}; median width {width:.3f}")

    print("\n4. More seeds or a longer run, at equal cost")
    cost = df.total_s.median()
    analysed = (df["sim.duration"] - df["sim.transient"]).iloc[0] / 1000
    run_per_s = (df.run_s / (df["sim.duration"] / 1000)).median()
    print(f"   a seed: {cost:.0f} s of one core (median total_s) for {analysed:g} s "
          f"analysed; {analysed:g} s more of a running point: {run_per_s * analysed:.0f} s "
          f"(median run_s per simulated second)")
    for column, ratio in ratios.items():
        if not np.isfinite(ratio):
            print(f"   {column}: no point near its threshold")
            continue
        q = max(ratio ** 2 - 1, 0.0)
        print(f"   {column} near its threshold: seed-to-seed variance = {ratio ** 2:.2f} x "
              f"the within-run estimate; the part a longer run could not average away "
              f"(another network, another initial state) is at most {q / ratio ** 2:.0%} of it")


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        build(Path(sys.argv[2]))
    else:
        report()
