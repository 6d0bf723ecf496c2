"""A small Python API for notebooks. Every point still runs in its own process, so
these can be called any number of times from one interpreter::

    from sweep.api import point_row, sweep_dataset, load_results, redraw_figures
    row = point_row(["network.g=6", "network.eta=4"])
    df = sweep_dataset(["grid=fig8"], run_dir="outputs/fig8")
    df = load_results("outputs/fig8")
    redraw_figures("outputs/fig8")

``run_point``, ``run_sweep`` and ``draw_figures`` are the same functions under their
names of release 0.1, kept for one release.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sweep import runner
from sweep.config import RunConfig, load_config
from sweep.grid import make_point
from sweep.storage import gather, load


def point_row(overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """One point's row (statistics, settings, timings) for the given Hydra overrides."""
    cfg = load_config(overrides)
    point = make_point(cfg, {})
    with tempfile.TemporaryDirectory(prefix="brunel-point-") as tmp:
        runner.run_points([point], Path(tmp), RunConfig(progress=False))
        gather(Path(tmp))
        df, _ = load(Path(tmp))
    return df.iloc[0].to_dict()


def sweep_dataset(overrides: list[str] | tuple[str, ...] = (),
              run_dir: str | Path | None = None) -> pd.DataFrame:
    """Run the configured grid into ``run_dir`` (default: a new directory under
    outputs/api/), resuming what is already there; returns the gathered dataset."""
    cfg = load_config(overrides)
    run_dir = Path(run_dir or Path("outputs/api") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
    runner.run_grid(cfg, run_dir)
    gather(run_dir)
    return load_results(run_dir)


def load_results(run_dir: str | Path) -> pd.DataFrame:
    """The dataset of a run; its provenance is in ``df.attrs["provenance"]``."""
    df, meta = load(Path(run_dir))
    df.attrs["provenance"] = meta
    return df


def redraw_figures(run_dir: str | Path) -> list[Path]:
    """(Re)draw a run's figures from its dataset; returns their paths."""
    from analysis.figures import draw_figures as _draw

    return _draw(load_results(run_dir), Path(run_dir))


# Release 0.1 names (CHANGELOG.md), kept for one release.
run_point = point_row
run_sweep = sweep_dataset
draw_figures = redraw_figures
