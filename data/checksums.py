"""Write / check ``data/SHA256SUMS`` for the generated data files.

Shared by ``make_mnist_subset.py`` and ``make_shapes.py``.  The file uses the
same format as GNU ``sha256sum`` (``<hex digest>  <path relative to data/>``),
so it can also be checked with::

    cd data && sha256sum -c SHA256SUMS

Run ``python data/checksums.py`` to verify (with the kit's own check,
``_kit.datasets.verify_checksums``), ``python data/checksums.py --write`` to
regenerate the list from the files currently present.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
SUMS_NAME = "SHA256SUMS"

# Only generated data files are listed (not scripts, README, caches or any
# *.gz archives that torchvision's download path may leave in MNIST/raw).
DATA_PATTERNS = ("MNIST/raw/*-ubyte", "shapes/*/*/*.png")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def data_files(data_dir: Path = DATA_DIR) -> list[Path]:
    files = set()
    for pattern in DATA_PATTERNS:
        files.update(p for p in data_dir.glob(pattern) if p.is_file())
    return sorted(files, key=lambda p: p.relative_to(data_dir).as_posix())


def write_sha256sums(data_dir: Path = DATA_DIR) -> Path:
    """(Re)write ``data_dir/SHA256SUMS`` for every data file present."""
    data_dir = Path(data_dir)
    lines = [
        f"{sha256_file(p)}  {p.relative_to(data_dir).as_posix()}\n"
        for p in data_files(data_dir)
    ]
    out = data_dir / SUMS_NAME
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.writelines(lines)
    return out


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        print(f"wrote {write_sha256sums()}")
    else:
        sys.path.insert(0, str(DATA_DIR.parent / "exercises"))
        from _kit.datasets import verify_checksums  # the check the kit runs, so both agree

        bad = verify_checksums(DATA_DIR)
        for p in bad:
            print(p)
        print("OK" if not bad else f"{len(bad)} problem(s)")
        sys.exit(1 if bad else 0)
