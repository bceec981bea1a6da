"""What one worker may use of the grading machine, enforced from outside the worker.

A sandboxed worker writes only into two size- and inode-limited tmpfs mounts of its own, /sub
(its copy of the submission) and /tmp: the host's disk is never touched, and what it wrote goes
when its sandbox does. Its memory (the tmpfs pages included) is bounded by a memory cgroup where
the machine has one to give (grader.isolation.cgroup). The rlimits the worker sets itself
(grader.inside.limits) still apply within these bounds.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Quota:
    """One worker's share of the machine."""

    disk_bytes: int = 256 << 20  # each of /sub and /tmp
    files: int = 10_000  # files and folders, each of /sub and /tmp
    memory_bytes: int = 4 << 30  # the worker and everything it starts, through a memory cgroup


class Incident(enum.Enum):
    """A quota a worker ran into."""

    DISK = "disk"
    FILES = "files"
    MEMORY = "memory"

    def describe(self, quota: Quota) -> str:
        """What happened, for the gradebook."""
        if self is Incident.DISK:
            return (f"the submission filled its {quota.disk_bytes >> 20} MiB of disk (/sub or /tmp): "
                    "writes failed from then on")
        if self is Incident.FILES:
            return f"the submission created {quota.files:,} files in /sub or /tmp, its limit: more failed"
        return f"the submission used more than its {quota.memory_bytes >> 20} MiB of memory and was stopped"


def filled(mount: Path) -> list[Incident]:
    """The quotas a worker's tmpfs at `mount` (seen from the host) has run into."""
    try:
        usage = os.statvfs(mount)
    except OSError:  # the sandbox is already gone
        return []
    found = []
    if usage.f_bavail * usage.f_frsize < max(usage.f_blocks * usage.f_frsize // 100, 1 << 20):
        found.append(Incident.DISK)
    if usage.f_files and usage.f_favail < max(usage.f_files // 100, 8):
        found.append(Incident.FILES)
    return found
