"""How far a simulated phase diagram is from Brunel's theory for the same network.

The theory is evaluated (``analysis.theory.predict``) at every simulated (g, eta),
and its boundaries are computed as lines
(``analysis.theory_lines``), both for the network's own C_E, gamma, J, D, theta, V_r,
tau and tau_rp and cached beside the results (``theory.parquet``,
``theory_lines.parquet``). A point is "far from a boundary" when no theoretical line
passes within one grid step of it in g and in eta.
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.boundaries import LEVEL, locate
from analysis.sequential import confidence_bar
from analysis.states import MEASURES, line_between, point_decision
from analysis.theory import Params, cached, code_version, state_map
from analysis.theory_lines import theory_lines
from sweep.config import INHIBITORY, POINT_GROUPS, AnalysisConfig, ConfidenceConfig
from sweep.grid import fig2_plane
from sweep.model import NEURON_RULE_NOTE
from sweep.rundir import RunDir, atomic_write, write_text
from sweep.storage import ETA, G, row_config

NETWORK_KEYS = ("N_E", "N_I", "epsilon", "J", "D", "theta", "V_r", "tau", "tau_rp",
                *INHIBITORY)


def network_params(df: pd.DataFrame) -> Params:
    """The theory's parameters of the (single) network simulated in ``df``."""
    if len(df[[f"network.{k}" for k in NETWORK_KEYS]].drop_duplicates()) != 1:
        raise ValueError("the rows simulate more than one network; compare them one at a time")
    return Params.from_config(row_config(df.iloc[0].to_dict()).network)


def _cached(path: Path | None, key: str, compute) -> pd.DataFrame:
    """``compute()``, or the table stored at ``path`` under the same ``key``."""
    if path and path.exists():
        cached = pd.read_parquet(path)
        if cached.attrs.get("key") == key:
            return cached
    out = compute()
    out.attrs["key"] = key
    if path:
        atomic_write(path, out.to_parquet)
    return out


def theory_grid(df: pd.DataFrame, run_dir: Path | None = None, jobs: int = -1) -> pd.DataFrame:
    """Theory at every simulated (g, eta): state, nu0, f_unstable, margin, cv, bistable."""
    p = network_params(df)
    th = df.iloc[0]
    f_fast, q_rate = th["analysis.f_fast"], th["analysis.quiescent_rate"]
    pairs = sorted({(round(float(g), 10), round(float(e), 10))
                    for g, e in zip(df[G], df[ETA], strict=True)})
    key = repr((p, f_fast, q_rate, code_version(), pairs))
    return _cached(RunDir(run_dir).theory if run_dir else None, key,
                   lambda: cached(state_map)(p, pairs, f_fast, q_rate, jobs=jobs,
                                             code=code_version()))


def lines_for(df: pd.DataFrame, run_dir: Path | None = None, jobs: int = -1) -> pd.DataFrame:
    """The theory's boundaries (``analysis.theory_lines``) for the network of ``df``, over
    Fig. 2's plane widened to the simulated grid."""
    p = network_params(df)
    q_rate = df.iloc[0]["analysis.quiescent_rate"]
    (g0, g1), (e0, e1) = fig2_plane()
    plane = ((float(min(g0, df[G].min())), float(max(g1, df[G].max()))),
             (float(min(e0, df[ETA].min())), float(max(e1, df[ETA].max()))))
    key = repr((p, q_rate, plane, code_version()))
    return _cached(RunDir(run_dir).theory_lines if run_dir else None, key,
                   lambda: cached(theory_lines)(p, q_rate, plane, jobs=jobs,
                                                code=code_version()))


def grid_step(values: np.ndarray) -> float:
    """The smallest spacing of a grid axis (0.5 for a single value)."""
    values = np.unique(values)
    return float(np.min(np.diff(values))) if values.size > 1 else 0.5


def _dense(lines: pd.DataFrame, per_segment: int = 50) -> np.ndarray:
    """Points along every line, ``per_segment`` per segment: (n, 2) of (g, eta)."""
    out = []
    for _, ln in lines.groupby("line", sort=False):
        xy = ln[["g", "eta"]].to_numpy()
        out.append(xy)
        for a, b in pairwise(xy):
            out.append(a + np.linspace(0, 1, per_segment)[:, None] * (b - a))
    return np.concatenate(out) if out else np.empty((0, 2))


