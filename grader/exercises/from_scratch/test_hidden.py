"""Hidden checks for from_scratch.py: each operation against torch.nn.functional on unseen inputs and
configurations, always with PyTorch's own implementations refused (see grader/probes/from_scratch.py)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader.grading.checks import call, expect, expect_close, expect_shape, expect_tensor
from grader.inside.probes import SCALAR


def randn(*shape: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * scale + shift




def shape_str(x: torch.Tensor) -> str:
    return str(tuple(x.shape))


def wire(value: Any) -> Any:
    """(height, width) pairs travel as lists and 0-dim tensors wrapped (the probe turns both back)."""
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        return {SCALAR: value.reshape(1)}
    return list(value) if isinstance(value, tuple) else value


def run(submission, fn: str, calls: list[tuple[list[Any], dict[str, Any]]], seed: int = 0) -> list[dict[str, Any]]:
    """Call from_scratch.<fn> once per (args, kwargs), each under the probe's guard."""
    wired = [{"args": [wire(a) for a in args], "kwargs": {k: wire(v) for k, v in kwargs.items()}} for args, kwargs in calls]
    return call(submission, "from_scratch.run", fn=fn, seed=seed, calls=wired)


PARAMETERS = {"neuron": ("x", "w", "b"), "conv2d": ("x", "weight", "bias", "stride", "padding"),
              "max_pool2d": ("x", "kernel_size", "stride"), "batch_norm": ("x", "weight", "bias", "eps"),
              "dropout": ("x", "p", "training")}


