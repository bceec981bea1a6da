"""Attack: PyTorch's own kernels reached through torch.ops.aten, where no Python name is patched."""

import torch

aten = torch.ops.aten


def neuron(x, w, b):
    return aten.sigmoid(x @ w + b)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    pair = lambda v: [v, v] if isinstance(v, int) else list(v)  # noqa: E731
    return aten.convolution(x, weight, bias, pair(stride), pair(padding), [1, 1], False, [0, 0], 1)


def max_pool2d(x, kernel_size, stride=None):
    return aten.max_pool2d_with_indices(x, kernel_size, stride if stride is not None else kernel_size)[0]


def batch_norm(x, weight, bias, eps=1e-5):
    return aten.native_batch_norm(x, weight, bias, None, None, True, 0.0, eps)[0]


def dropout(x, p=0.5, training=True):
    return aten.native_dropout(x, p, training)[0] if training and p < 1 else (x if not training else x * 0)
