"""A refined run's brackets, located: each with the theory's line between its states,
the measure that separates them, and where it crosses its threshold with an interval
(``analysis.boundaries.locate``, as the agreement report and the figure compute them).

  python docs/data/locate_boundaries.py DATASET BOUNDARIES OUT

reads a run's dataset (``results.parquet``) and its ``boundaries.parquet`` (brackets
only, as the sweep writes them) and writes the located table to OUT.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from shutil import copyfile

from analysis.agreement import plane_boundaries
from sweep.rundir import RunDir
from sweep.storage import load


def main(dataset: Path, brackets: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copyfile(brackets, RunDir(Path(tmp)).boundaries)
        df, _ = load(dataset)
        located = plane_boundaries(df, Path(tmp))
    located.to_parquet(out)
    print(f"wrote {out}: {len(located)} boundaries, "
          + ", ".join(f"{m} {n}" for m, n in located.method.value_counts().items()))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*(Path(a) for a in sys.argv[1:]))
