"""Hidden checks for from_scratch.py. Each function is exported as the graph of ATen operations it
runs, traced above autograd so that PyTorch's composite operations (aten.dropout, aten.conv2d,
...) and any .detach() keep their names; the grader rebuilds that graph here, refuses PyTorch's
own kernel for the operation (the exercise is to write it), runs it on inputs the worker never
saw and compares with torch.nn.functional. A forged graph that passes is a correct
implementation."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader.exercises.common import check_dropped, nonzero_randn, shape_str
from grader.grading.checks import Mismatch, expect, expect_close, expect_shape, expect_tensor
from grader.grading.graphs import Graph, execute
from grader.grading.layers import packet
from grader.grading.scenario import Scenario, placeholder

EXERCISE = "from_scratch"
PARAMETERS = {"neuron": ("x", "w", "b"), "conv2d": ("x", "weight", "bias", "stride", "padding"),
              "max_pool2d": ("x", "kernel_size", "stride"), "batch_norm": ("x", "weight", "bias", "eps"),
              "dropout": ("x", "p", "training")}
# The kernels each function must not use (what the exercise asks to write), and what to do instead.
CONVOLUTIONS = {"convolution", "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "cudnn_convolution", "mkldnn_convolution", "_slow_conv2d_forward", "thnn_conv2d",
                "slow_conv_dilated2d", "_conv_depthwise2d", "convolution_overrideable", "conv_tbc"}
FORBIDDEN: dict[str, tuple[set[str], str, str]] = {
    "neuron": ({"sigmoid", "sigmoid_", "silu", "silu_", "log_sigmoid_forward", "softmax", "_softmax", "log_softmax",
                "_log_softmax", "tanh", "tanh_"}, "a sigmoid", "write the sigmoid as 1 / (1 + torch.exp(-z))"),
    "conv2d": (CONVOLUTIONS, "a convolution",
               "cut the windows with Tensor.unfold (or loop over them) and sum the products with torch.einsum"),
    "max_pool2d": ({"max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
                    "max_pool3d_with_indices", "adaptive_max_pool1d", "adaptive_max_pool2d", "fractional_max_pool2d"},
                   "max pooling", "cut the windows with x.unfold(2, kh, sh).unfold(3, kw, sw) and take .amax(dim=(-2, -1))"),
    "batch_norm": ({"batch_norm", "native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
                    "_native_batch_norm_legit_functional", "cudnn_batch_norm", "instance_norm", "layer_norm",
                    "native_layer_norm", "group_norm", "native_group_norm"}, "a normalisation layer",
                   "compute the mean and the variance yourself with x.mean(dim=(0, 2, 3), keepdim=True)"),
    "dropout": ({"dropout", "native_dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout",
                 "_fused_dropout"}, "dropout", "draw a mask with torch.rand_like(x) >= p and multiply"),
}


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


def traced(submission, rng, fn: str, calls: list[tuple[list[Any], dict[str, Any]]]) -> list[Graph]:
    """The graph of from_scratch.<fn> for each call (its tensors are placeholders, traced on examples of the
    same shape), checked here for PyTorch's own kernel of the operation."""
    s = Scenario(EXERCISE)

    def example(value: Any) -> Any:
        return placeholder(torch.randn_like(value)) if isinstance(value, torch.Tensor) else value

    steps = [s.trace_autograd(f"from_scratch.{fn}", *map(example, args), **{k: example(v) for k, v in kwargs.items()})
             for args, kwargs in calls]
    readings = s.run(submission, seed=rng.seed())
    graphs = []
    for step, (args, kwargs) in zip(steps, calls):
        graph = readings.graph(step, describe(fn, args, kwargs))
        expect_own_work(graph, fn, describe(fn, args, kwargs))
        graphs.append(graph)
    return graphs


def expect_own_work(graph: Graph, fn: str, what: str) -> None:
    """No operation of the graph may be PyTorch's own kernel for what the function should compute."""
    forbidden, kind, hint = FORBIDDEN[fn]
    used = sorted({op for op in graph.ops() if packet(op) in forbidden})
    if used:
        raise Mismatch(f"{what} runs PyTorch's own {kind} ({used[0]}, reached through F.{fn}, an nn layer or an "
                       f"alias): this exercise is about writing the operation yourself: {hint}")


