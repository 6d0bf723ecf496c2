"""Imports point down the layers, never up and never in a circle (docs/development.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast  # pure: no MOOSE process (docs/development.md)

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    # pure leaves: schema, exit codes, model quantities, statistics, classifier, theory
    0: ["sweep.config", "sweep.cli", "sweep.rundir", "sweep.model", "analysis.stats",
        "analysis.sequential", "analysis.states",
        "analysis.summary", "analysis.theory_two_pop", "analysis.theory", "analysis.theory_lines"],
    # building and simulating one network
    1: ["sweep.instance", "sweep.network", "sweep.numpy_sim", "sweep.nest_peer",
        "sweep.brian2_peer"],
    # running points and storing them
    2: ["sweep.grid", "sweep.refine", "sweep.storage", "sweep.point", "sweep.worker",
        "sweep.claims",
        "sweep.runner", "sweep.slurm"],
    # reading datasets for analysis and figures
    3: ["analysis.agreement", "analysis.boundaries", "analysis.figures", "analysis.overview"],
    # entry points
    4: ["sweep.__main__", "sweep.gather", "sweep.api", "sweep.bench", "sweep.reference",
        "analysis.__main__", "analysis.fig2", "analysis.windows"],
}
LAYER = {m: layer for layer, mods in LAYERS.items() for m in mods}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """Project modules imported anywhere in the file, functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n in LAYER}
    return found


SOURCES = sorted(p for pkg in ("sweep", "analysis") for p in (ROOT / pkg).glob("*.py")
                 if p.name != "__init__.py")


def test_every_module_has_a_layer():
    assert sorted(_module(p) for p in SOURCES) == sorted(LAYER)


@pytest.mark.parametrize("path", SOURCES, ids=_module)
def test_imports_point_down(path):
    me = _module(path)
    up = {m: LAYER[m] for m in _imports(path) if LAYER[m] > LAYER[me]}
    assert not up, f"{me} (layer {LAYER[me]}) imports higher layers: {up}"


def test_no_import_cycle():
    graph = {_module(p): _imports(p) - {_module(p)} for p in SOURCES}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError(" -> ".join([*trail[trail.index(n):], n]))
            if n not in state:
                visit(n, [*trail, n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
