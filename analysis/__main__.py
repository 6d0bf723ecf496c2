"""``python -m analysis RUN_DIR``: redraw a run's figures and print its table, from
``RUN_DIR/results.parquet`` alone."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.figures import draw_figures
from analysis.report import summary_table
from sweep.storage import RESULTS, load


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m analysis RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(argv[0])
    if not (run_dir / RESULTS).exists():
        print(f"error: {run_dir / RESULTS} not found (run python -m sweep.gather {run_dir})",
              file=sys.stderr)
        return 2
    df, _ = load(run_dir)
    print(summary_table(df))
    for path in draw_figures(df, run_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
