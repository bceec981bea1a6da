"""A worker's sandbox: bubblewrap namespaces, an unprivileged uid, rlimits.

Each worker gets a new sandbox, started around a holder process (holder_command); the fork
server (grader.inside.zygote) forks the worker into its namespaces. Inside, the worker sees the
system's read-only libraries, the Python it runs on, the trust boundary (grader/inside/, the
student-side helpers exercises/_kit/ and the data, with the run's relabelled digits; read-only,
at their own paths, so the fork server's imports stay valid), its own writable copy of the
student's modules at /sub, and an empty /tmp. It cannot see solutions/, the hidden suites, other submissions or the gradebook,
has no network, and runs in its own PID namespace: killing the sandbox kills every process
it started and frees its /tmp and IPC objects. It is bounded in memory, processes, file size
and CPU time.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from grader.paths import DATA, ROOT

SUBMISSION_MOUNT = Path("/sub")
# What of the kit a worker may see: nothing that reveals solutions or hidden tests.
KIT_PARTS = ("grader/__init__.py", "grader/inside", "exercises/_kit")
HOLDER = ("/bin/sh", "-c", "echo ready && exec sleep infinity")  # holds the namespaces; says when they are set up
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc")
BASE_UID = 61000


class Isolation(enum.Enum):
    """How strongly a worker is isolated."""

    BWRAP = "bwrap"
    NONE = "none"


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create namespaces here."""


@cache
def bwrap_path() -> str | None:
    """bubblewrap's absolute path: the sandbox is started with a clean PATH, which may not hold it."""
    return shutil.which("bwrap")


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can create the namespaces we use."""
    if bwrap_path() is None:
        return False
    probe = subprocess.run(
        [bwrap_path(), "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def choose(isolation: str) -> Isolation:
    """Resolve "auto", "bwrap" or "none" to an isolation level, or explain why not."""
    if isolation == "none":
        return Isolation.NONE
    if bwrap_works():
        return Isolation.BWRAP
    raise SandboxUnavailable(
        "bubblewrap is not available: install it (apt-get install bubblewrap, as `make setup` does) "
        "or pass --sandbox none to grade without isolation (results are then flagged 'unsandboxed')"
    )


def sandbox_uid(slot: int) -> int:
    """A distinct unprivileged uid per parallel slot, so process limits are per worker."""
    return BASE_UID + slot


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


def bwrap_command(workdir: Path, uid: int, data: Path | None = None) -> list[str]:
    """The bubblewrap command line for a sandbox over `workdir`; the program to run follows it.
    `data`: a data folder whose MNIST/raw replaces the shipped one (the run's relabelled digits)."""
    cmd = [bwrap_path() or "bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    for d in SYSTEM_DIRS:
        if Path(d).exists():
            cmd += ["--ro-bind", d, d]
    # The empty /tmp comes first: binds made after it land inside it, so a kit or venv that lives
    # under /tmp (a fresh clone, CI) stays visible instead of being hidden by the tmpfs.
    cmd += ["--perms", "1777", "--size", str(256 << 20), "--tmpfs", "/tmp"]
    for d in python_dirs():
        cmd += _parents(d) + ["--ro-bind", str(d), str(d)]
    cmd += _parents(ROOT / "grader")
    for d in (ROOT, ROOT / "grader", ROOT / "exercises"):
        cmd += ["--perms", "0755", "--dir", str(d)]
    for part in KIT_PARTS:
        cmd += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    if DATA.exists():
        cmd += ["--ro-bind", str(DATA), str(DATA)]
        if data is not None:
            cmd += ["--ro-bind", str(data / "MNIST" / "raw"), str(DATA / "MNIST" / "raw")]
    cmd += ["--bind", str(workdir), str(SUBMISSION_MOUNT), "--proc", "/proc", "--dev", "/dev",
            "--chdir", str(SUBMISSION_MOUNT)]
    for dev in gpu_devices():
        cmd += ["--dev-bind", str(dev), str(dev)]
    cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"]
    return cmd


def holder_command(workdir: Path, uid: int, info_fd: int, data: Path | None = None) -> list[str]:
    """A new sandbox over `workdir` around a holder process: bubblewrap writes the host PID of the
    sandbox's init (whose namespaces the worker joins) to `info_fd`; the holder prints "ready"."""
    cmd = bwrap_command(workdir, uid, data)
    return cmd[:1] + ["--info-fd", str(info_fd)] + cmd[1:] + list(HOLDER)


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


def prepare_workdir(workdir: Path, uid: int, isolation: Isolation) -> None:
    """Hand the submission's working folder to the sandbox uid."""
    if isolation is Isolation.BWRAP and os.geteuid() == 0:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
