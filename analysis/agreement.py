"""How far a simulated phase diagram is from Brunel's theory for the same network.

The theory is evaluated (``analysis.theory.predict``) on the simulated (g, eta) grid
extended by one grid step on every side, for the network's own C_E, gamma, J, D,
theta, V_r, tau and tau_rp, and cached beside the results (``theory.parquet``).
A point is "far from a boundary" when the theory gives the same state at it and at
its eight grid neighbours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.theory import Params, code_version, state_map
from sweep.model import NEURON_RULE_NOTE
from sweep.rundir import RunDir, atomic_write, write_text
from sweep.storage import ETA, G, row_config

NETWORK_KEYS = ("N_E", "N_I", "epsilon", "J", "D", "theta", "V_r", "tau", "tau_rp")


def network_params(df: pd.DataFrame) -> Params:
    """The theory's parameters of the (single) network simulated in ``df``."""
    if len(df[[f"network.{k}" for k in NETWORK_KEYS]].drop_duplicates()) != 1:
        raise ValueError("the rows simulate more than one network; compare them one at a time")
    return Params.from_config(row_config(df.iloc[0].to_dict()).network)


def _axis(values: np.ndarray) -> np.ndarray:
    """The simulated values plus one step beyond each end (step: the smallest spacing)."""
    values = np.unique(values)
    step = np.min(np.diff(values)) if values.size > 1 else 0.5
    return np.round(np.concatenate([[values[0] - step], values, [values[-1] + step]]), 10)


def theory_grid(df: pd.DataFrame, run_dir: Path | None = None, jobs: int = -1) -> pd.DataFrame:
    """Theory at every (g, eta) of the extended grid: state, nu0, f_unstable, margin."""
    p = network_params(df)
    th = df.iloc[0]
    f_fast, q_rate = th["analysis.f_fast"], th["analysis.quiescent_rate"]
    gs = _axis(df[G].to_numpy())
    etas = _axis(df[ETA].to_numpy())
    gs, etas = gs[gs >= 0], etas[etas > 0]
    cache = RunDir(run_dir).theory if run_dir else None
    key = repr((p, f_fast, q_rate, code_version()))
    if cache and cache.exists():
        cached = pd.read_parquet(cache)
        if (cached.attrs.get("key") == key and
                set(zip(cached.g, cached.eta, strict=True)) >= {(g, e) for g in gs for e in etas}):
            return cached
    out = state_map(p, gs, etas, f_fast, q_rate, jobs)
    out.attrs["key"] = key
    if cache:
        atomic_write(cache, out.to_parquet)
    return out


def compare(df: pd.DataFrame, theory_map: pd.DataFrame) -> pd.DataFrame:
    """Per simulated point (status ok): its theory state, nu0, and whether it is far
    from a theoretical boundary."""
    state = {(r.g, r.eta): r.state for r in theory_map.itertuples()}
    nu = {(r.g, r.eta): r.nu0 for r in theory_map.itertuples()}
    cv = {(r.g, r.eta): r.cv for r in theory_map.itertuples()}
    gs, etas = np.unique(theory_map.g), np.unique(theory_map.eta)
    ok = df[df.status == "ok"].copy()
    rows = []
    for _, r in ok.iterrows():
        i, j = np.searchsorted(gs, r[G]), np.searchsorted(etas, r[ETA])
        around = {state.get((gs[a], etas[b])) for a in range(max(i - 1, 0), min(i + 2, gs.size))
                  for b in range(max(j - 1, 0), min(j + 2, etas.size))}
        at = (gs[i], etas[j])
        rows.append({"theory_state": state[at], "nu0": nu[at], "cv_theory": cv[at],
                     "far": len(around) == 1})
    return pd.concat([ok.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def _scores(far: pd.DataFrame, state: str, rate: str, cv: str) -> list[str]:
    """State agreement per theory state and the AI-region rate and CV, for one model's
    columns (``state``, ``rate``, ``cv``) of the far points."""
    match = far[state] == far.theory_state
    lines = [f"state agreement, far points: {match.mean():.0%} ({match.sum()}/{len(far)})"]
    for s, sub in far.groupby("theory_state"):
        lines.append(f"  theory {s}: {(sub[state] == s).sum()}/{len(sub)} simulated as {s}")
    ai = far[(far.theory_state == "AI") & (far.nu0 > 0)]
    if len(ai):
        err = ai[rate] / ai.nu0 - 1
        lines.append(f"rate vs nu0 in the AI region ({len(ai)} far points): "
                     f"mean {err.mean():+.1%}, median |error| {err.abs().median():.1%}, "
                     f"max |error| {err.abs().max():.1%}")
        lines.append(f"CV of ISIs in the AI region: median {ai[cv].median():.2f}, the "
                     f"theory's (Poisson inputs) {ai.cv_theory.median():.2f}")
    return lines


def model_scores(cmp: pd.DataFrame, model: str) -> list[str]:
    """Matches per theory state among points far from a boundary, the AI-region rate and
    CV, and the points that disagree, for the simulation ``model`` of ``cmp``."""
    far = cmp[cmp.far]
    lines = [f"theory vs simulation ({len(cmp)} points, {len(far)} farther than one grid step "
             f"from a theoretical boundary)"]
    if len(far):
        lines += [f"{model}:", *_scores(far, "state", "rate_hz", "cv_isi")]
    for _, r in far[far.state != far.theory_state].iterrows():
        lines.append(f"  disagree: g={r[G]:g} eta={r[ETA]:g}: theory {r.theory_state}, "
                     f"simulated {r.state} ({r.rate_hz:.1f} Hz, CV {r.cv_isi:.2f})")
    return lines


def agreement_text(cmp: pd.DataFrame, reference: pd.DataFrame | None = None) -> str:
    """The agreement report of a MOOSE run (``model_scores``), with the neuron rule that
    produced it. With ``reference`` (``sweep.reference.reference_run``: the same points
    simulated by the numpy reference of Brunel's neuron), how far MOOSE is from it."""
    far = cmp[cmp.far]
    lines = [*model_scores(cmp, "MOOSE"), f"neuron rule: {NEURON_RULE_NOTE}"]
    if reference is None or not len(far):
        lines.append("numpy reference on the same instances: not run "
                     "(python -m sweep.reference --run RUN_DIR)")
        return "\n".join(lines)
    ref = cmp.merge(reference, on="point_id", suffixes=("", "_reference"))
    diff = ref.rate_hz / ref.rate_hz_reference - 1
    lines.append(f"MOOSE vs the numpy reference of Brunel's neuron on the same instances "
                 f"({len(ref)} points): same rate at {(diff == 0).sum()}, max |rate "
                 f"difference| {diff.abs().max():.2%}; "
                 f"{(ref.state != ref.state_reference).sum()} points change state")
    return "\n".join(lines)


def write_agreement(df: pd.DataFrame, run_dir: Path) -> tuple[str, pd.DataFrame]:
    """Compute (or load) the theory, write ``agreement.txt`` beside the results."""
    theory_map = theory_grid(df, run_dir)
    ref_path = RunDir(run_dir).reference
    reference = pd.read_parquet(ref_path) if ref_path.exists() else None
    text = agreement_text(compare(df, theory_map), reference)
    write_text(RunDir(run_dir).agreement, text + "\n")
    return text, theory_map
