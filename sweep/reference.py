"""A numpy reference simulator of Brunel's neuron on the same network instance.

It steps the instance drawn by ``sweep.instance`` (same sources, initial potentials
and external counts as the MOOSE run) in the paper's arithmetic: the step's input is
added, the threshold is checked (strictly; exact ties resolved as in
``sweep.model.THRESHOLD_TIE``), then the exact leak is applied; a neuron
that fired is held at V_r for tau_rp / dt steps. During those steps Brunel's neuron
ignores its input (``accumulate=False``: what MOOSE runs, spike for spike); MOOSE's
native LIF rule, which keeps that input and adds it at the first free step, is
available as ``accumulate=True`` to measure what that rule would change.

``python -m sweep.reference [--sizes N ...] [--moose] [overrides]`` prints both
rules' rates per size (and the MOOSE run's with ``--moose``).
``python -m sweep.reference --run RUN_DIR`` re-simulates every point of a gathered run
on the same instance and writes its statistics to ``RUN_DIR/reference.parquet``: the
agreement report then shows how far MOOSE is from the reference (it should be
nowhere).
``python -m sweep.reference --grid DIR [overrides]`` does the same for a grid without
any MOOSE run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sweep.config import Config, ConfigError, load_config, standard_size
from sweep.instance import draw_instance
from sweep.model import THRESHOLD_TIE


@dataclass
class ReferenceRun:
    spike_times: np.ndarray  # ms
    spike_ids: np.ndarray
    vm: np.ndarray  # mV, (len(vm_ids), n_steps), column k at time (k + 1) dt
    vm_ids: np.ndarray
    run_s: float


def simulate_reference(cfg: Config, accumulate: bool) -> ReferenceRun:
    t0 = time.perf_counter()
    inst = draw_instance(cfg)
    d, net, dt = inst.derived, cfg.network, cfg.sim.dt
    N, m, n_ref = d.N, d.delay_steps, d.refractory_steps
    x = np.exp(-dt / net.tau)
    theta = net.theta * (1 + THRESHOLD_TIE)

    # Out-going edges of each neuron (CSR), with their weights in mV.
    src = inst.sources.ravel()
    tgt = np.repeat(np.arange(N), inst.sources.shape[1])
    w = np.where(np.tile(np.arange(inst.sources.shape[1]) < d.C_E, N), net.J, -net.g * net.J)
    order = np.argsort(src, kind="stable")
    out_tgt, out_w = tgt[order], w[order]
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=N))])

    ring = np.zeros((m + 1, N))  # recurrent input due at step k sits in ring[k % (m+1)]
    V = inst.v_init.copy()
    pending = np.zeros(N)
    last = np.full(N, -(10**9))
    vm = np.empty((inst.vm_ids.size, d.n_steps))
    times, ids = [], []
    counts = inst.drive()
    chunk = round(cfg.sim.chunk / dt)
    for first in range(0, d.n_steps, chunk):
        n = min(chunk, d.n_steps - first)
        ext = np.vstack([counts(i, n).astype(np.uint16) for i in range(N)])
        for j in range(n):
            k = first + j + 1
            slot = k % (m + 1)
            inp = ext[:, j] * net.J + ring[slot]
            ring[slot] = 0.0
            refractory = k <= last + n_ref
            free = ~refractory
            if accumulate:
                pending[refractory] += inp[refractory]
                inp[free] += pending[free]
                pending[free] = 0.0
            V[free] += inp[free]
            fired = free & (V > theta)
            V[refractory | fired] = net.V_r
            V[free & ~fired] *= x
            vm[:, k - 1] = V[inst.vm_ids]
            spk = np.flatnonzero(fired)
            if spk.size:
                last[spk] = k
                times.append(np.full(spk.size, k * dt))
                ids.append(spk)
                lens = row_ptr[spk + 1] - row_ptr[spk]
                first_edge = row_ptr[spk] - np.cumsum(lens) + lens
                edge = np.repeat(first_edge, lens) + np.arange(lens.sum())
                ring[(k + m) % (m + 1)] += np.bincount(out_tgt[edge], weights=out_w[edge],
                                                       minlength=N)
    t = np.concatenate(times) if times else np.empty(0)
    i = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
    order = np.lexsort((t, i))
    return ReferenceRun(t[order], i[order], vm, inst.vm_ids, time.perf_counter() - t0)


REFERENCE_FILE = "reference.parquet"
STAT_COLUMNS = ("rate_hz", "cv_isi", "chi", "osc_freq_hz", "osc_power", "state")


def brunel_stats(cfg: Config) -> dict:
    """The point's statistics with Brunel's neuron (input ignored while refractory)."""
    from analysis.summary import summarize

    run = simulate_reference(cfg, accumulate=False)
    s, n = cfg.sim, cfg.network
    stats = summarize(run.spike_times, run.spike_ids, run.vm, n.N_E + n.N_I, s.transient,
                      s.duration, s.dt, cfg.analysis)
    return {k: stats[k] for k in STAT_COLUMNS}


def _measure(point_ids: list[str], configs: list[Config], out_dir: Path, jobs: int):
    """Brunel's neuron at every point, in parallel -> out_dir/reference.parquet."""
    import pandas as pd
    from joblib import Parallel, delayed

    stats = Parallel(n_jobs=jobs)(delayed(brunel_stats)(c) for c in configs)
    import pyarrow as pa

    from sweep.storage import atomic_write

    out = pd.DataFrame([{"point_id": i, **s} for i, s in zip(point_ids, stats, strict=True)])
    atomic_write(pa.Table.from_pandas(out, preserve_index=False), Path(out_dir) / REFERENCE_FILE)
    return out


