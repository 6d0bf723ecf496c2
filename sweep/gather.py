"""``python -m sweep.gather RUN_DIR``: compact a run's (or a multirun sweep's) parts into
``results.parquet``, draw its figures and print its table. Idempotent; exits 1 if
some parts had an incompatible schema (they are listed and left out)."""

from __future__ import annotations

import sys
from pathlib import Path

from sweep.storage import gather, load


def gather_and_report(run_dir: Path) -> int:
    from analysis.figures import draw_figures
    from analysis.report import summary_table

    report = gather(run_dir)
    df, _ = load(run_dir)
    print(summary_table(df))
    for path in draw_figures(df, run_dir) if len(df) else []:
        print(f"wrote {path}")
    for problem in report.incompatible:
        print(f"left out: {problem}", file=sys.stderr)
    print(f"wrote {report.path} ({report.rows} rows: {report.ok} ok, {report.failed} failed)")
    return 1 if report.incompatible else 0


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m sweep.gather RUN_DIR (a directory)", file=sys.stderr)
        return 2
    return gather_and_report(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
