"""Figures from a run's ``results.parquet``: the phase diagram in the (g, eta) plane
and, for points whose spikes were saved, Brunel's Fig. 8 (raster and population rate)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.patches import Patch

from analysis.states import STATES

STATE_COLORS = {"quiescent": "#d9d9d9", "SR": "#d62728", "AR": "#ff9f40", "AI": "#2ca02c",
                "SI-fast": "#1f77b4", "SI-slow": "#9467bd", "failed": "#000000"}
G, ETA = "network.g", "network.eta"
DEVIATION_NOTE = "MOOSE LIF keeps input arriving during refractoriness (Brunel's drops it)"
FIG8_PANELS = {(3.0, 2.0): "A", (6.0, 4.0): "B", (5.0, 2.0): "C", (4.5, 0.9): "D"}


def _cells(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (g, eta): replicates averaged, the most frequent state kept."""
    ok = df[df.status == "ok"]
    numeric = ok.groupby([G, ETA])[["rate_hz", "cv_isi", "chi", "osc_freq_hz"]].mean()
    state = ok.groupby([G, ETA])["state"].agg(lambda s: s.value_counts().index[0])
    cells = numeric.join(state).reset_index()
    failed = df[df.status != "ok"].groupby([G, ETA]).size().rename("n_failed").reset_index()
    cells = cells.merge(failed, how="outer", on=[G, ETA])
    cells["n_failed"] = cells["n_failed"].fillna(0)
    cells["state"] = cells["state"].fillna("failed")
    return cells


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges halfway between sorted grid values (one cell of width 1 if alone)."""
    if values.size == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def _mesh(ax: plt.Axes, cells: pd.DataFrame, values: pd.Series, **kwargs):
    """Draw one cell per (g, eta) point; cells without a point stay blank."""
    gs, etas = np.sort(cells[G].unique()), np.sort(cells[ETA].unique())
    z = np.full((etas.size, gs.size), np.nan)
    z[np.searchsorted(etas, cells[ETA]), np.searchsorted(gs, cells[G])] = values
    return ax.pcolormesh(_edges(gs), _edges(etas), np.ma.masked_invalid(z), **kwargs)


def phase_diagram(df: pd.DataFrame, path: Path, title: str = "") -> Path:
    """States, rate, CV and synchrony over the (g, eta) plane."""
    cells = _cells(df)
    fig, axes = plt.subplots(2, 2, figsize=(11, 9), constrained_layout=True)
    names = [*STATES, "failed"]
    codes = cells["state"].map({s: i for i, s in enumerate(names)})
    ax = axes[0, 0]
    _mesh(ax, cells, codes, cmap=ListedColormap([STATE_COLORS[s] for s in names]),
          vmin=-0.5, vmax=len(names) - 0.5)
    present = [s for s in names if s in set(cells["state"])]
    ax.legend(handles=[Patch(color=STATE_COLORS[s], label=s) for s in present],
              loc="upper left", fontsize=8, framealpha=0.8)
    ax.set_title("state")
    panels = [(axes[0, 1], "rate_hz", "rate (Hz)", LogNorm()),
              (axes[1, 0], "cv_isi", "CV of ISI", None),
              (axes[1, 1], "chi", "synchrony chi (Golomb)", None)]
    for ax, column, label, norm in panels:
        values = cells[column].where(cells[column] > 0) if norm else cells[column]
        im = _mesh(ax, cells, values, norm=norm, cmap="viridis")
        fig.colorbar(im, ax=ax, label=label)
        ax.set_title(label)
    for ax in axes.flat:
        ax.set_xlabel("g (relative strength of inhibition)")
        ax.set_ylabel("η = ν_ext / ν_thr")
    fig.suptitle(f"{title}\n{DEVIATION_NOTE}", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig8(df: pd.DataFrame, run_dir: Path, path: Path, window_ms: float = 200.0,
         n_raster: int = 50) -> Path | None:
    """Raster of ``n_raster`` neurons and population rate over the last ``window_ms`` of
    each point with saved spikes (Brunel's Fig. 8). None if no spikes were saved."""
    rows = df[(df.status == "ok") & df.spikes_file.notna()]
    if rows.empty:
        return None
    # Brunel's panels first, in his order; any other point after them.
    panel = [FIG8_PANELS.get((r[G], r[ETA]), "") for _, r in rows.iterrows()]
    rows = rows.assign(panel=panel).sort_values(["panel", G, ETA], key=lambda s: s.replace(
        "", "~") if s.name == "panel" else s).reset_index(drop=True)
    fig, axes = plt.subplots(2 * ((len(rows) + 1) // 2), min(len(rows), 2), squeeze=False,
                             figsize=(12, 3.2 * ((len(rows) + 1) // 2)),
                             gridspec_kw={"height_ratios": [2, 1] * ((len(rows) + 1) // 2)},
                             constrained_layout=True)
    for k, row in rows.iterrows():
        spikes = np.load(Path(run_dir) / row.spikes_file)
        t_stop = row["sim.duration"]
        t0 = t_stop - window_ms
        times, ids = spikes["times"], spikes["ids"]
        keep = times >= t0
        raster, rate_ax = axes[2 * (k // 2), k % 2], axes[2 * (k // 2) + 1, k % 2]
        shown = keep & (ids < n_raster)
        raster.plot(times[shown], ids[shown], "k.", ms=2)
        raster.set_ylabel("neuron")
        raster.set_xlim(t0, t_stop)
        raster.set_title(f"{row.panel + ': ' if row.panel else ''}g={row[G]:g}, η={row[ETA]:g}: "
                         f"{row.state}, "
                         f"{row.rate_hz:.1f} Hz, CV {row.cv_isi:.2f}", fontsize=9)
        bin_ms = row["analysis.pop_bin"]
        bins = np.arange(t0, t_stop + 1e-9, bin_ms)
        counts, _ = np.histogram(times[keep], bins)
        rate_ax.plot(bins[:-1], counts / (row.N * bin_ms * 1e-3), lw=0.6)
        rate_ax.set_xlim(t0, t_stop)
        rate_ax.set_xlabel("time (ms)")
        rate_ax.set_ylabel("rate (Hz)")
    for ax in axes.flat[2 * len(rows):] if len(rows) % 2 else []:
        ax.axis("off")
    fig.suptitle(f"Brunel Fig. 8 (N={int(rows.N.iloc[0])}); {DEVIATION_NOTE}", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_figures(df: pd.DataFrame, run_dir: Path) -> list[Path]:
    """Every figure of a run, into ``run_dir``: phase_diagram.png (one per combination
    of any other swept setting), fig8.png when spikes were saved."""
    run_dir = Path(run_dir)
    config_cols = [c for c in df.columns if c.split(".")[0] in ("network", "sim", "analysis")]
    others = [c for c in config_cols if c not in (G, ETA) and df[c].nunique() > 1]
    out = []
    groups = df.groupby(others) if others else [((), df)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c}={v}" for c, v in zip(others, key, strict=True))
        name = "phase_diagram" + ("_" + label.replace(", ", "_") if label else "") + ".png"
        n = int(sub.N.iloc[0])
        title = f"N={n} (C_E={int(sub.C_E.iloc[0])}, J={sub['network.J'].iloc[0]} mV)" + (
            f"; {label}" if label else "")
        out.append(phase_diagram(sub, run_dir / name, title))
    f8 = fig8(df, run_dir, run_dir / "fig8.png") if "spikes_file" in df else None
    return out + ([f8] if f8 else [])
