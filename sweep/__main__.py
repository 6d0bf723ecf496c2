"""``python -m sweep [overrides]``: run the configured grid, each point in its own
process, into Hydra's run directory; then gather the dataset and draw the figures.

``python -m sweep -m network.g=4,5,6 network.eta=1,2``: Hydra multirun; each job is
one point (still in its own process) writing its part into the sweep directory and
printing one line; when every job has ended, ``sweep.gather.GatherWhenDone`` builds
the dataset, its figures and its agreement report.

Every configuration (every grid point, every multirun job) is checked before Hydra
creates or touches a directory: bad input exits with one line and code 2. So is the run
directory (it can be created and written) and MOOSE (it is installed): a problem of the
machine, then or later (no space left), exits with one line and code 4.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sweep.cli import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_INTERRUPTED,
    RunEnvironmentError,
    environment_problem,
)
from sweep.config import (
    CONF_DIR,
    POINT_GROUPS,
    ConfigError,
    from_dictconfig,
    load_config,
    register_schema,
)

# Hydra flags after which the command runs no job: nothing to check.
_INFO_FLAGS = {"-h", "--help", "--hydra-help", "-i", "--info", "-c", "--cfg", "-p", "--package",
               "--resolve", "-sc", "--shell-completion"}
_MULTIRUN_FLAGS = {"-m", "--multirun"}


def writable(directory: Path) -> None:
    """Check that ``directory`` can be created and written, creating nothing: its
    nearest existing ancestor must be a directory this process can write a file in.
    Otherwise raise the one-line ``RunEnvironmentError`` of why not."""
    import errno
    import tempfile

    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        err.filename = str(directory)  # the run directory, not the probe file in it
        raise environment_problem(err) or RunEnvironmentError(
            f"{directory}: {err.strerror}") from None


def run_directory(argv: list[str], multirun: bool) -> Path | None:
    """The directory the command writes into, up to its first part that Hydra fills in
    as it starts (``${now:...}``, ``${hydra:...}``); other interpolations (``${oc.env:X}``)
    resolved. None when it cannot be known before Hydra starts."""
    from itertools import takewhile

    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    key = f"hydra.{'sweep' if multirun else 'run'}.dir="
    given = [a.split("=", 1)[1] for a in argv if a.lstrip("+").startswith(key)]
    spec = given[-1] if given else str(OmegaConf.select(
        OmegaConf.load(CONF_DIR / "config.yaml"), key[:-1]))
    static = [p for p in takewhile(lambda p: not p.startswith(("${now:", "${hydra:")),
                                   Path(spec).parts)]
    try:
        resolved = OmegaConf.create({"d": str(Path(*static)) if static else "."})
        return Path(OmegaConf.to_container(resolved, resolve=True)["d"])
    except OmegaConfBaseException:
        return None  # Hydra reports what it cannot resolve


def preflight(argv: list[str]) -> None:
    """Compose and validate every configuration the command line asks for; then check
    that MOOSE is installed and the run directory can be written."""
    from sweep.grid import expand
    from sweep.runner import check_moose

    overrides = [a for a in argv if not a.startswith("-")]
    multirun = bool(_MULTIRUN_FLAGS & set(argv))
    if not multirun:
        expand(load_config(overrides))
    else:
        _preflight_jobs(overrides)
    check_moose()
    directory = run_directory(argv, multirun)
    if directory is not None:
        writable(directory)


def _preflight_jobs(overrides: list[str]) -> None:
    """Every job of a multirun."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        jobs = BasicSweeper.split_arguments(parsed, None)[0]
    except Exception as err:  # Hydra's parser raises its own error types
        raise ConfigError(str(err).splitlines()[0]) from None
    for job in jobs:
        load_config(job)


def job_params(cfg) -> dict:
    """The settings a multirun job overrides, as the grid would name them."""
    params = {}
    for override in HydraConfig.get().overrides.task:
        key = override.split("=", 1)[0].lstrip("+~")
        group, _, name = key.partition(".")
        if group in POINT_GROUPS and name:
            params[key] = getattr(getattr(cfg, group), name)
    return params


# An absolute path: a console script imports this module as a module, not as a file,
# and Hydra would read a relative path as a Python package.
def environment_exit(err: BaseException) -> None:
    """Exit with one line and code 4 if ``err`` is a problem of the machine."""
    problem = err if isinstance(err, RunEnvironmentError) else (
        environment_problem(err) if isinstance(err, OSError) else None)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(EXIT_ENVIRONMENT)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def hydra_main(dcfg: DictConfig) -> int:
    try:
        return _task(dcfg)
    except (RunEnvironmentError, OSError) as err:
        environment_exit(err)
        raise


def _task(dcfg: DictConfig) -> int:
    from sweep.gather import gather_and_analyse
    from sweep.grid import make_point
    from sweep.runner import pending, run_grid, run_points
    from sweep.storage import gather, part_line

    cfg = from_dictconfig(dcfg)
    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN:  # one point; skipped when its part is there (resume)
        sweep_dir = Path(hc.sweep.dir)
        point = make_point(cfg, job_params(cfg))
        todo = pending([point], sweep_dir, cfg.run.retry_failed)
        run_points(todo, sweep_dir, dataclasses.replace(cfg.run, progress=False))
        where = " ".join(f"{k.split('.')[-1]}={v}" for k, v in point.params.items()
                         if k != "replicate")
        done = "" if todo else " (done before)"
        print(f"job {hc.job.num}: point {point.point_id} {where}: "
              f"{part_line(sweep_dir, point.point_id)}{done}", flush=True)
        return 0  # a failed point is a row, not an error: the sweep goes on
    run_dir = Path(hc.runtime.output_dir)
    try:
        run_grid(cfg, run_dir)
    except KeyboardInterrupt:
        gathered = gather(run_dir)
        print(f"\ninterrupted: {gathered.ok + gathered.failed} finished points kept in {run_dir}; "
              "run the same command with hydra.run.dir=" f"{run_dir} to resume",
              file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    status = gather_and_analyse(run_dir, cfg.run.theory)
    print(f"run directory: {run_dir}")
    if status:  # Hydra discards a task function's return value
        sys.exit(status)
    return status


def main() -> None:
    register_schema()
    argv = sys.argv[1:]
    if not _INFO_FLAGS & set(argv):
        try:
            preflight(argv)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
        except RunEnvironmentError as err:
            environment_exit(err)
    from sweep.runner import interrupt_on_signals

    interrupt_on_signals()
    hydra_main()
    from sweep.gather import GatherWhenDone

    if GatherWhenDone.error is not None:  # a crash of the gathering is not a warning
        environment_exit(GatherWhenDone.error)
        raise GatherWhenDone.error
    if GatherWhenDone.status:  # a multirun with failed points or left-out parts
        sys.exit(GatherWhenDone.status)


if __name__ == "__main__":
    main()
