"""The sweep as a Slurm array job, with nothing but sbatch, squeue and scancel.

``brunel-slurm submit [--dry-run] [--run-dir DIR] [overrides]`` expands the
grid on the submitting machine and writes, into the run directory, ``slurm/manifest.json``
(every point's id, settings and resolved config, and the shards: ``slurm.points_per_task``
points each) and ``slurm/array.sbatch`` (``--array=0-K%P``, one shard per task), then
submits it (``--dry-run``: only writes them). Each task runs ``python -m sweep.slurm task
RUN_DIR``: the points of its shard that are not done, each in its own process as in a
local sweep, writing parts into the run directory. With the array goes a small
"next" job that starts when every task has ended (``afterany``) and runs ``advance``:
with ``grid.confidence`` or ``grid.refine`` on, it submits the next round (more seeds
of undecided points, or the midpoints where the states change and
``boundaries.parquet``, ``sweep.runner.next_points``) as a new array with its own next
job; then it gathers the dataset, its figures and its agreement report
(``python -m sweep.gather``), so a run ends with its dataset without a person in the
loop. ``status RUN_DIR`` counts done, failed and pending points per round (and the
jobs still queued or running); ``resubmit RUN_DIR`` submits the shards that have
missing or failed points and no task in the queue, with a next job after them.

Points keep the ids and seeds of a local run of the same config (``sweep.grid``), so the
datasets are the same apart from timing and host columns.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sweep.cli import EXIT_INTERRUPTED, command, parser
from sweep.config import (
    Config,
    ConfigError,
    RunConfig,
    SlurmConfig,
    config_from_dict,
)
from sweep.grid import Point
from sweep.rundir import RunDir, write_text

if TYPE_CHECKING:
    from omegaconf import DictConfig



class SlurmError(RuntimeError):
    """A Slurm command failed; the message is its first line of output."""


def shards(n_points: int, per_task: int) -> list[list[int]]:
    """Point indices of each array task: consecutive runs of ``per_task`` points."""
    return [list(range(i, min(i + per_task, n_points))) for i in range(0, n_points, per_task)]


def _slurm(*cmd: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise SlurmError(f"{cmd[0]}: not found (is this a Slurm login node?)") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{' '.join(cmd[:2])}: no answer in 120 s (check squeue before "
                         "resubmitting)") from None
    if out.returncode != 0:
        first = (out.stderr.strip() or out.stdout.strip() or "no output").splitlines()[0]
        raise SlurmError(f"{' '.join(cmd[:2])}: {first}")
    return out.stdout


def array_spec(indices: list[int], max_running: int) -> str:
    """sbatch's --array value: "0-K" for a full range, else a list; "%P" to throttle."""
    full = indices == list(range(len(indices)))
    spec = f"0-{len(indices) - 1}" if full else ",".join(map(str, indices))
    return f"{spec}%{max_running}" if max_running else spec


def _script(sl: SlurmConfig, options: list[str], commands: list[str]) -> str:
    """A job script: #SBATCH lines (then ``slurm.partition`` and ``slurm.extra``), this
    code on PYTHONPATH (the code that wrote the manifest runs it), the commands."""
    root = Path(__file__).resolve().parent.parent
    options = [*options, f"--mem-per-cpu={sl.mem_mb}M", f"--time={sl.time}",
               *([f"--partition={sl.partition}"] if sl.partition else []), *sl.extra]
    lines = ["#!/bin/bash", *(f"#SBATCH {o}" for o in options),
             f"export PYTHONPATH={shlex.quote(str(root))}${{PYTHONPATH:+:$PYTHONPATH}}",
             *commands]
    return "\n".join(lines) + "\n"


def sbatch_script(sl: SlurmConfig, run_dir: Path, n_tasks: int) -> str:
    """The array job's script; ``resubmit`` reuses it with another --array. Job name and
    output path go on sbatch's command line (``submit_array``), where paths need no
    quoting."""
    options = [f"--array={array_spec(list(range(n_tasks)), sl.max_running)}",
               f"--cpus-per-task={sl.cpus_per_task}"]
    return _script(sl, options, [f"exec {shlex.quote(sys.executable)} -m sweep.slurm task "
                                 f"{shlex.quote(str(run_dir))}"])


