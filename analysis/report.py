"""Text summaries of a run's dataset."""

from __future__ import annotations

import pandas as pd

G, ETA = "network.g", "network.eta"


def summary_table(df: pd.DataFrame) -> str:
    """Counts by status and state, and the state of each (g, eta) cell."""
    lines = [f"{len(df)} points: " + ", ".join(
        f"{n} {s}" for s, n in df.status.value_counts().sort_index().items())]
    ok = df[df.status == "ok"]
    if not ok.empty:
        lines.append("states: " + ", ".join(
            f"{s} {n}" for s, n in ok.state.value_counts().sort_index().items()))
        states = ok.groupby([ETA, G])["state"].agg(lambda s: "/".join(sorted(set(s))))
        grid = states.unstack(G).sort_index(ascending=False).fillna("-")
        grid.index = [f"eta={v:g}" for v in grid.index]
        grid.columns = [f"g={v:g}" for v in grid.columns]
        lines.append(grid.to_string())
        cols = ["rate_hz", "cv_isi", "chi", "osc_freq_hz", "run_s", "total_s"]
        lines.append(ok[[G, ETA, "replicate", "state", *cols]].to_string(
            index=False, float_format=lambda v: f"{v:.3g}"))
    failed = df[df.status != "ok"]
    for _, row in failed.iterrows():
        first = (row.error or "").strip().splitlines()
        lines.append(f"FAILED g={row[G]:g} eta={row[ETA]:g} ({row.point_id}): "
                     f"{first[-1] if first else '?'}")
    return "\n".join(lines)