def near_line(g: np.ndarray, eta: np.ndarray, lines: pd.DataFrame, dg: float, de: float
              ) -> np.ndarray:
    """Whether a theoretical line passes within (dg, de) of each point (g, eta)."""
    dense = _dense(lines)
    g, eta = np.atleast_1d(g)[:, None], np.atleast_1d(eta)[:, None]
    return ((np.abs(g - dense[:, 0]) <= dg + 1e-9)
            & (np.abs(eta - dense[:, 1]) <= de + 1e-9)).any(axis=1)


def compare(df: pd.DataFrame, theory_map: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Per simulated point (status ok): its theory state, rates (``nu0`` over all neurons,
    what ``rate_hz`` measures; ``nu0_E`` and ``nu0_I`` per population, equal in model A),
    CV, whether a quiescent state coexists in the theory (``bistable``), and whether it
    is far from a theoretical line (more than one grid step in g or in eta)."""
    at = theory_map.set_index(["g", "eta"])
    ok = df[df.status == "ok"].reset_index(drop=True)
    keys = list(zip(np.round(ok[G], 10), np.round(ok[ETA], 10), strict=True))
    theory = at.reindex(pd.MultiIndex.from_tuples(keys, names=["g", "eta"]))
    near = near_line(ok[G].to_numpy(), ok[ETA].to_numpy(), lines,
                     grid_step(df[G].to_numpy()), grid_step(df[ETA].to_numpy()))
    nu_e = theory.nu0.to_numpy()
    nu_i = theory.nu0_I.to_numpy() if "nu0_I" in theory else nu_e  # model A's map: one rate
    nu0 = nu_e
    if not np.array_equal(nu_e, nu_i, equal_nan=True):  # the mean over all neurons
        n_e, n_i = ok["network.N_E"].to_numpy(), ok["network.N_I"].to_numpy()
        nu0 = (n_e * nu_e + n_i * nu_i) / (n_e + n_i)
    return pd.concat([ok, pd.DataFrame({
        "theory_state": theory.state.to_numpy(), "nu0": nu0,
        "nu0_E": nu_e, "nu0_I": nu_i,
        "cv_theory": theory.cv.to_numpy(), "bistable": theory.bistable.to_numpy(),
        "far": ~near})], axis=1)


def confidence_z(df: pd.DataFrame) -> float:
    """The margin a point of ``df`` needs to be decided: the bar
    (``analysis.sequential.confidence_bar``) of the run's ``grid.confidence``, which
    ``sweep.storage.load`` keeps in ``df.attrs``, else of the default."""
    return confidence_bar(df.attrs.get("confidence", ConfidenceConfig()))


def _thresholds(df: pd.DataFrame) -> AnalysisConfig:
    """The analysis settings the rows were classified with (defaults for any absent)."""
    first = df.iloc[0] if len(df) else {}
    return AnalysisConfig(**{f.name: type(f.default)(first[f"analysis.{f.name}"])
                             for f in dataclasses.fields(AnalysisConfig)
                             if f"analysis.{f.name}" in first})


def point_decisions(df: pd.DataFrame) -> pd.DataFrame:
    """Per (g, eta) with a finished replicate: ``state`` and ``decided`` from all its
    replicates' pooled measures (``analysis.states.point_decision``; a standard error
    a dataset lacks counts as unknown), and ``replicates``, how many finished. A point
    with one replicate keeps the state it was classified with (its pooled measures
    are its own)."""
    ok = df[df.status == "ok"]
    measures = ok.reindex(columns=list(MEASURES)).astype(float)
    margin = ok.reindex(columns=["margin"]).margin.astype(float)
    th, z = _thresholds(ok), confidence_z(df)
    rows = []
    for (g, e), index in ok.groupby([G, ETA]).groups.items():
        if len(index) == 1:
            state, decided = ok.state[index[0]], bool(margin[index[0]] >= z)
        else:
            state, decided, _ = point_decision(measures.loc[index].to_dict("records"), th, z)
        rows.append((g, e, state, decided, len(index)))
    return pd.DataFrame(rows, columns=[G, ETA, "state", "decided", "replicates"])


def cells(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (g, eta): replicates averaged, the state over them
    (``point_decisions``), points without a finished replicate as state "failed"."""
    ok = df[df.status == "ok"]
    stats = [c for c in ("rate_hz", "cv_isi", "chi", "env_cv") if c in ok]
    numeric = ok.groupby([G, ETA])[stats].mean().reset_index()
    out = numeric.merge(point_decisions(df), on=[G, ETA])
    failed = df.loc[df.status != "ok", [G, ETA]].drop_duplicates()
    out = out.merge(failed, how="outer", on=[G, ETA])
    out["state"] = out["state"].fillna("failed")
    return out


