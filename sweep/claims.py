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

Taking over renames the stale claim away (only one taker succeeds), checks that what it
renamed is the stale claim it read, and then claims the point afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

from sweep.rundir import HOST, RunDir, owned_name, owner_gone, read_claim

HEARTBEAT_S = 30.0  # the owner touches its claim this often (STALE_S: sweep.rundir)
_HELD: dict[Path, str] = {}  # this process's claims: path -> token


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
    for path, token in list(_HELD.items()):
        Claim(path, token, 0.0).release()


def _create(path: Path) -> Claim | None:
    me = _me()
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as f:
        json.dump(me, f)
    _HELD[path] = me["token"]
    return Claim(path, me["token"], time.time())


def claim(run_dir: Path, point_id: str) -> Claim | dict:
    """This process's claim on the point, or the owner's record (host, pid, claimed_at)
    when another live process holds it. A stale claim is taken over."""
    path = RunDir(run_dir).claim(point_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        mine = _create(path)
        if mine is not None:
            return mine
        owner = read_claim(path)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue  # released meanwhile: try again
        if owner is None and time.time() - mtime < 5.0:
            time.sleep(0.05)  # being written this very moment
            continue
        if owner is not None and not owner_gone(owner.get("host"), owner.get("pid", -1),
                                                mtime, owner.get("pid_started")):
            return owner
        stale = path.with_name(owned_name(f"{path.name[1:]}.stale"))
        try:
            os.rename(path, stale)
        except FileNotFoundError:
            continue  # another taker was first
        if read_claim(stale) != owner:  # renamed a fresh claim someone made meanwhile: put it back
            with contextlib.suppress(FileExistsError):
                os.link(stale, path)
        stale.unlink(missing_ok=True)
