"""Figures from a run's ``results.parquet``: the phase diagram in the (g, eta) plane
and, for points whose spikes were saved, Brunel's Fig. 8 (raster and population rate)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, LogNorm, TwoSlopeNorm
from matplotlib.patches import Patch

from analysis.agreement import cells as agreement_cells
from analysis.agreement import (
    lines_for,
    other_axes,
    plane_boundaries,
    sync_threshold,
    theory_grid,
)
from analysis.boundaries import LEVEL
from analysis.states import STATES
from analysis.stats import population_rate
from analysis.theory_lines import FIG2_AXES
from sweep.config import INHIBITORY
from sweep.grid import fig2_plane, fig8_panels
from sweep.rundir import RunDir, atomic_write
from sweep.storage import ETA, G

STATE_COLORS = {"quiescent": "#d9d9d9", "SR": "#d62728", "AR": "#ff9f40", "AI": "#2ca02c",
                "SI-fast": "#1f77b4", "SI-slow": "#9467bd", "failed": "#000000"}
NEURON_SHORT = "MOOSE, Brunel's neuron (input during refractoriness ignored)"


def _state_cmap(names: list[str]) -> ListedColormap:
    return ListedColormap([STATE_COLORS[s] for s in names])


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges halfway between sorted grid values (one cell of width 1 if alone)."""
    if values.size == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def _mesh(ax: plt.Axes, cells: pd.DataFrame, values: pd.Series, refined: bool = False,
          **kwargs):
    """Draw the points' values over the (g, eta) plane: a grid as one cell per point
    (cells without a point, e.g. in a run still in progress, stay blank); a refined
    sweep's points as the part of the plane nearer to each point than to any other
    (distances in units of the finest spacing of each axis), so that the points added
    along a boundary own cells as small as their spacing."""
    gs, etas = np.sort(cells[G].unique()), np.sort(cells[ETA].unique())
    if not refined:
        z = np.full((etas.size, gs.size), np.nan)
        z[np.searchsorted(etas, cells[ETA]), np.searchsorted(gs, cells[G])] = values
        return ax.pcolormesh(_edges(gs), _edges(etas), np.ma.masked_invalid(z), **kwargs)
    from scipy.spatial import cKDTree

    # A single value (a line along the other axis) gets a cell 1 wide, as in _edges.
    unit = np.array([np.diff(v).min() if v.size > 1 else 1.0 for v in (gs, etas)])
    pad = np.array([np.diff(v).max() / 2 if v.size > 1 else 0.5 for v in (gs, etas)])
    ex, ey = (np.arange(lo - p, hi + p + u / 8, u / 4) for lo, hi, p, u in
              ((gs[0], gs[-1], pad[0], unit[0]), (etas[0], etas[-1], pad[1], unit[1])))
    cx, cy = np.meshgrid((ex[1:] + ex[:-1]) / 2, (ey[1:] + ey[:-1]) / 2)
    tree = cKDTree(cells[[G, ETA]].to_numpy(dtype=float) / unit)
    nearest = tree.query(np.column_stack([cx.ravel(), cy.ravel()]) / unit)[1]
    z = np.asarray(values, dtype=float)[nearest].reshape(cx.shape)
    return ax.pcolormesh(ex, ey, np.ma.masked_invalid(z), **kwargs)


