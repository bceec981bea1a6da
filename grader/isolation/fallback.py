"""The uid fallback: isolation where bubblewrap cannot create namespaces (a container that forbids
them, as Gradescope's may).

Workers still run as a sandbox uid of their own, with no capability and no_new_privs, and
their rlimits. Three more walls stand where the namespaces would:
- the kit is locked: everything in it but what workers need (grader/inside/, exercises/_kit/,
  data/ and a venv kept inside it) is made unreadable to other users, and a worker's uid is
  checked to be unable to read the solutions and the hidden suites before any grading;
- where the kernel has Landlock, the run's zygote (and so every worker) can read only the
  system, the Python it runs on, those parts of the kit and the temporary folder, write only
  the temporary folder and /dev, open no TCP connection and signal nothing outside (a kit kept
  in the temporary folder, as a fresh clone may be, is then guarded by its lock alone);
- whatever a worker started, a daemon included, is killed (every process of its uid) when the
  worker ends, and what it left in the shared temporary folders is removed, before any result
  is written.
Unlike a sandbox, a worker shares the host's network (UDP) and its disk: its writes are bounded
by the file-size rlimit, not by a tmpfs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from grader.isolation import landlock, sandbox
from grader.paths import DATA, ROOT, SOLUTIONS, SUITES

CHECK_UID = 65534  # "nobody": any uid other than the kit's owner sees what a worker would
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")


def readable_parts(root: Path = ROOT) -> list[Path]:
    """What of the kit a worker needs to read: the trust boundary, the data, and any Python kept inside the kit."""
    kit = [root / part for part in sandbox.KIT_PARTS] + [root / DATA.relative_to(ROOT)]
    return kit + [d for d in sandbox.python_dirs() if root in d.parents]


def lock_kit(root: Path = ROOT) -> None:
    """Take every permission of group and others from everything in the kit but the readable parts
    and the folders that lead to them (which keep theirs: 0755)."""
    keep = readable_parts(root)
    ways = {parent for part in keep for parent in part.parents if parent == root or root in parent.parents}
    for folder in sorted(ways):
        os.chmod(folder, stat.S_IMODE(folder.stat().st_mode) | 0o755)
        for entry in folder.iterdir():
            if entry in keep or entry in ways or entry.is_symlink():
                continue
            mode = stat.S_IMODE(entry.lstat().st_mode)
            if mode & 0o077:
                os.chmod(entry, mode & ~0o077)


SEEN = """
import json, os, sys
seen = {}
for path in sys.argv[1:]:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").close()
        seen[path] = True
    except OSError:
        seen[path] = False
print(json.dumps(seen))
"""


def what_others_see(paths: list[Path]) -> dict[str, bool]:
    """Which of `paths` (files, or folders to list) another uid can read: run as that uid, a fact,
    not a guess."""
    setpriv = shutil.which("setpriv") or "setpriv"
    done = subprocess.run([setpriv, f"--reuid={CHECK_UID}", f"--regid={CHECK_UID}", "--clear-groups",
                           "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", sys.executable, "-c", SEEN,
                           *map(str, paths)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, cwd="/",
                          timeout=120, check=False)
    if done.returncode != 0:
        raise sandbox.SandboxUnavailable(f"the uid fallback cannot run Python as another uid here: "
                                         f"{done.stderr.strip()[-300:]}")
    return {path: bool(ok) for path, ok in json.loads(done.stdout).items()}


@cache
def prepare() -> int:
    """Lock the kit and prove the lock holds: another uid can read what workers need (the trust
    boundary, and the Python they run on: its standard library is imported lazily) and neither
    the solutions nor the hidden suites. Returns the Landlock ABI that will confine the workers (0: none)."""
    lock_kit()
    secrets = sorted(SOLUTIONS.glob("*.py"))[:1] + sorted(SUITES.glob("*/test_hidden.py"))[:1]
    needed = [ROOT / "grader" / "inside" / "worker.py", ROOT / "exercises" / "_kit" / "datasets.py",
              Path(os.__file__), *sandbox.python_dirs()]
    seen = what_others_see(secrets + needed)
    leaks = [p for p in secrets if seen[str(p)]]
    if leaks:
        raise sandbox.SandboxUnavailable(f"the uid fallback cannot lock the kit: {leaks[0]} stays readable to other "
                                         "users (a file system without permissions?)")
    blocked = [p for p in needed if not seen[str(p)]]
    if blocked:
        raise sandbox.SandboxUnavailable(f"the uid fallback needs {blocked[0]} readable by other users: give it "
                                         "and the folders above it o+rx (a Python installed under a private home "
                                         "folder cannot serve the uid fallback)")
    return landlock.abi()


def zygote_command(argv: list[str]) -> list[str]:
    """`argv` (the zygote's command line) confined by Landlock where the kernel has it."""
    if landlock.abi() < 1:
        return argv
    read = [*(Path(d) for d in sandbox.SYSTEM_DIRS), *sandbox.python_dirs(), *readable_parts(), Path("/proc"),
            Path("/sys")]
    write = [*sorted({Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp")}), Path("/dev")]
    # The kit's own folder may be listed (to import from it), not read: only its readable parts are.
    args = ["--list", str(ROOT)] + [a for path in read for a in ("--read", str(path))]
    args += [a for path in write for a in ("--write", str(path))]
    return [sys.executable, "-m", "grader.isolation.landlock", *args, "--", *argv]


def sweep(uid: int) -> None:
    """Remove what `uid` left in the machine's shared temporary folders."""
    for folder in {Path(tempfile.gettempdir()), *map(Path, SHARED_TEMP)}:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.lstat().st_uid != uid:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)  # root's: the modes the uid set do not stop it
                else:
                    entry.unlink()
            except OSError:
                pass