def describe(fn: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    """How a call reads in a message: tensors by name and shape, never by value."""
    names = PARAMETERS.get(fn, ())
    shown, shapes = [], []
    for i, a in enumerate(args):
        name = names[i] if i < len(names) else f"arg{i}"
        shown.append(name if isinstance(a, torch.Tensor) else repr(a))
        if isinstance(a, torch.Tensor):
            shapes.append(f"{name} {shape_str(a)}")
    for k, v in kwargs.items():
        shown.append(f"{k}={k if isinstance(v, torch.Tensor) else repr(v)}")
        if isinstance(v, torch.Tensor):
            shapes.append(f"{k} {shape_str(v)}")
    return f"{fn}({', '.join(shown)})" + (f" for {', '.join(shapes)}" if shapes else "")


def check_against(submission, fn: str, calls, reference, hint: str, atol: float = 1e-5, seed: int = 0) -> None:
    """Each call's result must match reference(*args, **kwargs) in shape and value."""
    results = run(submission, fn, calls, seed=seed)
    for (args, kwargs), result in zip(calls, results):
        what = describe(fn, args, kwargs)
        expected = reference(*args, **kwargs)
        got = expect_tensor(result["value"], what)
        expect_shape(got, expected.shape, what, hint)
        expect_close(got, expected, what, atol=atol, hint=hint)


# --- neuron -------------------------------------------------------------------------


def neuron_calls(cases, seed: int):
    calls = []
    for i, (n, d, scale) in enumerate(cases):
        x, w, b = randn(n, d, seed=seed + i, scale=scale), randn(d, seed=seed + 10 + i), randn(seed=seed + 20 + i)
        calls.append(([x, w, b], {}))
    return calls


def reference_neuron(x, w, b):
    return torch.sigmoid(x @ w + b)


@pytest.mark.points(1)
def test_neuron(submission):
    """neuron = sigmoid(x @ w + b) for batches of 1, 7 and 64, other input sizes and large values"""
    calls = neuron_calls([(1, 4, 1.0), (7, 3, 2.0), (64, 10, 1.0), (5, 1, 30.0)], seed=100)
    check_against(submission, "neuron", calls, reference_neuron,
                  "one output per sample: sigma(x @ w + b) with sigma(z) = 1 / (1 + exp(-z))", atol=1e-6)


@pytest.mark.points(1)
def test_neuron_no_builtin_sigmoid(submission):
    """neuron computes the sigmoid itself (torch.sigmoid and every alias of it refused) on unseen inputs"""
    calls = neuron_calls([(33, 6, 3.0), (2, 8, 0.1)], seed=150)
    check_against(submission, "neuron", calls, reference_neuron,
                  "write the sigmoid as 1 / (1 + torch.exp(-z))", atol=1e-6)


# --- conv2d -------------------------------------------------------------------------


def conv_calls(cases, seed: int):
    """cases: (x shape, weight shape, with bias, stride or None, padding or None, as keywords)."""
    calls = []
    for i, (xs, ws, has_bias, stride, padding, keywords) in enumerate(cases):
        x, weight = randn(*xs, seed=seed + i), randn(*ws, seed=seed + 20 + i, scale=0.5)
        bias = randn(ws[0], seed=seed + 40 + i) if has_bias else None
        args, kwargs = [x, weight, bias], {}
        if keywords:
            kwargs = {k: v for k, v in (("stride", stride), ("padding", padding)) if v is not None}
        elif stride is not None or padding is not None:
            args += [stride if stride is not None else 1, padding if padding is not None else 0]
        calls.append((args, kwargs))
    return calls


def reference_conv(x, weight, bias=None, stride=1, padding=0):
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


CONV_HINT = ("out[n, o, i, j] = bias[o] + sum over c, u, v of weight[o, c, u, v] * xpad[n, c, i*sh + u, j*sw + v] "
             "(no kernel flip)")


@pytest.mark.points(1)
def test_conv2d(submission):
    """conv2d equals F.conv2d for unseen channel counts, non-square kernels and batches of 1, 7 and 64"""
    cases = [((1, 1, 9, 9), (2, 1, 3, 3), True, None, None, False),
             ((7, 5, 11, 6), (3, 5, 4, 2), True, None, None, False),
             ((3, 2, 5, 5), (4, 2, 5, 5), True, None, None, False),
             ((64, 3, 8, 8), (2, 3, 1, 1), True, None, None, False)]
    check_against(submission, "conv2d", conv_calls(cases, 200), reference_conv, CONV_HINT)


@pytest.mark.points(2)
def test_conv2d_stride_padding(submission):
    """conv2d equals F.conv2d for unseen stride / padding pairs, non-square kernels and bias=None"""
    cases = [((2, 2, 10, 8), (3, 2, 5, 3), True, 1, (2, 1), False),
             ((7, 3, 11, 9), (4, 3, 3, 3), False, 2, 1, False),
             ((1, 2, 12, 7), (5, 2, 3, 2), True, (3, 2), (2, 0), False),
             ((3, 4, 9, 10), (2, 4, 2, 4), False, (1, 3), (0, 2), False),
             ((5, 1, 6, 6), (3, 1, 1, 1), True, 2, 0, False),
             ((2, 3, 7, 7), (2, 3, 3, 3), True, 3, 2, False),
             ((4, 2, 8, 9), (3, 2, 3, 2), False, (2, 1), (1, 1), True)]
    check_against(submission, "conv2d", conv_calls(cases, 300), reference_conv,
                  "pairs are (height, width); pad with zeros on both sides; move the kernel by the stride; "
                  "bias=None means no bias")


@pytest.mark.points(1)
def test_conv2d_lenet_batch(submission):
    """conv2d handles LeNet-sized batches (16 RGB images, 64 grey images, conv2 on 16x6x14x14) exactly"""
    cases = [((16, 3, 32, 32), (6, 3, 5, 5), True, None, None, False),
             ((64, 1, 32, 32), (6, 1, 5, 5), True, None, None, False),
             ((16, 6, 14, 14), (16, 6, 5, 5), True, None, None, False)]
    check_against(submission, "conv2d", conv_calls(cases, 400), reference_conv, CONV_HINT, atol=1e-4)


@pytest.mark.points(1)
def test_conv2d_no_builtin(submission):
    """conv2d works with F.conv2d, torch.conv2d, torch.convolution and every alias of them refused"""
    cases = [((3, 2, 6, 5), (3, 2, 3, 3), True, 1, 1, False),
             ((2, 3, 8, 8), (4, 3, 2, 2), False, 2, 0, False)]
    check_against(submission, "conv2d", conv_calls(cases, 500), reference_conv,
                  "cut the windows with Tensor.unfold and sum the products with torch.einsum")


@pytest.mark.points(1)
def test_conv2d_gradients(submission):
    """gradients flow through conv2d: d/dx, d/dweight and d/dbias equal those of F.conv2d"""
    for i, (xs, ws, has_bias, stride, padding) in enumerate([((4, 3, 9, 8), (5, 3, 3, 2), True, (2, 1), (1, 1)),
                                                              ((2, 2, 6, 6), (3, 2, 3, 3), False, 1, 0)]):
        x, weight = randn(*xs, seed=600 + i), randn(*ws, seed=610 + i, scale=0.5)
        bias = randn(ws[0], seed=620 + i) if has_bias else None
        leaves = [t.clone().requires_grad_() if t is not None else None for t in (x, weight, bias)]
        expected = F.conv2d(leaves[0], leaves[1], leaves[2], stride=stride, padding=padding)
        grad_out = randn(*expected.shape, seed=630 + i)
        (expected * grad_out).sum().backward()
        obs = call(submission, "from_scratch.conv2d_grad", x=x, weight=weight, bias=bias, stride=wire(stride),
                   padding=wire(padding), grad_out=grad_out)
        what = (f"conv2d(x, weight, {'bias' if has_bias else 'None'}, {stride}, {padding}) "
                f"for x {shape_str(x)}, weight {shape_str(weight)}")
        expect_close(obs["out"], expected.detach(), what, hint=CONV_HINT)
        for name, leaf, grad in zip(("x", "weight", "bias"), leaves, obs["grads"]):
            if leaf is None:
                continue
            expect(grad is not None, f"after backward through {what}, {name}.grad is None: keep the computation "
                   "in torch operations on the tensors themselves (no .detach(), .data or new tensors from numbers)")
            expect_close(grad, leaf.grad, f"the gradient of {what} with respect to {name}",
                         hint="build the output only from differentiable tensor operations (unfold, einsum, pad, ...)")


# --- max pooling --------------------------------------------------------------------


def pool_calls(cases, seed: int):
    """cases: (x shape, kernel_size, stride or None, as keywords)."""
    calls = []
    for i, (xs, kernel, stride, keywords) in enumerate(cases):
        x = randn(*xs, seed=seed + i, shift=-1.0)
        if keywords:
            calls.append(([x], {"kernel_size": kernel, **({"stride": stride} if stride is not None else {})}))
        else:
            calls.append(([x, kernel] + ([stride] if stride is not None else []), {}))
    return calls


def reference_pool(x, kernel_size, stride=None):
    return F.max_pool2d(x, kernel_size, stride)


@pytest.mark.points(1)
def test_max_pool2d(submission):
    """max_pool2d with the default stride equals F.max_pool2d for batches of 1, 7 and 64, odd sizes and pairs"""
    cases = [((1, 6, 28, 28), 2, None, False), ((7, 3, 28, 28), 2, None, False), ((64, 2, 8, 8), 2, None, False),
             ((1, 1, 5, 7), 2, None, False), ((3, 2, 9, 9), 3, None, False), ((2, 2, 8, 9), (2, 3), None, False)]
    check_against(submission, "max_pool2d", pool_calls(cases, 700), reference_pool,
                  "stride defaults to kernel_size; windows that stick out are dropped")


@pytest.mark.points(2)
def test_max_pool2d_stride(submission):
    """max_pool2d equals F.max_pool2d for overlapping windows, stride > kernel, (height, width) pairs, keywords"""
    cases = [((2, 3, 11, 9), 3, 2, False), ((7, 2, 10, 10), 2, 3, False), ((1, 4, 9, 12), (3, 1), (1, 2), False),
             ((3, 1, 12, 7), (2, 4), (3, 1), False), ((64, 2, 6, 6), 3, 1, False), ((2, 2, 9, 8), (2, 2), (2, 1), True)]
    check_against(submission, "max_pool2d", pool_calls(cases, 800), reference_pool,
                  "pairs are (height, width); OH = (H - kh) // stride_h + 1")


@pytest.mark.points(1)
def test_max_pool2d_no_builtin(submission):
    """max_pool2d works with F.max_pool2d, torch.max_pool2d and every alias of them refused"""
    cases = [((2, 3, 8, 8), 2, None, False), ((1, 2, 9, 9), 3, 2, False)]
    check_against(submission, "max_pool2d", pool_calls(cases, 900), reference_pool,
                  "cut the windows with x.unfold(2, kh, sh).unfold(3, kw, sw) and take .amax(dim=(-2, -1))")


# --- batch normalisation ------------------------------------------------------------


def bn_calls(cases, seed: int):
    """cases: (x shape, scale, shift, eps or None, eps as keyword)."""
    calls = []
    for i, (xs, scale, shift, eps, keyword) in enumerate(cases):
        x = randn(*xs, seed=seed + i, scale=scale, shift=shift)
        weight, bias = randn(xs[1], seed=seed + 20 + i), randn(xs[1], seed=seed + 40 + i)
        if eps is None:
            calls.append(([x, weight, bias], {}))
        elif keyword:
            calls.append(([x, weight, bias], {"eps": eps}))
        else:
            calls.append(([x, weight, bias, eps], {}))
    return calls


def reference_bn(x, weight, bias, eps=1e-5):
    return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)


