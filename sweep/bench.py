"""Benchmarks.

``python -m sweep.bench [--sizes 2500 5000 12500] [--points 5,2 ...]``: the engine.

Each (size, point) runs ``python -m sweep.point`` in a fresh process with the
standard parameters (network=brunel_a, N_E:N_I = 4:1) and prints build time, run
time per simulated second, delivered recurrent synaptic events per wall second,
peak RSS, rate and state. build_s is the network (neurons, synapses, recorders);
drive_s draws the external Poisson counts and loads them into MOOSE. ``--out FILE``
appends each result as a JSON line.

``python -m sweep.bench --sweep [--sizes 2500] [--replicates 4]``: the framework. Runs
``replicates`` equal-cost points ((5, 2), other seeds) through the sweep runner with
1 and then 2 workers, and prints the framework overhead (everything but
``moose.start``: process start, imports, build, drive, statistics, storage,
dispatch) relative to the simulation time, and the parallel efficiency T1 / (2 T2).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
from pathlib import Path

from sweep.config import ConfigError, load_config, standard_size


def overrides(n: int, g: float, eta: float, extra: list[str]) -> list[str]:
    return [*standard_size(n), f"network.g={g}", f"network.eta={eta}", *extra]


def run_one(n: int, g: float, eta: float, extra: list[str], spikes: Path | None) -> dict:
    cmd = [sys.executable, "-m", "sweep.point", *overrides(n, g, eta, extra)]
    if spikes is not None:
        cmd.append(f"--spikes={spikes}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"point failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def sweep_bench(n: int, replicates: int, extra: list[str]) -> None:
    import tempfile
    import time

    from sweep.grid import expand
    from sweep.runner import run_points
    from sweep.storage import gather, load

    cfg = load_config([*overrides(n, 5.0, 2.0, extra), f"grid.replicates={replicates}",
                       "grid.axes.network.g=[5.0]", "grid.axes.network.eta=[2.0]",
                       "run.progress=false"])
    points = expand(cfg)
    walls = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            run = dataclasses.replace(cfg.run, jobs=jobs)
            t0 = time.perf_counter()
            counts = run_points(points, Path(tmp), run)
            gather(Path(tmp))
            walls[jobs] = time.perf_counter() - t0
            df, _ = load(Path(tmp))
        if counts["ok"] != len(points):
            raise SystemExit(f"bench points failed: {dict(counts)}")
        sim = df.run_s.sum()
        other = df.total_s - df.run_s - df.build_s - df.drive_s
        print(f"N={n} jobs={jobs}: {len(points)} points, wall {walls[jobs]:.1f} s, "
              f"moose.start {sim:.1f} s in all; per point: run {df.run_s.mean():.2f} s, "
              f"build {df.build_s.mean():.2f} s, drive {df.drive_s.mean():.2f} s, "
              f"start+imports+stats+storage {other.mean():.2f} s, "
              f"process total {df.total_s.mean():.2f} s", flush=True)
        if jobs == 1:
            print(f"  framework overhead: {(walls[1] - sim) / sim:.1%} of simulation time "
                  f"(per point, inside its process: "
                  f"{(df.total_s - df.run_s).sum() / sim:.1%})", flush=True)
    print(f"  parallel efficiency with 2 workers: {walls[1] / (2 * walls[2]):.1%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 12500])
    ap.add_argument("--points", nargs="+", default=["5,2"], help="g,eta pairs")
    ap.add_argument("--out", type=Path, help="append results as JSON lines")
    ap.add_argument("--spikes-dir", type=Path, help="save each point's spikes (npz) here")
    ap.add_argument("--sweep", action="store_true", help="benchmark the sweep framework")
    ap.add_argument("--replicates", type=int, default=4, help="points per --sweep run")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. sim.duration=600")
    args = ap.parse_args(argv)
    if args.sweep:
        for n in args.sizes:
            sweep_bench(n, args.replicates, args.overrides)
        return 0
    points = [tuple(float(x) for x in p.split(",")) for p in args.points]
    try:  # every configuration is checked before the first simulation
        for n in args.sizes:
            for g, eta in points:
                load_config(overrides(n, g, eta, args.overrides))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"# {platform.node()} {platform.processor() or platform.machine()} "
          f"python {platform.python_version()}")
    head = (f"{'N':>6} {'g':>4} {'eta':>4} {'build_s':>8} {'drive_s':>8} {'run_s/sim_s':>11} "
            f"{'events/s':>10} {'peak_MB':>8} {'rate_Hz':>8} {'osc_Hz':>7} {'state':>9}")
    print(head, flush=True)
    for n in args.sizes:
        for g, eta in points:
            spikes = None
            if args.spikes_dir:
                args.spikes_dir.mkdir(parents=True, exist_ok=True)
                spikes = args.spikes_dir / f"N{n}_g{g}_eta{eta}.npz"
            r = run_one(n, g, eta, args.overrides, spikes)
            sim_s = r["duration_ms"] / 1000
            print(f"{n:>6} {g:>4} {eta:>4} {r['build_s']:>8.1f} {r['drive_s']:>8.1f} "
                  f"{r['run_s'] / sim_s:>11.1f} "
                  f"{r['syn_events'] / r['run_s']:>10.3g} {r['peak_rss_mb']:>8.0f} "
                  f"{r['rate_hz']:>8.2f} {r['osc_freq_hz']:>7.1f} {r['state']:>9}", flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps({**r, "overrides": args.overrides}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
