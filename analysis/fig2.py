"""``python -m analysis.fig2 [overrides] [--out FILE]``: Brunel's Fig. 2 from the theory
alone (``analysis.theory_lines``), for the configured network (default: the standard
one), cached in ``~/.cache/brunel-sweep``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from joblib import Memory

from analysis.figures import theory_figure
from analysis.theory import Params, code_version
from analysis.theory_lines import theory_lines
from sweep.cli import command
from sweep.config import load_config


@command
def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("fig2_theory.png"))
    ap.add_argument("overrides", nargs="*", help="e.g. network=small or network.D=3")
    args = ap.parse_args(argv)
    cfg = load_config(["network=brunel_a", *args.overrides])
    p = Params.from_config(cfg.network)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brunel-sweep"
    cached_lines = Memory(cache, verbose=0).cache(theory_lines)
    t0 = time.perf_counter()
    lines = cached_lines(p, quiescent_rate=cfg.analysis.quiescent_rate, code=code_version())
    theory_figure(lines, p, args.out)
    counts = ", ".join(f"{name} {len(ln)}" for name, ln in lines.groupby("line", sort=False))
    print(f"wrote {args.out} (points on each line: {counts}; "
          f"{time.perf_counter() - t0:.1f} s; cache {cache})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