BN_HINT = "per channel, mean and BIASED variance over dims (0, 2, 3); (x - mean) / sqrt(var + eps) * weight + bias"


@pytest.mark.points(2)
def test_batch_norm(submission):
    """batch_norm equals F.batch_norm in training mode for unseen shapes, scales and batches of 1, 7 and 64"""
    cases = [((7, 5, 6, 3), 2.0, 1.0, None, False), ((64, 2, 3, 3), 0.5, 3.0, None, False),
             ((1, 4, 9, 7), 3.0, -2.0, None, False), ((2, 3, 1, 1), 1.0, 0.0, None, False)]
    check_against(submission, "batch_norm", bn_calls(cases, 1000), reference_bn, BN_HINT)


@pytest.mark.points(1)
def test_batch_norm_eps(submission):
    """batch_norm adds eps to the variance inside the square root, for given eps and the default 1e-5"""
    cases = [((1, 3, 5, 4), 0.5, 0.5, 0.1, True), ((4, 2, 3, 3), 0.01, 0.0, 1e-3, False),
             ((3, 3, 2, 2), 1.0, 1.0, 1.0, True), ((5, 3, 4, 4), 1e-3, 0.5, None, False)]
    check_against(submission, "batch_norm", bn_calls(cases, 1100), reference_bn,
                  "(x - mean) / sqrt(var + eps), with eps = 1e-5 unless given: seed 004's (sqrt(var) + eps) is a typo")