def _on_line(ln: pd.DataFrame, along: str, value: float, other: str) -> list[float]:
    """Where the polyline ``ln`` crosses ``along`` = value: the ``other`` coordinate."""
    xy = ln[[along, other]].to_numpy()
    hits = []
    for (a0, b0), (a1, b1) in pairwise(xy):
        if min(a0, a1) <= value <= max(a0, a1) and a0 != a1:
            hits.append(float(b0 + (value - a0) / (a1 - a0) * (b1 - b0)))
    if len(xy) == 1 or (len(hits) == 0 and np.isclose(xy[:, 0], value).any()):
        hits += [float(b) for a, b in xy if np.isclose(a, value)]
    return sorted(set(round(h, 4) for h in hits))


def boundary_positions(df: pd.DataFrame, lines: pd.DataFrame) -> list[str]:
    """Each theoretical line against the simulated transition across it: per grid
    column (g fixed; SI-fast, SI-slow, onset) or row (eta fixed; SR), the simulated
    values between which the state changes, and where the line crosses."""
    c = cells(df)
    out = []
    specs = (("SR", ETA, G, "SR"), ("SI-fast", G, ETA, "SI-fast"),
             ("SI-slow", G, ETA, "SI-slow"), ("onset", G, ETA, "quiescent"))
    for name, fixed, free, state in specs:
        ln = lines[lines.line == name].rename(columns={"g": G, "eta": ETA})
        if ln.empty:
            continue
        parts = []
        for value, sub in c.groupby(fixed):
            sub = sub.sort_values(free)
            inside = (sub.state == state).to_numpy()
            theory = _on_line(ln, fixed, value, free)
            if not inside.any() and not theory:
                continue
            axis, other = fixed.split(".")[1], free.split(".")[1]
            where = ", ".join(f"{x:g}" for x in sub[free][inside]) or "none"
            line_at = (f"crosses at {other} = {', '.join(f'{x:.3g}' for x in theory)}"
                       if theory else "does not cross it")
            parts.append(f"{axis}={value:g}: {state} simulated at {other} = {where}; "
                         f"the theory's line {line_at}")
        if parts:
            out += [f"{name} line:", *[f"  {p}" for p in parts]]
    return out


_SHORT = {G: "g", ETA: "eta"}
_SYNC_LINES = ("SI-fast", "SI-slow")  # their states are the classifier's envelope-CV call


def sync_threshold(df: pd.DataFrame) -> float:
    """The envelope-CV threshold the run's states were classified with."""
    column = "analysis.sync_env_cv"
    return float(df[column].iloc[0]) if column in df and len(df) else \
        AnalysisConfig().sync_env_cv
def distance_to(ln: pd.DataFrame, g: float, eta: float) -> float:
    """The shortest distance in the (g, eta) plane from (g, eta) to the polyline ``ln``."""
    xy = ln[["g", "eta"]].to_numpy(dtype=float)
    p = np.array([g, eta])
    if len(xy) == 1:
        return float(np.hypot(*(p - xy[0])))
    a, b = xy[:-1], xy[1:]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-300), 0, 1)
    return float(np.hypot(*(p - (a + t[:, None] * ab)).T).min())


def other_axes(df: pd.DataFrame) -> list[str]:
    """The point settings other than g and eta that vary in ``df``; unset (null, e.g.
    model A's ``network.tau_I``) is a value of its own, so model A and a two-population
    network are two networks, never pooled."""
    return [c for c in df.columns if c.split(".")[0] in POINT_GROUPS and c not in (G, ETA)
            and df[c].nunique(dropna=False) > 1]


