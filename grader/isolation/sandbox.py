"""A worker's isolation: bubblewrap namespaces, an unprivileged uid, quotas and rlimits; or,
where bubblewrap cannot create namespaces, the uid fallback (grader.isolation.fallback).

With bubblewrap, each worker gets a new sandbox, started around a holder process
(holder_command); the fork server (grader.inside.zygote) forks the worker into its namespaces.
Inside, the worker sees the system's read-only libraries, the Python it runs on, the trust
boundary (grader/inside/, the student-side helpers exercises/_kit/ and the data, with the run's
relabelled digits; read-only, at their own paths, so the fork server's imports stay valid), a
fresh copy of the student's modules at /sub and an empty /tmp, both size- and inode-limited
tmpfs mounts (grader.isolation.quota). It cannot see solutions/, the hidden suites, other
submissions or the gradebook, has no network, and runs in its own PID namespace: killing the
sandbox kills every process it started and frees its files and IPC objects. It is bounded in
memory, processes, file size and CPU time.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from grader.isolation import uids
from grader.isolation.quota import Quota
from grader.paths import DATA, ROOT

SUBMISSION_MOUNT = Path("/sub")
# What of the kit a worker may see: nothing that reveals solutions or hidden tests.
KIT_PARTS = ("grader/__init__.py", "grader/inside", "exercises/_kit")
HOLDER = ("/bin/sh", "-c", "echo ready && exec sleep infinity")  # holds the namespaces; says when they are set up
# Run as root inside a new sandbox before its program: the inode limits of its two tmpfs mounts
# (bubblewrap sets only their size), /sub handed to the uid, then the program as the uid, with
# no capability and no way to gain one.
SETUP = ("mount -o remount,nosuid,nodev,nr_inodes={files} /sub && mount -o remount,nosuid,nodev,nr_inodes={files} /tmp "
         "&& chown -R {uid}:{uid} /sub && exec setpriv --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all "
         "--bounding-set=-all --no-new-privs -- \"$@\"")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc")


class Isolation(enum.Enum):
    """How strongly a worker is isolated."""

    BWRAP = "bwrap"  # namespaces, an unprivileged uid, tmpfs quotas
    UID = "uid"  # no namespaces: an unprivileged uid, the kit locked away, Landlock where the kernel has it
    NONE = "none"  # the grader's own user: no isolation at all


class SandboxUnavailable(RuntimeError):
    """The isolation asked for cannot be had here."""


@cache
def bwrap_path() -> str | None:
    """bubblewrap's absolute path: the sandbox is started with a clean PATH, which may not hold it."""
    return shutil.which("bwrap")


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can create the namespaces we use."""
    bwrap = bwrap_path()
    if bwrap is None:
        return False
    probe = subprocess.run(
        [bwrap, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def uid_works() -> bool:
    """Whether the uid fallback can be used: only root can run workers as another uid."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def choose(isolation: str) -> Isolation:
    """Resolve "auto", "bwrap", "uid" or "none" to an isolation level, or explain why it cannot be had.
    "auto" is bubblewrap where it works, else the uid fallback."""
    if isolation == "none":
        return Isolation.NONE
    if isolation in ("auto", "bwrap") and bwrap_works():
        return Isolation.BWRAP
    if isolation in ("auto", "uid") and uid_works():
        return Isolation.UID
    if isolation == "uid":
        raise SandboxUnavailable("the uid fallback needs root (to run workers as another uid) and setpriv")
    raise SandboxUnavailable(
        "bubblewrap is not available: install it (apt-get install bubblewrap, as `make setup` does), "
        "run as root for the uid fallback (--sandbox uid), or pass --sandbox none to grade without isolation "
        "(results are then flagged 'unsandboxed')"
    )


def sandbox_uid(slot: int) -> int:
    """This process's unprivileged uid for grading slot `slot`: leased for this process alone
    (grader.isolation.uids), so that process limits are per worker, even beside another grading."""
    return uids.for_slot(slot)


