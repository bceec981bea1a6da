"""Attack: switch off every dispatch mode (the grader's tracer among them) around the built-in call,
so that the recorded graph holds no convolution, pooling or sigmoid at all."""

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import _disable_current_modes


def hidden(fn, *args):
    with _disable_current_modes():
        return fn(*args)


def neuron(x, w, b):
    return hidden(lambda z: torch.sigmoid(z), x @ w + b)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return hidden(lambda *a: F.conv2d(*a, stride=stride, padding=padding), x, weight, bias)


def max_pool2d(x, kernel_size, stride=None):
    return hidden(lambda t: F.max_pool2d(t, kernel_size, stride), x)


def batch_norm(x, weight, bias, eps=1e-5):
    return hidden(lambda *a: F.batch_norm(a[0], None, None, a[1], a[2], training=True, eps=eps), x, weight, bias)


def dropout(x, p=0.5, training=True):
    return hidden(lambda t: F.dropout(t, p, training), x)