def next_script(cfg: Config, run_dir: Path) -> str:
    """The next job's script: advance the sweep (the next round, if any), then gather
    what is there (with the theory unless ``run.theory`` is off); it fails when a
    round is incomplete or points failed."""
    run, python = shlex.quote(str(run_dir)), shlex.quote(sys.executable)
    theory = "" if cfg.run.theory else " --no-theory"
    return _script(cfg.slurm, ["--cpus-per-task=1"], [
        f"{python} -m sweep.slurm advance {run}", "advanced=$?",
        f"{python} -m sweep.gather {run}{theory} || exit $?", "exit $advanced"])


def slurm_seconds(t: str) -> int:
    """Seconds of a Slurm time ("M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S")."""
    days, _, rest = t.rpartition("-")
    parts = [int(x) for x in rest.split(":")]
    if days:
        h, m, sec = [*parts, 0, 0][:3]
    else:
        h, m, sec = {1: (0, parts[0], 0), 2: (0, *parts), 3: tuple(parts)}[len(parts)]
    return ((int(days or 0) * 24 + h) * 60 + m) * 60 + sec


def check_resources(cfg: Config) -> None:
    """A point must hit its own limits before its task hits Slurm's, or it is killed
    without a row and every resubmission runs it again."""
    limit = slurm_seconds(cfg.slurm.time)
    if cfg.run.timeout >= limit:
        raise ConfigError(f"run.timeout={cfg.run.timeout}: must be below slurm.time="
                          f"{cfg.slurm.time} ({limit} s)")
    if cfg.run.mem_cap_mb > cfg.slurm.mem_mb:
        raise ConfigError(f"run.mem_cap_mb={cfg.run.mem_cap_mb}: must be at most "
                          f"slurm.mem_mb={cfg.slurm.mem_mb} (per CPU, one point per CPU)")


SHARD_OFFSET = "BRUNEL_SHARD_OFFSET"  # an array's first shard, exported to its tasks


def max_array_size() -> int:
    """The cluster's MaxArraySize: array task indices must stay below it."""
    for line in _slurm("scontrol", "show", "config").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "MaxArraySize":
            return int(value)
    return 1001  # Slurm's default


def _entries(points: list[tuple[Point, int]], seeds: bool) -> list[dict[str, Any]]:
    return [{"point_id": p.point_id, "params": p.params, "round": level,
             "config": dataclasses.asdict(p.config), **({"seeds": True} if seeds else {})}
            for p, level in points]


def add_round(manifest: dict[str, Any], points: list[tuple[Point, int]], seeds: bool = False
              ) -> list[int]:
    """Append a round's points (each with its round number; ``seeds``: more seeds of
    points already planned) and their shards to the manifest; returns the new shards'
    indices."""
    first, start = len(manifest["points"]), len(manifest["shards"])
    manifest["complete"] = False
    manifest["points"] += _entries(points, seeds)
    per_task = manifest["slurm"]["points_per_task"]
    manifest["shards"] += [[first + i for i in shard]
                           for shard in shards(len(points), per_task)]
    return list(range(start, len(manifest["shards"])))


def write_submission(cfg: Config, overrides: list[str], composed: DictConfig, run_dir: Path,
                     points: list[Point]) -> dict[str, Any]:
    """Write the manifest of ``points`` (round 0), the composed config and the scripts."""
    from omegaconf import OmegaConf

    manifest = {
        "overrides": overrides,
        "created_at": datetime.now().astimezone().isoformat(),
        "run": dataclasses.asdict(cfg.run),
        "slurm": dataclasses.asdict(cfg.slurm),
        "points": [], "shards": [], "complete": False,
    }
    add_round(manifest, [(p, 0) for p in points])
    rd = RunDir(run_dir)
    rd.slurm_logs.mkdir(parents=True, exist_ok=True)
    write_text(rd.manifest, json.dumps(manifest, indent=1))
    write_text(rd.slurm_config, OmegaConf.to_yaml(composed))
    write_text(rd.sbatch_script, sbatch_script(cfg.slurm, run_dir, len(manifest["shards"])))
    write_text(rd.next_script, next_script(cfg, run_dir))
    return manifest


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = RunDir(run_dir).manifest
    if not path.exists():
        raise ConfigError(f"{path}: no manifest; is {run_dir} a run of brunel-slurm?")
    return json.loads(path.read_text())


def _record(run_dir: Path, job: dict[str, Any]) -> str:
    jobs_file = RunDir(run_dir).slurm_jobs
    jobs = json.loads(jobs_file.read_text()) if jobs_file.exists() else []
    jobs.append({**job, "submitted_at": datetime.now().astimezone().isoformat()})
    write_text(jobs_file, json.dumps(jobs, indent=1))
    return job["job_id"]


