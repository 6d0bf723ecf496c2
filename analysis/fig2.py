"""``python -m analysis.fig2 [overrides] [--step S] [--out FILE]``: Brunel's Fig. 2 from
the theory alone (``analysis.theory``), for the configured network (default: the
standard one), cached in ``~/.cache/brunel-sweep``."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Memory

from analysis.figures import theory_figure
from analysis.theory import Params, code_version, state_map
from sweep.cli import UsageError, command
from sweep.config import load_config


@command
def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=float, default=0.5, help="grid step in g and eta")
    ap.add_argument("--out", type=Path, default=Path("fig2_theory.png"))
    ap.add_argument("overrides", nargs="*", help="e.g. network=small or network.D=3")
    args = ap.parse_args(argv)
    if not (math.isfinite(args.step) and 0 < args.step <= 4):
        raise UsageError(f"--step={args.step}: must be a number in (0, 4]")
    cfg = load_config(["network=brunel_a", *args.overrides])
    p = Params.from_config(cfg.network)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brunel-sweep"
    cached_map = Memory(cache, verbose=0).cache(state_map)
    t0 = time.perf_counter()
    gs = np.round(np.arange(args.step, 8 + 1e-9, args.step), 6)
    etas = np.round(np.arange(args.step, 4 + 1e-9, args.step), 6)
    grid = cached_map(p, gs, etas, cfg.analysis.f_fast, cfg.analysis.quiescent_rate,
                      code=code_version())
    theory_figure(grid, p, args.out)
    print(f"wrote {args.out} ({len(grid)} points, {time.perf_counter() - t0:.1f} s; "
          f"cache {cache})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
