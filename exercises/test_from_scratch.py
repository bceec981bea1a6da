"""Visible checks for exercises/from_scratch.py. Run: pytest exercises/test_from_scratch.py"""

import torch
import torch.nn.functional as F

from _kit.checks import CheckFailed, expect, expect_close, expect_shape, expect_tensor, student


def scratch():
    return student("from_scratch")


def forbid(monkeypatch, targets, name: str, instead: str) -> None:
    """Replace each (owner, attribute) in `targets` by a function that fails with a friendly message."""

    others = ", ".join(f"{getattr(owner, '__name__', owner)}.{attribute}" for owner, attribute in targets[1:])
    message = f"your code must not call {name} (nor {others}): this exercise is about writing it yourself"

    def refuse(*args, **kwargs):
        raise CheckFailed(message, instead)

    for owner, attribute in targets:
        monkeypatch.setattr(owner, attribute, refuse)


# --- neuron -------------------------------------------------------------------------


def neuron_case():
    torch.manual_seed(0)
    x, w, b = torch.randn(5, 4), torch.randn(4), torch.tensor(0.3)
    return x, w, b, torch.sigmoid(x @ w + b)


def test_neuron():
    """neuron(x, w, b) = sigmoid(x @ w + b) for 5 samples of 4 inputs"""
    x, w, b, expected = neuron_case()
    y = scratch().neuron(x, w, b)
    expect_shape(y, (5,), "neuron(x, w, b) for x (5, 4), w (4,), b a scalar",
                 "one output per sample: x @ w + b has shape (5,)")
    expect_close(y, expected, "neuron(x, w, b)", "sigma(sum_i w_i x_i + b) with sigma(z) = 1 / (1 + exp(-z))")


def test_neuron_no_builtin_sigmoid(monkeypatch):
    """neuron writes the sigmoid itself (torch.sigmoid is not allowed)"""
    x, w, b, expected = neuron_case()
    forbid(
        monkeypatch,
        [(torch, "sigmoid"), (torch.Tensor, "sigmoid"), (F, "sigmoid"), (torch.special, "expit")],
        "torch.sigmoid",
        "write the sigmoid as 1 / (1 + torch.exp(-z))",
    )
    expect_close(scratch().neuron(x, w, b), expected, "neuron(x, w, b) without torch.sigmoid")


# --- conv2d -------------------------------------------------------------------------


def test_conv2d():
    """conv2d(x, weight, bias) equals F.conv2d for x (2, 3, 7, 6) and four 3x3 kernels"""
    torch.manual_seed(1)
    x, weight, bias = torch.randn(2, 3, 7, 6), torch.randn(4, 3, 3, 3), torch.randn(4)
    y = scratch().conv2d(x, weight, bias)
    expect_shape(y, (2, 4, 5, 4), "conv2d(x, weight, bias) for x (2, 3, 7, 6) and weight (4, 3, 3, 3)",
                 "one output channel per kernel; without padding a 3x3 kernel loses 1 pixel on each side")
    expect_close(y, F.conv2d(x, weight, bias), "conv2d(x, weight, bias)",
                 "out[n, o, i, j] = bias[o] + sum over c, u, v of weight[o, c, u, v] * x[n, c, i + u, j + v] (no "
                 "kernel flip)")


def test_conv2d_stride_padding():
    """conv2d handles stride, zero padding, (height, width) pairs and bias=None like F.conv2d"""
    torch.manual_seed(2)
    sc = scratch()
    x = torch.randn(2, 2, 10, 8)
    weight, bias = torch.randn(3, 2, 5, 3), torch.randn(3)
    expect_close(sc.conv2d(x, weight, bias, padding=(2, 1)), F.conv2d(x, weight, bias, padding=(2, 1)),
                 "conv2d(x, weight, bias, padding=(2, 1)) for x (2, 2, 10, 8) and weight (3, 2, 5, 3)",
                 "pad with zeros: 2 rows above and below, 1 column left and right; the size stays 10x8")
    weight = torch.randn(4, 2, 3, 3)
    expect_close(sc.conv2d(x, weight, None, stride=2, padding=1), F.conv2d(x, weight, None, stride=2, padding=1),
                 "conv2d(x, weight, None, stride=2, padding=1) for x (2, 2, 10, 8)",
                 "move the kernel by 2 pixels; bias=None means no bias")
    weight = torch.randn(4, 2, 3, 2)
    expect_close(sc.conv2d(x, weight, None, stride=(2, 1), padding=(0, 1)),
                 F.conv2d(x, weight, None, stride=(2, 1), padding=(0, 1)),
                 "conv2d(x, weight, None, stride=(2, 1), padding=(0, 1)) with 3x2 kernels",
                 "pairs are (height, width)")