def array_of(indices: list[int], limit: int) -> tuple[int, list[int]]:
    """An array for the given shards: (offset, task indices) with task index = shard -
    offset, numbered from 0, so that later rounds (whose shards have larger indices)
    fit under the cluster's MaxArraySize (``limit``: task indices must be below it)."""
    offset = min(indices)
    tasks = [i - offset for i in indices]
    if tasks[-1] >= limit:
        raise SlurmError(f"shards {offset}-{indices[-1]} span more than this cluster's "
                         f"MaxArraySize={limit}; raise slurm.points_per_task")
    return offset, tasks


def submit_array(run_dir: Path, indices: list[int], max_running: int) -> str:
    """sbatch the run's script for the given shards (every submission checked against
    MaxArraySize); records and returns the job id. Each task runs shard
    ``SHARD_OFFSET + SLURM_ARRAY_TASK_ID``."""
    offset, tasks = array_of(sorted(indices), max_array_size())
    logs = str(RunDir(run_dir).slurm_logs).replace("%", "%%")  # sbatch expands % patterns
    out = _slurm("sbatch", "--parsable", f"--array={array_spec(tasks, max_running)}",
                 f"--export=ALL,{SHARD_OFFSET}={offset}",
                 f"--job-name=brunel-{run_dir.name}", f"--output={logs}/%A_%a.out",
                 str(RunDir(run_dir).sbatch_script))
    return _record(run_dir, {"job_id": out.strip().split(";")[0], "shards": sorted(indices),
                             "offset": offset})


def submit_next(run_dir: Path, after: str | None) -> str:
    """sbatch the next job, to start when array job ``after`` has ended (at once when
    None); records and returns its id."""
    logs = str(RunDir(run_dir).slurm_logs).replace("%", "%%")
    depend = [f"--dependency=afterany:{after}"] if after else []
    out = _slurm("sbatch", "--parsable", *depend, f"--job-name=brunel-next-{run_dir.name}",
                 f"--output={logs}/next_%j.out", str(RunDir(run_dir).next_script))
    return _record(run_dir, {"job_id": out.strip().split(";")[0], "next_after": after})


def submit_round(run_dir: Path, indices: list[int], max_running: int) -> str:
    """The shards as an array and the next job after it; says what was submitted."""
    array = submit_array(run_dir, indices, max_running)
    return f"array job {array} and next job {submit_next(run_dir, array)}"