def tensors_of(args: list[Any], kwargs: dict[str, Any]) -> list[torch.Tensor]:
    return [a for a in [*args, *kwargs.values()] if isinstance(a, torch.Tensor)]


def run(graph: Graph, args: list[Any], kwargs: dict[str, Any], what: str) -> torch.Tensor:
    """The graph's output on the grader's tensors (copies: it must not change them)."""
    tensors = tensors_of(args, kwargs)
    copies = [t.clone() for t in tensors]
    out = execute(graph, copies, what).output
    expect(all(torch.equal(a, b) for a, b in zip(tensors, copies)),
           f"{what} changed its input tensor: build a new tensor, e.g. x * keep / (1 - p)")
    return expect_tensor(out, what)


def check_against(submission, rng, fn: str, calls, reference, hint: str, atol: float = 1e-5) -> None:
    """Each call's graph, run here, must match reference(*args, **kwargs) in shape and value."""
    for graph, (args, kwargs) in zip(traced(submission, rng, fn, calls), calls):
        what = describe(fn, args, kwargs)
        got, expected = run(graph, args, kwargs, what), reference(*args, **kwargs)
        expect_shape(got, expected.shape, what, hint)
        expect_close(got, expected, what, atol=atol, hint=hint)


# --- neuron -------------------------------------------------------------------------


def neuron_calls(rng, cases):
    return [([rng.randn(n, d, scale=scale), rng.randn(d), rng.randn()], {}) for n, d, scale in cases]


def reference_neuron(x, w, b):
    return torch.sigmoid(x @ w + b)


@pytest.mark.points(1)
def test_neuron(submission, rng):
    """neuron = sigmoid(x @ w + b) for batches of 1, 7 and 64, other input sizes and large values"""
    check_against(submission, rng, "neuron", neuron_calls(rng, [(1, 4, 1.0), (7, 3, 2.0), (64, 10, 1.0), (5, 1, 30.0)]),
                  reference_neuron, "one output per sample: sigma(x @ w + b) with sigma(z) = 1 / (1 + exp(-z))", atol=1e-6)


@pytest.mark.points(1)
def test_neuron_no_builtin_sigmoid(submission, rng):
    """neuron computes the sigmoid itself (no sigmoid kernel in its computation) on unseen inputs"""
    check_against(submission, rng, "neuron", neuron_calls(rng, [(33, 6, 3.0), (2, 8, 0.1)]), reference_neuron,
                  "write the sigmoid as 1 / (1 + torch.exp(-z))", atol=1e-6)


# --- conv2d -------------------------------------------------------------------------


def conv_calls(rng, cases):
    """cases: (x shape, weight shape, with bias, stride or None, padding or None, as keywords)."""
    calls = []
    for xs, ws, has_bias, stride, padding, keywords in cases:
        x, weight = rng.randn(*xs), rng.randn(*ws, scale=0.5)
        bias = rng.randn(ws[0]) if has_bias else None
        args: list[Any] = [x, weight, bias]
        kwargs: dict[str, Any] = {}
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
def test_conv2d(submission, rng):
    """conv2d equals F.conv2d for unseen channel counts, non-square kernels and batches of 1, 7 and 64"""
    cases = [((1, 1, 9, 9), (2, 1, 3, 3), True, None, None, False), ((7, 5, 11, 6), (3, 5, 4, 2), True, None, None, False),
             ((3, 2, 5, 5), (4, 2, 5, 5), True, None, None, False), ((64, 3, 8, 8), (2, 3, 1, 1), True, None, None, False)]
    check_against(submission, rng, "conv2d", conv_calls(rng, cases), reference_conv, CONV_HINT)


@pytest.mark.points(2)
def test_conv2d_stride_padding(submission, rng):
    """conv2d equals F.conv2d for unseen stride / padding pairs, non-square kernels and bias=None"""
    cases = [((2, 2, 10, 8), (3, 2, 5, 3), True, 1, (2, 1), False), ((7, 3, 11, 9), (4, 3, 3, 3), False, 2, 1, False),
             ((1, 2, 12, 7), (5, 2, 3, 2), True, (3, 2), (2, 0), False),
             ((3, 4, 9, 10), (2, 4, 2, 4), False, (1, 3), (0, 2), False), ((5, 1, 6, 6), (3, 1, 1, 1), True, 2, 0, False),
             ((2, 3, 7, 7), (2, 3, 3, 3), True, 3, 2, False), ((4, 2, 8, 9), (3, 2, 3, 2), False, (2, 1), (1, 1), True)]
    check_against(submission, rng, "conv2d", conv_calls(rng, cases), reference_conv,
                  "pairs are (height, width); pad with zeros on both sides; move the kernel by the stride; "
                  "bias=None means no bias")


