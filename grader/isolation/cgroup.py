"""A memory cgroup per worker, where the machine has one to give.

The grader makes each worker's cgroup inside its own, in the v1 memory hierarchy (as on many
container hosts) or in cgroup v2 where its cgroup lets children have the memory controller (a v2
cgroup that holds processes cannot, so on most v2 machines set CNN_KIT_CGROUP to a folder
delegated to the grader, e.g. by `systemd-run --property=Delegate=yes`). Where none can be made,
memory is bounded by the worker's rlimits alone, and `available()` says so.
"""

from __future__ import annotations

import itertools
import os
from functools import cache
from pathlib import Path

ENV = "CNN_KIT_CGROUP"
_NAMES = itertools.count()


class Unavailable(OSError):
    """No memory cgroup can be made here."""


def _own_folders() -> list[Path]:
    """This process's own cgroup in the v1 memory hierarchy and in the v2 one, where mounted."""
    mounts: dict[str, Path] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        kind, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
        if kind == "cgroup2":
            mounts.setdefault("", Path(fields[4]))
        elif kind == "cgroup" and "memory" in options:
            mounts["memory"] = Path(fields[4])
    found = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for key in controllers.split(",") if controllers else [""]:
            if key in mounts:
                found.append(mounts.pop(key) / path.lstrip("/"))
    return found


@cache
def parent() -> tuple[Path, int] | None:
    """Where worker cgroups are made, and the cgroup version there; None where they cannot be."""
    candidates = ([Path(os.environ[ENV])] if os.environ.get(ENV) else []) + _own_folders()
    for folder in candidates:
        version = 2 if (folder / "cgroup.controllers").exists() else 1
        probe = folder / f"cnn-kit-probe-{os.getpid()}"
        try:
            Cgroup(probe, version).limit(64 << 20)
        except OSError:
            continue
        finally:
            try:
                probe.rmdir()
            except OSError:
                pass
        return folder, version
    return None


def available() -> bool:
    return parent() is not None


class Cgroup:
    """One worker's memory cgroup."""

    def __init__(self, path: Path, version: int) -> None:
        self.path, self.version = path, version

    @classmethod
    def create(cls, label: str, memory_bytes: int) -> Cgroup:
        """A new cgroup named after `label`, limited to `memory_bytes` (swap included)."""
        where = parent()
        if where is None:
            raise Unavailable("no memory cgroup can be made here")
        cgroup = cls(where[0] / f"cnn-kit-{label}-{os.getpid()}-{next(_NAMES)}", where[1])
        cgroup.limit(memory_bytes)
        return cgroup

    def limit(self, memory_bytes: int) -> None:
        self.path.mkdir()
        if self.version == 2:
            (self.path / "memory.max").write_text(str(memory_bytes))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (self.path / name).exists():
                    (self.path / name).write_text(value)
        else:
            (self.path / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if (self.path / "memory.memsw.limit_in_bytes").exists():
                (self.path / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))

    def adopt(self, pid: int) -> None:
        """Move process `pid` into this cgroup (what it starts from then on is born inside)."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this cgroup for want of memory."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            lines = (self.path / name).read_text().splitlines()
        except OSError:
            return 0
        counts = dict(line.split() for line in lines if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0))

    def remove(self) -> None:
        """Remove the cgroup (once its processes are gone)."""
        try:
            self.path.rmdir()
        except OSError:
            pass
