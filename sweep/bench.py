"""brunel-bench {engine,split,sweep,refined,diagram,brian2-env}: benchmarks (engine is the default
subcommand).

  brunel-bench engine [--sizes N ...] [--points G,ETA ...] [--peer nest brian2] [--check]
  brunel-bench split [--sizes N ...] [--points G,ETA ...]
  brunel-bench sweep [--sizes N ...] [--replicates K]
  brunel-bench refined RUN_DIR
  brunel-bench diagram [--grid DATASET] [--refined DATASET] [--peer nest brian2]
  brunel-bench brian2-env [--python PYTHON]

engine: the engine.
Each (size, point) runs ``python -m sweep.point`` in a fresh process with the
standard parameters (network=brunel_a, N_E:N_I = 4:1) and prints build time, run
time per simulated second, delivered recurrent synaptic events per wall second,
peak RSS, rate and state. build_s is the network (drawing the instance, filling
MOOSE, recorders); drive_s draws the external Poisson counts and loads them into
MOOSE. ``--peer nest`` runs the same point in NEST (``sweep.nest_peer``, a fresh
process, one thread) right after, and prints its row and MOOSE's cost as a multiple
of NEST's. ``--peer brian2`` does the same in Brian2's C++ standalone mode
(``sweep.brian2_peer``: this project's instance, one thread, in the Brian2 environment
that ``brunel-bench brian2-env`` creates); its row adds compile_s (code generation and
compilation). ``--peer nest brian2`` runs both. ``--check`` runs the numpy reference of
Brunel's neuron on the same instance and says whether MOOSE's spike trains are
identical to it. ``--out FILE`` appends each result as a JSON line.

split: where MOOSE's run time goes. Each (size, point) runs four times, each in a
fresh process (``brunel-point --switch-off``): the neurons alone, then with the
external drive, then with the relays (their fan-out off: no event delivered), then
the whole network; each part's cost is the difference from the run before, per
neuron-step for the first three and per delivered event for the last. The runs
without events are not Brunel's network (rates differ); their rates are printed.

brian2-env: create the Brian2 environment, ``.venv-brian2`` at the repository root
(``python -m venv`` and ``pip install 'brian2==2.9.*' 'numpy<2'``: Brian2 2.9 needs
numpy < 2 and so cannot share this project's environment); ``BRUNEL_BRIAN2_PYTHON``
names another interpreter to use instead.

refined: a refined sweep (``grid.refine``), from its
dataset: points, simulated seconds and point wall seconds against the uniform grid of
its final resolution, and each located boundary against the theory's line.

diagram: the whole phase diagram's cost per engine. The uniform grid's dataset
(default: the full-size phase diagram in docs/data) gives each state's number of
points and its representative, the point of that state whose measured total_s is the
state's median. Each engine runs each representative once in a fresh process; the
grid's cost is the sum over states of points x the representative's wall time (process
start to exit), and on 2 cores half of it. The first line checks that estimate on the
dataset's own times. A refined run on the same grid (``--refined``) costs its measured
multiple of its grid points' time.

sweep: the framework. Runs
``replicates`` equal-cost points ((5, 2), other seeds) through the sweep runner with
1 and then 2 workers, and prints the framework overhead (everything but
``moose.start``: process start, imports, build, drive, statistics, storage,
dispatch) relative to the simulation time, and the parallel efficiency T1 / (2 T2).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweep.cli import UsageError, add_overrides, command, parser
from sweep.config import load_config, require_model_a, standard_size


def overrides(n: int, g: float, eta: float, extra: list[str]) -> list[str]:
    return [*standard_size(n), f"network.g={g}", f"network.eta={eta}", *extra]


def run_one(n: int, g: float, eta: float, extra: list[str], spikes: Path | None,
            module: str = "sweep.point") -> dict:
    """One point in a fresh process of ``module`` (sweep.point or sweep.nest_peer)."""
    cmd = [sys.executable, "-m", module, *overrides(n, g, eta, extra)]
    if spikes is not None:
        cmd.append(f"--spikes={spikes}")
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - t0  # what a sweep pays for the point: start to exit
    if out.returncode != 0:
        raise SystemExit(f"point failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall_s": wall_s}


def check_reference(spikes: Path, cfg_overrides: list[str]) -> str:
    """Whether MOOSE's saved spikes are the numpy reference's on the same instance."""
    import numpy as np

    from sweep.numpy_sim import simulate_reference

    saved = np.load(spikes)
    ref = simulate_reference(load_config(cfg_overrides), accumulate=False)
    same = (np.array_equal(saved["ids"], ref.spike_ids)
            and np.array_equal(saved["times"], ref.spike_times))
    return (f"identical to the reference ({ref.spike_times.size} spikes)" if same else
            f"DIFFERENT from the reference ({saved['times'].size} vs "
            f"{ref.spike_times.size} spikes)")


PEERS = {"nest": "sweep.nest_peer", "brian2": "sweep.brian2_peer"}


HEAD = (f"{'N':>6} {'g':>4} {'eta':>4} {'engine':>6} {'build_s':>8} {'drive_s':>8} "
        f"{'compile_s':>9} {'run_s/sim_s':>11} {'events/s':>10} {'peak_MB':>8} {'rate_Hz':>8} "
        f"{'osc_Hz':>7} {'state':>9}")


def _row(n: int, g: float, eta: float, engine: str, r: dict) -> str:
    sim_s = r["duration_ms"] / 1000
    events = f"{r['syn_events'] / r['run_s']:>10.3g}" if "syn_events" in r else f"{'-':>10}"
    compile_s = f"{r['compile_s']:>9.1f}" if "compile_s" in r else f"{'-':>9}"
    return (f"{n:>6} {g:>4} {eta:>4} {engine:>6} {r['build_s']:>8.1f} {r['drive_s']:>8.1f} "
            f"{compile_s} {r['run_s'] / sim_s:>11.1f} {events} {r['peak_rss_mb']:>8.0f} "
            f"{r['rate_hz']:>8.2f} {r['osc_freq_hz']:>7.1f} {r['state']:>9}")


def _against(r: dict, peer: dict) -> list[str]:
    """MOOSE's cost as a multiple of a peer's, and how the peer's build splits."""
    engine, moose_build = peer["engine"], r["build_s"] + r["drive_s"]
    lines = [f"moose/{engine}: run {r['run_s'] / peer['run_s']:.2f}x, "
             f"build+drive {moose_build / (peer['build_s'] + peer['drive_s']):.2f}x"]
    if engine == "brian2":
        lines[0] += (f", build+drive against setup+compile "
                     f"{moose_build / (peer['build_s'] + peer['compile_s']):.2f}x")
        lines.insert(0, f"brian2 build: instance {peer['instance_s']:.1f} s, Brian2 objects "
                        f"{peer['setup_s']:.1f} s, the binary's setup (arrays, synapses) "
                        f"{peer['binary_setup_s']:.1f} s; compile {peer['compile_s']:.1f} s "
                        f"(code generation {peer['codegen_s']:.1f} s, make "
                        f"{peer['make_s']:.1f} s); peak RSS of its Python process "
                        f"{peer['python_rss_mb']:.0f} MB")
    return [f"{'':>16} {line}" for line in lines]


