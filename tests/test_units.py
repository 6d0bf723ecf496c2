"""Fast in-process tests of the pure functions that the sweep tests reach only through
subprocesses: grid expansion and ids, row <-> config, Slurm shards and array specs,
the run directory's atomic writes, exit codes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from sweep.cli import EXIT_OK, EXIT_PARTS_LEFT_OUT, EXIT_POINTS_FAILED, run_status
from sweep.config import ConfigError, load_config
from sweep.grid import axis_values, expand
from sweep.rundir import RunDir, atomic_write, write_text
from sweep.runner import Attempt, point_row
from sweep.slurm import array_spec, incomplete_shards, shards
from sweep.storage import MEASURED, SCHEMA, STATISTICS, base_row, now, row_config

pytestmark = pytest.mark.fast  # pure: no MOOSE process (docs/development.md)

SMALL = ["network.N_E=400", "network.N_I=100"]


def test_axis_ranges_are_decimal_and_include_stop():
    assert axis_values("network.eta", "0.5:0.8:0.1") == [0.5, 0.6, 0.7, 0.8]
    assert axis_values("network.g", [3, 4]) == [3, 4]
    with pytest.raises(ConfigError, match="needs step > 0"):
        axis_values("network.g", "1:0:1")


def test_point_ids_and_seeds_depend_on_content_not_position():
    a = expand(load_config([*SMALL, "grid.axes.network.g=[4,5]", "grid.axes.network.eta=[1]"]))
    b = expand(load_config([*SMALL, "grid.axes.network.g=[5,6,4]",
                            "grid.axes.network.eta=[1]"]))
    by_g = {p.config.network.g: p for p in b}
    for p in a:
        same = by_g[p.config.network.g]
        assert (p.point_id, p.config.sim.seed) == (same.point_id, same.config.sim.seed)
    assert len({p.point_id for p in b}) == len({p.config.sim.seed for p in b}) == 3


def test_replicates_get_their_own_seeds_and_duplicates_run_once():
    points = expand(load_config([*SMALL, "grid.axes.network.g=[4,4]",
                                 "grid.axes.network.eta=[1]", "grid.replicates=3"]))
    assert len(points) == 3
    assert len({p.config.sim.seed for p in points}) == 3
    # The analysis settings change the id, not the seed (same simulation).
    other = expand(load_config([*SMALL, "grid.axes.network.g=[4]", "grid.axes.network.eta=[1]",
                                "grid.replicates=3", "analysis.f_fast=70"]))
    assert [p.config.sim.seed for p in other] == [p.config.sim.seed for p in points]
    assert not {p.point_id for p in other} & {p.point_id for p in points}


def test_model_a_keeps_its_ids_and_seeds_and_two_populations_get_their_own():
    # The default point's id and seed from before the inhibitory keys existed: run
    # directories made then keep resuming.
    point = expand(load_config([]))[0]
    assert (point.point_id, point.config.sim.seed) == ("2745223a6364032a", 622982093)
    same = expand(load_config(["network.J_I=0.1", "network.theta_I=20", "network.tau_I=20"]))[0]
    assert same.point_id == point.point_id  # model A's values said again: the same network
    other = expand(load_config(["network.J_I=0.105"]))[0]
    assert other.point_id != point.point_id and other.config.sim.seed != point.config.sim.seed


def test_row_and_config_round_trip():
    point = expand(load_config([*SMALL, "network.g=4.5", "sim.duration=600"]))[0]
    row = base_row(point.point_id, 0, point.config)
    back = row_config(row)
    for group in ("network", "sim", "analysis"):
        assert dataclasses.asdict(getattr(back, group)) == \
            dataclasses.asdict(getattr(point.config, group))
    assert (row["N"], row["C_E"], row["C_I"]) == (500, 40, 10)
    # Two populations; a null inhibitory key read back by pandas is NaN: model A's value.
    two = expand(load_config([*SMALL, "network.theta_I=19", "network.g_I=4"]))[0]
    row = base_row(two.point_id, 0, two.config)
    assert row_config(row).network == two.config.network
    row["network.tau_I"] = float("nan")
    assert row_config(row).network.tau_I is None


def test_shards_and_array_specs():
    assert shards(5, 2) == [[0, 1], [2, 3], [4]]
    assert array_spec([0, 1, 2], 0) == "0-2"
    assert array_spec([0, 1, 2], 2) == "0-2%2"
    assert array_spec([1, 4], 0) == "1,4"
    manifest = {"shards": shards(5, 2)}
    assert incomplete_shards(manifest, ["ok", "ok", "failed", "ok", "missing"]) == [1, 2]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = write_text(tmp_path / "a" / "agreement.txt", "old\n")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(path, broken)
    assert path.read_text() == "old\n"
    assert os.listdir(path.parent) == ["agreement.txt"]  # no temporary file left
    # While a part is written, no listing of parts sees the temporary file.
    seen = []
    atomic_write(RunDir(tmp_path).part("p1"),
                 lambda tmp: (tmp.write_text("x"), seen.extend(RunDir(tmp_path).parts.glob(
                     "*.parquet"))))
    assert seen == []


def test_run_directory_layout(tmp_path):
    rd = RunDir(tmp_path)
    assert rd.part("abc") == tmp_path / "parts" / "abc.parquet"
    assert rd.result("abc", "1").parent == rd.parts and rd.result("abc", "1").name[0] == "."
    assert rd.phase_diagram() == tmp_path / "phase_diagram.png"
    assert rd.phase_diagram("network.D=3.0") == tmp_path / "phase_diagram_network.D=3.0.png"
    assert rd.manifest.parent == rd.slurm


def test_exit_status():
    assert run_status(failed=0, left_out=0) == EXIT_OK
    assert run_status(failed=2, left_out=0) == EXIT_POINTS_FAILED
    assert run_status(failed=2, left_out=1) == EXIT_PARTS_LEFT_OUT


def test_point_row_from_an_attempt():
    point = expand(load_config(SMALL))[0]
    stats = {**dict.fromkeys([*STATISTICS, *MEASURED], 1.0), "rate_hz": 12.5, "state": "AI",
             "run_s": 2.0, "seed": -1, "junk": 1}  # what a point's process reports
    worker = {"status": "ok", "error": None, "spikes_file": None, "total_s": 3.0,
              "peak_rss_mb": 200.0, "started_at": "2026-01-01T00:00:00+00:00",
              "finished_at": "2026-01-01T00:00:03+00:00", "stats": stats}
    row = point_row(point, Attempt(worker, None, now(), 9.0, 900.0), "abc")
    assert set(row) == set(SCHEMA.names)
    assert (row["status"], row["rate_hz"], row["state"], row["run_s"]) == ("ok", 12.5, "AI", 2.0)
    # The worker's own timings win over the parent's; the point's seed is the config's.
    assert (row["total_s"], row["peak_rss_mb"], row["seed"]) == (3.0, 200.0,
                                                                 point.config.sim.seed)
    killed = point_row(point, Attempt(None, "memory cap exceeded", now(), 9.0, 900.0), None)
    assert (killed["status"], killed["error"]) == ("failed", "memory cap exceeded")
    assert (killed["total_s"], killed["peak_rss_mb"], killed["rate_hz"]) == (9.0, 900.0, None)
    # A statistic the schema declares but the point did not report is an error.
    del stats["env_cv"]
    with pytest.raises(KeyError, match="env_cv"):
        point_row(point, Attempt(worker, None, now(), 9.0, 900.0), "abc")


def test_fig2_plane_and_fig8_panels_come_from_their_presets():
    from sweep.grid import fig2_plane, fig8_panels

    assert fig2_plane() == ((2.0, 8.0), (0.5, 4.0))
    assert fig8_panels() == {(3.0, 2.0): "A", (6.0, 4.0): "B", (5.0, 2.0): "C", (4.5, 0.9): "D"}


def test_every_round_numbers_its_array_from_zero_under_max_array_size():
    from sweep.slurm import SlurmError, array_of

    assert array_of([0, 1, 2], 1001) == (0, [0, 1, 2])
    assert array_of([1500, 1501, 1503], 1001) == (1500, [0, 1, 3])  # a late round
    with pytest.raises(SlurmError, match="span more than this cluster's MaxArraySize=1001"):
        array_of([3, 1004], 1001)


def test_leftovers_of_gone_processes_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from sweep.rundir import HOST, clean_leftovers, owned_name

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "parts").mkdir()
    gone = tmp_path / f".phase_diagram.png.tmp~{HOST}~{dead}"
    gone_part = tmp_path / "parts" / f".abc.parquet.tmp~{HOST}~{dead}"
    live = tmp_path / "parts" / owned_name("abc.parquet.tmp")  # this test's own process
    other_host = tmp_path / f".x.tmp~elsewhere~{dead}"  # too young to be called left over
    for path in (gone, gone_part, live, other_host):
        path.write_text("x")
    assert sorted(clean_leftovers(tmp_path)) == sorted([gone, gone_part])
    assert live.exists() and other_host.exists()


def test_a_claims_owner_is_gone_by_pid_here_and_by_age_elsewhere():
    import time

    import psutil

    from sweep.rundir import HOST, STALE_S, owner_gone

    me, now = os.getpid(), time.time()
    started = psutil.Process(me).create_time()
    assert not owner_gone(HOST, me, now, started)  # this process: alive
    assert owner_gone(HOST, me, now, started - 60)  # the pid now runs a later process
    assert owner_gone(HOST, 2**22 + 1, now)  # no such process
    assert not owner_gone("another-node", me, now - STALE_S / 2)  # heartbeats recent
    assert owner_gone("another-node", me, now - STALE_S - 1)  # a dead node's claim


def test_a_claim_is_exclusive_and_a_dead_owners_claim_is_taken_over(tmp_path):
    import json
    import subprocess
    import sys

    from sweep.claims import Claim, claim, clean_stale_claims
    from sweep.rundir import HOST, RunDir

    mine = claim(tmp_path, "p1")
    assert isinstance(mine, Claim)
    probe = f"from sweep.claims import claim; print(claim({str(tmp_path)!r}, 'p1'))"
    other = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent.parent, check=True).stdout
    assert f"'pid': {os.getpid()}" in other  # held by this live process: not taken
    mine.release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    RunDir(tmp_path).claim("p2").write_text(json.dumps({"host": HOST, "pid": int(dead)}))
    taken = claim(tmp_path, "p2")
    assert isinstance(taken, Claim)
    assert json.loads(taken.path.read_text())["pid"] == os.getpid()
    # A dead owner's claim on a point nobody asks for again is cleaned; a live one is not.
    RunDir(tmp_path).claim("p3").write_text(json.dumps({"host": HOST, "pid": int(dead)}))
    assert clean_stale_claims(tmp_path) == [RunDir(tmp_path).claim("p3")]
    assert taken.path.exists()
    taken.release()
    assert not list((tmp_path / "parts").glob(".*.claim"))
