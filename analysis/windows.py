"""brunel-windows RUN_DIR WINDOW [WINDOW ...]: how a run's statistics and states change
with another analysis window, from its saved spikes (run.save_spikes=true), without
simulating again. A WINDOW is TRANSIENT:DURATION in ms. For each window it prints how
many points change state against the run's own window and how far the rates and CVs
move: the measurement behind choosing sim.duration and sim.transient.

  brunel-windows outputs/full 200:700 100:600
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from analysis.summary import summarize
from sweep.cli import UsageError, command, parser
from sweep.rundir import RunDir
from sweep.storage import ETA, G, load, row_config


def _window(text: str) -> tuple[float, float]:
    try:
        start, stop = (float(x) for x in text.split(":"))
    except ValueError:
        raise UsageError(f"window {text!r}: must be TRANSIENT:DURATION in ms") from None
    if not 0 <= start < stop:
        raise UsageError(f"window {text!r}: need 0 <= TRANSIENT < DURATION")
    return start, stop


def compare_windows(run_dir: Path, windows: list[tuple[float, float]]) -> list[str]:
    """One report line per window, and one per point whose state changes."""
    df, _ = load(run_dir)
    rows = df[(df.status == "ok") & df.spikes_file.notna()]
    if rows.empty:
        raise UsageError(f"{run_dir}: no saved spikes (run with run.save_spikes=true)")
    out = []
    for start, stop in windows:
        changed, d_rate, d_cv = [], [], []
        for _, r in rows.iterrows():
            cfg = row_config(r.to_dict())
            if stop > cfg.sim.duration or stop - start < cfg.analysis.welch_segment:
                raise UsageError(f"window {start:g}:{stop:g}: must end by sim.duration="
                                 f"{cfg.sim.duration:g} and hold one analysis.welch_segment")
            with np.load(Path(run_dir) / r.spikes_file) as s:
                new = summarize(s["times"], s["ids"], s["vm"], cfg.network.N, cfg.network.N_E,
                                start, stop, cfg.sim.dt, cfg.analysis)
            if new["state"] != r.state:
                changed.append(f"  g={r[G]:g} eta={r[ETA]:g} seed={r.seed}: {r.state} -> "
                               f"{new['state']} (env_cv {r.env_cv:.2f} -> {new['env_cv']:.2f})")
            if r.rate_hz > 0:
                d_rate.append(abs(new["rate_hz"] / r.rate_hz - 1))
            if np.isfinite(r.cv_isi) and np.isfinite(new["cv_isi"]):
                d_cv.append(abs(new["cv_isi"] - r.cv_isi))
        out.append(f"window {start:g}-{stop:g} ms: {len(changed)}/{len(rows)} points change "
                   f"state; |rate change| median {np.median(d_rate):.1%}, max "
                   f"{np.max(d_rate):.1%}; |CV change| median {np.median(d_cv):.3f}, max "
                   f"{np.max(d_cv):.3f}")
        out += changed
    return out


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-windows", __doc__, "analysis.windows")
    ap.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    ap.add_argument("windows", nargs="+", metavar="WINDOW", help="TRANSIENT:DURATION in ms")
    args = ap.parse_args(argv)
    if not RunDir(args.run_dir).results.exists():
        raise UsageError(f"{RunDir(args.run_dir).results} not found")
    print("\n".join(compare_windows(args.run_dir, [_window(w) for w in args.windows])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
