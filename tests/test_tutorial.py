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
    out = tmp_path / "outputs" / "tutorial"
    grid = pd.read_parquet(out / "grid" / "results.parquet")
    assert len(grid) == 9 and (grid.status == "ok").all()
    assert (out / "grid" / "phase_diagram.png").exists()
    assert (out / "grid" / "theory_lines.parquet").exists()  # the theory's lines were drawn
    assert pd.read_parquet(out / "one" / "results.parquet").spikes_file.notna().all()
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in shown)  # the raster, the diagram
    duck = nb.cells[-2].outputs[0]["data"]["text/plain"]  # the duckdb query's table
    assert "points" in duck and "state" in duck