@pytest.mark.points(1)
def test_conv2d_lenet_batch(submission, rng):
    """conv2d handles LeNet-sized batches (16 RGB images, 64 grey images, conv2 on 16x6x14x14) exactly"""
    cases = [((16, 3, 32, 32), (6, 3, 5, 5), True, None, None, False), ((64, 1, 32, 32), (6, 1, 5, 5), True, None, None, False),
             ((16, 6, 14, 14), (16, 6, 5, 5), True, None, None, False)]
    check_against(submission, rng, "conv2d", conv_calls(rng, cases), reference_conv, CONV_HINT, atol=1e-4)


@pytest.mark.points(1)
def test_conv2d_no_builtin(submission, rng):
    """conv2d computes the convolution itself (no convolution kernel in its computation)"""
    cases = [((3, 2, 6, 5), (3, 2, 3, 3), True, 1, 1, False), ((2, 3, 8, 8), (4, 3, 2, 2), False, 2, 0, False)]
    check_against(submission, rng, "conv2d", conv_calls(rng, cases), reference_conv,
                  "cut the windows with Tensor.unfold and sum the products with torch.einsum")


@pytest.mark.points(1)
def test_conv2d_gradients(submission, rng):
    """gradients flow through conv2d: d/dx, d/dweight and d/dbias equal those of F.conv2d"""
    cases = [((4, 3, 9, 8), (5, 3, 3, 2), True, (2, 1), (1, 1), False), ((2, 2, 6, 6), (3, 2, 3, 3), False, 1, 0, False)]
    calls = conv_calls(rng, cases)
    for graph, (args, kwargs) in zip(traced(submission, rng, "conv2d", calls), calls):
        what = describe("conv2d", args, kwargs)
        tensors = tensors_of(args, kwargs)
        leaves = [t.clone().requires_grad_() for t in tensors]
        out = expect_tensor(execute(graph, leaves, what).output, what)
        reference = [t.clone().requires_grad_() for t in tensors]
        x, weight, *rest = reference
        expected = F.conv2d(x, weight, rest[0] if rest else None, stride=args[3], padding=args[4])
        expect_close(out, expected.detach(), what, hint=CONV_HINT)
        grad_out = rng.randn(*expected.shape)
        (expected * grad_out).sum().backward()
        expect(out.requires_grad, f"the output of {what} is not connected to x, weight and bias: keep the computation "
               "in torch operations on the tensors themselves (no .detach(), .data or new tensors from numbers)")
        grads = torch.autograd.grad((out * grad_out).sum(), leaves, allow_unused=True)
        for name, got, want in zip(("x", "weight", "bias"), grads, reference):
            expect(got is not None, f"after backward through {what}, {name}.grad is None: keep the computation "
                   "in torch operations on the tensors themselves (no .detach(), .data or new tensors from numbers)")
            expect_close(got, want.grad, f"the gradient of {what} with respect to {name}",
                         hint="build the output only from differentiable tensor operations (unfold, einsum, pad, ...)")


# --- max pooling --------------------------------------------------------------------


def pool_calls(rng, cases):
    """cases: (x shape, kernel_size, stride or None, as keywords)."""
    calls = []
    for xs, kernel, stride, keywords in cases:
        x = rng.randn(*xs, shift=-1.0)
        if keywords:
            calls.append(([x], {"kernel_size": kernel, **({"stride": stride} if stride is not None else {})}))
        else:
            calls.append(([x, kernel] + ([stride] if stride is not None else []), {}))
    return calls


def reference_pool(x, kernel_size, stride=None):
    return F.max_pool2d(x, kernel_size, stride)


