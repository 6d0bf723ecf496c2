"""The refined diagram with confidence on the part of Brunel's plane around the
AI -> SI-fast line (g 5-8, eta 2-4), against the plain refined run on the same part
(docs/results.md#boundaries-with-confidence), from the datasets beside this file:

  python docs/data/confident_subplane.py > docs/data/confident_subplane.txt

The confident run: ``brunel-sweep grid=phase_diagram grid.axes.network.g=5.0:8.0:0.5
grid.axes.network.eta=2.0:4.0:0.5 grid.refine.min_step=0.125 grid.confidence.on=true
grid.confidence.max_replicates=3`` (its dataset phase_diagram_confident.parquet, its
located boundaries boundaries_confident.parquet); the plain one is
phase_diagram_refined.parquet with boundaries_refined.parquet, cut to the same part.
"""

from __future__ import annotations

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
G_RANGE, E_RANGE = (5.0, 8.0), (2.0, 4.0)


def inside(df: pd.DataFrame) -> pd.DataFrame:
    return df[df[G].between(*G_RANGE) & df[E].between(*E_RANGE)]


def cost(df: pd.DataFrame) -> str:
    ok = df[df.status == "ok"]
    sim_s = (ok["sim.duration"] / 1000).sum()
    points = ok.groupby([G, E]).size()
    return (f"{len(points)} points, {len(ok)} realizations ({(points > 1).sum()} points with "
            f"extra seeds), {sim_s:.0f} simulated seconds, {ok.total_s.sum() / 3600:.2f} h "
            f"of point wall time (this run's machine)")


def main() -> None:
    runs = {"plain refined (one seed per point)": ("phase_diagram_refined.parquet",
                                                   "boundaries_refined.parquet"),
            "refined with confidence": ("phase_diagram_confident.parquet",
                                        "boundaries_confident.parquet")}
    uniform = (int((G_RANGE[1] - G_RANGE[0]) / 0.125) + 1) * (
        int((E_RANGE[1] - E_RANGE[0]) / 0.125) + 1)
    print(f"g {G_RANGE[0]:g}-{G_RANGE[1]:g}, eta {E_RANGE[0]:g}-{E_RANGE[1]:g}; a uniform "
          f"0.125 grid there: {uniform} points, {uniform * 1.2:.0f} simulated seconds")
    for name, (data, bounds) in runs.items():
        df = load(HERE / data)[0]  # the plain run's older schema: no standard errors
        part = inside(df)
        found = pd.read_parquet(HERE / bounds)
        found = found[found[G].between(*G_RANGE) & found[E].between(*E_RANGE)]
        located = locate(found, df)
        lines = lines_for(df)
        print(f"\n{name}: {cost(part)}")
        report = boundary_report(located_boundaries(located, lines, df),
                                 threshold=float(df["analysis.sync_env_cv"].iloc[0]))
        print("\n".join(report))
        print("\n".join(model_scores(compare(part, theory_grid(part), lines), name)))
        print(far_points(part, lines))


def far_points(df: pd.DataFrame, lines: pd.DataFrame) -> str:
    """Points (each by the majority of its decided seeds) in the theory's state, counted
    among those farther than d in g and in eta from every theoretical line, for d = one
    refined step (what the report calls far), the boundaries' tolerance 0.25 and the
    grid's first step 0.5; and the disagreeing ones with whether they are decided."""
    th = theory_grid(df).set_index(["g", "eta"])
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
