"""The run's relabelled digits: what every sandbox sees instead of the shipped labels.

Each run's secret gives a permutation of the ten labels in which no digit keeps its own. The
sandboxes read the shipped digits with their labels permuted, and the hidden checks score with
the same permutation. A real training loop learns the permuted labels as well as the true
ones; weights trained beforehand and shipped as constants score near zero. (A light module:
the engine prepares the folder before any grading process imports torch.)
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

from grader.grading.secret import derive
from grader.paths import DATA

RAW = ("MNIST", "raw")
IMAGES = {True: "train-images-idx3-ubyte", False: "t10k-images-idx3-ubyte"}
LABELS = {True: "train-labels-idx1-ubyte", False: "t10k-labels-idx1-ubyte"}
LABELS_HEADER = 8  # IDX: magic number and item count

_FOLDERS: dict[bytes, Path] = {}


def permutation(secret: bytes) -> list[int]:
    """permutation[d] is the label digit d carries in this run; no digit keeps its own."""
    draw = random.Random(derive(secret, "digits/labels"))
    while True:
        order = list(range(10))
        draw.shuffle(order)
        if all(label != digit for digit, label in enumerate(order)):
            return order


def relabelled_data(secret: bytes) -> Path:
    """A data folder for the run's sandboxes: the shipped digits with permuted labels (made once per
    process and secret), and links to the other datasets as they are."""
    if secret in _FOLDERS and _FOLDERS[secret].is_dir():
        return _FOLDERS[secret]
    folder = Path(tempfile.mkdtemp(prefix="cnnkit-digits-"))
    raw = folder.joinpath(*RAW)
    raw.mkdir(parents=True)
    order = permutation(secret)
    for train in (True, False):
        shutil.copyfile(DATA.joinpath(*RAW, IMAGES[train]), raw / IMAGES[train])
        labels = DATA.joinpath(*RAW, LABELS[train]).read_bytes()
        (raw / LABELS[train]).write_bytes(labels[:LABELS_HEADER] + bytes(order[b] for b in labels[LABELS_HEADER:]))
    for entry in DATA.iterdir():
        if entry.name != "MNIST":
            os.symlink(entry, folder / entry.name)
    for path in (folder, *folder.rglob("*")):  # readable by the sandbox's unprivileged uid
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    _FOLDERS[secret] = folder
    return folder


def remove_all() -> None:
    """Remove the relabelled data folders this process made."""
    while _FOLDERS:
        shutil.rmtree(_FOLDERS.popitem()[1], ignore_errors=True)
