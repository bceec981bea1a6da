"""Landlock: restrict a process and everything it starts to a few folders, without namespaces.

The uid fallback starts the run's zygote through this module (`python -m grader.isolation.landlock
--read DIR ... --write DIR ... -- PROGRAM ...`): the zygote, and every worker forked from it, can
then read only the listed folders and write only the writable ones, open no TCP connection, and
signal or reach (by abstract Unix socket) no process outside. Landlock is in Linux since 5.13
and needs no privilege; the rules hold for the life of each process and cannot be lifted.
Features the kernel lacks are left out (TCP from ABI 4, scoping from ABI 6).

(The `landlock` package on PyPI is a pre-release; the three system calls are called directly.)
"""

from __future__ import annotations

import argparse
import ctypes
import os
import struct
from collections.abc import Sequence
from pathlib import Path

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
LIST = 1 << 3  # read a folder (list it)
READ = 1 << 0 | 1 << 2 | LIST  # execute, read a file, list a folder
ALL_FS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}  # every access right of an ABI
FILE_RIGHTS = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 14 | 1 << 15  # execute, write, read, truncate, ioctl (the rest: folders)
NET_TCP = 1 << 0 | 1 << 1  # bind and connect (ABI 4)
SCOPE_ALL = 1 << 0 | 1 << 1  # abstract Unix sockets and signals (ABI 6)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class LandlockError(OSError):
    """The kernel refused a Landlock call."""


def abi() -> int:
    """The kernel's Landlock ABI version (0 where it has none, or it is disabled)."""
    version = _libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _call(number: int, *args: object) -> int:
    result = int(_libc.syscall(number, *args))
    if result < 0:
        errno = ctypes.get_errno()
        raise LandlockError(errno, f"landlock system call {number}: {os.strerror(errno)}")
    return result


def restrict(read: Sequence[Path], write: Sequence[Path], listed: Sequence[Path] = ()) -> int:
    """Allow this process only to read `read`, to read and write `write` (folders or files; what
    does not exist is skipped) and to list the folders beneath `listed` (not to read their files);
    no TCP, no signals or abstract sockets outside. Returns the ABI."""
    version = abi()
    if version < 1:
        raise LandlockError(0, "this kernel has no Landlock")
    handled = ALL_FS[max(v for v in ALL_FS if v <= version)]
    fields = [handled] + ([NET_TCP] if version >= 4 else []) + ([SCOPE_ALL] if version >= 6 else [])
    attr = struct.pack(f"{len(fields)}Q", *fields)
    ruleset = _call(SYS_CREATE_RULESET, attr, len(attr), 0)
    try:
        for paths, rights in ((listed, LIST), (read, READ), (write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    allowed = rights & handled if path.is_dir() else rights & handled & FILE_RIGHTS
                    _call(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, struct.pack("=Qi", allowed, fd), 0)
                finally:
                    os.close(fd)
        _call(SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description="Run PROGRAM restricted by Landlock.")
    parser.add_argument("--read", action="append", default=[], type=Path)
    parser.add_argument("--write", action="append", default=[], type=Path)
    parser.add_argument("--list", action="append", default=[], type=Path)
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    restrict(args.read, args.write, args.list)
    os.execv(program[0], program)


if __name__ == "__main__":
    main()