# Cumulative variants of MOOSE's network: each adds one part to the one before.
SPLIT = (("neurons", ("drive", "relays")), ("+ drive", ("relays",)),
         ("+ relays", ("fan",)), ("+ events", ()))


def split_bench(n: int, g: float, eta: float, extra: list[str]) -> list[str]:
    """MOOSE's run cost per simulated second split by parts: the four ``SPLIT`` variants
    (``brunel-point --switch-off``), each in a fresh process; a part's cost is the
    difference from the variant before, per neuron-step (ns) for the neurons, the drive
    and the relays, per delivered event (ns) for the events."""
    rows, before = [], 0.0
    dt_s = load_config(overrides(n, g, eta, extra)).sim.dt * 1e-3
    for name, off in SPLIT:
        cmd = ["--switch-off", *off] if off else []
        r = run_one(n, g, eta, [*extra, *cmd], None)
        sim_s = r["duration_ms"] / 1000
        cost = r["run_s"] / sim_s
        steps = n * sim_s / dt_s  # neuron-steps
        part = cost - before
        per = (f"{part * sim_s / r['syn_events'] * 1e9:.1f} ns per event "
               f"({r['syn_events'] / sim_s:.3g} events per simulated s)" if not off else
               f"{part * sim_s / steps * 1e9:.1f} ns per neuron-step")
        rows.append(f"{n:>6} {g:>4} {eta:>4} {name:>9} {cost:>11.2f} {part:>8.2f}  {per}; "
                    f"rate {r['rate_hz']:.1f} Hz")
        before = cost
    return rows


