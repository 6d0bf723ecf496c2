"""The tutorial notebook (docs/tutorial.ipynb) runs from top to bottom on real MOOSE runs
(nbclient and ipykernel come with pymoose's Jupyter dependencies)."""

from __future__ import annotations

import nbclient
import nbformat
import pandas as pd

from tests.helpers import ROOT


def test_the_tutorial_runs_and_leaves_its_datasets(tmp_path):
    nb = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "store the notebook without outputs"
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = tmp_path / "outputs" / "tutorial" / "plane"
    grid = pd.read_parquet(out / "results.parquet")
    assert len(grid) == 4 and (grid.status == "ok").all()
    assert grid.spikes_file.notna().sum() == 1  # the one point, not simulated again
    assert len(list((out / "logs").glob("*.log"))) == 4
    assert (out / "phase_diagram.png").exists()
    assert (out / "theory_lines.parquet").exists()  # the theory's lines were drawn
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in shown)  # the raster, the diagram
    duck = nb.cells[-2].outputs[0]["data"]["text/plain"]  # the duckdb query's table
    assert "points" in duck and "state" in duck