def python_dirs() -> list[Path]:
    """Folders the interpreter needs: the venv, the base installation, and any other package folder on
    sys.path (site-packages of a venv that extends another through a .pth file, for one). A script's
    own folder on sys.path (/tmp, when one runs python /tmp/x.py) is never bound."""
    dirs = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path is not None and path.is_dir() and path.name in ("site-packages", "dist-packages") \
                and not any(d == path or d in path.parents for d in dirs):
            dirs.add(path)
    return sorted(d for d in dirs if not any(other in d.parents for other in dirs))


def bwrap_command(uid: int, quota: Quota, files: dict[str, int], data: Path | None = None) -> list[str]:
    """The bubblewrap command line for a new sandbox whose /sub holds `files` (file name -> an open
    descriptor to copy it from); the program to run as `uid` follows it. `data`: a data folder
    whose MNIST/raw replaces the shipped one (the run's relabelled digits)."""
    cmd = [bwrap_path() or "bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    for system in SYSTEM_DIRS:
        if Path(system).exists():
            cmd += ["--ro-bind", system, system]
    # The empty /tmp comes first: binds made after it land inside it, so a kit or venv that lives
    # under /tmp (a fresh clone, CI) stays visible instead of being hidden by the tmpfs.
    cmd += ["--perms", "1777", "--size", str(quota.disk_bytes), "--tmpfs", "/tmp"]
    for d in python_dirs():
        cmd += [*_parents(d), "--ro-bind", str(d), str(d)]
    cmd += _parents(ROOT / "grader")
    for d in (ROOT, ROOT / "grader", ROOT / "exercises"):
        cmd += ["--perms", "0755", "--dir", str(d)]
    for part in KIT_PARTS:
        cmd += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    if DATA.exists():
        cmd += ["--ro-bind", str(DATA), str(DATA)]
        if data is not None:
            cmd += ["--ro-bind", str(data / "MNIST" / "raw"), str(DATA / "MNIST" / "raw")]
    cmd += ["--perms", "0700", "--size", str(quota.disk_bytes), "--tmpfs", str(SUBMISSION_MOUNT)]
    for name, fd in sorted(files.items()):
        cmd += ["--perms", "0644", "--file", str(fd), str(SUBMISSION_MOUNT / name)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--chdir", str(SUBMISSION_MOUNT)]
    for dev in gpu_devices():
        cmd += ["--dev-bind", str(dev), str(dev)]
    return [*cmd, "/bin/sh", "-c", SETUP.format(uid=uid, files=quota.files), "setup"]


def holder_command(uid: int, quota: Quota, files: dict[str, int], info_fd: int, data: Path | None = None) -> list[str]:
    """A new sandbox around a holder process: bubblewrap writes the host PID of the sandbox's init
    (whose namespaces the worker joins) to `info_fd`; the holder prints "ready"."""
    cmd = bwrap_command(uid, quota, files, data)
    return [*cmd[:1], "--info-fd", str(info_fd), *cmd[1:], *HOLDER]


def gpu_devices() -> list[Path]:
    """The NVIDIA device nodes a worker needs to use the GPU (none on a machine without one)."""
    return sorted(Path("/dev").glob("nvidia*"))


def gpu_visible() -> bool:
    """Whether workers may use a GPU: a device node is there and CUDA_VISIBLE_DEVICES does not hide it.
    Decided without importing torch or initialising CUDA."""
    return any(d.name[len("nvidia"):].isdigit() for d in gpu_devices()) and os.environ.get("CUDA_VISIBLE_DEVICES") != ""


def _parents(path: Path) -> list[str]:
    """--dir entries with world-readable permissions for every ancestor of `path`."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if str(parent) != "/" and not any(str(parent).startswith(d) for d in SYSTEM_DIRS):
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def worker_environment(threads: int, data: Path = DATA) -> dict[str, str]:
    """A clean environment: nothing of the grader's own leaks in. The kit is at its own paths
    with or without a sandbox; `data` is where the student's code finds the datasets."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        # The sandbox uid has no passwd entry: getpass.getuser() (torch's compile caches ask) reads these.
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'exercises'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "CNN_KIT_DATA": str(data),
        "CNN_KIT_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        # The zygote forks workers: asking whether CUDA is there must not initialise it in the zygote.
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
    }
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env