def plane_boundaries(df: pd.DataFrame, run_dir: Path) -> pd.DataFrame | None:
    """A refined run's ``boundaries.parquet`` when it is one (g, eta) plane: its
    brackets along g or eta, each with both coordinates, located with an interval
    (``analysis.boundaries.locate``); None otherwise (no refinement, other settings
    swept, or other axes refined)."""
    path = RunDir(run_dir).boundaries
    if not path.exists() or other_axes(df):
        return None
    found = pd.read_parquet(path)
    found = found[found.axis.isin([G, ETA])].copy()
    for axis in (G, ETA):
        if axis not in found:  # an axis that was not swept: its one value
            found[axis] = float(df[axis].iloc[0])
    return locate(found, df)


def located_boundaries(found: pd.DataFrame, lines: pd.DataFrame,
                       df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Located boundaries (``plane_boundaries``) with, for each, the theory's line
    between its two states, where that line crosses the bracket's row or column
    (``theory_at``, the crossing nearest the bracket; NaN if it does not cross it), the
    distance from the bracket's midpoint to the line's curve (``distance``) and from
    the located estimate (``estimate_distance``), and whether the estimate's interval
    contains ``theory_at`` (``covers``); with the
    run's dataset ``df``, the envelope CV at either end (``env_cv_low``,
    ``env_cv_high``): how far each side is from the synchrony threshold."""
    if "estimate" not in found:  # brackets that were never located: the bracket it is
        found = found.assign(estimate=found.midpoint, ci_low=found.low, ci_high=found.high,
                             method="bracket")
    env = cells(df).set_index([G, ETA]).env_cv if df is not None else None
    columns = ["line", "theory_at", "distance", "estimate_distance", "covers",
               *(["env_cv_low", "env_cv_high"] if env is not None else [])]
    rows = []
    for _, b in found.iterrows():
        name = line_between(b.from_state, b.to_state)
        ln = lines[lines.line == name]
        other = ETA if b.axis == G else G
        mid = {b.axis: b.midpoint, other: b[other]}
        at, dist = np.nan, np.nan
        if not ln.empty:
            named = ln.rename(columns={"g": G, "eta": ETA})
            hits = _on_line(named, other, b[other], b.axis)
            at = min(hits, key=lambda h: abs(h - b.midpoint)) if hits else np.nan
            dist = distance_to(ln, mid[G], mid[ETA])
        est = {b.axis: b.estimate, other: b[other]}
        row = {"line": name, "theory_at": at, "distance": dist,
               "estimate_distance": distance_to(ln, est[G], est[ETA]) if not ln.empty
               else np.nan,
               "covers": bool(b.ci_low <= at <= b.ci_high) if np.isfinite(at) else False}
        if env is not None:
            for end in ("low", "high"):
                at_end = {b.axis: b[end], other: b[other]}
                row[f"env_cv_{end}"] = env.get((at_end[G], at_end[ETA]), np.nan)
        rows.append(row)
    return pd.concat([found.reset_index(drop=True).drop(columns="line", errors="ignore"),
                      pd.DataFrame(rows, columns=columns)], axis=1)


def boundary_report(located: pd.DataFrame, within: float = 0.25,
                    threshold: float | None = None) -> list[str]:
    """Per theoretical line, how many located boundaries lie within ``within`` of it
    (with the envelope CV ``threshold``, for the synchronous lines, how close the
    farther ones' sides are to it: the classifier's margin); then every located
    boundary."""
    lines = [f"located boundaries (grid.refine): {len(located)}; distance from each "
             f"bracket's midpoint to the theory's line between its two states"]
    if located.empty:
        return lines
    for name, sub in located.dropna(subset=["line"]).groupby("line"):
        if sub.distance.isna().all():
            lines.append(f"  {name}: {len(sub)} located; the theory has no {name} line in "
                         "the plane for this network")
            continue
        close = (sub.distance <= within).sum()
        lines.append(f"  {name}: brackets {close}/{len(sub)} within {within:g}, median "
                     f"distance {sub.distance.median():.3f}, max {sub.distance.max():.3f}")
        located_ok = (sub.estimate_distance <= within) | sub.covers
        lines.append(f"    estimates within {within:g} or their {LEVEL:.0%} interval "
                     f"containing the line: {located_ok.sum()}/{len(sub)} "
                     f"({located_ok.mean():.0%}); estimates within {within:g}: "
                     f"{(sub.estimate_distance <= within).sum()}, intervals containing it: "
                     f"{sub.covers.sum()}; median estimate distance "
                     f"{sub.estimate_distance.median():.3f}, median interval "
                     f"{(sub.ci_high - sub.ci_low).median():.3f} wide; by "
                     + ", ".join(f"{m} {n}" for m, n in sub.method.value_counts().items()))
        far = sub[sub.distance > within]
        if (name in _SYNC_LINES and "env_cv_low" in sub and len(far)
                and threshold is not None):
            margin = pd.concat([far.env_cv_low, far.env_cv_high]).sub(threshold).abs()
            lines.append(f"    the {len(far)} farther: envelope CV within 0.05 of the "
                         f"threshold {threshold:g} on {(margin <= 0.05).mean():.0%} of their "
                         f"sides, within 0.10 on {(margin <= 0.10).mean():.0%}")
    if located.line.isna().any():
        pairs = located[located.line.isna()].apply(
            lambda r: f"{r.from_state}->{r.to_state}", axis=1).value_counts()
        lines.append("  no theoretical line between: " + ", ".join(
            f"{p} ({n})" for p, n in pairs.items()))
    for _, b in located.sort_values(["line", "axis", G, ETA], na_position="last").iterrows():
        other = ETA if b.axis == G else G
        theory = (f"line {b.line} at {b.theory_at:.3f}" if pd.notna(b.theory_at) else
                  "no line" if pd.isna(b.line) else f"no {b.line} line" if pd.isna(b.distance)
                  else f"line {b.line} does not cross here")
        dist = f", distance {b.distance:.3f}" if pd.notna(b.distance) else ""
        dist += (f"; located at {b.estimate:.3f} [{b.ci_low:.3f}, {b.ci_high:.3f}] "
                 f"({b.method})")
        if "env_cv_low" in b and b.line in _SYNC_LINES:
            dist += f"; envelope CV {b.env_cv_low:.2f} -> {b.env_cv_high:.2f}"
        lines.append(f"  {_SHORT[other]}={b[other]:g}: {b.from_state} -> {b.to_state} "
                     f"between {_SHORT[b.axis]} {b.low:g} and {b.high:g} (round {b['round']}); "
                     f"{theory}{dist}")
    return lines


def _scores(far: pd.DataFrame, state: str, rate: str, cv: str) -> list[str]:
    """State agreement per theory state and the AI-region rate and CV, for one model's
    columns (``state``, ``rate``, ``cv``) of the far points."""
    quiet = far.bistable & (far[state] == "quiescent")
    match = (far[state] == far.theory_state) | quiet
    lines = [f"state agreement, far points: {match.mean():.0%} ({match.sum()}/{len(far)})"]
    for s, sub in far.groupby("theory_state"):
        lines.append(f"  theory {s}: {(sub[state] == s).sum()}/{len(sub)} simulated as {s}")
    if quiet.any():
        lines.append(f"  quiescent where the theory has a stable quiescent state beside the "
                     f"active one (bistable; a network started below threshold stays "
                     f"there): {quiet.sum()}")
    ai = far[(far.theory_state == "AI") & (far.nu0 > 0)]
    if len(ai):
        err = ai[rate] / ai.nu0 - 1
        lines.append(f"rate vs nu0 in the AI region ({len(ai)} far points): "
                     f"mean {err.mean():+.1%}, median |error| {err.abs().median():.1%}, "
                     f"max |error| {err.abs().max():.1%}")
        lines.append(f"CV of ISIs in the AI region: median {ai[cv].median():.2f}, the "
                     f"theory's (Poisson inputs) {ai.cv_theory.median():.2f}")
    two = far[(far.nu0_E != far.nu0_I) & (far.theory_state.isin(["AI", "AR"]))]
    for pop in ("E", "I") if len(two) and "rate_E_hz" in far else ():
        err = two[f"rate_{pop}_hz"] / two[f"nu0_{pop}"] - 1
        lines.append(f"  {pop} neurons' rate vs the theory's in the asynchronous region "
                     f"({len(two)} far points): mean {err.mean():+.1%}, median |error| "
                     f"{err.abs().median():.1%}, max |error| {err.abs().max():.1%}")
    return lines


def by_point(cmp: pd.DataFrame) -> pd.DataFrame:
    """One row per (g, eta): over replicates the state (``point_decisions``) and the mean
    rate and CV (``compare``'s other columns are the point's, the same for each)."""
    if not cmp.duplicated([G, ETA]).any():
        return cmp
    how = {c: "first" for c in cmp.columns if c not in (G, ETA, "state")}
    how.update({c: "mean" for c in ("rate_hz", "cv_isi", "rate_E_hz", "rate_I_hz")
                if c in cmp})
    out = cmp.groupby([G, ETA], as_index=False).agg(how)
    return out.merge(point_decisions(cmp)[[G, ETA, "state"]], on=[G, ETA])


def model_scores(cmp: pd.DataFrame, model: str) -> list[str]:
    """Matches per theory state among points far from a boundary, the AI-region rate and
    CV, and the points that disagree, for the simulation ``model`` of ``cmp``; a point
    with replicates counts once, with its state from their pooled measures (``by_point``)."""
    runs = cmp.groupby([G, ETA]).size()
    cmp = by_point(cmp)
    far = cmp[cmp.far]
    repeated = (f"; {(runs > 1).sum()} with replicates, counted once by their pooled "
                f"state" if (runs > 1).any() else "")
    lines = [f"theory vs simulation ({len(cmp)} points, {len(far)} farther than one grid step "
             f"from a theoretical boundary{repeated})"]
    every = (cmp.state == cmp.theory_state) | (cmp.bistable & (cmp.state == "quiescent"))
    lines += [f"{model}:", f"every point (near lines too) in the theory's state: "
              f"{every.mean():.0%} ({every.sum()}/{len(cmp)})",
              *(_scores(far, "state", "rate_hz", "cv_isi") if len(far) else
                ["  no point is farther than one grid step from every line"])]
    wrong = (far.state != far.theory_state) & ~(far.bistable & (far.state == "quiescent"))
    for _, r in far[wrong].iterrows():
        lines.append(f"  disagree: g={r[G]:g} eta={r[ETA]:g}: theory {r.theory_state}, "
                     f"simulated {r.state} ({r.rate_hz:.1f} Hz, CV {r.cv_isi:.2f})")
    return lines


def agreement_text(cmp: pd.DataFrame, lines: pd.DataFrame,
                   reference: pd.DataFrame | None = None,
                   found: pd.DataFrame | None = None) -> str:
    """The agreement report of a MOOSE run (``model_scores``), with the neuron rule that
    produced it; the simulated transitions against the theory's lines: a refined
    sweep's located boundaries (``found``, its ``boundaries.parquet``), else along the
    grid's rows and columns. With ``reference`` (``sweep.reference.reference_run``:
    the same points simulated by the numpy reference of Brunel's neuron), how far
    MOOSE is from it."""
    where = (boundary_report(located_boundaries(found, lines, cmp),
                             threshold=sync_threshold(cmp))
             if found is not None else boundary_positions(cmp, lines))
    text = [*model_scores(cmp, "MOOSE"), *where, f"neuron rule: {NEURON_RULE_NOTE}"]
    if reference is None:
        text.append("numpy reference on the same instances: not run "
                    "(brunel-reference run RUN_DIR)")
        return "\n".join(text)
    ref = cmp.merge(reference, on="point_id", suffixes=("", "_reference"))
    diff = ref.rate_hz / ref.rate_hz_reference - 1
    text.append(f"MOOSE vs the numpy reference of Brunel's neuron on the same instances "
                f"({len(ref)} points): same rate at {(diff == 0).sum()}, max |rate "
                f"difference| {diff.abs().max():.2%}; "
                f"{(ref.state != ref.state_reference).sum()} points change state")
    return "\n".join(text)


def write_agreement(df: pd.DataFrame, run_dir: Path) -> str:
    """Compute (or load) the theory, write ``agreement.txt`` beside the results."""
    lines = lines_for(df, run_dir)
    ref_path = RunDir(run_dir).reference
    reference = pd.read_parquet(ref_path) if ref_path.exists() else None
    found = plane_boundaries(df, run_dir)
    text = agreement_text(compare(df, theory_grid(df, run_dir), lines), lines, reference,
                          found)
    write_text(RunDir(run_dir).agreement, text + "\n")
    return text
