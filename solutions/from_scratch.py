"""Exercise 2: the operations of a CNN from scratch, with plain tensor operations.

Exercise 1 used PyTorch's ready-made layers. Here you write five of them yourself, to see
that there is no magic inside: a neuron (seed 001's N(x) = sigma(sum_i w_i x_i + b)),
a 2-D convolution, max pooling, batch normalisation and dropout (seed 004's operations).
Each must give the same numbers as PyTorch's own function, which the checks compare with.

You may use plain tensor operations: arithmetic, @ / matmul, sum, mean, amax, exp, sqrt,
reshape / view, Tensor.unfold (sliding windows), torch.einsum, torch.nn.functional.pad,
torch.nn.functional.unfold, indexing and Python loops, torch.rand_like / torch.bernoulli.

NOT allowed (the checks replace them with functions that fail when called):

    neuron       torch.sigmoid, Tensor.sigmoid, torch.nn.functional.sigmoid, nn.Sigmoid:
                 write the sigmoid as 1 / (1 + exp(-z))
    conv2d       torch.nn.functional.conv2d, torch.conv2d, torch.convolution, nn.Conv2d
    max_pool2d   torch.nn.functional.max_pool2d, torch.max_pool2d, nn.MaxPool2d
    batch_norm   torch.nn.functional.batch_norm, torch.batch_norm, nn.BatchNorm2d
                 (and the other nn.BatchNorm* layers)
    dropout      torch.nn.functional.dropout, torch.dropout, nn.Dropout

Loops are fine, but keep conv2d fast enough for a batch of shape (8, 3, 32, 32) (well
under a second): Tensor.unfold with torch.einsum needs no Python loop at all.

Run the checks with:  pytest exercises/test_from_scratch.py
"""

import torch
import torch.nn.functional as F


def neuron(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A single neuron with a sigmoid activation, applied to N samples at once (seed 001).

    x has shape (N, D) (N samples of D inputs), w shape (D,) and b is a scalar tensor.
    Return the N outputs sigma(sum_i w_i * x_i + b), shape (N,), where
    sigma(z) = 1 / (1 + exp(-z)). Write the sigmoid yourself: torch.sigmoid is not allowed.
    """
    ### BEGIN SOLUTION
    z = x @ w + b
    return 1 / (1 + torch.exp(-z))
    ### END SOLUTION


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0) -> torch.Tensor:
    """A 2-D convolution (cross-correlation, like PyTorch's), equal to F.conv2d(x, weight, bias, stride, padding).

    x: (N, C, H, W); weight: (O, C, kh, kw), O kernels; bias: (O,) or None.
    stride and padding are ints or (height, width) pairs; the padding adds zeros.
    Output: (N, O, OH, OW) with OH = (H + 2 * pad_h - kh) // stride_h + 1 (the same for OW),
    where out[n, o, i, j] = bias[o] + sum over c, u, v of
    weight[o, c, u, v] * xpad[n, c, i * stride_h + u, j * stride_w + v].

    Hint: F.pad(x, (pad_w, pad_w, pad_h, pad_h)) pads; x.unfold(2, kh, stride_h).unfold(3, kw, stride_w)
    gives every window, shape (N, C, OH, OW, kh, kw); torch.einsum sums the products.
    """
    ### BEGIN SOLUTION
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    kh, kw = weight.shape[-2:]
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph))
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, OH, OW, kh, kw)
    out = torch.einsum("ncijuv,ocuv->noij", windows, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
    ### END SOLUTION


def max_pool2d(x: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Max pooling without padding, equal to F.max_pool2d(x, kernel_size, stride).

    x: (N, C, H, W). kernel_size and stride are ints or (height, width) pairs; stride
    defaults to kernel_size (non-overlapping windows). Each output value is the largest
    value of its window; windows that would stick out of the image are dropped, so
    OH = (H - kh) // stride_h + 1. For example (1, 6, 28, 28) with kernel_size=2 gives
    (1, 6, 14, 14).
    """
    ### BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if stride is None:
        sh, sw = kh, kw
    else:
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
    return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
    ### END SOLUTION


def batch_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Training-mode batch normalisation of x (N, C, H, W), per channel.

    For each channel c, take the mean and the BIASED variance (divide by the count, not
    the count - 1) over the batch, the height and the width, then

        y = (x - mean_c) / sqrt(var_c + eps) * weight[c] + bias[c]

    weight (gamma) and bias (beta) have shape (C,). The result equals
    F.batch_norm(x, None, None, weight, bias, training=True, eps=eps). (Seed 004 puts eps
    outside the square root: a typo, eps goes inside, added to the variance.)
    """
    ### BEGIN SOLUTION
    dims = [0] + list(range(2, x.dim()))  # every dimension but the channels
    shape = [1, -1] + [1] * (x.dim() - 2)
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y
    ### END SOLUTION


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True) -> torch.Tensor:
    """Dropout: in training, zero each value with probability p and divide the others by 1 - p.

    - not training, or p == 0: return x unchanged;
    - p == 1: return zeros (of x's shape);
    - otherwise keep each value independently with probability 1 - p (for example where
      torch.rand_like(x) >= p) and divide the kept values by (1 - p), so that the
      expected value of every element stays the same. Leave x itself unchanged.
    """
    ### BEGIN SOLUTION
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.rand_like(x) >= p
    return x * keep / (1 - p)
    ### END SOLUTION