def _extent(cells: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
    """The plane drawn for ``cells``: half a grid step beyond the outer points."""
    out = []
    for axis in (G, ETA):
        v = np.sort(cells[axis].unique())
        pad = np.diff(v).max() / 2 if v.size > 1 else 0.5
        out.append((v[0] - pad, v[-1] + pad))
    return tuple(out)


JOIN = 0.5  # the farthest apart two located estimates are joined, in both coordinates


def draw_found(ax: plt.Axes, found: pd.DataFrame) -> None:
    """Located boundaries (``analysis.boundaries.locate``): each interval shaded along
    its axis, the estimates of one line joined along the other axis."""
    for i, (_, b) in enumerate(found.iterrows()):
        span = [b.ci_low, b.ci_high]
        xy = (span, [b[ETA]] * 2) if b.axis == G else ([b[G]] * 2, span)
        ax.plot(*xy, color="white", alpha=0.6, lw=5, solid_capstyle="butt",
                label=f"located boundary, {LEVEL:.0%} interval" if i == 0 else None)
    for (_, axis), sub in found.dropna(subset=["line"]).groupby(["line", "axis"]):
        other = ETA if axis == G else G
        sub = sub.sort_values([other, "estimate"])
        # A line runs through estimates on neighbouring rows (or columns) that lie close
        # together; a gap or a jump starts a new piece rather than a zig-zag across it.
        piece = (sub[other].diff().abs().gt(JOIN) | sub.estimate.diff().abs().gt(JOIN)
                 ).cumsum()
        for _, part in sub.groupby(piece):
            xy = (part.estimate, part[ETA]) if axis == G else (part[G], part.estimate)
            ax.plot(*xy, color="white", lw=1.2, marker="o", ms=2.5)


LINE_STYLE = {"SR": {"color": "black", "lw": 1.8},
              "SI-fast": {"color": "black", "lw": 1.8},
              "SI-slow": {"color": "black", "lw": 1.2},
              "onset": {"color": "black", "lw": 1.2, "ls": "--"},
              "balance": {"color": "0.4", "lw": 1.0, "ls": ":"}}


def draw_lines(ax: plt.Axes, lines: pd.DataFrame, legend: bool = False,
               axes: tuple[str, str] = FIG2_AXES) -> None:
    """The theory's boundaries (``analysis.theory_lines``) as lines in the plane of
    ``axes``."""
    for name, ln in lines.groupby("line", sort=False):
        ax.plot(ln[axes[0]], ln[axes[1]], label=f"theory: {name}", **LINE_STYLE.get(name, {}))
    if legend:
        ax.legend(loc="lower right", fontsize=7, framealpha=0.8)


def label_regions(ax: plt.Axes, lines: pd.DataFrame, gamma: float,
                  state_at: Callable[[float, float], str] | None = None) -> None:
    """Name the theory's regions, placed from its lines (Fig. 2's labels). With
    ``state_at(g, eta)``, each label is the theory's state at its place: a network
    whose regions are not model A's gets the names it has."""
    by = {name: ln for name, ln in lines.groupby("line")}
    g_bal = 1 / gamma
    kw = {"ha": "center", "va": "center", "fontsize": 11, "weight": "bold"}

    def text(g: float, eta: float, name: str, **style) -> None:
        name = state_at(g, eta).replace("-", " ") if state_at else name
        ax.text(g, eta, name, **{**kw, **style})

    if "SR" in by:
        text(by["SR"].g.min() - 0.6, 2.5, "SR")
        text((by["SR"].g.max() + g_bal) / 2, 3.5, "AR", fontsize=8)
    text((g_bal + 8) / 2 + 0.3, 1.6, "AI")
    if "SI-fast" in by:
        text(7.2, min(by["SI-fast"].eta.min() + 1.0, 3.8), "SI fast")
    if "onset" in by:
        text(6.5, by["onset"].eta.median() / 2, "Q")
    if "SI-slow" in by:
        band = by["SI-slow"]
        ax.annotate("SI slow", (band.g.mean(), band.eta.mean()), (band.g.mean() + 1.2, 0.35),
                    arrowprops={"arrowstyle": "->", "lw": 0.8}, fontsize=9, weight="bold")


def _against(ax: plt.Axes, merged: pd.DataFrame, x: str, y: str, log: bool) -> None:
    """Simulated ``y`` against the theory's ``x``, coloured by simulated state."""
    merged = merged[(merged[x] > 0) & (merged[y] > 0)]
    for state, sub in merged.groupby("state"):
        ax.scatter(sub[x], sub[y], color=STATE_COLORS.get(state, "k"), label=state,
                   edgecolor="k", lw=0.4)
    if len(merged):
        lo, hi = min(merged[x].min(), merged[y].min()), max(merged[x].max(), merged[y].max())
        lim = [lo * 0.8, hi * 1.2] if log else [0, hi * 1.1]
        ax.plot(lim, lim, "k--", lw=1)
    if log:
        ax.set(xscale="log", yscale="log")
    ax.legend(fontsize=7)


def phase_diagram(df: pd.DataFrame, path: Path, title: str = "",
                  theory_map: pd.DataFrame | None = None,
                  lines: pd.DataFrame | None = None, found: pd.DataFrame | None = None
                  ) -> Path:
    """States, rate, CV and the rhythm's envelope CV over the (g, eta) plane; with the
    theory (``theory_map`` from ``analysis.agreement.theory_grid``, ``lines`` from
    ``lines_for``): its lines on every map, its states, and the simulated rate and CV
    against the theory's; with ``found`` (a refined sweep's ``boundaries.parquet``),
    the located boundaries on the state map."""
    cells = agreement_cells(df)
    refined = found is not None
    ncols = 3 if theory_map is not None else 2
    fig, axes = plt.subplots(2, ncols, figsize=(5.5 * ncols, 9), constrained_layout=True)
    names = [*STATES, "failed"]
    codes = cells["state"].map({s: i for i, s in enumerate(names)})
    ax = axes[0, 0]
    _mesh(ax, cells, codes, refined, cmap=_state_cmap(names),
          vmin=-0.5, vmax=len(names) - 0.5)
    present = [s for s in names if s in set(cells["state"])]
    # An artist of its own, so that the theory's legend does not replace it.
    ax.add_artist(ax.legend(handles=[Patch(color=STATE_COLORS[s], label=s) for s in present],
                            loc="upper left", fontsize=8, framealpha=0.8))
    if refined:
        ax.plot(cells[G], cells[ETA], "k.", ms=2, label="simulated point")
    if "margin" in df and df.margin.notna().any():  # margins known: mark the undecided
        open_ = cells[cells.decided.eq(False)]
        ax.plot(open_[G], open_[ETA], "x", color="black", ms=4, mew=0.8,
                label="not decided (docs/states.md)")
    ax.set_title("simulated state (lines: theory)" if lines is not None else "simulated state")
    # Quiescent points (rates down to 1e-4 Hz) below the floor would stretch the
    # colour scale over decades nobody reads: they show in the "under" colour.
    q_rate = float(df["analysis.quiescent_rate"].iloc[0])
    rate_norm = LogNorm(vmin=q_rate, vmax=max(float(cells["rate_hz"].max()), 2 * q_rate))
    panels = [(axes[0, 1], "rate_hz", "rate (Hz)", rate_norm, "viridis"),
              (axes[1, 0], "cv_isi", "CV of ISI", None, "viridis"),
              (axes[1, 1], "env_cv", "envelope CV of the population rhythm "
               "(synchronous below the threshold)", None, "coolwarm_r")]
    if theory_map is not None:
        panels[1:] = [(axes[0, 2], *panels[2][1:])]
    sync = sync_threshold(df)
    panels[-1] = (*panels[-1][:3], TwoSlopeNorm(sync, 0.0, 2 * sync), panels[-1][4])
    for ax, column, label, norm, cmap in panels:
        values = cells[column]
        if norm is rate_norm:
            values = values.clip(lower=0.5 * q_rate)  # NaN-free: "under", not blank
            cmap = plt.get_cmap(cmap).with_extremes(under="0.85")
        im = _mesh(ax, cells, values, refined, norm=norm, cmap=cmap)
        fig.colorbar(im, ax=ax, label=label.split(" (")[0],
                     extend="min" if norm is rate_norm else "neither")
        ax.set_title(label, fontsize=9)
    plane = [axes[0, 0], *[p[0] for p in panels]]
    if theory_map is not None:
        inside = theory_map[theory_map.g.between(cells[G].min(), cells[G].max()) &
                            theory_map.eta.between(cells[ETA].min(), cells[ETA].max())]
        ax = axes[1, 0]
        _mesh(ax, inside.rename(columns={"g": G, "eta": ETA}),
              inside["state"].map({s: i for i, s in enumerate(names)}), refined,
              cmap=_state_cmap(names), vmin=-0.5, vmax=len(names) - 0.5)
        for state, sub in inside.groupby("state"):
            # On the state's own cell nearest its centre: a region may not be convex.
            at = sub.iloc[int(np.argmin(np.hypot(sub.g - sub.g.mean(),
                                                 sub.eta - sub.eta.mean())))]
            ax.text(at.g, at.eta, state, ha="center", va="center", fontsize=8, alpha=0.7)
        ax.set_title("theory's state at each point, and its lines")
        plane.append(ax)
        merged = cells.merge(theory_map, left_on=[G, ETA], right_on=["g", "eta"],
                             suffixes=("", "_theory"))
        _against(axes[1, 1], merged, "nu0", "rate_hz", log=True)
        axes[1, 1].set(xlabel="theory ν0 (Hz)", ylabel="simulated rate (Hz)",
                       title="rate against the mean-field ν0")
        _against(axes[1, 2], merged, "cv", "cv_isi", log=False)
        axes[1, 2].set(xlabel="theory's CV of ISI (white-noise input)",
                       ylabel="simulated CV of ISI", title="CV against the theory's")
    if found is not None:
        draw_found(axes[0, 0], found)
    if lines is not None:
        for ax in plane:
            draw_lines(ax, lines, legend=ax is axes[0, 0])
            ax.set(xlim=_extent(cells)[0], ylim=_extent(cells)[1])
    for ax in plane:
        ax.set_xlabel("g (relative strength of inhibition)")
        ax.set_ylabel("η = ν_ext / ν_thr")
    fig.suptitle(f"{title}\n{NEURON_SHORT}", fontsize=10)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def fig8(df: pd.DataFrame, run_dir: Path, path: Path, window_ms: float = 200.0,
         n_raster: int = 50) -> Path | None:
    """Brunel's Fig. 8: raster of ``n_raster`` neurons and population rate over the last
    ``window_ms`` of four points with saved spikes: Fig. 8's own four (conf/grid/fig8.yaml)
    where the run has them, else one point per state, at most four; each point's lowest
    replicate. None if no spikes were saved."""
    rows = df[(df.status == "ok") & df.spikes_file.notna()]
    # Parts copied from another run directory may name spikes left behind there.
    rows = rows[[(Path(run_dir) / f).exists() for f in rows.spikes_file]]
    if rows.empty:
        return None
    # Networks that differ in their inhibitory neurons are different points at one (g, eta).
    networks = [f"network.{k}" for k in INHIBITORY
                if f"network.{k}" in rows and rows[f"network.{k}"].notna().any()]
    panels = fig8_panels() if not networks else {}
    panel = [panels.get((r[G], r[ETA]), "") for _, r in rows.iterrows()]
    rows = (rows.assign(panel=panel).sort_values("replicate", kind="stable")
            .drop_duplicates([G, ETA, *networks]))
    own = rows[rows.panel != ""]
    # Brunel's panels in his order where the run has them; else one point per state
    # first, then other points, at most four.
    rows = (own.sort_values("panel") if len(own) else
            rows.sort_values([G, ETA]).assign(new=lambda r: ~r.duplicated("state"))
            .sort_values("new", ascending=False, kind="stable").head(4)).reset_index(drop=True)
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
        which = "".join(f", {k.split('.')[1]}={row[k]:g}" for k in networks if pd.notna(row[k]))
        raster.set_title(f"{row.panel + ': ' if row.panel else ''}g={row[G]:g}, η={row[ETA]:g}"
                         f"{which}: {row.state}, "
                         f"{row.rate_hz:.1f} Hz, CV {row.cv_isi:.2f}", fontsize=9)
        bin_ms = row["analysis.pop_bin"]
        pop = population_rate(times, ids, row.N, t0, t_stop, bin_ms)
        rate_ax.plot(t0 + bin_ms * np.arange(pop.size), pop, lw=0.6)
        rate_ax.set_xlim(t0, t_stop)
        rate_ax.set_xlabel("time (ms)")
        rate_ax.set_ylabel("rate (Hz)")
    for ax in axes.flat[2 * len(rows):] if len(rows) % 2 else []:
        ax.axis("off")
    name = "Brunel Fig. 8" if len(own) else "rasters and population rates"
    fig.suptitle(f"{name} (N={int(rows.N.iloc[0])}); {NEURON_SHORT}", fontsize=10)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def draw_figures(df: pd.DataFrame, run_dir: Path, with_theory: bool = True) -> list[Path]:
    """Every figure of a run, into ``run_dir``: phase_diagram.png (one per combination
    of any other swept setting; with ``with_theory``, Brunel's theory for each network
    overlaid), fig8.png when spikes were saved."""
    run_dir = Path(run_dir)
    others = other_axes(df)
    out = []
    groups = df.groupby(others, dropna=False) if others else [((), df)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c}={v}" for c, v in zip(others, key, strict=True))
        n = int(sub.N.iloc[0])
        inhibitory = [f"{k}={sub[f'network.{k}'].iloc[0]:g}" for k in INHIBITORY
                      if pd.notna(sub[f"network.{k}"].iloc[0])]
        title = f"N={n} (C_E={int(sub.C_E.iloc[0])}, J={sub['network.J'].iloc[0]} mV)" + (
            f"; {label}" if label else "") + (
            f"; I neurons: {', '.join(inhibitory)}" if inhibitory else "")
        theory_map = lines = None
        if with_theory and len(sub[sub.status == "ok"]):
            cache = run_dir if not others else None
            theory_map, lines = theory_grid(sub, cache), lines_for(sub, cache)
        path = RunDir(run_dir).phase_diagram(label.replace(", ", "_"))
        found = plane_boundaries(sub, run_dir) if not others else None
        out.append(phase_diagram(sub, path, title, theory_map, lines, found))
    f8 = fig8(df, run_dir, RunDir(run_dir).fig8) if "spikes_file" in df else None
    return out + ([f8] if f8 else [])


def theory_figure(lines: pd.DataFrame, params, path: Path,
                  state_at: Callable[[float, float], str] | None = None,
                  axes: tuple[str, str] = FIG2_AXES, plane=None,
                  held: tuple[float, float] | None = None) -> Path:
    """Brunel's Fig. 2 from the theory alone: the boundaries in the (g, eta) plane with
    the regions named (by ``state_at``, see ``label_regions``), and the frequency of
    the mode that becomes unstable on each. On another plane (``axes``, ``plane`` their
    ranges, g and eta ``held`` where they are not axes) the lines are named by the
    legend only: the labels' places are Fig. 2's."""
    fig, panels = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True,
                               gridspec_kw={"width_ratios": [3, 2]})
    ax = panels[0]
    draw_lines(ax, lines, legend=True, axes=axes)
    fig2 = axes == FIG2_AXES
    names = {"g": "g (relative strength of inhibition)", "eta": "ν_ext / ν_thr"}
    if fig2:
        label_regions(ax, lines, params.gamma, state_at)
        g_range, (_, eta_max) = fig2_plane()
        ax.set(xlim=g_range, ylim=(0, eta_max), title="phase diagram (Fig. 2A)")
    else:  # each line named at its middle: Fig. 2's region labels have no place here
        for name, ln in lines[lines.line != "balance"].groupby("line", sort=False):
            mid = ln.iloc[len(ln) // 2]
            ax.annotate(name.replace("-", " "), (mid[axes[0]], mid[axes[1]]), (4, 4),
                        textcoords="offset points", fontsize=9, weight="bold")
        ax.set(xlim=plane[0], ylim=plane[1], title=f"the theory's lines on the ({axes[0]}, "
               f"{axes[1]}) plane")
    ax.set(xlabel=names.get(axes[0], axes[0]), ylabel=names.get(axes[1], axes[1]))
    ax = panels[1]
    for name, ln in lines.dropna(subset=["f_hz"]).groupby("line", sort=False):
        ax.plot(ln[axes[0]], ln.f_hz, "o-", ms=3, label=name, **{k: v for k, v in
                LINE_STYLE.get(name, {}).items() if k != "color"})
    ax.set(yscale="log", xlabel=axes[0], ylabel="frequency at the instability (Hz)",
           title="frequency of the unstable mode on each line")
    ax.legend(fontsize=8)
    fixed = "".join(f", {k}={v:g}" for k, v in zip(FIG2_AXES, held or (), strict=True)
                    if not fig2 and k not in axes)
    fig.suptitle(f"Brunel (2000) theory, C_E={params.C_E}, γ={params.gamma:g}, J={params.J} mV, "
                 f"D={params.D} ms, θ={params.theta} mV, V_r={params.V_r} mV, τ={params.tau} ms, "
                 f"τ_rp={params.tau_rp} ms" + "".join(
                     f", {k}={getattr(params, k):g}" for k in INHIBITORY
                     if getattr(params, k) is not None) + fixed, fontsize=10)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path