def test_conv2d_lenet_batch():
    """conv2d handles a batch of 8 RGB 32x32 images with six 5x5 kernels quickly"""
    torch.manual_seed(3)
    x, weight, bias = torch.randn(8, 3, 32, 32), torch.randn(6, 3, 5, 5), torch.randn(6)
    y = scratch().conv2d(x, weight, bias)
    expect_shape(y, (8, 6, 28, 28), "conv2d(x, weight, bias) for x (8, 3, 32, 32) and weight (6, 3, 5, 5)")
    expect_close(y, F.conv2d(x, weight, bias), "conv2d(x, weight, bias) on a batch of 8", atol=1e-4)


def test_conv2d_no_builtin(monkeypatch):
    """conv2d does not call F.conv2d or torch.conv2d"""
    torch.manual_seed(4)
    x, weight, bias = torch.randn(1, 2, 6, 5), torch.randn(3, 2, 3, 3), torch.randn(3)
    expected = F.conv2d(x, weight, bias, stride=1, padding=1)
    forbid(
        monkeypatch,
        [(F, "conv2d"), (torch, "conv2d"), (torch, "convolution")],
        "F.conv2d",
        "cut the windows with Tensor.unfold (or loop over them) and sum the products with torch.einsum",
    )
    expect_close(scratch().conv2d(x, weight, bias, 1, 1), expected, "conv2d(x, weight, bias, 1, 1) without F.conv2d")


# --- max pooling --------------------------------------------------------------------


def test_max_pool2d():
    """max_pool2d(x, 2) equals F.max_pool2d: (1, 6, 28, 28) -> (1, 6, 14, 14)"""
    torch.manual_seed(5)
    x = torch.randn(1, 6, 28, 28)
    y = scratch().max_pool2d(x, 2)
    expect_shape(y, (1, 6, 14, 14), "max_pool2d(x, 2) for x of shape (1, 6, 28, 28)", "stride defaults to kernel_size")
    expect_close(y, F.max_pool2d(x, 2), "max_pool2d(x, 2)", "the largest value of each 2x2 window")


def test_max_pool2d_stride():
    """max_pool2d handles overlapping windows, pairs and sizes that do not divide evenly"""
    torch.manual_seed(6)
    sc = scratch()
    x = torch.randn(2, 3, 11, 9)
    expect_close(sc.max_pool2d(x, 3, 2), F.max_pool2d(x, 3, 2), "max_pool2d(x, 3, 2) for x (2, 3, 11, 9)",
                 "windows of 3 pixels moved by 2: they overlap")
    expect_close(sc.max_pool2d(x, (2, 3), (1, 2)), F.max_pool2d(x, (2, 3), (1, 2)),
                 "max_pool2d(x, (2, 3), (1, 2)) for x (2, 3, 11, 9)", "pairs are (height, width)")
    x = torch.randn(1, 2, 7, 7)
    expect_close(sc.max_pool2d(x, 2), F.max_pool2d(x, 2), "max_pool2d(x, 2) for x (1, 2, 7, 7)",
                 "7 // 2 = 3 windows per row: drop the last row and column")


def test_max_pool2d_no_builtin(monkeypatch):
    """max_pool2d does not call F.max_pool2d or torch.max_pool2d"""
    torch.manual_seed(7)
    x = torch.randn(2, 3, 8, 8)
    expected = F.max_pool2d(x, 2)
    forbid(
        monkeypatch,
        [(F, "max_pool2d"), (torch, "max_pool2d"), (F, "max_pool2d_with_indices")],
        "F.max_pool2d",
        "cut the windows with x.unfold(2, kh, sh).unfold(3, kw, sw) and take .amax(dim=(-2, -1))",
    )
    expect_close(scratch().max_pool2d(x, 2), expected, "max_pool2d(x, 2) without F.max_pool2d")


# --- batch normalisation ------------------------------------------------------------


def test_batch_norm():
    """batch_norm(x, weight, bias) equals F.batch_norm in training mode for x (4, 3, 5, 4)"""
    torch.manual_seed(8)
    x = torch.randn(4, 3, 5, 4) * 2 + 1
    weight, bias = torch.randn(3), torch.randn(3)
    y = scratch().batch_norm(x, weight, bias)
    expected = F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5)
    expect_shape(y, (4, 3, 5, 4), "batch_norm(x, weight, bias) for x (4, 3, 5, 4)")
    expect_close(y, expected, "batch_norm(x, weight, bias)",
                 "per channel, mean and biased variance over dims (0, 2, 3): x.var(dim=(0, 2, 3), unbiased=False)")


