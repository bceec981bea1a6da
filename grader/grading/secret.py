"""The grading run's secret: where every hidden input, weight and seed comes from.

The kit is open source, hidden suites included, so inputs drawn from fixed seeds could be
looked up in advance. Every run draws a fresh secret (or takes the instructor's --seed, to
reproduce one), and each hidden test derives its own generator from it and its name: the
inputs are new at every run, and no submission can have seen them.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import torch

T = TypeVar("T")


def new_secret(seed: int | None = None) -> bytes:
    """A run's secret: random, or derived from an instructor's seed (to reproduce a run)."""
    return os.urandom(16) if seed is None else hashlib.sha256(f"cnn-kit:{seed}".encode()).digest()[:16]


def derive(secret: bytes, label: str) -> int:
    """A 63-bit number derived from the secret for `label` (a test's name, "labels", ...)."""
    return int.from_bytes(hashlib.sha256(secret + b"\0" + label.encode()).digest()[:8], "big") >> 1


class Draw:
    """One test's source of inputs: a torch generator and a Python one, both from (secret, label)."""

    def __init__(self, secret: bytes, label: str) -> None:
        import torch  # the CLI and the engine use this module's light half; the suites import torch anyway

        self.generator = torch.Generator().manual_seed(derive(secret, label))
        self.python = random.Random(derive(secret, label + "/python"))

    def seed(self) -> int:
        """A seed for the worker's generators."""
        return self.python.getrandbits(31)

    def randn(self, *shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        import torch

        return torch.randn(shape, generator=self.generator) * scale + shift

    def rand(self, *shape: int) -> torch.Tensor:
        import torch

        return torch.rand(shape, generator=self.generator)

    def randint(self, low: int, high: int, shape: Sequence[int]) -> torch.Tensor:
        import torch

        return torch.randint(low, high, tuple(shape), generator=self.generator)

    def permutation(self, n: int) -> torch.Tensor:
        import torch

        return torch.randperm(n, generator=self.generator)

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high]."""
        return self.python.randint(low, high)

    def uniform(self, low: float, high: float) -> float:
        return self.python.uniform(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return self.python.choice(list(options))
