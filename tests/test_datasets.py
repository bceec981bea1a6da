"""The shipped offline data (data/) and the kit's loaders (exercises/_kit/datasets.py)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
sys.path.insert(0, str(ROOT / "exercises"))  # the kit is imported as `_kit`, like in exercises/

from _kit import datasets  # noqa: E402
from _kit.datasets import DataMissingError, digit_subset, mnist, shapes, verify_checksums  # noqa: E402

MNIST_RAW = "MNIST/raw"
MNIST_FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


@pytest.fixture(scope="module")
def mnist_train():
    return mnist(train=True)


@pytest.fixture(scope="module")
def mnist_test():
    return mnist(train=False)


def test_data_dir_is_repo_data():
    assert datasets.DATA_DIR == DATA.resolve()


def test_data_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_KIT_DATA", str(tmp_path))
    spec = importlib.util.spec_from_file_location("_kit_datasets_env", datasets.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.DATA_DIR == tmp_path.resolve()


def test_idx_files_load_through_torchvision(mnist_train, mnist_test):
    from torchvision.datasets import MNIST

    direct_train = MNIST(str(DATA), train=True, download=False)
    direct_test = MNIST(str(DATA), train=False, download=False)
    assert len(direct_train) == len(mnist_train) == 4000
    assert len(direct_test) == len(mnist_test) == 500
    assert torch.bincount(mnist_train.targets, minlength=10).tolist() == [400] * 10
    assert torch.bincount(mnist_test.targets, minlength=10).tolist() == [50] * 10
    assert mnist_train.data.shape == (4000, 28, 28) and mnist_train.data.dtype == torch.uint8
    image, label = mnist_train[0]
    assert image.size == (28, 28) and image.mode == "L" and isinstance(label, int)
    # classes are interleaved, not sorted
    assert len(set(mnist_train.targets[:50].tolist())) >= 5
    # real digits: dark background, bright strokes
    assert mnist_train.data.float().mean() < 60 and mnist_train.data.max() == 255


def test_idx_headers():
    for name in MNIST_FILES:
        header = (DATA / MNIST_RAW / name).read_bytes()[:8]
        magic = int.from_bytes(header[:4], "big")
        count = int.from_bytes(header[4:8], "big")
        assert magic == (2051 if "images" in name else 2049)
        assert count == (4000 if name.startswith("train") else 500)


def test_checksums_pass():
    assert verify_checksums() == []
    listed = (DATA / "SHA256SUMS").read_text().splitlines()
    assert len(listed) == 4 + 3 * (60 + 20)


@pytest.mark.parametrize("missing", MNIST_FILES)
def test_missing_mnist_file_raises(tmp_path, missing):
    raw = tmp_path / MNIST_RAW
    shutil.copytree(DATA / MNIST_RAW, raw)
    (raw / missing).unlink()
    for train in (True, False):  # torchvision needs all four files for either split
        with pytest.raises(DataMissingError) as excinfo:
            mnist(train=train, root=tmp_path)
        message = str(excinfo.value)
        assert isinstance(excinfo.value, FileNotFoundError)
        assert missing in message and "python data/make_mnist_subset.py" in message
        assert "\n" not in message


def test_truncated_mnist_file_raises(tmp_path):
    raw = tmp_path / MNIST_RAW
    shutil.copytree(DATA / MNIST_RAW, raw)
    path = raw / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataMissingError, match=r"corrupt.*make_mnist_subset"):
        mnist(train=False, root=tmp_path)


def test_checksum_problems_are_listed(tmp_path):
    shutil.copytree(DATA / MNIST_RAW, tmp_path / MNIST_RAW)
    lines = [line for line in (DATA / "SHA256SUMS").read_text().splitlines() if MNIST_RAW in line]
    (tmp_path / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    assert verify_checksums(tmp_path) == []
    (tmp_path / MNIST_RAW / "train-labels-idx1-ubyte").unlink()
    labels = tmp_path / MNIST_RAW / "t10k-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[-1] = (data[-1] + 1) % 10
    labels.write_bytes(bytes(data))
    assert verify_checksums(tmp_path) == [
        "checksum mismatch: MNIST/raw/t10k-labels-idx1-ubyte",
        "missing: MNIST/raw/train-labels-idx1-ubyte",
    ]
    assert verify_checksums(tmp_path / "nowhere") != []


@pytest.mark.parametrize("train, per_class", [(True, 60), (False, 20)])
def test_shapes_image_folder(train, per_class):
    dataset = shapes(train=train)
    assert dataset.classes == ["circle", "square", "triangle"]
    assert len(dataset) == 3 * per_class
    assert torch.bincount(torch.tensor(dataset.targets)).tolist() == [per_class] * 3
    for path, _ in dataset.samples:
        with Image.open(path) as image:
            assert image.size == (128, 128) and image.mode == "RGB"
    image, label = dataset[0]
    assert image.size == (128, 128) and label == 0


def test_missing_shapes_raises(tmp_path):
    shutil.copytree(DATA / "shapes" / "test", tmp_path / "shapes" / "test")
    shutil.rmtree(tmp_path / "shapes" / "test" / "square")
    with pytest.raises(DataMissingError, match=r"square.*python data/make_shapes\.py"):
        shapes(train=False, root=tmp_path)


def test_digit_subset(mnist_train, mnist_test):
    low = digit_subset(mnist_train, range(5))
    assert len(low) == 2000
    assert set(mnist_train.targets[low.indices].tolist()) == {0, 1, 2, 3, 4}
    high = digit_subset(mnist_test, [5, 6, 7, 8, 9])
    assert len(high) == 250
    assert all(5 <= mnist_test.targets[i] <= 9 for i in high.indices)
    _, label = high[0]
    assert label >= 5  # labels are kept, not renumbered
    assert len(digit_subset(mnist_train, 7)) == 400
    assert len(digit_subset(mnist_train, torch.tensor([1, 2]))) == 800
    assert len(digit_subset(low, [3, 9])) == 400  # a subset of a subset
    assert len(digit_subset(mnist_train, [])) == 0
    assert len(digit_subset(shapes(train=False), [2])) == 20