@pytest.mark.points(1)
def test_batch_norm_no_builtin(submission):
    """batch_norm works with F.batch_norm, torch.batch_norm, nn.BatchNorm2d and every alias of them refused"""
    cases = [((3, 4, 5, 5), 1.5, -1.0, None, False)]
    check_against(submission, "batch_norm", bn_calls(cases, 1200), reference_bn,
                  "compute the mean and the variance yourself with x.mean(dim=(0, 2, 3), keepdim=True)")


# --- dropout ------------------------------------------------------------------------


def nonzero_randn(*shape: int, seed: int) -> torch.Tensor:
    x = randn(*shape, seed=seed)
    return torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)


def check_dropped(result: dict, x: torch.Tensor, p: float, what: str, band: float) -> torch.Tensor:
    """The result must be 0 or x / (1 - p) everywhere with about a fraction p of zeros, x untouched."""
    y = expect_tensor(result["value"], what)
    expect_shape(y, x.shape, what)
    expect(result["inputs_unchanged"], f"{what} changed x itself: build a new tensor, e.g. x * keep / (1 - p)")
    zero = y == 0
    kept = ~zero
    expect_close(y[kept], x[kept] / (1 - p), f"the values kept by {what}", atol=1e-6, rtol=1e-5,
                 hint=f"divide the kept values by 1 - p = {1 - p:g}")
    frac = zero.float().mean().item()
    expect(abs(frac - p) < band, f"{what} zeroed {frac:.1%} of {x.numel():,} values, expected about {p:.0%}: "
           "drop each value with probability p, e.g. keep where torch.rand_like(x) >= p")
    return zero