def brian2_env(python: str | None) -> int:
    """Create the Brian2 environment (``.venv-brian2``), printing each command."""
    import shlex

    from sweep.brian2_peer import env_commands

    for cmd in env_commands(python):
        print("$", shlex.join(cmd), flush=True)
        done = subprocess.run(cmd, check=False)
        if done.returncode:
            return done.returncode
    return 0


def sweep_bench(n: int, replicates: int, extra: list[str]) -> None:
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


def refined_bench(run_dir: Path) -> list[str]:
    """A refined run's cost against the uniform grid of its final resolution (points,
    simulated seconds, point wall seconds, wall time), and each located boundary against
    the theory's line between its two states."""
    from omegaconf import OmegaConf

    from analysis.agreement import (
        boundary_report,
        lines_for,
        located_boundaries,
        plane_boundaries,
        sync_threshold,
    )
    from sweep.config import from_dictconfig
    from sweep.grid import expand, flatten_axes, refine_steps
    from sweep.rundir import RunDir
    from sweep.storage import ETA, G, load

    rd = RunDir(run_dir)
    if not (rd.results.exists() and rd.boundaries.exists()):
        raise UsageError(f"{run_dir}: needs results.parquet and boundaries.parquet (a "
                         "refined run, gathered)")
    df, meta = load(run_dir)
    cfg = from_dictconfig(OmegaConf.create(meta["run_config"] or "{}"))
    refine = cfg.grid.refine
    if not refine.on:
        raise UsageError(f"{run_dir}: grid.refine is off in its config")
    found, steps = plane_boundaries(df, run_dir), refine_steps(cfg)
    if found is None:
        raise UsageError(f"{run_dir}: its boundaries are not in one (g, eta) plane")
    grid_ids = {p.point_id for p in expand(cfg)}
    first = df[df.point_id.isin(grid_ids)]
    rest = df[~df.point_id.isin(grid_ids)]
    uniform, axes_text = max(len(cfg.grid.points), 1) * cfg.grid.replicates, []
    for key, values in flatten_axes(cfg.grid.axes).items():
        if key in refine.axes:
            along = found[found.axis == key]
            res = float((along.high - along.low).min()) if len(along) else steps[key]
            uniform *= round((max(values) - min(values)) / res) + 1
            axes_text.append(f"{key.split('.')[-1]} at {res:g}")
        else:
            uniform *= len(values)
    sim_s = df["sim.duration"].iloc[0] / 1000
    wall = df.total_s.sum()
    estimate = uniform * first.total_s.mean()

    def span(rows) -> str:  # rows of the dataset
        if rows.empty:
            return "none"
        minutes = (rows.finished_at.max() - rows.started_at.min()).total_seconds() / 60
        return f"{len(rows)} points, {minutes:.1f} min from first start to last finish"

    return [
        f"refined run {run_dir}: grid.refine.min_step={refine.min_step:g}, axes "
        f"{', '.join(refine.axes)}; {int(found['round'].max()) if len(found) else 0} rounds "
        f"after the grid",
        f"points: {len(df)} (grid {len(first)}, refinement {len(rest)}) against {uniform} "
        f"for the uniform grid ({', '.join(axes_text)}): {len(df) / uniform:.1%}"
        + (f"; every replicate counts, the extra seeds of grid.confidence included "
           f"({len(df) - len(df.groupby([G, ETA]))} of them)" if cfg.grid.confidence.on
           else ""),
        f"simulated seconds: {len(df) * sim_s:.0f} against {uniform * sim_s:.0f}: "
        f"{len(df) / uniform:.1%}",
        f"point wall seconds (sum over points): {wall / 3600:.2f} h against {estimate / 3600:.2f}"
        f" h estimated (the grid's mean per point x {uniform}): {wall / estimate:.1%}",
        f"wall time: grid: {span(first)}; refinement rounds: {span(rest)}",
        *boundary_report(located_boundaries(found, lines_for(df, run_dir), df),
                         threshold=sync_threshold(df)),
    ]


