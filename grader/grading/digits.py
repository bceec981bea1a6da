"""The MNIST digits as the hidden checks see them: held back, and relabelled for each run.

- **Held back.** 500 real digits (50 of each) live in grader/heldout/, in neither the student
  release nor any sandbox. The checks measure a trained network's accuracy on them, in the
  trusted process, so a network that memorised the shipped digits gains nothing.
- **Relabelled.** The sandboxes see the shipped digits with the run's secret permutation of
  their labels (grader.grading.relabel); the checks score with the same permutation.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

import torch

from grader.grading import relabel
from grader.paths import DATA, ROOT

HELDOUT = ROOT / "grader" / "heldout"
RAW, IMAGES, LABELS = relabel.RAW, relabel.IMAGES, relabel.LABELS


def read_idx(path: Path) -> torch.Tensor:
    """An uncompressed IDX file (uint8 data) as a tensor."""
    data = path.read_bytes()
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims).clone()


@cache
def heldout() -> tuple[torch.Tensor, torch.Tensor]:
    """The held-back digits (500 x 28 x 28, uint8) and their true labels (int64)."""
    return (read_idx(HELDOUT / "heldout-images-idx3-ubyte"),
            read_idx(HELDOUT / "heldout-labels-idx1-ubyte").long())


def shipped(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped digits of one split and their true labels."""
    raw = DATA.joinpath(*RAW)
    return read_idx(raw / IMAGES[train]), read_idx(raw / LABELS[train]).long()


def normalised(images: torch.Tensor) -> torch.Tensor:
    """Digits as the exercises feed them to LeNet: Pad(2), ToTensor, Normalize(0.5, 0.5) -> (N, 1, 32, 32)."""
    x = torch.nn.functional.pad(images.float().div(255), (2, 2, 2, 2))
    return ((x - 0.5) / 0.5).unsqueeze(1)
