"""A worker's resource limits, applied by the worker itself (in the fork of the zygote, before it
drops its privileges and long before it imports any student code)."""

from __future__ import annotations

import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker."""

    memory_bytes: int = 6 << 30  # address space (torch alone maps about 3.3 GiB); data only where a GPU is used
    processes: int = 64  # threads count too
    file_bytes: int = 64 << 20
    cpu_seconds: int = 600
    open_files: int = 256


def apply_limits(limits: Limits, gpu: bool = False) -> None:
    """Set a worker's rlimits (the zygote's fork calls this before it drops privileges). With a
    GPU, memory is bounded by RLIMIT_DATA rather than RLIMIT_AS: CUDA reserves far more address
    space than any sensible limit (its reservations are not writable, so the data limit does not
    count them)."""
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
    if not gpu:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