@pytest.mark.points(1)
def test_max_pool2d(submission, rng):
    """max_pool2d with the default stride equals F.max_pool2d for batches of 1, 7 and 64, odd sizes and pairs"""
    cases = [((1, 6, 28, 28), 2, None, False), ((7, 3, 28, 28), 2, None, False), ((64, 2, 8, 8), 2, None, False),
             ((1, 1, 5, 7), 2, None, False), ((3, 2, 9, 9), 3, None, False), ((2, 2, 8, 9), (2, 3), None, False)]
    check_against(submission, rng, "max_pool2d", pool_calls(rng, cases), reference_pool,
                  "stride defaults to kernel_size; windows that stick out are dropped")


@pytest.mark.points(2)
def test_max_pool2d_stride(submission, rng):
    """max_pool2d equals F.max_pool2d for overlapping windows, stride > kernel, (height, width) pairs, keywords"""
    cases = [((2, 3, 11, 9), 3, 2, False), ((7, 2, 10, 10), 2, 3, False), ((1, 4, 9, 12), (3, 1), (1, 2), False),
             ((3, 1, 12, 7), (2, 4), (3, 1), False), ((64, 2, 6, 6), 3, 1, False), ((2, 2, 9, 8), (2, 2), (2, 1), True)]
    check_against(submission, rng, "max_pool2d", pool_calls(rng, cases), reference_pool,
                  "pairs are (height, width); OH = (H - kh) // stride_h + 1")


@pytest.mark.points(1)
def test_max_pool2d_no_builtin(submission, rng):
    """max_pool2d computes the pooling itself (no pooling kernel in its computation)"""
    cases = [((2, 3, 8, 8), 2, None, False), ((1, 2, 9, 9), 3, 2, False)]
    check_against(submission, rng, "max_pool2d", pool_calls(rng, cases), reference_pool,
                  "cut the windows with x.unfold(2, kh, sh).unfold(3, kw, sw) and take .amax(dim=(-2, -1))")


# --- batch normalisation ------------------------------------------------------------


def bn_calls(rng, cases):
    """cases: (x shape, scale, shift, eps or None, eps as keyword)."""
    calls = []
    for xs, scale, shift, eps, keyword in cases:
        x = rng.randn(*xs, scale=scale, shift=shift)
        weight, bias = rng.randn(xs[1]), rng.randn(xs[1])
        if eps is None:
            calls.append(([x, weight, bias], {}))
        elif keyword:
            calls.append(([x, weight, bias], {"eps": eps}))
        else:
            calls.append(([x, weight, bias, eps], {}))
    return calls


def reference_bn(x, weight, bias, eps=1e-5):
    return F.batch_norm(x.double(), None, None, weight.double(), bias.double(), training=True, eps=eps)


BN_HINT = "per channel, mean and BIASED variance over dims (0, 2, 3); (x - mean) / sqrt(var + eps) * weight + bias"


@pytest.mark.points(2)
def test_batch_norm(submission, rng):
    """batch_norm equals F.batch_norm in training mode for unseen shapes, scales and batches of 1, 7 and 64"""
    cases = [((7, 5, 6, 3), 2.0, 1.0, None, False), ((64, 2, 3, 3), 0.5, 3.0, None, False),
             ((1, 4, 9, 7), 3.0, -2.0, None, False), ((2, 3, 1, 1), 1.0, 0.0, None, False)]
    check_against(submission, rng, "batch_norm", bn_calls(rng, cases), reference_bn, BN_HINT, atol=1e-4)


@pytest.mark.points(1)
def test_batch_norm_eps(submission, rng):
    """batch_norm adds eps to the variance inside the square root, for given eps and the default 1e-5"""
    cases = [((1, 3, 5, 4), 0.5, 0.5, 0.1, True), ((4, 2, 3, 3), 0.01, 0.0, 1e-3, False),
             ((3, 3, 2, 2), 1.0, 1.0, 1.0, True), ((5, 3, 4, 4), 1e-3, 0.5, None, False)]
    check_against(submission, rng, "batch_norm", bn_calls(rng, cases), reference_bn,
                  "(x - mean) / sqrt(var + eps), with eps = 1e-5 unless given: seed 004's (sqrt(var) + eps) is a typo",
                  atol=1e-4)


