"""The layout of a run directory, in one place, and the one way files are written into it.

    parts/<point_id>.parquet    one row per finished point (ok or failed)
    parts/.<point_id>.claim     who runs the point now (sweep.claims), until its part
    parts/.claims.lock          serialises the removal of stale claims
    parts/.<point_id>.result<n>~<host>~<pid>  a point process's result, until its part
    logs/<point_id>.log         the point process's output
    spikes/<point_id>.npz       raw spikes and Vm sample (run.save_spikes=true)
    results.parquet             all compatible parts, sorted, with metadata
    theory.parquet              the theory at the run's points (a cache)
    theory_lines.parquet        the theory's boundaries as lines (Fig. 2)
    boundaries.parquet          transitions located by a refined sweep (grid.refine)
    reference.parquet           the points rerun by the numpy reference
    agreement.txt               the run against the theory
    phase_diagram[_<label>].png, fig8.png   figures
    slurm/                      array jobs: manifest, config, array and next-job
                                scripts, job ids, lock, task logs
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

HOST = socket.gethostname()
# What a temporary file's name says of its owner: "~<host>~<pid>" (hosts hold no "~").
OWNER = f"~{HOST.replace('~', '-')}~{{pid}}"
_OWNER_RE = re.compile(r"~(?P<host>[^~/]+)~(?P<pid>\d+)")
STALE_S = 300.0  # a claim or temporary file of another host untouched this long is left over


def owned_name(name: str) -> str:
    """A hidden name for a temporary file of this process: ``.<name>~<host>~<pid>``."""
    return f".{name}{OWNER.format(pid=os.getpid())}"


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write(tmp)`` and a rename, so that readers see the old
    file or the whole new one, never a part. The temporary name is hidden and names its
    owner (``owned_name``), so that no listing of the real files (``parts/*.parquet``)
    sees it and ``clean_leftovers`` can tell whether its writer is gone: writers that
    infer a format from the suffix must be told it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(owned_name(f"{path.name}.tmp"))
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def owner_gone(host: str, pid: int, mtime: float, started: float | None = None) -> bool:
    """Whether the process that owns a file is gone: on this host, its pid does not run
    (or runs a process started after ``started``, the owner's own start); from another
    host, the file has not been touched for ``STALE_S``."""
    if host not in (HOST, HOST.replace("~", "-")):
        return time.time() - mtime > STALE_S
    try:
        created = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # not ours to look at (another user, hidden /proc): alive
        return False
    return started is not None and created > started + 1.0


def _left_over(path: Path) -> bool:
    owners = list(_OWNER_RE.finditer(path.name))  # the last one wrote it
    return bool(owners) and owner_gone(owners[-1]["host"], int(owners[-1]["pid"]),
                                       path.stat().st_mtime)


def clean_leftovers(root: Path) -> list[Path]:
    """Remove the temporary files (``owned_name``) that processes that are gone left in
    a run directory; nothing of a live process is touched (``owner_gone``). Their
    claims: ``sweep.claims.clean_stale_claims``."""
    removed = []
    root = Path(root)
    for folder in (root, root / "parts", root / "spikes", root / "slurm"):
        for path in folder.glob(".*") if folder.is_dir() else ():
            try:
                if path.is_file() and _left_over(path):
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                pass  # removed by its owner meanwhile
    return removed


def write_text(path: Path, text: str) -> Path:
    """``atomic_write`` of a text file."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def _at(*parts: str) -> property:
    """A fixed file or folder of the run directory."""
    return property(lambda self: self.root.joinpath(*parts))


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory (a grid run, a multirun sweep or a Slurm run)."""

    root: Path

    parts = _at("parts")
    results = _at("results.parquet")
    theory = _at("theory.parquet")
    theory_lines = _at("theory_lines.parquet")
    boundaries = _at("boundaries.parquet")
    reference = _at("reference.parquet")
    agreement = _at("agreement.txt")
    fig8 = _at("fig8.png")
    slurm = _at("slurm")
    manifest = _at("slurm", "manifest.json")
    slurm_config = _at("slurm", "config.yaml")
    sbatch_script = _at("slurm", "array.sbatch")
    next_script = _at("slurm", "next.sbatch")
    slurm_jobs = _at("slurm", "jobs.json")
    slurm_logs = _at("slurm", "logs")
    slurm_lock = _at("slurm", ".lock")

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def part(self, point_id: str) -> Path:
        return self.root / "parts" / f"{point_id}.parquet"

    def result(self, point_id: str, attempt: str) -> Path:
        """Where one attempt at a point leaves its result (each attempt its own file, so
        that two runs of one point cannot take each other's result)."""
        return self.root / "parts" / owned_name(f"{point_id}.result{attempt}")

    def claim(self, point_id: str) -> Path:
        return self.root / "parts" / f".{point_id}.claim"

    claims_lock = _at("parts", ".claims.lock")

    def log(self, point_id: str) -> Path:
        return self.root / "logs" / f"{point_id}.log"

    def spikes(self, point_id: str) -> Path:
        return self.root / "spikes" / f"{point_id}.npz"

    def phase_diagram(self, label: str = "") -> Path:
        return self.root / ("phase_diagram" + (f"_{label}" if label else "") + ".png")

    @property
    def config_files(self) -> tuple[Path, ...]:
        """Where the run's resolved config may be: a grid run's, a multirun's (Hydra),
        an array run's."""
        return (self.root / ".hydra" / "config.yaml", self.root / "multirun.yaml",
                self.slurm_config)
