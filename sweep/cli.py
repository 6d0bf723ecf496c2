"""What every command shares: its exit codes, one line and exit code 2 for bad input,
130 for an interrupt.

Exit codes (docs/usage.md, "Exit codes"):
    0    every point ok and every part gathered
    1    the run finished, but some points failed (their rows say why)
    2    bad input, reported before anything ran or was written
    3    parts with an incompatible schema were left out of results.parquet
    4    the environment stopped the run (no space left, a run directory that cannot be
         written, MOOSE that cannot be imported); finished points are kept, and the
         same command resumes once the cause is fixed
    130  interrupted (Ctrl-C or SIGTERM); finished points are kept
"""

from __future__ import annotations

import argparse
import errno
import functools
import sys
from collections.abc import Callable

from sweep.config import ConfigError

EXIT_OK = 0
EXIT_POINTS_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PARTS_LEFT_OUT = 3
EXIT_ENVIRONMENT = 4
EXIT_INTERRUPTED = 130


class UsageError(ConfigError):
    """A command line that cannot be run (not a configuration key): one line, exit 2."""


class RunEnvironmentError(Exception):
    """The machine, not the input, stops the run: one line, exit 4."""


RESUMES = "then run the same command again: it resumes"
_DISK = (errno.ENOSPC, errno.EDQUOT)
_ACCESS = (errno.EACCES, errno.EPERM, errno.EROFS)
_IN_THE_WAY = (errno.ENOTDIR, errno.EEXIST, errno.EISDIR)


def environment_problem(err: OSError, where: str | None = None) -> RunEnvironmentError | None:
    """The one-line problem an OSError of the run directory is, or None for another;
    ``where`` names the place when the error does not."""
    where = err.filename or where or "the run directory"
    if err.errno in _DISK:
        return RunEnvironmentError(f"no space left on device writing {where}: free space, "
                                  f"{RESUMES}")
    if err.errno in _ACCESS:
        return RunEnvironmentError(f"{where}: cannot be written ({err.strerror}); choose a "
                                   "writable run directory (hydra.run.dir, or hydra.sweep.dir "
                                   f"for a multirun) or fix its permissions, {RESUMES}")
    if err.errno in _IN_THE_WAY:
        return RunEnvironmentError(f"{where}: {err.strerror}: a file is where the run "
                                   "directory or one of its folders must be; choose another "
                                   "run directory")
    return None


def parser(prog: str, doc: str | None, module: str) -> argparse.ArgumentParser:
    """The argument parser of every command that is not the Hydra app: its usage names
    the console script, its description is the module's docstring."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Also: python -m {module}. Exit codes: 0 ok, 1 failed points, 2 bad input, "
               "3 parts left out, 4 a problem of the machine, 130 interrupted "
               "(docs/usage.md).")


def add_overrides(ap: argparse.ArgumentParser) -> None:
    """Trailing ``key=value`` arguments, composed as ``brunel-sweep`` composes them."""
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="config overrides as for brunel-sweep, e.g. network=small network.g=6")


def run_status(failed: int, left_out: int) -> int:
    """The exit code of a finished run: parts left out outrank failed points."""
    if left_out:
        return EXIT_PARTS_LEFT_OUT
    return EXIT_POINTS_FAILED if failed else EXIT_OK


def command(main: Callable[[list[str]], int], also: tuple[type[Exception], ...] = ()
            ) -> Callable[[list[str] | None], int]:
    """Wrap a command's ``main(argv)``: a ConfigError (or one of ``also``, errors with a
    one-line message) becomes ``error: <message>`` on stderr and exit code 2, a problem
    of the environment exit code 4, Ctrl-C exit code 130."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> int:
        try:
            try:
                return main(sys.argv[1:] if argv is None else list(argv))
            except OSError as err:
                raise environment_problem(err) or err from None
        except (ConfigError, *also) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except RunEnvironmentError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ENVIRONMENT
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return wrapped
