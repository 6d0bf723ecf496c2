"""A point runs once, whoever asks: claims in the run directory.

Before a point's process starts, the sweep that runs it creates ``parts/.<id>.claim``
with ``O_CREAT | O_EXCL`` (atomic on a local disk and on NFS v3+), holding the owner's
host, process id, process start time and a token. The owner touches the file every
``HEARTBEAT_S`` while the point runs and removes it when the point's part is written
(or the point is stopped). Another sweep that finds the claim leaves the point to its
owner and waits for its part.

A claim whose owner is gone is taken over:

- on the owner's host, as soon as the owner's process is gone (its pid is not running,
  or runs another program started after the claim);
- from another host, once the claim has not been touched for ``sweep.rundir.STALE_S``
  (the owner's node died, or its job was cancelled with SIGKILL).

A stale claim is judged and removed under an flock on ``parts/.claims.lock``, so that
two takers, or a taker and ``clean_stale_claims``, never remove a claim made meanwhile;
then the point is claimed afresh with ``O_EXCL``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

from sweep.rundir import HOST, RunDir, clean_leftovers, owner_gone

HEARTBEAT_S = 30.0  # the owner touches its claim this often (STALE_S: sweep.rundir)
_HELD: dict[Path, Claim] = {}  # the claims this process holds


def read_claim(path: Path) -> dict | None:
    """A claim's record, or None if it is gone or half written."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _me() -> dict:
    return {"host": HOST, "pid": os.getpid(),
            "pid_started": psutil.Process().create_time(), "claimed_at": time.time(),
            "token": uuid.uuid4().hex}


@dataclass
class Claim:
    """A claim this process holds on one point."""

    path: Path
    token: str
    touched: float

    def heartbeat(self) -> None:
        """Touch the claim (every ``HEARTBEAT_S`` at most) so that other hosts see it live."""
        now = time.time()
        if now - self.touched >= HEARTBEAT_S:
            with contextlib.suppress(OSError):  # taken over or removed: the part decides
                os.utime(self.path)
            self.touched = now

    def release(self) -> None:
        """Remove the claim if it is still this one."""
        _HELD.pop(self.path, None)
        if (read_claim(self.path) or {}).get("token") == self.token:
            self.path.unlink(missing_ok=True)


def release_all() -> None:
    """Remove every claim this process holds (it stops: its points run again)."""
    for held in list(_HELD.values()):
        held.release()


def _create(path: Path) -> Claim | None:
    me = _me()
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
    except BaseException:  # e.g. no space left: no empty claim stays behind
        path.unlink(missing_ok=True)
        raise
    _HELD[path] = Claim(path, me["token"], time.time())
    return _HELD[path]


@contextlib.contextmanager
def _takeovers(run_dir: Path):
    """Serialise the removal of stale claims in one run directory (an flock, as on
    NFS v4 and local disks): a claim is judged stale and removed by one process at a
    time, so that nobody removes a claim made meanwhile."""
    lock = RunDir(run_dir).claims_lock
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stale(path: Path) -> bool:
    """Whether the claim at ``path`` has an owner that is gone (module doc). A claim
    without a readable record is stale once it is 5 s old (its writer died between
    creating and writing it)."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return False
    owner = read_claim(path)
    if owner is None:
        return time.time() - mtime > 5.0
    return owner_gone(owner.get("host"), owner.get("pid", -1), mtime, owner.get("pid_started"))


def claim(run_dir: Path, point_id: str) -> Claim | dict:
    """This process's claim on the point, or the owner's record (host, pid, claimed_at)
    when another live process holds it. A stale claim is taken over."""
    path = RunDir(run_dir).claim(point_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        mine = _create(path)
        if mine is not None:
            return mine
        with _takeovers(run_dir):
            if _stale(path):
                path.unlink(missing_ok=True)
                continue
        owner = read_claim(path)
        if owner is not None:
            return owner
        time.sleep(0.05)  # released, or being written this very moment: look again


def clean_stale_claims(run_dir: Path) -> list[Path]:
    """Remove the claims whose owner is gone (a sweep killed after its part was written
    leaves one on a point that is done, which no later claim would look at)."""
    removed = []
    with _takeovers(run_dir):
        for path in RunDir(run_dir).parts.glob(".*.claim"):
            if _stale(path):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def tidy(run_dir: Path) -> None:
    """What processes that are gone left in a run directory: their temporary files
    (``sweep.rundir.clean_leftovers``) and their claims; done whenever it is used."""
    clean_leftovers(run_dir)
    clean_stale_claims(run_dir)
