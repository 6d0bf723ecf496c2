"""brunel-fig2 [--out FILE] [KEY=VALUE ...]: Brunel's Fig. 2 from the theory alone (its
lines in the (g, eta) plane, the regions named, and the frequency of the mode that
becomes unstable along each line), for the configured network (default: Brunel's),
cached in ~/.cache/brunel-sweep.

  brunel-fig2 --out fig2.png
  brunel-fig2 network=small network.D=3
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from joblib import Memory

from analysis.figures import theory_figure
from analysis.theory import Params, code_version, predict
from analysis.theory_lines import theory_lines
from sweep.cli import add_overrides, command, parser
from sweep.config import load_config
from sweep.grid import fig2_plane


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-fig2", __doc__, "analysis.fig2")
    ap.add_argument("--out", type=Path, default=Path("fig2_theory.png"), metavar="FILE",
                    help="the figure (default: fig2_theory.png)")
    add_overrides(ap)
    args = ap.parse_intermixed_args(argv)
    cfg = load_config(["network=brunel_a", *args.overrides])
    p = Params.from_config(cfg.network)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brunel-sweep"
    cached_lines = Memory(cache, verbose=0).cache(theory_lines)
    t0 = time.perf_counter()
    lines = cached_lines(p, cfg.analysis.quiescent_rate, fig2_plane(), code=code_version())
    a = cfg.analysis
    theory_figure(lines, p, args.out,
                  lambda g, eta: predict(p, g, eta, a.f_fast, a.quiescent_rate).state)
    counts = ", ".join(f"{name} {len(ln)}" for name, ln in lines.groupby("line", sort=False))
    print(f"wrote {args.out} (points on each line: {counts}; "
          f"{time.perf_counter() - t0:.1f} s; cache {cache})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
