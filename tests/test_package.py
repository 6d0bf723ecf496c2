"""The package a lab adopts: one version everywhere, a licence, and a plain install that
finds its configs without the source tree."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata

import pyarrow.parquet as pq
import pytest

from tests.helpers import ROOT, TINY


def _releases() -> list[str]:
    """CHANGELOG's release versions, newest first (headings ``## [X.Y.Z] - date``)."""
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)


@pytest.mark.fast
def test_one_version_in_pyproject_citation_changelog_and_the_installed_package():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    cited = re.search(r"^version:\s*(\S+)", (ROOT / "CITATION.cff").read_text(), re.M)
    assert cited and cited.group(1) == version
    assert _releases()[0] == version
    assert metadata.version("brunel-sweep") == version, "reinstall: pip install -e ."


@pytest.mark.fast
def test_every_committed_dataset_names_a_released_version():
    released = set(_releases())
    for path in sorted((ROOT / "docs" / "data").glob("*.parquet")):
        meta = pq.read_metadata(path).metadata or {}
        if b"brunel_sweep" not in meta:
            continue  # boundaries and derived tables carry no provenance
        versions = json.loads(meta[b"brunel_sweep"])["versions"]
        assert versions["brunel-sweep"] in released, path.name


@pytest.mark.fast
def test_licence_is_gpl3_as_moose():
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:200]
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] \
        == "GPL-3.0-or-later"


def test_a_plain_install_runs_a_point_from_another_directory(tmp_path):
    """The wheel (not the checkout) holds the configs: brunel-point runs from elsewhere."""
    wheels, target, away = tmp_path / "wheels", tmp_path / "site", tmp_path / "away"
    away.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", wheels, ROOT], check=True,
                   capture_output=True, timeout=600)
    wheel = next(wheels.glob("brunel_sweep-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", target, wheel], check=True,
                   capture_output=True, timeout=600)
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import sweep.config as c; print(c.CONF_DIR)"],
                           cwd=away, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip() == str(target / "sweep" / "conf")
    shipped, source = target / "sweep" / "conf", ROOT / "conf"
    assert sorted(p.relative_to(shipped) for p in shipped.rglob("*.yaml")) == sorted(
        p.relative_to(source) for p in source.rglob("*.yaml"))  # a new group: pyproject
    point = [o for o in TINY if not o.startswith("run.")]
    run = subprocess.run([sys.executable, "-m", "sweep.point", *point, "network.g=6"],
                         cwd=away, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["g"] == 6.0
