"""brunel-analyse DATASET [--out DIR] [--no-theory]: redraw a run's figures, print its
table and its agreement with Brunel's theory from its dataset alone. DATASET is a run
directory (its results.parquet; the output goes beside it) or a results Parquet file
(the output goes to --out). The theory's values are cached beside the output
(theory.parquet, theory_lines.parquet).

  brunel-analyse outputs/2026-11-27/10-00-00
  brunel-analyse docs/data/phase_diagram_full.parquet --out /tmp/full
"""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.overview import analyse
from sweep.cli import UsageError, command, parser
from sweep.rundir import RunDir
from sweep.storage import load


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-analyse", __doc__, "analysis")
    ap.add_argument("dataset", type=Path, metavar="DATASET",
                    help="a run directory or a results Parquet file")
    ap.add_argument("--out", type=Path, metavar="DIR",
                    help="where figures and reports go (default: the run directory)")
    ap.add_argument("--no-theory", action="store_true", help="no theory, no agreement.txt")
    args = ap.parse_args(argv)
    path = args.dataset
    if path.is_dir():
        path = RunDir(path).results
        if not path.exists():
            raise UsageError(f"{path} not found (run brunel-gather {args.dataset})")
        out = args.out or args.dataset
    elif path.is_file():
        if args.out is None:
            raise UsageError(f"{path}: a dataset file needs --out DIR for its figures")
        out = args.out
    else:
        raise UsageError(f"{path}: no such run directory or file")
    df, _ = load(path)
    out.mkdir(parents=True, exist_ok=True)
    analyse(df, out, with_theory=not args.no_theory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
