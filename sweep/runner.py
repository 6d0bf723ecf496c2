"""Run points, each in a fresh Python process, ``run.jobs`` at a time.

joblib's threading backend dispatches; every thread claims its point in the run
directory (``sweep.claims``: a point another sweep runs is left to it and waited for),
starts one ``python -m sweep.worker`` process (MOOSE keeps global state, so an
interpreter is never reused) and watches it: a point that crashes, exceeds
``run.timeout`` or ``run.mem_cap_mb`` is killed and recorded as a failed row with the
reason, and the sweep goes on. Ctrl-C kills the running points; every finished part
stays. A problem of the machine (no space left, MOOSE that cannot be imported) stops
the sweep the same way, with ``RunEnvironmentError``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from joblib import Parallel, delayed

from analysis.sequential import confidence_bar
from sweep.claims import Claim, claim, release_all, tidy
from sweep.cli import EXIT_ENVIRONMENT, RunEnvironmentError
from sweep.config import Config, RunConfig, cores
from sweep.grid import Point, expand, points_at, refine_steps
from sweep.refine import (
    Evidence,
    boundaries,
    extra_seeds,
    next_round,
    point_key,
    point_states,
)
from sweep.rundir import RunDir
from sweep.storage import (
    MEASURED,
    STATISTICS,
    base_row,
    error_line,
    git_commit,
    now,
    part_error,
    part_measures,
    part_status,
    write_part,
)
from sweep.worker import point_spec

POLL_S = 0.2  # how often a running point's memory and time are checked
WAIT_S = 2.0  # how often a point another sweep runs is looked at


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """SIGTERM (kill, scancel, a time limit) stops this process's points the way Ctrl-C
    does: running points are killed without a row, finished parts stay. SIGINT too,
    even when started from a non-interactive shell in the background, which hands
    the process SIGINT ignored."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@dataclass
class Outcome:
    point_id: str
    status: str  # "ok", "failed", "interrupted"
    error: str | None = None


def _rss_mb(proc: psutil.Process) -> float:
    try:
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return 0.0


def _last_line(log: Path) -> str:
    """The last line a point's process printed, but for its own start line."""
    lines = [ln for ln in log.read_text(errors="replace").splitlines()
             if ln.strip() and not ln.startswith("sweep.worker: point ")]
    return lines[-1] if lines else "no output"


def _reason(returncode: int, log: Path) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return f"killed by signal {name} (see logs/{log.name})"
    return f"exit code {returncode}: {_last_line(log)} (see logs/{log.name})"


@dataclass
class Attempt:
    """What supervising one point process found."""

    result: dict[str, Any] | None  # the worker's result (ok, or failed with a traceback)
    error: str | None  # why there is no result: killed by the parent, crashed
    started_at: datetime
    wall_s: float  # seen by the parent, in case the worker could not say
    peak_rss_mb: float  # likewise


