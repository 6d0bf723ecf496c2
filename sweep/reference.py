"""brunel-reference {sizes,run,grid}: the numpy reference simulator of Brunel's neuron
(sweep.numpy_sim) on the command line and over datasets.

  brunel-reference sizes [--sizes N ...] [--moose] [KEY=VALUE ...]
      the rates of Brunel's neuron and of MOOSE's native refractory rule per size on
      the same instance (and MOOSE's own run's with --moose)
  brunel-reference run RUN_DIR [--jobs J]
      re-simulate every point of a gathered run on the same instance into
      RUN_DIR/reference.parquet; agreement.txt then says how far MOOSE is from it
  brunel-reference grid OUT_DIR [--jobs J] [KEY=VALUE ...]
      every point of the configured grid, without MOOSE, and its agreement with the
      theory in OUT_DIR/agreement.txt
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sweep.cli import UsageError, add_overrides, command, parser
from sweep.config import Config, load_config, standard_size
from sweep.numpy_sim import ReferenceRun, simulate_reference
from sweep.rundir import RunDir, write_text
from sweep.storage import STATISTICS, base_row, load, row_config, write_parquet


def brunel_stats(cfg: Config) -> dict:
    """The point's statistics with Brunel's neuron (input ignored while refractory)."""
    from analysis.summary import summarize_point

    run = simulate_reference(cfg, accumulate=False)
    stats = summarize_point(run.spike_times, run.spike_ids, run.vm, cfg)
    return stats


def _measure(point_ids: list[str], configs: list[Config], out_dir: Path, jobs: int):
    """Brunel's neuron at every point, in parallel -> out_dir/reference.parquet."""
    import pandas as pd
    from joblib import Parallel, delayed

    stats = Parallel(n_jobs=jobs)(delayed(brunel_stats)(c) for c in configs)
    import pyarrow as pa


    out = pd.DataFrame([{"point_id": i, **s} for i, s in zip(point_ids, stats, strict=True)])
    write_parquet(pa.Table.from_pandas(out, preserve_index=False), RunDir(out_dir).reference)
    return out


def reference_run(run_dir: Path, jobs: int = -1) -> Path:
    """Brunel's neuron at every ok point of ``run_dir``'s dataset -> reference.parquet
    (point_id and its statistics)."""
    df, _ = load(run_dir)
    rows = df[df.status == "ok"].to_dict("records")
    _measure([r["point_id"] for r in rows], [row_config(r) for r in rows], run_dir, jobs)
    return RunDir(run_dir).reference


def reference_grid(cfg: Config, out_dir: Path, jobs: int = -1) -> str:
    """Brunel's neuron at every point of ``cfg.grid`` (no MOOSE run needed): writes
    reference.parquet (same point ids as a MOOSE sweep of the grid) and returns its
    agreement with the theory."""
    import pandas as pd

    from analysis.agreement import compare, lines_for, model_scores, theory_grid
    from sweep.grid import expand

    points = expand(cfg)
    stats = _measure([p.point_id for p in points], [p.config for p in points], out_dir, jobs)
    rows = pd.DataFrame([base_row(p.point_id, p.params["replicate"], p.config) for p in points])
    df = rows.drop(columns=[c for c in STATISTICS if c in rows]).merge(stats, on="point_id")
    df["status"] = "ok"
    cmp = compare(df, theory_grid(df, out_dir), lines_for(df, out_dir))
    return "\n".join(model_scores(cmp, "Brunel's neuron (numpy)"))


def _rate(run: ReferenceRun, cfg: Config) -> float:
    from analysis.stats import mean_rate

    N = cfg.network.N
    return mean_rate(run.spike_times, run.spike_ids, N, cfg.sim.transient, cfg.sim.duration)


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-reference", __doc__, "sweep.reference")
    sub = ap.add_subparsers(dest="command", required=True, metavar="{sizes,run,grid}")
    p = sub.add_parser("sizes", help="Brunel's neuron against MOOSE's native rule, per size")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500], metavar="N")
    p.add_argument("--moose", action="store_true", help="also run MOOSE on each instance")
    add_overrides(p)
    p = sub.add_parser("run", help="every point of a gathered run -> reference.parquet")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("--jobs", type=int, default=-1, help="processes (default: one per core)")
    p = sub.add_parser("grid", help="every point of the configured grid, without MOOSE")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    p.add_argument("--jobs", type=int, default=-1, help="processes (default: one per core)")
    add_overrides(p)
    args = ap.parse_args(argv)
    if args.command == "grid":
        cfg = load_config(args.overrides)
        t0 = time.perf_counter()
        text = reference_grid(cfg, args.out_dir, args.jobs)
        write_text(RunDir(args.out_dir).agreement, text + "\n")
        print(f"{text}\nwrote {args.out_dir} ({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.command == "run":
        if not RunDir(args.run_dir).results.exists():
            raise UsageError(f"{RunDir(args.run_dir).results} not found (run brunel-gather "
                             f"{args.run_dir})")
        t0 = time.perf_counter()
        path = reference_run(args.run_dir, args.jobs)
        print(f"wrote {path} ({time.perf_counter() - t0:.0f} s); "
              f"brunel-analyse {args.run_dir} reports it")
        return 0
    runs = []
    for n in args.sizes:
        overrides = [*standard_size(n), *args.overrides]
        runs.append((n, overrides, load_config(overrides)))
    print(f"{'N':>6} {'brunel_Hz':>10} {'native_Hz':>10} {'moose_Hz':>9} {'native_excess':>13}")
    for n, overrides, cfg in runs:
        brunel = _rate(simulate_reference(cfg, accumulate=False), cfg)
        native = _rate(simulate_reference(cfg, accumulate=True), cfg)
        moose_rate = "-"
        if args.moose:
            out = subprocess.run([sys.executable, "-m", "sweep.point", *overrides],
                                 capture_output=True, text=True, check=True)
            moose_rate = f"{json.loads(out.stdout.strip().splitlines()[-1])['rate_hz']:.2f}"
        print(f"{n:>6} {brunel:>10.2f} {native:>10.2f} {moose_rate:>9} "
              f"{native / brunel - 1:>+13.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
