"""brunel-gather RUN_DIR [--no-theory]: gather a run's (or a multirun sweep's) parts into
results.parquet, draw its figures, compare it with the theory (agreement.txt;
--no-theory skips that) and print its table. Idempotent. A grid run and a multirun
gather by themselves when their points end (a multirun through the GatherWhenDone
callback); this is for a sweep in progress or interrupted. Exit status: 0 all ok,
1 some points failed, 3 some parts had an incompatible schema (listed, left out)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweep.cli import UsageError, command, parser, run_status
from sweep.storage import gather, load


def gather_and_analyse(run_dir: Path, with_theory: bool = True) -> int:
    from analysis.overview import analyse

    gathered = gather(run_dir)
    df, _ = load(run_dir)
    analyse(df, run_dir, with_theory)
    for problem in gathered.incompatible:
        print(f"left out: {problem}", file=sys.stderr)
    print(f"wrote {gathered.path} ({gathered.rows} rows: {gathered.ok} ok, "
          f"{gathered.failed} failed)")
    return run_status(gathered.failed, len(gathered.incompatible))


class GatherWhenDone(Callback):
    """Hydra callback (``conf/config.yaml``): a multirun, with any launcher, ends like a
    grid run: the sweep directory's parts gathered into ``results.parquet``, its
    figures and agreement report, and a summary line. Its exit status, or its
    exception, is kept for ``python -m sweep`` to exit with, or raise."""

    status: int | None = None
    error: Exception | None = None  # Hydra would turn it into a warning: raised after

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        type(self).status = type(self).error = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            type(self).status = gather_and_analyse(Path(config.hydra.sweep.dir),
                                                   bool(config.run.theory))
        except Exception as err:
            type(self).error = err


@command
def main(argv: list[str]) -> int:
    ap = parser("brunel-gather", __doc__, "sweep.gather")
    ap.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    ap.add_argument("--no-theory", action="store_true", help="no theory, no agreement.txt")
    args = ap.parse_args(argv)
    if not args.run_dir.is_dir():
        raise UsageError(f"{args.run_dir}: not a directory (a run directory is needed)")
    return gather_and_analyse(args.run_dir, with_theory=not args.no_theory)


if __name__ == "__main__":
    sys.exit(main())