def _first_seed(df):
    """A dataset's rows of its first seed (replicate 0)."""
    return df[df.replicate == 0] if "replicate" in df else df


def region_points(df) -> list[dict]:
    """One point per state of a uniform grid's dataset (its first-seed rows): the state's
    number of points, and its representative, the point whose ``total_s`` is the state's
    lower median.

    The grid's cost is then estimated as sum over states of points x the cost of the
    representative; ``median_s`` and ``sum_s`` (the dataset's own times) check that
    estimate against what the dataset measured.
    """
    from sweep.storage import ETA, G

    first = _first_seed(df)
    regions = []
    for state, grp in first.groupby("state"):
        ordered = grp.sort_values(["total_s", G, ETA])
        rep = ordered.iloc[(len(ordered) - 1) // 2]
        regions.append({"state": state, "points": len(grp), "g": float(rep[G]),
                        "eta": float(rep[ETA]), "median_s": float(rep.total_s),
                        "sum_s": float(grp.total_s.sum())})
    return regions


def refined_ratio(grid_df, refined_df) -> float:
    """A refined run's point seconds over those of its points that are the uniform
    grid's (first seed): its cost as a multiple of the grid's, on its own machine."""
    from sweep.storage import ETA, G

    grid = _first_seed(grid_df).set_index([G, ETA]).index
    on_grid = _first_seed(refined_df)
    on_grid = on_grid[on_grid.set_index([G, ETA]).index.isin(grid)]
    return float(refined_df.total_s.sum() / on_grid.total_s.sum())


def diagram_bench(grid: Path, refined: Path, peers: list[str], extra: list[str],
                  out: Path | None) -> list[str]:
    """The whole uniform grid's cost per engine: each engine runs each state's
    representative (``region_points``) once, in a fresh process; the grid's serial cost
    is sum over states of points x that run's wall time, and on 2 cores half of it (two
    points at a time). A refined run's cost is the grid's times ``refined_ratio``."""
    from sweep.storage import load

    df, _ = load(grid)
    n = int(df["network.N_E"].iloc[0] + df["network.N_I"].iloc[0])
    regions = region_points(df)
    for reg in regions:  # every configuration is checked before the first run
        cfg = load_config(overrides(n, reg["g"], reg["eta"], extra))
        if peers:
            require_model_a(cfg.network, f"--peer {' '.join(peers)}")
    check = sum(r["points"] * r["median_s"] for r in regions) / sum(r["sum_s"] for r in regions)
    lines = [f"grid {grid}: N = {n}, {sum(r['points'] for r in regions)} points; the "
             f"method on its own times: estimate / measured = {check:.3f}"]
    print(lines[0], f"{HEAD} {'wall_s':>8}", sep="\n", flush=True)
    walls: dict[str, float] = {}
    compile_once = 0.0
    for reg in regions:
        print(f"{reg['state']}: {reg['points']} points, representative ({reg['g']:g}, "
              f"{reg['eta']:g}), its total_s in the grid {reg['median_s']:.1f} s", flush=True)
        for engine in ("moose", *peers):
            r = run_one(n, reg["g"], reg["eta"], extra, None, PEERS.get(engine, "sweep.point"))
            print(f"{_row(n, reg['g'], reg['eta'], engine, r)} {r['wall_s']:>8.1f}", flush=True)
            walls[engine] = walls.get(engine, 0.0) + reg["points"] * r["wall_s"]
            if engine == "brian2":
                compile_once += reg["points"] * r["compile_s"]
            if out:
                with out.open("a") as f:
                    f.write(json.dumps({**r, "engine": engine, "state": reg["state"],
                                        "points": reg["points"], "overrides": extra}) + "\n")
    for engine, serial in walls.items():
        lines.append(f"{engine}: the grid {serial / 3600:.2f} h of point time, "
                     f"{serial / 2 / 60:.0f} min on 2 cores; {serial / walls['moose']:.2f}x "
                     f"MOOSE's")
    if "brian2" in walls:
        once = walls["brian2"] - compile_once
        lines.append(f"brian2 compiled once for the whole grid (a lower bound: this peer "
                     f"compiles each point): {once / 3600:.2f} h, {once / 2 / 60:.0f} min on "
                     f"2 cores; {once / walls['moose']:.2f}x MOOSE's")
    ratio = refined_ratio(df, load(refined)[0])
    moose_refined = ratio * walls["moose"]
    lines.append(f"refined run {refined}: {ratio:.2f}x its grid's point time; MOOSE's "
                 f"refined diagram {moose_refined / 3600:.2f} h, {moose_refined / 2 / 60:.0f}"
                 f" min on 2 cores, "
                 + ", ".join(f"{moose_refined / walls[e]:.2f}x {e}'s uniform grid"
                             for e in peers))
    return lines


DATA = Path(__file__).resolve().parents[1] / "docs" / "data"
DIAGRAM_GRID = DATA / "phase_diagram_full.parquet"
DIAGRAM_REFINED = DATA / "phase_diagram_refined.parquet"
COMMANDS = ("engine", "split", "sweep", "refined", "diagram", "brian2-env")


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-bench", __doc__, "sweep.bench")
    sub = ap.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    p = sub.add_parser("engine", help="MOOSE per size and point, with peers and a check")
    p.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 12500], metavar="N")
    p.add_argument("--points", nargs="+", default=["5,2"], metavar="G,ETA")
    p.add_argument("--out", type=Path, metavar="FILE", help="append results as JSON lines")
    p.add_argument("--spikes-dir", type=Path, metavar="DIR",
                   help="save each point's spikes (npz) here")
    p.add_argument("--peer", nargs="+", action="extend", default=[],
                   metavar="{nest,brian2}",
                   help="also run each point in these peers: nest, brian2 (both: --peer "
                        "nest brian2)")
    p.add_argument("--check", action="store_true",
                   help="compare MOOSE's spikes with the numpy reference's")
    add_overrides(p)
    p = sub.add_parser("split", help="MOOSE's run cost split into neurons, drive, relays "
                                     "and events")
    p.add_argument("--sizes", type=int, nargs="+", default=[12500], metavar="N")
    p.add_argument("--points", nargs="+", default=["5,2", "3,2"], metavar="G,ETA")
    add_overrides(p)
    p = sub.add_parser("sweep", help="the sweep framework's overhead and parallel efficiency")
    p.add_argument("--sizes", type=int, nargs="+", default=[2500], metavar="N")
    p.add_argument("--replicates", type=int, default=4, metavar="K", help="points per run")
    add_overrides(p)
    p = sub.add_parser("refined", help="a refined run's cost against the uniform grid, and "
                                       "its boundaries against the theory")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p = sub.add_parser("diagram", help="the whole uniform grid's cost per engine, from one "
                                       "point per state")
    p.add_argument("--grid", type=Path, default=DIAGRAM_GRID, metavar="DATASET",
                   help=f"a uniform grid's results (default: {DIAGRAM_GRID})")
    p.add_argument("--refined", type=Path, default=DIAGRAM_REFINED, metavar="DATASET",
                   help=f"a refined run on that grid (default: {DIAGRAM_REFINED})")
    p.add_argument("--peer", nargs="+", action="extend", default=[], metavar="{nest,brian2}",
                   help="also run each representative in these peers")
    p.add_argument("--out", type=Path, metavar="FILE", help="append results as JSON lines")
    add_overrides(p)
    p = sub.add_parser("brian2-env", help="create the Brian2 environment (.venv-brian2) "
                                          "that --peer brian2 runs in")
    p.add_argument("--python", metavar="PYTHON",
                   help="the interpreter that makes the venv (default: this one)")
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["engine", *argv]
    args = ap.parse_args(argv)
    if args.command == "refined":
        print("\n".join(refined_bench(args.run_dir)))
        return 0
    if args.command == "brian2-env":
        return brian2_env(args.python)
    if args.command == "sweep":
        for n in args.sizes:
            sweep_bench(n, args.replicates, args.overrides)
        return 0
    peer_args = getattr(args, "peer", [])
    # Overrides written after --points or --peer would be taken as theirs (nargs="+").
    points_args = getattr(args, "points", [])
    args.overrides += [p for p in [*points_args, *peer_args] if "=" in p]
    args.points = [p for p in points_args if "=" not in p]
    peers = list(dict.fromkeys(p for p in peer_args if "=" not in p))
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise UsageError(f"--peer {' '.join(unknown)}: must be among {', '.join(PEERS)}")
    try:
        points = [(float(g), float(eta)) for g, eta in (p.split(",") for p in args.points)]
    except ValueError:
        raise UsageError(f"--points {' '.join(args.points)}: must be g,eta pairs, "
                         "e.g. 5,2") from None
    if not all(math.isfinite(v) for p in points for v in p):
        raise UsageError(f"--points {' '.join(args.points)}: must be finite numbers")
    for n in getattr(args, "sizes", []):  # every config is checked before the first run
        for g, eta in points:
            cfg = load_config(overrides(n, g, eta, args.overrides))
            if peers:
                require_model_a(cfg.network, f"--peer {' '.join(peers)}")
    if "nest" in peers:
        from sweep.nest_peer import INSTALL_HINT, nest_available

        if not nest_available():
            raise UsageError(f"--peer nest: {INSTALL_HINT}")
    if "brian2" in peers:
        from sweep.brian2_peer import missing

        problem = missing()
        if problem:
            raise UsageError(f"--peer brian2: {problem}")
    if args.command == "diagram":
        for path in (args.grid, args.refined):
            if not Path(path).exists():
                raise UsageError(f"{path}: no such dataset (a results.parquet or its run "
                                 "directory)")
        print("\n".join(diagram_bench(args.grid, args.refined, peers, args.overrides,
                                      args.out)))
        return 0
    print(f"# {platform.node()} {platform.processor() or platform.machine()} "
          f"{os.cpu_count()} cores, python {platform.python_version()}")
    if args.command == "split":
        print(f"{'N':>6} {'g':>4} {'eta':>4} {'variant':>9} {'run_s/sim_s':>11} "
              f"{'part':>8}  part per unit of work", flush=True)
        for n in args.sizes:
            for g, eta in points:
                print("\n".join(split_bench(n, g, eta, args.overrides)), flush=True)
        return 0
    print(HEAD, flush=True)
    spikes_dir = args.spikes_dir
    if args.check and spikes_dir is None:
        spikes_dir = Path(tempfile.mkdtemp(prefix="bench-spikes-"))
    for n in args.sizes:
        for g, eta in points:
            spikes = None
            if spikes_dir:
                spikes_dir.mkdir(parents=True, exist_ok=True)
                spikes = spikes_dir / f"N{n}_g{g}_eta{eta}.npz"
            r = run_one(n, g, eta, args.overrides, spikes)
            print(_row(n, g, eta, "moose", r), flush=True)
            print(f"{'':>16} moose build: instance (numpy) {r['build_instance_s']:.1f} s, "
                  f"filling MOOSE {r['build_s'] - r['build_instance_s']:.1f} s; "
                  f"{r['starts']} moose.start calls", flush=True)
            results = [{**r, "engine": "moose"}]
            for name in peers:
                peer = run_one(n, g, eta, args.overrides, None, PEERS[name])
                print(_row(n, g, eta, name, peer), flush=True)
                print("\n".join(_against(r, peer)), flush=True)
                results.append(peer)
            if args.check:
                print(f"{'':>16} moose spikes "
                      f"{check_reference(spikes, overrides(n, g, eta, args.overrides))}",
                      flush=True)
            if args.out:
                with args.out.open("a") as f:
                    for res in results:
                        f.write(json.dumps({**res, "overrides": args.overrides}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
