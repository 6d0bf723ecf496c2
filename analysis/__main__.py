"""``python -m analysis RUN_DIR [--no-theory]``: redraw a run's figures, print its
table and its agreement with Brunel's theory, from ``RUN_DIR/results.parquet`` alone
(the theory's values are cached in ``RUN_DIR/theory.parquet``)."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.report import analyse
from sweep.storage import RESULTS, load


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--no-theory"]
    if len(args) != 1:
        print("usage: python -m analysis RUN_DIR [--no-theory]", file=sys.stderr)
        return 2
    run_dir = Path(args[0])
    if not (run_dir / RESULTS).exists():
        print(f"error: {run_dir / RESULTS} not found (run python -m sweep.gather {run_dir})",
              file=sys.stderr)
        return 2
    df, _ = load(run_dir)
    analyse(df, run_dir, theory="--no-theory" not in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
