"""The numpy reference (``sweep.numpy_sim``) on the command line and over datasets.

``python -m sweep.reference [--sizes N ...] [--moose] [overrides]`` prints the rates
of Brunel's neuron and of MOOSE's native refractory rule per size (and the MOOSE
run's with ``--moose``).
``python -m sweep.reference --run RUN_DIR`` re-simulates every point of a gathered run
on the same instance and writes its statistics to ``RUN_DIR/reference.parquet``: the
agreement report then shows how far MOOSE is from the reference (it should be
nowhere).
``python -m sweep.reference --grid DIR [overrides]`` does the same for a grid without
any MOOSE run, and reports its agreement with the theory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from sweep.cli import UsageError, command
from sweep.config import Config, load_config, standard_size
from sweep.numpy_sim import ReferenceRun, simulate_reference
from sweep.rundir import RunDir, write_text
from sweep.storage import base_row, load, row_config, write_parquet

STAT_COLUMNS = ("rate_hz", "cv_isi", "chi", "osc_freq_hz", "osc_power", "env_cv", "state")


def brunel_stats(cfg: Config) -> dict:
    """The point's statistics with Brunel's neuron (input ignored while refractory)."""
    from analysis.summary import summarize_point

    run = simulate_reference(cfg, accumulate=False)
    stats = summarize_point(run.spike_times, run.spike_ids, run.vm, cfg)
    return {k: stats[k] for k in STAT_COLUMNS}


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
    (point_id and the statistics of ``STAT_COLUMNS``)."""
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
    df = rows.drop(columns=[c for c in STAT_COLUMNS if c in rows]).merge(stats, on="point_id")
    df["status"] = "ok"
    cmp = compare(df, theory_grid(df, out_dir), lines_for(df, out_dir))
    return "\n".join(model_scores(cmp, "Brunel's neuron (numpy)"))


def _rate(run: ReferenceRun, cfg: Config) -> float:
    from analysis.stats import mean_rate

    N = cfg.network.N
    return mean_rate(run.spike_times, run.spike_ids, N, cfg.sim.transient, cfg.sim.duration)


@command
def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Brunel's neuron in numpy; MOOSE's native "
                                 "refractory rule measured against it")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500])
    ap.add_argument("--moose", action="store_true", help="also run MOOSE on each instance")
    ap.add_argument("--run", type=Path, metavar="RUN_DIR",
                    help="every point of a gathered run, with Brunel's neuron")
    ap.add_argument("--grid", type=Path, metavar="OUT_DIR",
                    help="every point of the configured grid, with Brunel's neuron only")
    ap.add_argument("--jobs", type=int, default=-1, help="with --run/--grid: processes")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args(argv)
    if args.grid is not None:
        cfg = load_config(args.overrides)
        t0 = time.perf_counter()
        text = reference_grid(cfg, args.grid, args.jobs)
        write_text(RunDir(args.grid).agreement, text + "\n")
        print(f"{text}\nwrote {args.grid} ({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.run is not None:
        if not RunDir(args.run).results.exists():
            raise UsageError(f"{RunDir(args.run).results} not found (run python -m sweep.gather "
                             f"{args.run})")
        t0 = time.perf_counter()
        path = reference_run(args.run, args.jobs)
        print(f"wrote {path} ({time.perf_counter() - t0:.0f} s); "
              f"python -m analysis {args.run} reports it")
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
