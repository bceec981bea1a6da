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


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_from_scratch.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_neuron": (
        "A neuron takes a weighted sum of its inputs, adds its bias, and passes the result through the sigmoid. "
        "Here it does so for 5 samples at once.",
        "x @ w multiplies each row of x (one sample of 4 inputs) by w: one number per sample, shape (5,). Add b, then "
        "apply 1 / (1 + exp(-z)).",
        "z = x @ w + b\nreturn 1 / (1 + torch.exp(-z))",
    ),
    "test_neuron_no_builtin_sigmoid": (
        "The point is to write the sigmoid yourself, from its formula, with nothing but arithmetic and exp.",
        "sigma(z) = 1 / (1 + exp(-z)); torch.exp works element-wise on a tensor.",
        "return 1 / (1 + torch.exp(-(x @ w + b)))",
    ),
    "test_conv2d": (
        "Each output value is one kernel laid on one window of the input: multiply, add everything up, add that "
        "kernel's bias. PyTorch does not flip the kernel.",
        "x.unfold(2, kh, 1).unfold(3, kw, 1) gives every window, shape (N, C, OH, OW, kh, kw); torch.einsum can "
        "multiply them with the kernels (O, C, kh, kw) and sum over c, u and v.",
        "windows = x.unfold(2, kh, sh).unfold(3, kw, sw)\n"
        "out = torch.einsum(\"ncijuv,ocuv->noij\", windows, weight)\nout = out + bias.view(1, -1, 1, 1)",
    ),
    "test_conv2d_stride_padding": (
        "Padding adds zeros around the image before the kernel moves; the stride is how far the kernel moves between "
        "two outputs. Either may be one int or a (height, width) pair.",
        "Turn int arguments into pairs first; F.pad(x, (pad_w, pad_w, pad_h, pad_h)) pads the last two dimensions "
        "(width first); the stride is unfold's step. bias=None means no bias.",
        "sh, sw = (stride, stride) if isinstance(stride, int) else stride\n"
        "ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
        "x = F.pad(x, (pw, pw, ph, ph))\nwindows = x.unfold(2, kh, sh).unfold(3, kw, sw)",
    ),
    "test_conv2d_lenet_batch": (
        "The result is right only if it is fast enough: Python loops over every pixel of 8 images take too long.",
        "Let tensor operations do the looping: unfold cuts all the windows at once and einsum sums all the products "
        "at once.",
        "out = torch.einsum(\"ncijuv,ocuv->noij\", x.unfold(2, kh, sh).unfold(3, kw, sw), weight)",
    ),
    "test_conv2d_no_builtin": (
        "The point is to write the convolution from plain tensor operations, without PyTorch's own.",
        "Sliding windows (Tensor.unfold, or loops) and a sum of products (torch.einsum, or * and .sum) are all you need.",
        "windows = x.unfold(2, kh, sh).unfold(3, kw, sw)\nout = torch.einsum(\"ncijuv,ocuv->noij\", windows, weight)",
    ),
    "test_max_pool2d": (
        "Max pooling keeps the largest value of each window; with no stride given, the windows sit side by side.",
        "x.unfold(2, kh, sh).unfold(3, kw, sw) gives every window; .amax over the last two dimensions keeps each "
        "window's largest value. stride=None means stride = kernel_size.",
        "return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))",
    ),
    "test_max_pool2d_stride": (
        "Windows can overlap (stride smaller than the window), sizes come as ints or (height, width) pairs, and a "
        "window that would stick out of the image is dropped.",
        "Turn ints into pairs; unfold drops incomplete windows by itself, so 7 // 2 = 3 windows per row come out.",
        "kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
        "sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)",
    ),
    "test_max_pool2d_no_builtin": (
        "The point is to write max pooling from plain tensor operations, without PyTorch's pooling.",
        "Cut the windows with Tensor.unfold, then take the maximum of each with .amax.",
        "return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))",
    ),
    "test_batch_norm": (
        "Batch norm treats each channel on its own: one mean and one variance per channel, over the batch, the height "
        "and the width together.",
        "x.mean(dim=(0, 2, 3), keepdim=True) keeps a shape that broadcasts against x. The variance is the BIASED one, "
        "the mean of (x - mean) ** 2. weight and bias need the shape (1, C, 1, 1) to broadcast.",
        "mean = x.mean(dim=(0, 2, 3), keepdim=True)\nvar = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)\n"
        "return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)",
    ),
    "test_batch_norm_eps": (
        "eps keeps the division safe when a channel barely varies. Where does it go: under the square root or after it?",
        "PyTorch adds eps to the variance, inside the square root: sqrt(var + eps). Seed 004's sqrt(var) + eps is a typo.",
        "y = (x - mean) / torch.sqrt(var + eps)",
    ),
    "test_batch_norm_no_builtin": (
        "The point is to write batch normalisation from plain tensor operations.",
        "A mean, a variance, a subtraction, a division and a scale and shift: mean and ** 2 are all you need.",
        "mean = x.mean(dim=(0, 2, 3), keepdim=True)\nvar = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)",
    ),
    "test_dropout_train": (
        "In training, each value survives with probability 1 - p, independently, and the survivors are scaled up so "
        "that the mean stays the same. x itself must not change.",
        "torch.rand_like(x) >= p is True with probability 1 - p: a fresh mask at every call. Multiply by it and divide "
        "by 1 - p, into a new tensor.",
        "keep = torch.rand_like(x) >= p\nreturn x * keep / (1 - p)",
    ),
    "test_dropout_eval_and_edge_cases": (
        "Three cases need care: not training, p = 0 and p = 1.",
        "When not training, or when p is 0, nothing is dropped: give x back. When p is 1 everything is dropped, and "
        "dividing by 1 - p = 0 would give nan: give zeros.",
        "if not training or p == 0:\n    return x\nif p == 1:\n    return torch.zeros_like(x)",
    ),
    "test_dropout_no_builtin": (
        "The point is to write dropout from a random mask yourself, without PyTorch's dropout.",
        "torch.rand_like(x) draws uniform numbers in [0, 1); compare them with p to decide what survives.",
        "keep = torch.rand_like(x) >= p\nreturn x * keep / (1 - p)",
    ),
}
### END HINTS
