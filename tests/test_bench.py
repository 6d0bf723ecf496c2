"""The benchmark's command line and its peers' checks, without running a network."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sweep.brian2_peer
import sweep.nest_peer
from sweep import bench

pytestmark = pytest.mark.fast  # pure: no MOOSE process (docs/development.md)


def test_peer_nest_without_nest_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(sweep.nest_peer, "nest_available", lambda: False)
    assert bench.main(["--sizes", "500", "--peer", "nest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --peer nest: NEST is not installed: pip install -e '.[peers]'"]


def test_bad_point_is_one_line_exit_2(capsys):
    assert bench.main(["--sizes", "12500", "--points", "5,2", "network.D=0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: network.D=0.1: must be at least 2 steps of sim.dt=0.1 ms"]


def test_peers_refuse_a_two_population_network(capsys):
    assert bench.main(["--sizes", "500", "--peer", "nest", "brian2", "network.tau_I=10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --peer nest brian2: simulates model A only; leave out the "
                   "inhibitory network.*_I keys"]


def test_engine_help_lists_the_peers(capsys):
    with pytest.raises(SystemExit) as done:
        bench.main(["engine", "--help"])
    assert done.value.code == 0
    assert "--peer {nest,brian2}" in capsys.readouterr().out


def test_help_lists_the_brian2_env_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        bench.main(["--help"])
    assert done.value.code == 0
    assert "brian2-env" in capsys.readouterr().out


def test_peer_brian2_without_its_environment_is_one_line_exit_2(monkeypatch, tmp_path,
                                                                 capsys):
    python = tmp_path / "nowhere" / "bin" / "python"
    monkeypatch.setenv("BRUNEL_BRIAN2_PYTHON", str(python))
    assert bench.main(["--sizes", "500", "--peer", "brian2"]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # refused before anything ran
    assert out.err.strip().splitlines() == [
        f"error: --peer brian2: no Brian2 environment: BRUNEL_BRIAN2_PYTHON={python} does "
        "not exist; point BRUNEL_BRIAN2_PYTHON at a Python with brian2==2.9.* and "
        "numpy<2, or unset it and create .venv-brian2 with `brunel-bench brian2-env`"]


def test_peer_brian2_without_the_default_environment_names_the_command(monkeypatch,
                                                                       tmp_path, capsys):
    monkeypatch.delenv("BRUNEL_BRIAN2_PYTHON", raising=False)
    monkeypatch.setattr(sweep.brian2_peer, "ENV_DIR", tmp_path / ".venv-brian2")
    monkeypatch.setattr(sweep.brian2_peer, "ROOT", tmp_path)
    assert bench.main(["--sizes", "500", "--peer", "brian2"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --peer brian2: no Brian2 environment: .venv-brian2/bin/python does not "
        "exist; create it with `brunel-bench brian2-env` (or set BRUNEL_BRIAN2_PYTHON to a "
        "Python with brian2==2.9.* and numpy<2)"]


def test_peer_brian2_with_a_python_without_brian2(monkeypatch, tmp_path, capsys):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nexit 1\n")  # finds no brian2
    python.chmod(0o755)
    monkeypatch.setenv("BRUNEL_BRIAN2_PYTHON", str(python))
    assert bench.main(["--sizes", "500", "--peer", "brian2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: --peer brian2: no Brian2 in BRUNEL_BRIAN2_PYTHON={python};")


@pytest.mark.parametrize("argv", [["--peer", "nest", "brian2"],
                                  ["--peer", "nest", "--peer", "brian2"]])
def test_several_peers_are_each_checked_before_anything_runs(argv, monkeypatch, tmp_path,
                                                             capsys):
    monkeypatch.setattr(sweep.nest_peer, "nest_available", lambda: True)
    monkeypatch.setenv("BRUNEL_BRIAN2_PYTHON", str(tmp_path / "python"))
    assert bench.main(["--sizes", "500", *argv]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("error: --peer brian2: no Brian2 environment")


def test_overrides_after_peer_are_overrides_and_an_unknown_peer_is_refused(capsys):
    assert bench.main(["--sizes", "12500", "--peer", "brian2", "network.D=0.1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: network.D=0.1: must be at least 2 steps of sim.dt=0.1 ms"]
    assert bench.main(["--sizes", "500", "--peer", "neuron"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --peer neuron: must be among nest, brian2"]


def test_brian2_env_creates_the_environment_with_its_pins(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(bench.subprocess, "run",
                        lambda cmd, check: ran.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    assert bench.main(["brian2-env", "--python", "python3.11"]) == 0
    env = sweep.brian2_peer.ENV_DIR
    assert ran == [["python3.11", "-m", "venv", str(env)],
                   [str(env / "bin" / "python"), "-m", "pip", "install", "brian2==2.9.*",
                    "numpy<2"]]
    assert capsys.readouterr().out.splitlines()[1].endswith("install 'brian2==2.9.*' 'numpy<2'")
    assert env.name == ".venv-brian2"
    assert ".venv-brian2/" in (env.parent / ".gitignore").read_text().splitlines()


def test_the_brian2_child_imports_only_the_standard_library_numpy_and_brian2():
    """The child runs in the Brian2 environment (numpy < 2, no project dependencies):
    the module imports only the standard library and numpy at its top, and the child
    only brian2; the project is imported inside the parent's functions."""
    tree = ast.parse(Path(sweep.brian2_peer.__file__).read_text())

    def imported(nodes) -> set[str]:
        names = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names.add(node.module.split(".")[0])
        return names

    assert imported(tree.body) - {"__future__", "numpy"} <= sys.stdlib_module_names
    child = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "child")
    assert imported(ast.walk(child)) == {"brian2"}


