"""Attack: the kernels through torch._C._VariableFunctions, with torch-function modes disabled."""

import torch

VF = torch._C._VariableFunctions


def neuron(x, w, b):
    with torch._C.DisableTorchFunction():
        return VF.sigmoid(x @ w + b)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    with torch._C.DisableTorchFunction():
        return VF.conv2d(x, weight, bias, stride, padding)


def max_pool2d(x, kernel_size, stride=None):
    with torch._C.DisableTorchFunction():
        return VF.max_pool2d(x, kernel_size, stride if stride is not None else kernel_size)


def batch_norm(x, weight, bias, eps=1e-5):
    with torch._C.DisableTorchFunction():
        return VF.batch_norm(x, weight, bias, None, None, True, 0.0, eps, False)


def dropout(x, p=0.5, training=True):
    with torch._C.DisableTorchFunction():
        return VF.dropout(x, p, training)
