"""The benchmark's command line, without running a network."""

from __future__ import annotations

import pytest

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