def reference_run(run_dir: Path, jobs: int = -1) -> Path:
    """Brunel's neuron at every ok point of ``run_dir``'s dataset -> reference.parquet
    (point_id and the statistics of ``STAT_COLUMNS``)."""
    from sweep.storage import load, row_config

    df, _ = load(run_dir)
    rows = df[df.status == "ok"].to_dict("records")
    _measure([r["point_id"] for r in rows], [row_config(r) for r in rows], run_dir, jobs)
    return Path(run_dir) / REFERENCE_FILE


def reference_grid(cfg: Config, out_dir: Path, jobs: int = -1) -> str:
    """Brunel's neuron at every point of ``cfg.grid`` (no MOOSE run needed): writes
    reference.parquet (same point ids as a MOOSE sweep of the grid) and returns its
    agreement with the theory."""
    import pandas as pd

    from analysis.agreement import compare, model_report, theory_grid
    from sweep.grid import expand
    from sweep.storage import base_row

    points = expand(cfg)
    stats = _measure([p.point_id for p in points], [p.config for p in points], out_dir, jobs)
    rows = pd.DataFrame([base_row(p.point_id, p.params["replicate"], p.config) for p in points])
    df = rows.drop(columns=[c for c in STAT_COLUMNS if c in rows]).merge(stats, on="point_id")
    df["status"] = "ok"
    return "\n".join(model_report(compare(df, theory_grid(df, out_dir)), "Brunel's neuron (numpy)"))


def _rate(run: ReferenceRun, cfg: Config) -> float:
    from analysis.stats import mean_rate

    N = cfg.network.N_E + cfg.network.N_I
    return mean_rate(run.spike_times, run.spike_ids, N, cfg.sim.transient, cfg.sim.duration)


def main(argv: list[str] | None = None) -> int:
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
        try:
            cfg = load_config(args.overrides)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        text = reference_grid(cfg, args.grid, args.jobs)
        (args.grid / "agreement.txt").write_text(text + "\n")
        print(f"{text}\nwrote {args.grid} ({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.run is not None:
        from sweep.storage import RESULTS

        if not (args.run / RESULTS).exists():
            print(f"error: {args.run / RESULTS} not found (run python -m sweep.gather "
                  f"{args.run})", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        path = reference_run(args.run, args.jobs)
        print(f"wrote {path} ({time.perf_counter() - t0:.0f} s); "
              f"python -m analysis {args.run} reports it")
        return 0
    runs = []
    try:
        for n in args.sizes:
            overrides = [*standard_size(n), *args.overrides]
            runs.append((n, overrides, load_config(overrides)))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
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