def test_batch_norm_eps():
    """batch_norm adds eps to the variance, inside the square root (seed 004's shape 1x3x5x4)"""
    torch.manual_seed(9)
    x = torch.rand(1, 3, 5, 4) * 0.5
    weight, bias = torch.ones(3), torch.zeros(3)
    expected = F.batch_norm(x, None, None, weight, bias, training=True, eps=0.1)
    expect_close(scratch().batch_norm(x, weight, bias, eps=0.1), expected, "batch_norm(x, ones, zeros, eps=0.1)",
                 "(x - mean) / sqrt(var + eps): seed 004's (sqrt(var) + eps) is a typo")


def test_batch_norm_no_builtin(monkeypatch):
    """batch_norm does not call F.batch_norm or torch.batch_norm"""
    torch.manual_seed(10)
    x, weight, bias = torch.randn(2, 3, 4, 4), torch.randn(3), torch.randn(3)
    expected = F.batch_norm(x, None, None, weight, bias, training=True)
    forbid(
        monkeypatch,
        [(F, "batch_norm"), (torch, "batch_norm"), (torch, "native_batch_norm")],
        "F.batch_norm",
        "compute the mean and the variance yourself with x.mean(dim=(0, 2, 3), keepdim=True)",
    )
    expect_close(scratch().batch_norm(x, weight, bias), expected, "batch_norm(x, weight, bias) without F.batch_norm")


# --- dropout ------------------------------------------------------------------------


def test_dropout_train():
    """in training, dropout(x, 0.25) zeroes about a quarter of the values and scales the rest by 4/3"""
    torch.manual_seed(11)
    x = torch.randn(40, 100)
    original = x.clone()
    y = expect_tensor(scratch().dropout(x, 0.25, True), "dropout(x, 0.25, True)")
    expect_shape(y, (40, 100), "dropout(x, 0.25, True) for x of shape (40, 100)")
    expect(torch.equal(x, original), "dropout(x, 0.25, True) changed x itself",
           "build a new tensor: x * keep / (1 - p)")
    dropped = y == 0
    frac = dropped.float().mean().item()
    expect(0.21 < frac < 0.29, f"dropout(x, 0.25, True) zeroed {frac:.0%} of 4,000 values, expected about 25%",
           "drop with probability p: keep where torch.rand_like(x) >= p")
    expect_close(y[~dropped], x[~dropped] / 0.75, "the kept values of dropout(x, 0.25, True)",
                 "divide the kept values by 1 - p")
    again = scratch().dropout(x, 0.25, True)
    expect(not torch.equal(again == 0, dropped), "two calls of dropout(x, 0.25, True) dropped exactly the same values",
           "draw a new random mask at every call")


def test_dropout_eval_and_edge_cases():
    """dropout returns x unchanged when not training or p = 0, and zeros when p = 1"""
    torch.manual_seed(12)
    sc = scratch()
    x = torch.randn(5, 5)
    expect_close(sc.dropout(x, 0.5, False), x, "dropout(x, 0.5, training=False)", "return x when not training")
    expect_close(sc.dropout(x, 0.0, True), x, "dropout(x, 0.0, True)", "p = 0 drops nothing")
    expect_close(sc.dropout(x, 1.0, True), torch.zeros(5, 5), "dropout(x, 1.0, True)",
                 "p = 1 drops everything; return zeros (dividing by 1 - p = 0 would give nan)")


def test_dropout_no_builtin(monkeypatch):
    """dropout does not call F.dropout or torch.dropout"""
    torch.manual_seed(13)
    x = torch.ones(1000)
    forbid(
        monkeypatch,
        [(F, "dropout"), (torch, "dropout"), (torch, "native_dropout")],
        "F.dropout",
        "draw a mask with torch.rand_like(x) >= p and multiply",
    )
    y = expect_tensor(scratch().dropout(x, 0.5, True), "dropout(ones, 0.5, True) without F.dropout")
    expect(bool(((y == 0) | (y == 2)).all()) and 0.4 < (y == 0).float().mean().item() < 0.6,
           "dropout(ones(1000), 0.5, True) without F.dropout did not zero about half and double the rest",
           "keep where torch.rand_like(x) >= p, then divide by 1 - p")
