"""brunel-fig2 [--out FILE] [--plane X=LO:HI Y=LO:HI] [KEY=VALUE ...]: Brunel's Fig. 2
from the theory alone (its lines in the (g, eta) plane, the regions named, and the
frequency of the mode that becomes unstable along each line), for the configured
network (default: Brunel's), cached in $BRUNEL_SWEEP_CACHE or ~/.cache/brunel-sweep.
With --plane, the same lines on another plane of two parameters, g and eta held at
network.g and network.eta where they are not axes (minutes: only Fig. 2's plane has
known first points).

  brunel-fig2 --out fig2.png
  brunel-fig2 network=small network.D=3
  brunel-fig2 --plane g=2:8 J_I=0.08:0.12 network.eta=2 --out g_JI.png
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from analysis.figures import theory_figure
from analysis.theory import Params, cache_dir, cached, code_version, predict
from analysis.theory_lines import FIG2_AXES, axis_name, theory_lines
from sweep.cli import UsageError, add_overrides, command, parser
from sweep.config import load_config
from sweep.grid import fig2_plane


def _axis(text: str) -> tuple[str, tuple[float, float]]:
    """"KEY=LO:HI" -> (axis name, (lo, hi)), or a one-line UsageError."""
    key, _, span = text.partition("=")
    lo, _, hi = span.partition(":")
    try:
        name = axis_name(key)
    except ValueError as err:
        raise UsageError(f"--plane {text}: {err}") from None
    try:
        bounds = (float(lo), float(hi))
    except ValueError:
        raise UsageError(f"--plane {text}: give KEY=LO:HI, e.g. g=2:8") from None
    if not bounds[0] < bounds[1]:
        raise UsageError(f"--plane {text}: LO must be below HI")
    return name, bounds


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-fig2", __doc__, "analysis.fig2")
    ap.add_argument("--out", type=Path, default=Path("fig2_theory.png"), metavar="FILE",
                    help="the figure (default: fig2_theory.png)")
    ap.add_argument("--plane", nargs=2, metavar=("X=LO:HI", "Y=LO:HI"),
                    help="the plane's two parameters and ranges (default: Fig. 2's, "
                         "g=2:8 eta=0.5:4); an axis is g, eta or a network number, e.g. "
                         "J_I, theta_I, tau_I, D")
    add_overrides(ap)
    args = ap.parse_intermixed_args(argv)
    (x, x_range), (y, y_range) = (map(_axis, args.plane) if args.plane else
                                  zip(FIG2_AXES, fig2_plane(), strict=True))
    if x == y:
        raise UsageError(f"--plane: two different parameters, not {x} twice")
    cfg = load_config(["network=brunel_a", *args.overrides])
    p = Params.from_config(cfg.network)
    held = (cfg.network.g, cfg.network.eta)
    t0 = time.perf_counter()
    plane = (x_range, y_range)
    lines = cached(theory_lines)(p, cfg.analysis.quiescent_rate, plane, code=code_version(),
                         axes=(x, y), held=held)
    a = cfg.analysis
    theory_figure(lines, p, args.out,
                  lambda g, eta: predict(p, g, eta, a.f_fast, a.quiescent_rate).state,
                  axes=(x, y), plane=plane, held=held)
    counts = ", ".join(f"{name} {len(ln)}" for name, ln in lines.groupby("line", sort=False))
    print(f"wrote {args.out} (points on each line: {counts}; "
          f"{time.perf_counter() - t0:.1f} s; cache {cache_dir()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
