"""The full-size points the handbook names, from the committed datasets beside this file:

  python docs/data/named_points.py > docs/data/named_points.txt

1. Brunel's Fig. 8 panels and the other points docs/states.md tabulates, one realization
   each: replicate 0 of phase_diagram_full.parquet, and for (4.5, 0.9), which is off
   that grid, replicate 0 of confidence_lines.parquet (the same settings, so the same
   seed as in ``grid=fig8`` and ``grid=default``). Their measures and state beside the
   theory's (``analysis.theory.predict``: state, nu0, CV of ISIs, stability margin and
   the frequency of the most unstable mode).
2. The full-size phase diagram's replicated points: each seed's envelope CV and state,
   and the point's pooled state (``analysis.states.point_decision``, the project's
   rule; the dataset is schema 3, without standard errors, so only the state).
3. Over the full-size phase diagram (every row, by its own state): the range of
   ``osc_power`` and ``coherence``; ``coherence`` at the SI-fast points of g = 8 and
   ``chi`` along g = 7.
4. ``network=two_pop`` (tau_I = 10 ms): the simulated points of two_pop_fast.parquet
   against the two-population theory, and the theory at (5, 2), also with J_I = 0.2 mV.

Computes the theory at twelve points (about a minute, one core).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.agreement import network_params
from analysis.states import MEASURES, point_decision
from analysis.theory import predict
from sweep.storage import load, row_config

HERE = Path(__file__).resolve().parent
G, E = "network.g", "network.eta"
FIG8 = {(3.0, 2.0): "A", (6.0, 4.0): "B", (5.0, 2.0): "C", (4.5, 0.9): "D"}
OTHERS = [(4.0, 3.0), (8.0, 2.0), (5.0, 4.0), (6.0, 3.0)]


def main() -> None:
    full, _ = load(HERE / "phase_diagram_full.parquet")
    full = full[full.status == "ok"]
    lines = pd.read_parquet(HERE / "confidence_lines.parquet")
    p = network_params(full)
    th = row_config(full.iloc[0].to_dict()).analysis
    first = full[full.replicate == 0].set_index([G, E])
    extra = lines[lines.replicate == 0].set_index([G, E])

    print("1. One realization at each named point (N = 12500), against the theory")
    for key in [*FIG8, *OTHERS]:
        source, rows = ("phase_diagram_full", first) if key in first.index else (
            "confidence_lines", extra)
        r = rows.loc[key]
        t = predict(p, *key, th.f_fast, th.quiescent_rate)
        panel = f"Fig. 8 {FIG8[key]}, " if key in FIG8 else ""
        print(f"   ({key[0]:g}, {key[1]:g}) [{panel}{source}]: {r.state}; rate {r.rate_hz:.1f} Hz "
              f"(nu0 {t.nu0:.2f} Hz, {100 * (r.rate_hz / t.nu0 - 1):+.1f}%), CV of ISIs "
              f"{r.cv_isi:.3f} (theory {t.cv:.2f}), population peak {r.osc_freq_hz:.0f} Hz, "
              f"osc_power {r.osc_power:.2f}, coherence {r.coherence:.2f}, env_cv "
              f"{r.env_cv:.3f}; theory {t.state}, margin {t.margin:+.2f}"
              + (f", unstable mode at {t.f_unstable:.0f} Hz" if t.f_unstable else ""))

    print("\n2. The full-size phase diagram's replicated points: each seed, then pooled")
    reps = full.groupby([G, E]).filter(lambda s: len(s) > 1).sort_values([G, E, "replicate"])
    differ = 0
    for (g, e), sub in reps.groupby([G, E]):
        pooled = point_decision(sub.reindex(columns=list(MEASURES)).astype(float)
                                .to_dict("records"), th, 0.0)[0]
        differ += sub.state.iloc[0] != pooled
        print(f"   ({g:g}, {e:g}): " + ", ".join(
            f"seed {r.replicate} {r.state} (env_cv {r.env_cv:.2f})" for _, r in sub.iterrows())
            + f"; pooled {pooled} (mean env_cv {sub.env_cv.mean():.3f})")
    print(f"   replicate 0 alone in another state than the pooled one: "
          f"{differ}/{reps.groupby([G, E]).ngroups} points")

    print("\n3. Measures the classifier does not use, over the full-size phase diagram")
    for state in ("AI", "SI-fast"):
        s = full[full.state == state]
        print(f"   {state} ({len(s)} rows): osc_power {s.osc_power.min():.2f}-"
              f"{s.osc_power.max():.2f}, coherence {s.coherence.min():.2f}-"
              f"{s.coherence.max():.2f}")
    g8 = first.loc[8.0]
    g8 = g8[g8.state == "SI-fast"]
    print(f"   g=8, SI-fast at eta = {', '.join(f'{e:g}' for e in g8.index)}: coherence "
          f"{g8.coherence.min():.2f}-{g8.coherence.max():.2f}")
    g7 = first.loc[7.0].chi
    print("   g=7: chi " + ", ".join(f"{v:.2f} at eta = {e:g}" for e, v in g7.items()
                                     if np.isclose(e % 1, 0)))

    print("\n4. network=two_pop (tau_I = 10 ms) against the two-population theory")
    fast, _ = load(HERE / "two_pop_fast.parquet")
    q = network_params(fast)
    for _, r in fast.sort_values(E).iterrows():
        t = predict(q, r[G], r[E], th.f_fast, th.quiescent_rate)
        print(f"   ({r[G]:g}, {r[E]:g}): simulated {r.state}, E {r.rate_E_hz:.1f} Hz, "
              f"I {r.rate_I_hz:.1f} Hz; theory {t.state}, E {t.nu0:.1f} Hz, "
              f"I {t.nu0_I:.1f} Hz")
    for label, params in (("tau_I = 10 ms", q), ("tau_I = 10 ms, J_I = 0.2 mV",
                                                 replace(q, J_I=0.2))):
        t = predict(params, 5.0, 2.0, th.f_fast, th.quiescent_rate)
        mode = f", unstable at {t.f_unstable:.0f} Hz" if t.f_unstable else ""
        print(f"   (5, 2), {label}: theory {t.state}, E {t.nu0:.1f} Hz, "
              f"I {t.nu0_I:.1f} Hz{mode}")


if __name__ == "__main__":
    main()
