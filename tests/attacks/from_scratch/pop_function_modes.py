"""Attack: pop every torch-function mode off the stack (where the old guard lived) and call the
built-ins by their public names."""

import torch
import torch.nn.functional as F


def unguarded(fn, *args, **kwargs):
    popped = [torch._C._pop_torch_function_stack() for _ in range(torch._C._len_torch_function_stack())]
    try:
        return fn(*args, **kwargs)
    finally:
        for mode in reversed(popped):
            torch._C._push_on_torch_function_stack(mode)


def neuron(x, w, b):
    return unguarded(torch.sigmoid, x @ w + b)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return unguarded(F.conv2d, x, weight, bias, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None):
    return unguarded(F.max_pool2d, x, kernel_size, stride)


def batch_norm(x, weight, bias, eps=1e-5):
    return unguarded(F.batch_norm, x, None, None, weight, bias, training=True, eps=eps)


def dropout(x, p=0.5, training=True):
    return unguarded(F.dropout, x, p, training)