@pytest.mark.points(1)
def test_batch_norm_no_builtin(submission, rng):
    """batch_norm computes the statistics itself (no normalisation kernel in its computation)"""
    check_against(submission, rng, "batch_norm", bn_calls(rng, [((3, 4, 5, 5), 1.5, -1.0, None, False)]), reference_bn,
                  "compute the mean and the variance yourself with x.mean(dim=(0, 2, 3), keepdim=True)", atol=1e-4)


# --- dropout ------------------------------------------------------------------------


def dropout_twice_in_worker(submission, rng, x: torch.Tensor, p: float) -> list[torch.Tensor]:
    """Two calls of the student's dropout on the same input, in the worker: their outputs."""
    s = Scenario(EXERCISE)
    made = [s.call("from_scratch.dropout", x, p, True) for _ in range(2)]
    readings = s.run(submission, seed=rng.seed())
    return [expect_tensor(readings.value(m), f"dropout(x, {p}, True)") for m in made]


@pytest.mark.points(2)
def test_dropout_train(submission, rng):
    """training dropout zeroes a fraction p at random, scales the rest by exactly 1/(1-p), new mask per call"""
    x = nonzero_randn(rng, 200, 250)
    for p in (0.25, 0.5, 0.8):
        what = f"dropout(x, {p}, True) for x of shape (200, 250)"
        graph, = traced(submission, rng, "dropout", [([x, p, True], {})])
        masks = [check_dropped(run(graph, [x], {}, what), x, p, what, 0.015) for _ in range(2)]
        rows, cols = masks[0].float().mean(dim=1), masks[0].float().mean(dim=0)
        expect(bool((rows - p).abs().max() < 0.2) and bool((cols - p).abs().max() < 0.2),
               f"{what} does not drop each value independently (some rows or columns are dropped far more often than "
               "others)")
        first, second = dropout_twice_in_worker(submission, rng, x, p)
        expect(not torch.equal(first == 0, second == 0), f"two calls of dropout(x, {p}, True) dropped exactly the same "
               "values: draw a new random mask at every call (and do not reseed the generator)")
    x4 = nonzero_randn(rng, 7, 3, 10, 10)
    graph, = traced(submission, rng, "dropout", [([x4, 0.3], {"training": True})])
    what = "dropout(x, 0.3, training=True) for x of shape (7, 3, 10, 10)"
    check_dropped(run(graph, [x4], {}, what), x4, 0.3, what, 0.05)


@pytest.mark.points(1)
def test_dropout_eval_and_edge_cases(submission, rng):
    """dropout is the identity when not training or p = 0, gives zeros for p = 1, and drops by default"""
    x, x4 = nonzero_randn(rng, 40, 50), rng.randn(7, 3, 5, 4)
    calls = [([x, 0.5, False], {}), ([x4], {"p": 0.9, "training": False}), ([x4, 0.0, True], {}),
             ([x4, 1.0, True], {}), ([x, 0.5], {})]
    graphs = traced(submission, rng, "dropout", calls)
    identity = [(0, x, "return x unchanged when not training"), (1, x4, "return x unchanged when not training"),
                (2, x4, "p = 0 drops nothing")]
    for i, expected, hint in identity:
        what = describe("dropout", *calls[i])
        expect_close(run(graphs[i], *calls[i], what), expected, what, atol=0, rtol=0, hint=hint)
    what = describe("dropout", *calls[3])
    expect_close(run(graphs[3], *calls[3], what), torch.zeros_like(x4), what, atol=0, rtol=0,
                 hint="p = 1 drops everything: return zeros (dividing by 1 - p = 0 would give nan)")
    what = "dropout(x, 0.5) (training defaults to True) for x of shape (40, 50)"
    check_dropped(run(graphs[4], *calls[4], what), x, 0.5, what, 0.07)


@pytest.mark.points(1)
def test_dropout_no_builtin(submission, rng):
    """dropout draws its own mask (no dropout kernel in its computation)"""
    ones, x = torch.full((4000,), 3.0), nonzero_randn(rng, 4000)
    calls = [([ones, 0.5, True], {}), ([x, 0.1, True], {})]
    for graph, (args, kwargs), p in zip(traced(submission, rng, "dropout", calls), calls, (0.5, 0.1)):
        what = describe("dropout", args, kwargs)
        check_dropped(run(graph, args, kwargs, what), args[0], p, what, 0.05)
