"""Text summaries of a run's dataset, and the analysis of a run as a whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.agreement import point_decisions
from sweep.storage import ETA, G


def _cell(point: pd.Series, states: pd.Series) -> str:
    """A point's state (``point_decisions``); "(k/n)" when only k of its n replicates
    have it on their own, "?" when it is not decided (a dataset from before standard
    errors were recorded shows none)."""
    k = int((states == point.state).sum())
    text = point.state if k == len(states) else f"{point.state} ({k}/{len(states)})"
    return f"{text}?" if point.known and not point.decided else text


def summary_table(df: pd.DataFrame) -> str:
    """Counts by status and state, and the state of each (g, eta) cell."""
    lines = [f"{len(df)} points: " + ", ".join(
        f"{n} {s}" for s, n in df.status.value_counts().sort_index().items())]
    ok = df[df.status == "ok"]
    if not ok.empty:
        lines.append("states: " + ", ".join(
            f"{s} {n}" for s, n in ok.state.value_counts().sort_index().items()))
        points = point_decisions(df).set_index([ETA, G])
        points["known"] = ok.groupby([ETA, G]).margin.apply(lambda m: m.notna().any()) \
            if "margin" in ok else False
        states = pd.Series({key: _cell(points.loc[key], sub.state)
                            for key, sub in ok.groupby([ETA, G])})
        states.index.names = [ETA, G]
        grid = states.unstack(G).sort_index(ascending=False).fillna("-")
        grid.index = [f"eta={v:g}" for v in grid.index]
        grid.columns = [f"g={v:g}" for v in grid.columns]
        lines.append(grid.to_string())
        lines.append("(k/n): k of n replicates in that state on their own; ?: not decided "
                     "(docs/states.md#decided-states)")
        cols = ["rate_hz", "cv_isi", "chi", "osc_freq_hz", "run_s", "total_s"]
        lines.append(ok[[G, ETA, "replicate", "state", *cols]].to_string(
            index=False, float_format=lambda v: f"{v:.3g}"))
    from sweep.storage import error_line

    for _, row in df[df.status != "ok"].iterrows():
        lines.append(f"FAILED g={row[G]:g} eta={row[ETA]:g} ({row.point_id}): "
                     f"{error_line(row.error, '?')}")
    return "\n".join(lines)


def analyse(df: pd.DataFrame, run_dir: Path, with_theory: bool = True) -> None:
    """Print the table, draw the figures and, with ``with_theory``, write and print the
    agreement with Brunel's theory for the simulated network."""
    import pyarrow as pa

    from analysis.agreement import plane_boundaries, write_agreement
    from analysis.figures import draw_figures
    from sweep.rundir import RunDir
    from sweep.storage import write_parquet

    print(summary_table(df))
    if not len(df):
        return
    for path in draw_figures(df, run_dir, with_theory):
        print(f"wrote {path}")
    found = plane_boundaries(df, run_dir)
    if found is not None:  # the brackets, now with where each lies and its interval
        table = pa.Table.from_pandas(found, preserve_index=False)
        print(f"wrote {write_parquet(table, RunDir(run_dir).boundaries)}")
    if with_theory and (df.status == "ok").any():
        try:
            text = write_agreement(df, run_dir)
        except ValueError as err:  # several networks in one run: figures only
            print(f"no agreement report: {err}")
        else:
            print(text)
