"""``python -m analysis RUN_DIR [--no-theory]``: redraw a run's figures, print its
table and its agreement with Brunel's theory, from ``RUN_DIR/results.parquet`` alone
(the theory's values are cached in ``RUN_DIR/theory.parquet``)."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.overview import analyse
from sweep.cli import UsageError, command
from sweep.rundir import RunDir
from sweep.storage import load


@command
def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--no-theory"]
    if len(args) != 1:
        raise UsageError("usage: python -m analysis RUN_DIR [--no-theory]")
    run_dir = Path(args[0])
    if not RunDir(run_dir).results.exists():
        raise UsageError(f"{RunDir(run_dir).results} not found (run python -m sweep.gather "
                         f"{run_dir})")
    df, _ = load(run_dir)
    analyse(df, run_dir, with_theory="--no-theory" not in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
