"""The refined diagram with confidence against the plain refined run on the same part of
Brunel's plane (docs/results-confidence.md#boundaries-with-confidence), from the datasets
beside this file:

  python docs/data/confident_compare.py plane > docs/data/confident_plane.txt
  python docs/data/confident_compare.py subplane > docs/data/confident_subplane.txt

``plane``: the whole plane, g 2-8 and eta 0.5-4, run by ``brunel-sweep
grid=phase_diagram grid.refine.min_step=0.125 grid.confidence.on=true
grid.confidence.max_replicates=3`` (phase_diagram_confident.parquet,
boundaries_confident.parquet). ``subplane``: the part around the AI -> SI-fast line,
g 5-8 and eta 2-4, run first with the same settings and ``grid.axes.network.g=5.0:8.0:0.5
grid.axes.network.eta=2.0:4.0:0.5`` (phase_diagram_confident_subplane.parquet,
boundaries_confident_subplane.parquet). The plain run is phase_diagram_refined.parquet
with boundaries_refined.parquet, cut to the same part. The theory at every point takes
minutes (8 for the sub-plane).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from analysis.agreement import (
    boundary_report,
    compare,
    lines_for,
    located_boundaries,
    model_scores,
    near_line,
    point_decisions,
    theory_grid,
)
from analysis.boundaries import locate
from sweep.storage import load

HERE = Path(__file__).resolve().parent
G, E = "network.g", "network.eta"
PLAIN = ("plain refined (one seed per point)", "phase_diagram_refined.parquet",
         "boundaries_refined.parquet")
REGIONS = {  # ranges of g and eta, and the confident run's dataset and boundaries
    "plane": ((2.0, 8.0), (0.5, 4.0), "phase_diagram_confident.parquet",
              "boundaries_confident.parquet"),
    "subplane": ((5.0, 8.0), (2.0, 4.0), "phase_diagram_confident_subplane.parquet",
                 "boundaries_confident_subplane.parquet"),
}


def inside(df: pd.DataFrame, g: tuple, e: tuple) -> pd.DataFrame:
    return df[df[G].between(*g) & df[E].between(*e)]


def simulated_s(df: pd.DataFrame) -> float:
    ok = df[df.status == "ok"]
    return float((ok["sim.duration"] / 1000).sum())


def cost(df: pd.DataFrame) -> str:
    ok = df[df.status == "ok"]
    points = ok.groupby([G, E]).size()
    return (f"{len(points)} points, {len(ok)} realizations ({(points > 1).sum()} points with "
            f"extra seeds), {simulated_s(df):.0f} simulated seconds, "
            f"{ok.total_s.sum() / 3600:.2f} h of point wall time (this run's machine)")


def uniform(g: tuple, e: tuple, step: float) -> int:
    """Points of a uniform grid at ``step`` over the ranges, ends included."""
    return (round((g[1] - g[0]) / step) + 1) * (round((e[1] - e[0]) / step) + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("region", choices=REGIONS, help="the whole plane or the sub-plane")
    g, e, data, bounds = REGIONS[ap.parse_args().region]
    runs = {name: (load(HERE / data_f)[0], bounds_f)  # the plain run's older schema
            for name, data_f, bounds_f in (PLAIN, ("refined with confidence", data, bounds))}
    parts = {name: inside(df, g, e) for name, (df, _) in runs.items()}
    theory = theory_grid(pd.concat(parts.values()))  # once: minutes
    sim_s = float(next(iter(parts.values()))["sim.duration"].iloc[0]) / 1000  # per point
    print(f"g {g[0]:g}-{g[1]:g}, eta {e[0]:g}-{e[1]:g}; uniform grids there: " + ", ".join(
        f"at {s:g}: {uniform(g, e, s)} points, {uniform(g, e, s) * sim_s:.0f} simulated "
        "seconds" for s in (0.25, 0.125)))
    spent = {}
    for name, (df, bounds_f) in runs.items():
        part = parts[name]
        spent[name] = simulated_s(part)
        found = pd.read_parquet(HERE / bounds_f)
        found = inside(found, g, e)
        located = locate(found, df)
        lines = lines_for(df)
        print(f"\n{name}: {cost(part)}")
        report = boundary_report(located_boundaries(located, lines, df),
                                 threshold=float(df["analysis.sync_env_cv"].iloc[0]))
        print("\n".join(report))
        print("\n".join(model_scores(compare(part, theory, lines), name)))
        print(far_points(part, theory, lines))
    plain, confident = spent.values()
    print(f"\ncost: {confident:.0f} simulated seconds with confidence, "
          f"{confident / plain:.2f}x the plain refined run's {plain:.0f}, "
          f"{confident / (uniform(g, e, 0.25) * sim_s):.2f}x the uniform 0.25 grid's")


def far_points(df: pd.DataFrame, theory: pd.DataFrame, lines: pd.DataFrame) -> str:
    """Points (each by its seeds' pooled state, ``point_decisions``) in the theory's state,
    counted among those farther than d in g and in eta from every theoretical line, for d = one
    refined step (what the report calls far), the boundaries' tolerance 0.25 and the
    grid's first step 0.5; and the disagreeing ones with whether they are decided."""
    th = theory.set_index(["g", "eta"])
    pts = point_decisions(df)
    pts["theory"] = [th.loc[(round(g, 10), round(e, 10))].state
                     for g, e in zip(pts[G], pts[E], strict=True)]
    out = ["far points in the theory's state, by distance from every line:"]
    for d in (0.125, 0.25, 0.5):
        far = pts[~near_line(pts[G].to_numpy(), pts[E].to_numpy(), lines, d, d)]
        wrong = far[far.state != far.theory]
        out.append(f"  beyond {d:g}: {len(far) - len(wrong)}/{len(far)}" + "".join(
            f"; g={r[G]:g} eta={r[E]:g} {r.state} (theory {r.theory}, "
            f"{'decided' if r.decided else 'undecided'}, {r.replicates} seeds)"
            for _, r in wrong.iterrows()))
    return "\n".join(out)


if __name__ == "__main__":
    main()