def point_states(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """"ok", "failed" or "pending" (no part yet) for every point of the manifest."""
    from sweep.storage import part_status

    return [part_status(run_dir, p["point_id"]) or "pending" for p in manifest["points"]]


def active_jobs(run_dir: Path) -> tuple[dict[int, str], list[str]]:
    """This run's jobs still queued or running: {shard index: "<task id> <state>"} for
    array tasks, and "<job id> <state>" for next jobs. The user's whole queue is listed
    and filtered (squeue -j fails on ids Slurm has already forgotten)."""
    jobs_file = RunDir(run_dir).slurm_jobs
    if not jobs_file.exists():
        return {}, []
    jobs = json.loads(jobs_file.read_text())
    arrays = {j["job_id"]: j.get("offset", 0) for j in jobs if "shards" in j}
    nexts = {j["job_id"] for j in jobs if "next_after" in j}
    shards_active, next_active = {}, []
    for line in _slurm("squeue", "-h", "-r", "-u", getpass.getuser(), "-o",
                       "%i %T").splitlines():
        task, state = line.split()
        job, _, index = task.partition("_")
        if job in arrays and index.isdigit():
            shards_active[arrays[job] + int(index)] = f"{task} {state}"
        elif task in nexts:
            next_active.append(f"{task} {state}")
    return shards_active, next_active


def incomplete_shards(manifest: dict[str, Any], states: list[str]) -> list[int]:
    return [i for i, shard in enumerate(manifest["shards"])
            if any(states[j] != "ok" for j in shard)]


def status(run_dir: Path) -> str:
    """Counts of done, failed and pending points (per round in a refined sweep), and
    what is queued or running."""
    manifest = read_manifest(run_dir)
    states = point_states(run_dir, manifest)
    try:
        active, nexts = active_jobs(run_dir)
        queue = f"{len(active)} tasks queued or running"
    except SlurmError as err:  # e.g. looking at a copied run directory, off the cluster
        active, nexts, queue = {}, [], f"queue unknown ({err})"

    def counts(sts: list[str]) -> str:
        return (f"{len(sts)} points: {sts.count('ok')} done, {sts.count('failed')} failed, "
                f"{sts.count('pending')} pending")

    lines = [f"{counts(states)}; {queue}"]
    rounds = [p.get("round", 0) for p in manifest["points"]]
    if max(rounds, default=0) > 0:
        lines += [f"  round {r}: " + counts([s for s, k in zip(states, rounds, strict=True)
                                             if k == r]) for r in range(max(rounds) + 1)]
    lines += [f"  next job {job} (then: advance, gather)" for job in nexts]
    if manifest.get("complete") and not nexts:
        lines.append("  complete: no round left to plan (the last next job gathers "
                     f"{RunDir(run_dir).results.name})")
    for i in incomplete_shards(manifest, states):
        shard = manifest["shards"][i]
        counted = ", ".join(f"{n} {s}" for s in ("failed", "pending")
                            if (n := sum(states[j] == s for j in shard)))
        lines.append(f"  shard {i}: {counted}; " + (f"task {active[i]}" if i in active else
                                                      "no task queued"))
    from sweep.storage import part_error

    for p, s in zip(manifest["points"], states, strict=True):
        if s == "failed":
            where = ", ".join(f"{k}={v}" for k, v in p["params"].items())
            lines.append(f"  failed {p['point_id']} ({where}): "
                         f"{part_error(run_dir, p['point_id'])}")
    return "\n".join(lines)


def _locked(run_dir: Path):
    import fcntl

    lock = RunDir(run_dir).slurm_lock.open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def resubmit(run_dir: Path, dry_run: bool = False) -> str:
    """Submit the shards with missing or failed points and no task in the queue, and a
    next job after them; with every point done but the sweep not complete (its next
    job failed or was cancelled), a next job alone. Holds a lock on the run directory,
    so two resubmits cannot both submit a shard."""
    with _locked(run_dir):
        manifest = read_manifest(run_dir)
        active, nexts = active_jobs(run_dir)
        todo = [i for i in incomplete_shards(manifest, point_states(run_dir, manifest))
                if i not in active]
        if todo:
            if dry_run:
                return f"would resubmit shards {todo}"
            submitted = submit_round(run_dir, todo, manifest["slurm"]["max_running"])
            return f"resubmitted shards {todo} as {submitted}"
        if active or nexts:
            return f"nothing to resubmit ({len(active)} tasks, {len(nexts)} next jobs queued " \
                   "or running)"
        if manifest.get("complete"):
            return "nothing to resubmit: every point is done"
        if dry_run:
            return "would submit a next job"
        return f"submitted next job {submit_next(run_dir, None)} (advance, then gather)"


def advance(run_dir: Path) -> tuple[int, str]:
    """What a next job does first: once every point of the manifest has a part, plan
    the next round of an adaptive sweep (``sweep.runner.next_points``) and submit it
    with its own next job; when there is none, mark the sweep complete. (exit status,
    message): 1 while points are missing (``resubmit`` re-arms the sweep)."""
    from sweep.config import from_dictconfig
    from sweep.runner import next_points

    with _locked(run_dir):
        manifest = read_manifest(run_dir)
        states = point_states(run_dir, manifest)
        if active_jobs(run_dir)[0]:  # e.g. resubmitted shards: their own next job advances
            return 0, "array tasks of this run are queued or running: their next job advances"
        if "pending" in states:
            return 1, (f"{states.count('pending')} points have no part (tasks cancelled or "
                       f"killed): brunel-slurm resubmit {run_dir}")
        from omegaconf import OmegaConf

        cfg = from_dictconfig(OmegaConf.load(RunDir(run_dir).slurm_config))
        level = 1 + max((p.get("round", 0) for p in manifest["points"]
                         if not p.get("seeds")), default=0)
        points = []
        if cfg.grid.refine.on or cfg.grid.confidence.on:
            done = {p["point_id"]: (Point(p["point_id"], p["params"], cfg), p.get("round", 0))
                    for p in manifest["points"]}
            planned, seeds = next_points(cfg, run_dir, done, level)
            points = [(p, r) for p, r in planned if p.point_id not in done]
        if not points:
            manifest["complete"] = True
            write_text(RunDir(run_dir).manifest, json.dumps(manifest, indent=1))
            return 0, f"complete: {len(states)} points, {states.count('failed')} failed"
        new = add_round(manifest, points, seeds)
        write_text(RunDir(run_dir).manifest, json.dumps(manifest, indent=1))
        submitted = submit_round(run_dir, new, manifest["slurm"]["max_running"])
        what = f"round {level}" if not seeds else f"round {points[0][1]}, more seeds"
        return 0, f"{what}: {len(points)} points in {len(new)} tasks; {submitted}"


def run_task(run_dir: Path, shard: int) -> int:
    """An array task: run the shard's points that are not done (missing or failed)."""
    from sweep.runner import pending, run_points

    manifest = read_manifest(run_dir)
    run = dataclasses.replace(RunConfig(**manifest["run"]),
                              jobs=manifest["slurm"]["cpus_per_task"], progress=False)
    points = [Point(p["point_id"], p["params"], config_from_dict(p["config"]))
              for p in (manifest["points"][j] for j in manifest["shards"][shard])]
    todo = pending(points, run_dir, retry_failed=True)
    print(f"shard {shard}: {len(points)} points, {len(todo)} to run", flush=True)
    counts = run_points(todo, run_dir, run)
    print(f"shard {shard}: {dict(counts)}", flush=True)
    return 0 if counts["failed"] == 0 else 1


def _main(argv: list[str]) -> int:
    ap = parser("brunel-slurm", __doc__, "sweep.slurm")
    sub = ap.add_subparsers(dest="command", required=True)
    p_submit = sub.add_parser("submit", help="write the manifest and script, submit the array")
    p_submit.add_argument("--dry-run", action="store_true", help="write them, do not submit")
    p_submit.add_argument("--run-dir", type=Path, help="default: outputs/slurm/<date>/<time>")
    p_submit.add_argument("overrides", nargs="*", help="config overrides, as for brunel-sweep")
    for name, text in (("resubmit", "submit the shards with missing or failed points"),
                       ("status", "done, failed and pending points"),
                       ("advance", "submit the next round of a refined sweep, or mark the "
                                   "sweep complete (what each next job does first)"),
                       ("task", "run one shard (what each array task does)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("run_dir", type=Path)
        if name == "resubmit":
            p.add_argument("--dry-run", action="store_true", help="only list the shards")
        if name == "task":
            p.add_argument("--shard", type=int,
                           help="default: $BRUNEL_SHARD_OFFSET + $SLURM_ARRAY_TASK_ID")
    return _dispatch(ap.parse_args(argv))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "submit":
        from sweep.config import compose, from_dictconfig
        from sweep.grid import expand

        composed = compose(args.overrides)
        cfg = from_dictconfig(composed)
        check_resources(cfg)
        run_dir = (args.run_dir or Path("outputs/slurm") /
                   datetime.now().strftime("%Y-%m-%d/%H-%M-%S")).resolve()
        if RunDir(run_dir).manifest.exists():
            raise ConfigError(f"--run-dir={run_dir}: holds a sweep already; use "
                              "brunel-slurm resubmit, or another --run-dir")
        points = expand(cfg)
        n = len(shards(len(points), cfg.slurm.points_per_task))
        if not args.dry_run and n > (limit := max_array_size()):
            raise ConfigError(f"slurm.points_per_task={cfg.slurm.points_per_task}: makes {n} "
                              f"tasks, more than this cluster's MaxArraySize={limit}; "
                              f"use at least {-(-len(points) // limit)}")
        manifest = write_submission(cfg, args.overrides, composed, run_dir, points)
        print(f"{len(manifest['points'])} points in {n} tasks; "
              f"wrote {RunDir(run_dir).sbatch_script}")
        if args.dry_run:
            return 0
        submitted = submit_round(run_dir, list(range(n)), cfg.slurm.max_running)
        print(f"submitted {submitted}; brunel-slurm status {run_dir}")
        return 0
    run_dir = args.run_dir.resolve()
    if args.command == "status":
        print(status(run_dir))
        return 0
    if args.command == "resubmit":
        print(resubmit(run_dir, args.dry_run))
        return 0
    if args.command == "advance":
        code, message = advance(run_dir)
        print(message, flush=True)
        return code
    from sweep.runner import interrupt_on_signals

    interrupt_on_signals()
    shard = args.shard if args.shard is not None else (
        int(os.environ.get(SHARD_OFFSET, 0)) + int(os.environ["SLURM_ARRAY_TASK_ID"]))
    try:
        return run_task(run_dir, shard)
    except KeyboardInterrupt:
        print(f"shard {shard}: cancelled at {time.strftime('%H:%M:%S')}", flush=True)
        return EXIT_INTERRUPTED


main = command(_main, also=(SlurmError,))


if __name__ == "__main__":
    sys.exit(main())
