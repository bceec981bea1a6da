"""The processes of a sandbox uid: find them, and kill every one of them.

Only student code runs as a sandbox uid, so "every process of the uid" is exactly what a
submission left running: what bubblewrap's PID namespace holds, and in the uid fallback
(no namespaces) also a daemon that left its process group. Killing is done as the uid itself
(`kill(-1)` from a process of that uid reaches every process of the uid and nothing else, in
one pass that new forks cannot escape), then checked in /proc: a claim is not a fact.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


class Survivors(RuntimeError):
    """Processes of a sandbox uid outlived every attempt to kill them."""


def of_uids(uids: Iterable[int]) -> list[int]:
    """Live processes (zombies aside) whose real uid is one of `uids`."""
    wanted = {str(u) for u in uids}
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # it ended while we looked
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        real_uid = fields.get("Uid", "").split()[:1]
        state = fields.get("State", "").split()[:1]
        if real_uid and real_uid[0] in wanted and state not in (["Z"], ["X"]):
            found.append(int(entry.name))
    return sorted(found)


def parent(pid: int) -> int:
    """The parent of process `pid` (0 once it has ended)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])  # after "(command)": state, then the parent's pid


def kill_uid(uid: int, attempts: int = 50) -> None:
    """Kill every process of `uid` and wait until none is left; raise Survivors if some outlive it."""
    if uid < 1000:
        raise ValueError(f"uid {uid} is a system account's, not a sandbox's")
    setpriv = shutil.which("setpriv") or "setpriv"
    for _ in range(attempts):
        if not of_uids([uid]):
            return
        # kill -1 reaches every process its sender may signal: it runs only once the shell is the uid
        subprocess.run([setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", "/bin/sh", "-c",
                        f'[ "$(id -u)" = {uid} ] && kill -9 -1'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}, check=False)
        time.sleep(0.01)  # SIGKILL is delivered at once; dying takes the kernel a moment
    left = of_uids([uid])
    if left:
        raise Survivors(f"{len(left)} process(es) of uid {uid} survived being killed: {left[:5]}")