@pytest.mark.points(2)
def test_dropout_train(submission):
    """training dropout zeroes a fraction p at random, scales the rest by exactly 1/(1-p), new mask per call"""
    x = nonzero_randn(200, 250, seed=1300)
    for k, p in enumerate((0.25, 0.5, 0.8)):
        results = run(submission, "dropout", [([x, p, True], {}), ([x, p, True], {})], seed=1310 + k)
        what = f"dropout(x, {p}, True) for x of shape (200, 250)"
        masks = [check_dropped(r, x, p, what, 0.015) for r in results]
        expect(not torch.equal(masks[0], masks[1]), f"two calls of dropout(x, {p}, True) dropped exactly the same values: "
               "draw a new random mask at every call (and do not reseed the generator)")
        rows, cols = masks[0].float().mean(dim=1), masks[0].float().mean(dim=0)
        expect(bool((rows - p).abs().max() < 0.2) and bool((cols - p).abs().max() < 0.2),
               f"dropout(x, {p}, True) does not drop each value independently "
               "(some rows or columns are dropped far more often than others)")
    x4 = nonzero_randn(7, 3, 10, 10, seed=1320)
    results = run(submission, "dropout", [([x4, 0.3], {"training": True})], seed=1321)
    check_dropped(results[0], x4, 0.3, "dropout(x, 0.3, training=True) for x of shape (7, 3, 10, 10)", 0.05)


@pytest.mark.points(1)
def test_dropout_eval_and_edge_cases(submission):
    """dropout is the identity when not training or p = 0, gives zeros for p = 1, and drops by default"""
    x, x4 = nonzero_randn(40, 50, seed=1400), randn(7, 3, 5, 4, seed=1401)
    calls = [([x, 0.5, False], {}), ([x4], {"p": 0.9, "training": False}), ([x4, 0.0, True], {}),
             ([x4, 1.0, True], {}), ([x, 0.5], {})]
    results = run(submission, "dropout", calls, seed=1402)
    identity = [(0, x, "dropout(x, 0.5, False)", "return x unchanged when not training"),
                (1, x4, "dropout(x, p=0.9, training=False)", "return x unchanged when not training"),
                (2, x4, "dropout(x, 0.0, True)", "p = 0 drops nothing")]
    for i, expected, what, hint in identity:
        expect_close(expect_tensor(results[i]["value"], what), expected, what, atol=0, rtol=0, hint=hint)
    what = "dropout(x, 1.0, True)"
    expect_close(expect_tensor(results[3]["value"], what), torch.zeros_like(x4), what, atol=0, rtol=0,
                 hint="p = 1 drops everything: return zeros (dividing by 1 - p = 0 would give nan)")
    check_dropped(results[4], x, 0.5, "dropout(x, 0.5) (training defaults to True) for x of shape (40, 50)", 0.07)


@pytest.mark.points(1)
def test_dropout_no_builtin(submission):
    """dropout works with F.dropout, torch.dropout, nn.Dropout and every alias of them refused"""
    ones, x = torch.full((4000,), 3.0), nonzero_randn(4000, seed=1500)
    results = run(submission, "dropout", [([ones, 0.5, True], {}), ([x, 0.1, True], {})], seed=1501)
    check_dropped(results[0], ones, 0.5, "dropout(3 * ones(4000), 0.5, True)", 0.05)
    check_dropped(results[1], x, 0.1, "dropout(x, 0.1, True) for x of shape (4000,)", 0.04)