def test_split_checks_its_points_before_anything_runs(capsys):
    assert bench.main(["split", "--sizes", "12500", "--points", "5"]) == 2
    assert capsys.readouterr().err.strip() == ("error: --points 5: must be g,eta pairs, "
                                               "e.g. 5,2")
    assert bench.main(["split", "--points", "5,2", "network.D=0.1"]) == 2
    assert "network.D=0.1" in capsys.readouterr().err


def _grid(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["network.g", "network.eta", "replicate", "state",
                                       "total_s"])


def test_each_state_is_represented_by_its_median_cost_point():
    df = _grid([(3, 2, 0, "SR", 90.0), (3, 3, 0, "SR", 110.0), (3, 4, 0, "SR", 100.0),
                (5, 2, 0, "AI", 30.0), (5, 3, 0, "AI", 40.0),
                (3, 2, 1, "SR", 999.0)])  # a replicate seed: not the grid's
    regions = {r["state"]: r for r in bench.region_points(df)}
    assert regions["SR"] == {"state": "SR", "points": 3, "g": 3.0, "eta": 4.0,
                             "median_s": 100.0, "sum_s": 300.0}
    # An even count takes the lower median, a point that was measured.
    assert (regions["AI"]["g"], regions["AI"]["eta"], regions["AI"]["median_s"]) == (5, 2, 30)


def test_a_refined_run_costs_its_time_over_its_grid_points_time():
    grid = _grid([(3, 2, 0, "SR", 1.0), (5, 2, 0, "AI", 1.0)])
    refined = _grid([(3, 2, 0, "SR", 100.0), (5, 2, 0, "AI", 50.0), (4, 2, 0, "AI", 60.0),
                     (4.5, 2, 0, "AI", 40.0), (5, 2, 1, "AI", 50.0)])
    assert bench.refined_ratio(grid, refined) == pytest.approx(300 / 150)


def test_diagram_without_its_dataset_is_one_line_exit_2(tmp_path, capsys):
    assert bench.main(["diagram", "--grid", str(tmp_path / "none.parquet")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 'none.parquet'}: no such dataset (a results.parquet or its "
        "run directory)")