def supervise(point: Point, run_dir: Path, run: RunConfig, stop: threading.Event,
              held: Claim) -> Attempt | None:
    """Run one point in a new process, killing it on ``run.timeout``,
    ``run.mem_cap_mb`` or ``stop``, and keeping its claim alive; None when it was
    stopped (no row: it runs again on resume), else what it left. The point's log
    keeps every attempt, appended."""
    rd = RunDir(run_dir)
    log = rd.log(point.point_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    result_file = rd.result(point.point_id, uuid.uuid4().hex[:12])
    spec = point_spec(point.point_id, point.config, run_dir, run.save_spikes, result_file)
    started_at, t0, peak = now(), time.monotonic(), 0.0
    with log.open("a") as out:
        # A new session: the terminal's Ctrl-C reaches only the parent, which stops us.
        proc = subprocess.Popen([sys.executable, "-m", "sweep.worker"], stdin=subprocess.PIPE,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                text=True)
        reason = None
        try:
            watched = psutil.Process(proc.pid)
            proc.stdin.write(json.dumps(spec))
            proc.stdin.close()
            while True:
                try:
                    returncode = proc.wait(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    pass
                held.heartbeat()
                rss = _rss_mb(watched)
                peak = max(peak, rss)
                if stop.is_set():
                    reason = "interrupted"
                elif rss > run.mem_cap_mb:
                    reason = (f"memory cap exceeded: RSS {rss:.0f} MB > "
                              f"run.mem_cap_mb={run.mem_cap_mb}")
                elif time.monotonic() - t0 > run.timeout:
                    reason = f"wall-time limit exceeded: > run.timeout={run.timeout} s"
                if reason:
                    os.killpg(proc.pid, signal.SIGKILL)
                    returncode = proc.wait()
                    break
        except BaseException:  # Ctrl-C while this thread is the main one (run.jobs=1)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            result_file.unlink(missing_ok=True)
            raise
    finished = reason is None and result_file.exists()
    result = json.loads(result_file.read_text()) if finished else None
    result_file.unlink(missing_ok=True)
    # SIGTERM is a request to stop (Slurm's scancel or time limit reaches every process
    # of the job): the point is not failed, it is run again on resume.
    if not finished and (stop.is_set() or reason == "interrupted"
                         or returncode == -signal.SIGTERM):
        return None
    if result is not None and result["status"] == "environment":
        raise RunEnvironmentError(result["error"])
    if not finished and returncode == EXIT_ENVIRONMENT:  # it could not write its result
        raise RunEnvironmentError(_last_line(log).removeprefix("sweep.worker: "))
    return Attempt(result, None if finished else reason or _reason(returncode, log),
                   started_at, time.monotonic() - t0, peak)


def point_row(point: Point, attempt: Attempt, commit: str | None) -> dict[str, Any]:
    """The point's Parquet row from what its attempt left. The worker owns the process's
    timings (total_s, peak_rss_mb, start and end); the parent's are used only when the
    worker left no result."""
    row = base_row(point.point_id, point.params["replicate"], point.config)
    row.update(git_commit=commit)
    if attempt.result is not None:
        result = dict(attempt.result)
        stats = result.pop("stats")
        if result["status"] == "ok":  # every statistic and measure, or a KeyError
            row.update({k: stats[k] for k in (*STATISTICS, *MEASURED)})
        row.update(result)
        row.update(started_at=datetime.fromisoformat(result["started_at"]),
                   finished_at=datetime.fromisoformat(result["finished_at"]))
    else:
        row.update(status="failed", error=attempt.error, started_at=attempt.started_at,
                   finished_at=now(), total_s=attempt.wall_s, peak_rss_mb=attempt.peak_rss_mb)
    return row


def run_isolated(point: Point, run_dir: Path, run: RunConfig, commit: str | None,
                 stop: threading.Event, since: float) -> Outcome:
    """Claim the point, run it in a new process and make sure it leaves a part, unless
    stopped. A point that another sweep runs is "elsewhere"; one whose part another
    sweep wrote after ``since`` (this sweep's start) counts as that part says."""
    held = claim(run_dir, point.point_id)
    if not isinstance(held, Claim):
        return Outcome(point.point_id, "elsewhere", f"{held.get('host')}:{held.get('pid')}")
    try:
        part = RunDir(run_dir).part(point.point_id)
        status = part_status(run_dir, point.point_id)
        if status is not None and (part.stat().st_mtime >= since or status == "ok"
                                   or not run.retry_failed):
            error = part_error(run_dir, point.point_id) if status == "failed" else None
            return Outcome(point.point_id, status, error)  # done meanwhile by another sweep
        attempt = supervise(point, run_dir, run, stop, held)
        if attempt is None:
            return Outcome(point.point_id, "interrupted")
        row = point_row(point, attempt, commit)
        write_part(run_dir, row)
        return Outcome(point.point_id, row["status"], row["error"])
    finally:
        held.release()


def pending(points: list[Point], run_dir: Path, retry_failed: bool) -> list[Point]:
    """Points without a part; failed ones too when asked to retry them."""
    todo = []
    for p in points:
        status = part_status(run_dir, p.point_id)
        if status is None or (status == "failed" and retry_failed):
            todo.append(p)
    return todo


def check_moose() -> None:
    """MOOSE must be installed before any point starts (that it loads, each point's
    process finds out, as a ``RunEnvironmentError``)."""
    if importlib.util.find_spec("moose") is None:
        raise RunEnvironmentError("MOOSE is not installed in this environment "
                                  f"({sys.executable}); this project needs pymoose==5.0.0: "
                                  "pip install pymoose==5.0.0")


def run_points(points: list[Point], run_dir: Path, run: RunConfig) -> Counter:
    """Run the given points; returns counts of outcomes ("ok", "failed",
    "interrupted"). Points that another sweep runs are waited for, and counted as their
    parts say; if their owner is gone, they are run here. Ctrl-C stops the running
    points (their parts are not written) and re-raises KeyboardInterrupt; a problem of
    the machine does the same with ``RunEnvironmentError``."""
    from tqdm import tqdm

    check_moose()
    run_dir.mkdir(parents=True, exist_ok=True)
    tidy(run_dir)
    jobs = cores(run.jobs)
    commit, since = git_commit(), time.time()
    stop = threading.Event()
    counts: Counter = Counter()
    bar = tqdm(total=len(points), unit="point", disable=not run.progress, file=sys.stderr,
               dynamic_ncols=True)
    todo, waited = list(points), False
    try:
        while todo:
            tasks = (delayed(run_isolated)(p, run_dir, run, commit, stop, since) for p in todo)
            elsewhere = {}
            for outcome in Parallel(n_jobs=jobs, backend="threading",
                                    return_as="generator_unordered")(tasks):
                if outcome.status == "elsewhere":
                    elsewhere[outcome.point_id] = outcome.error
                    continue
                counts[outcome.status] += 1
                if outcome.status == "failed":
                    bar.write(f"point {outcome.point_id} failed: "
                              f"{error_line(outcome.error)}", file=sys.stderr)
                bar.set_postfix(ok=counts["ok"], failed=counts["failed"])
                bar.update()
            todo = [p for p in todo if p.point_id in elsewhere]
            if todo:
                if not waited:
                    owners = ", ".join(sorted(set(elsewhere.values())))
                    bar.write(f"waiting for {len(todo)} points that another sweep runs "
                              f"({owners})", file=sys.stderr)
                    waited = True
                time.sleep(WAIT_S)
    except BaseException:  # Ctrl-C, SIGTERM, a problem of the machine: stop every point
        stop.set()
        release_all()  # its points are not done: another sweep, or a resume, runs them
        raise
    finally:
        bar.close()
    return counts


def _run_round(points: list[Point], run_dir: Path, cfg: Config, label: str) -> Counter:
    todo = pending(points, run_dir, cfg.run.retry_failed)
    print(f"{label}{len(points)} points, {len(points) - len(todo)} already done, {len(todo)} "
          f"to run; run directory: {run_dir}", file=sys.stderr)
    return run_points(todo, run_dir, cfg.run)


def evidence(run_dir: Path, rounds: dict[str, tuple[Point, int]]) -> list[Evidence]:
    """Each point's (params, measures) from its part (``part_measures``)."""
    return [(p.params, part_measures(run_dir, i)) for i, (p, _) in rounds.items()]


def seed_round(cfg: Config, run_dir: Path, rounds: dict[str, tuple[Point, int]]
               ) -> list[Point]:
    """With ``grid.confidence.on``, one more seed of every undecided point
    (``sweep.refine.extra_seeds``); none otherwise or once every point is decided or
    at its cap."""
    c = cfg.grid.confidence
    if not c.on:
        return []
    return points_at(cfg, extra_seeds(evidence(run_dir, rounds), cfg.analysis,
                                      confidence_bar(c), c.max_replicates))


def refine_round(cfg: Config, run_dir: Path, rounds: dict[str, tuple[Point, int]],
                 level: int) -> list[Point]:
    """After the rounds so far (``rounds``: point id -> (point, its round)), write
    ``boundaries.parquet`` and return the points of round ``level``: the midpoints
    where the states change (``sweep.refine``); none once the refinement is done."""
    refine, steps = cfg.grid.refine, refine_steps(cfg)
    states = point_states(evidence(run_dir, rounds), cfg.analysis, cfg.grid.confidence.z)
    first = {}
    for p, r in rounds.values():
        key = point_key(p.params)
        first[key] = min(r, first.get(key, r))
    write_boundaries(boundaries(states, first, steps), run_dir)
    if refine.levels is not None and level > refine.levels:
        return []
    return points_at(cfg, next_round(states, steps, refine.min_step))


def next_points(cfg: Config, run_dir: Path, rounds: dict[str, tuple[Point, int]],
                level: int) -> tuple[list[tuple[Point, int]], bool]:
    """The next round after ``rounds``, each point with its round number, and whether
    it adds seeds: more seeds where a point is undecided (each belongs to its point's
    round), else the midpoints of refinement round ``level``; none once the sweep is
    complete."""
    seeds = seed_round(cfg, run_dir, rounds)
    if seeds:
        home = {point_key(p.params): r for p, r in rounds.values()}
        return [(p, home[point_key(p.params)]) for p in seeds], True
    if not cfg.grid.refine.on:
        return [], False
    return [(p, level) for p in refine_round(cfg, run_dir, rounds, level)], False


def run_grid(cfg: Config, run_dir: Path) -> Counter:
    """Expand the grid, skip the points already done in ``run_dir``, run the rest; then
    rounds until the sweep is complete (``next_points``): with ``grid.confidence`` on,
    more seeds of undecided points; with ``grid.refine`` on, midpoints where the states
    change (and ``boundaries.parquet``). Each round runs only its new points, resumed
    the same way."""
    points = expand(cfg)
    adaptive = cfg.grid.refine.on or cfg.grid.confidence.on
    counts = _run_round(points, run_dir, cfg, "round 0: " if adaptive else "")
    rounds = {p.point_id: (p, 0) for p in points}
    level = 1
    while adaptive and not counts["interrupted"]:
        planned, seeds = next_points(cfg, run_dir, rounds, level)
        if not planned:
            break
        label = (f"round {max(r for _, r in planned)}, more seeds: " if seeds
                 else f"round {level}: ")
        counts += _run_round([p for p, _ in planned], run_dir, cfg, label)
        rounds.update({p.point_id: (p, r) for p, r in planned})
        level += 0 if seeds else 1
    return counts


def write_boundaries(rows: list[dict[str, Any]], run_dir: Path) -> Path:
    """``boundaries.parquet`` from ``sweep.refine.boundaries``' rows (typed columns
    when there are none)."""
    import pyarrow as pa

    from sweep.storage import write_parquet

    columns = {"axis": pa.string(), "from_state": pa.string(), "to_state": pa.string(),
               "low": pa.float64(), "high": pa.float64(), "midpoint": pa.float64(),
               "round": pa.int64()}
    table = pa.Table.from_pylist(rows) if rows else pa.schema(columns).empty_table()
    return write_parquet(table, RunDir(run_dir).boundaries)
