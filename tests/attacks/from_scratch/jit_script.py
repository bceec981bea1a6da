"""Attack: the built-ins inside functions compiled with torch.jit.script at import."""

import torch
import torch.nn.functional as F


@torch.jit.script
def _conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: list[int],
          padding: list[int]) -> torch.Tensor:
    return F.conv2d(x, weight, bias, stride, padding)


@torch.jit.script
def _sigmoid(z: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(z)


def neuron(x, w, b):
    return _sigmoid(x @ w + b)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    pair = lambda v: [v, v] if isinstance(v, int) else list(v)  # noqa: E731
    return _conv(x, weight, bias, pair(stride), pair(padding))
