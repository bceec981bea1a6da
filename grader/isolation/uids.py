"""Sandbox uids, leased per grading process so that gradings on one machine never share one.

Every worker runs as an unprivileged uid that no other worker running at the same time has:
the per-uid process limit, what a worker can see or signal, and "kill every process of the
uid" then concern that worker alone. A process leases a uid by holding an exclusive flock on
its lock file (LOCK_FOLDER/<uid>.lock), from the first worker it starts until it exits; the
kernel releases the lock when the holder dies, however it dies. A uid just leased may still
run what a dead grading left behind, so its processes are killed first.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.isolation import processes

# The kit's uids: inside the range that systemd leaves unused (60578-61183: not users, not
# DynamicUser services), and below 61000-61015, which kits before leases took without a lock.
BASE_UID = 60600
COUNT = 400


class NoFreeUid(RuntimeError):
    """Every sandbox uid is leased by a grading that is running."""


@dataclass(frozen=True)
class Lease:
    """A uid held by this process, through an open, locked file (closing it ends the lease)."""

    uid: int
    fd: int


def lock_folder() -> Path:
    """Where the lock files live: /run/cnn-kit/uids for root, else a private folder of this user's."""
    if os.geteuid() == 0 and Path("/run").is_dir():
        return Path("/run/cnn-kit/uids")
    return Path(tempfile.gettempdir()) / f"cnn-kit-uids-{os.geteuid()}"


def _open_folder() -> Path:
    folder = lock_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise NoFreeUid(f"{folder} is not a private folder of this user: refusing to keep uid locks there")
    return folder


def lease(first: int = BASE_UID, count: int = COUNT) -> Lease:
    """Lease the lowest free uid of first .. first + count - 1, its leftover processes killed."""
    folder = _open_folder()
    for uid in range(first, first + count):
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        processes.kill_uid(uid)
        return Lease(uid, fd)
    raise NoFreeUid(f"all {count} sandbox uids from {first} are in use by other gradings")


_LEASES: dict[int, Lease] = {}  # slot -> this process's lease


def for_slot(slot: int) -> int:
    """The uid of this process's grading slot `slot`, leased on first use and kept until exit."""
    if slot not in _LEASES:
        _LEASES[slot] = lease()
    return _LEASES[slot].uid


def held() -> tuple[int, ...]:
    """The uids this process holds."""
    return tuple(sorted(lease.uid for lease in _LEASES.values()))
