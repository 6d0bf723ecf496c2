"""Text summaries of a run's dataset, and the analysis of a run as a whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.states import majority_state
from sweep.storage import ETA, G


def _cell(states: pd.Series) -> str:
    """A point's state over its replicates; "(k/n)" when only k of n replicates have it."""
    state = majority_state(states)
    k = int((states == state).sum())
    return state if k == len(states) else f"{state} ({k}/{len(states)})"


def summary_table(df: pd.DataFrame) -> str:
    """Counts by status and state, and the state of each (g, eta) cell."""
    lines = [f"{len(df)} points: " + ", ".join(
        f"{n} {s}" for s, n in df.status.value_counts().sort_index().items())]
    ok = df[df.status == "ok"]
    if not ok.empty:
        lines.append("states: " + ", ".join(
            f"{s} {n}" for s, n in ok.state.value_counts().sort_index().items()))
        states = ok.sort_values("replicate", kind="stable").groupby([ETA, G])["state"].agg(
            _cell)
        grid = states.unstack(G).sort_index(ascending=False).fillna("-")
        grid.index = [f"eta={v:g}" for v in grid.index]
        grid.columns = [f"g={v:g}" for v in grid.columns]
        lines.append(grid.to_string())
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
    from analysis.agreement import write_agreement
    from analysis.figures import draw_figures

    print(summary_table(df))
    if not len(df):
        return
    for path in draw_figures(df, run_dir, with_theory):
        print(f"wrote {path}")
    if with_theory and (df.status == "ok").any():
        try:
            text = write_agreement(df, run_dir)
        except ValueError as err:  # several networks in one run: figures only
            print(f"no agreement report: {err}")
        else:
            print(text)
