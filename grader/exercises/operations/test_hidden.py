"""Hidden checks for operations.py. Layers are exported as graphs and run here with the grader's
weights and inputs; functions are called in the worker on inputs it never saw before, and their
values are compared here with torch's own functions or the reference solution."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grader.exercises.common import check_dropped, nonzero_randn, picture, shape_str
from grader.grading.checks import Mismatch, expect, expect_close, expect_equal, expect_shape, expect_tensor, type_name
from grader.grading.layers import layers
from grader.grading.reference import solution
from grader.grading.scenario import Exported, Readings, Scenario, kit, not_connected
from grader.inside.kit import module as kit_module

EXERCISE = "operations"


def export_layer(submission, rng, factory: str, args: tuple, inputs: list[torch.Tensor], modes=None,
                 values: bool = True) -> Exported:
    """operations.<factory>(*args), exported for examples of the inputs' shapes (never the inputs)."""
    s = Scenario(EXERCISE)
    layer = s.call(f"operations.{factory}", *args)
    step = s.export(layer, [[rng.randn(*x.shape)] for x in inputs], modes=modes, values=values)
    return s.run(submission, seed=rng.seed()).exported(step, f"{factory}({', '.join(map(repr, args))})")


def load(exported: Exported, weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """The layer's parameters: each given weight into the one parameter of its shape; the others keep the
    values the layer was made with (a stray bias is then its own check's business)."""
    params = [p.value.clone() if p.value is not None else torch.zeros(p.shape) for p in exported.params]
    for w in weights:
        matching = [i for i, p in enumerate(exported.params) if p.shape == tuple(w.shape)]
        expect(len(matching) == 1, f"{exported.what} has parameters of shapes {[p.shape for p in exported.params]}, "
               f"expected one of shape {tuple(w.shape)}")
        params[matching[0]] = w.clone()
    return params


def outputs(exported: Exported, params: list[torch.Tensor], inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    return [exported.forward(i, params, [x]).output for i, x in enumerate(inputs)]


def expect_all_used(exported: Exported, params: list[torch.Tensor], x: torch.Tensor) -> None:
    unused = not_connected(exported.gradients(0, params, [x]))
    expect(not unused, f"{exported.what} has parameters that get no gradient from its output "
           f"({', '.join(shape_str(exported.params[i].shape) for i in unused)}): is every parameter used?")


# --- convolution --------------------------------------------------------------------

CONV1_INPUTS = [(1, 1, 32, 32), (7, 1, 32, 32), (64, 1, 32, 32), (3, 1, 17, 23), (2, 1, 5, 5)]


@pytest.mark.points(1)
def test_lenet_conv1_shape(submission, rng):
    """lenet_conv1() trims 2 pixels per side for any batch and image size, with the right values"""
    xs = [rng.randn(*s) for s in CONV1_INPUTS]
    conv = export_layer(submission, rng, "lenet_conv1", (), xs)
    weight = rng.randn(6, 1, 5, 5, scale=0.2)
    params = load(conv, [weight])
    bias = next((p for p, info in zip(params, conv.params) if info.shape == (6,)), None)
    for x, out in zip(xs, outputs(conv, params, xs)):
        n, _, h, w = x.shape
        what = f"lenet_conv1()(x) for x of shape {shape_str(x)}"
        expect_shape(out, (n, 6, h - 4, w - 4), what,
                     "6 output channels; a 5x5 kernel with stride=1 and padding=0 trims 2 pixels from each side")
        expect_close(out, F.conv2d(x, weight, bias), what + " with weights set", hint="a plain 5x5 convolution")


@pytest.mark.points(1)
def test_lenet_conv1_parameters(submission, rng):
    """lenet_conv1() has exactly one 6x1x5x5 weight (150 numbers, no bias), and every weight is used"""
    x = rng.randn(4, 1, 32, 32)
    conv = export_layer(submission, rng, "lenet_conv1", (), [x])
    expect_equal(conv.param_shapes, [(6, 1, 5, 5)], "the parameter shapes of lenet_conv1()",
                 "nn.Conv2d(1, 6, kernel_size=5, bias=False): one (6, 1, 5, 5) weight and no bias")
    expect_equal(conv.n_params, 150, "the number of parameters of lenet_conv1()", "6 * 1 * 5 * 5 = 150")
    weight = rng.randn(6, 1, 5, 5, scale=0.2)
    params = load(conv, [weight])
    expect_all_used(conv, params, x)
    run = conv.forward(0, params, [x], keep=True)
    found = [c for c in layers(conv.graph(0), run, [*params, x], 1) if c.kind == "conv"]
    options = found[0].options if len(found) == 1 else {}
    expected = F.conv2d(x, weight, None, stride=options.get("stride", 1), padding=options.get("padding", 0),
                        dilation=options.get("dilation", 1))
    expect_close(run.output, expected, "lenet_conv1()(x) with its weight set, for a batch of 4",
                 hint="a plain convolution with the (6, 1, 5, 5) weight and no bias")


SAME_INPUTS = [(1, 2, 10, 8), (7, 2, 10, 8), (64, 2, 10, 8), (3, 2, 7, 13), (2, 2, 5, 3), (5, 2, 3, 3)]


@pytest.mark.points(2)
def test_same_size_conv_shape(submission, rng):
    """same_size_conv() keeps any image size for batches of 1, 7 and 64, with the right values"""
    xs = [rng.randn(*s) for s in SAME_INPUTS]
    conv = export_layer(submission, rng, "same_size_conv", (), xs)
    expect_equal(conv.param_shapes, [(3,), (3, 2, 5, 3)], "the parameter shapes of same_size_conv()",
                 "in_channels=2, out_channels=3, kernel_size=(5, 3) and a bias")
    weight, bias = rng.randn(3, 2, 5, 3, scale=0.3), rng.randn(3)
    params = load(conv, [weight, bias])
    expect_all_used(conv, params, xs[0])
    for x, out in zip(xs, outputs(conv, params, xs)):
        n, _, h, w = x.shape
        what = f"same_size_conv()(x) for x of shape {shape_str(x)}"
        expect_shape(out, (n, 3, h, w), what, "pad (k - 1) / 2 on each side: padding=(2, 1) for a (5, 3) kernel")
        expect_close(out, F.conv2d(x, weight, bias, padding=(2, 1)), what + " with weights set",
                     hint="kernel (5, 3) = (height, width), stride 1, zero padding (2, 1)")


def conv_case(rng) -> tuple[dict, tuple[int, ...]]:
    """A random nn.Conv2d configuration and an input shape for it."""
    k = (rng.integer(1, 5), rng.integer(1, 4))
    conv = {"in_channels": rng.integer(1, 4), "out_channels": rng.integer(1, 6), "kernel_size": list(k),
            "stride": rng.integer(1, 2), "padding": [rng.integer(0, k[0] // 2), rng.integer(0, k[1] // 2)]}
    return conv, (rng.integer(1, 5), conv["in_channels"], rng.integer(k[0], 12), rng.integer(k[1], 12))


def set_weights(submission, rng, conv: dict, weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor
                ) -> tuple[Readings, object, object, str]:
    """set_conv_weights on a fresh nn.Conv2d(**conv); the convolution and what the function returned, exported."""
    s = Scenario(EXERCISE)
    layer = s.build(kit("module", modules={"conv": ["Conv2d", [], conv]}))
    returned = s.call("operations.set_conv_weights", s.call(layer.attr("get_submodule"), "conv"), weight, bias)
    given = s.export(s.call(layer.attr("get_submodule"), "conv"), [[rng.randn(*x.shape)]])
    what = f"set_conv_weights on nn.Conv2d({conv['in_channels']}, {conv['out_channels']}, " \
           f"kernel_size={tuple(conv['kernel_size'])}, stride={conv['stride']}, padding={tuple(conv['padding'])})"
    readings = s.run(submission, seed=rng.seed())
    return readings, returned, given, what


@pytest.mark.points(2)
def test_set_conv_weights(submission, rng):
    """set_conv_weights makes random convolutions compute exactly F.conv2d with the given weight and bias,
    and returns the convolution"""
    for _ in range(3):
        conv, shape = conv_case(rng)
        weight = rng.rand(conv["out_channels"], conv["in_channels"], *conv["kernel_size"]) - 0.5
        bias = rng.rand(conv["out_channels"]) - 0.5
        x = rng.randn(*shape)
        readings, returned, given, what = set_weights(submission, rng, conv, weight, bias, x)
        expected = F.conv2d(x, weight, bias, stride=conv["stride"], padding=tuple(conv["padding"]))
        exported = readings.exported(given, what)
        expect_close(exported.forward(0, exported.state()[:len(exported.params)], [x]).output, expected,
                     f"conv(x) after {what}", hint="copy both the weight and the bias into the convolution "
                     "(e.g. conv.weight.copy_(weight) under torch.no_grad())")
        value = readings.value(returned)
        expect(type_name(value) == "Conv2d", f"{what} returned {type_name(value)}, expected the convolution it was given")


@pytest.mark.points(1)
def test_set_conv_weights_trainable(submission, rng):
    """after set_conv_weights the weight and bias are trainable parameters the convolution uses"""
    conv, shape = conv_case(rng)
    weight = rng.rand(conv["out_channels"], conv["in_channels"], *conv["kernel_size"]) - 0.5
    bias = rng.rand(conv["out_channels"]) - 0.5
    x = rng.randn(*shape)
    readings, _, given, what = set_weights(submission, rng, conv, weight, bias, x)
    exported = readings.exported(given, what)
    expect_equal(sorted(p.shape for p in exported.params), sorted([tuple(weight.shape), tuple(bias.shape)]),
                 f"the parameter shapes after {what}", "copy the values in; do not replace the parameters")
    expect(all(p.requires_grad for p in exported.params) and all(exported.leaves),
           f"after {what} a parameter of the convolution does not require grad or is no longer an nn.Parameter: copy "
           "the values in (conv.weight.copy_(weight) inside torch.no_grad()) instead of replacing or freezing it")
    params = exported.state()[:len(exported.params)]
    grad_out = rng.randn(*F.conv2d(x, weight, bias, stride=conv["stride"], padding=tuple(conv["padding"])).shape)
    grads = exported.gradients(0, params, [x], grad_out)
    w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    (F.conv2d(x, w, b, stride=conv["stride"], padding=tuple(conv["padding"])) * grad_out).sum().backward()
    for got, info in zip(grads, exported.params):
        reference = w.grad if info.shape == tuple(weight.shape) else b.grad
        expect(got is not None, f"after {what}, the convolution's output does not depend on its {info.name}")
        expect_close(got, reference, f"the gradient of conv(x) with respect to {info.name} after {what}")


# --- output size --------------------------------------------------------------------


def true_size(size: int, kernel: int, stride: int, padding: int, dilation: int, pool: bool) -> int:
    """The size torch's own convolution / max pooling gives (trusted), the ground truth for output_size."""
    x = torch.zeros(1, 1, size, size)
    if pool:
        return int(F.max_pool2d(x, kernel, stride, padding, dilation).shape[-1])
    return int(F.conv2d(x, torch.zeros(1, 1, kernel, kernel), None, stride, padding, dilation).shape[-1])


def size_configs(rng, dilations: tuple[int, ...], count: int) -> list[tuple[list[int], bool]]:
    configs: list[tuple[list[int], bool]] = []
    while len(configs) < count:
        pool = rng.uniform(0, 1) < 0.4
        kernel, stride, dilation = rng.integer(1, 7), rng.integer(1, 4), rng.choice(dilations)
        padding = rng.integer(0, kernel // 2) if pool else rng.integer(0, 3)
        size = rng.integer(1, 40)
        if size + 2 * padding >= dilation * (kernel - 1) + 1:
            configs.append(([size, kernel, stride, padding, dilation], pool))
    return configs


def check_output_sizes(submission, rng, configs: list[tuple[list[int], bool]], positional: bool = False) -> None:
    s = Scenario(EXERCISE)
    calls = [s.call("operations.output_size", *(args[:4] if positional and args[4] == 1 else args))
             for args, _ in configs]
    readings = s.run(submission, seed=rng.seed())
    wrong = []
    for (args, pool), made in zip(configs, calls):
        value = readings.value(made)
        expect(type(value) is int, f"output_size{tuple(args)} returned {type_name(value)}, expected an int")
        if value != true_size(*args, pool=pool):
            wrong.append(args)
    if wrong:
        size, kernel, stride, padding, dilation = wrong[0]
        raise Mismatch(f"output_size disagrees with PyTorch's convolution / max pooling on {len(wrong)} of {len(configs)} "
                       f"configurations, for example output_size({size}, {kernel}, stride={stride}, padding={padding}, "
                       f"dilation={dilation}): floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1")


@pytest.mark.points(1)
def test_output_size(submission, rng):
    """output_size agrees with real nn.Conv2d and nn.MaxPool2d layers on the seeds' and many random configurations"""
    seeds = [[32, 5, 1, 0, 1], [28, 2, 2, 0, 1], [14, 5, 1, 0, 1], [10, 2, 2, 0, 1],
             [10, 5, 1, 2, 1], [8, 3, 1, 1, 1], [10, 3, 2, 1, 1], [8, 3, 2, 1, 1]]
    check_output_sizes(submission, rng, [(args, False) for args in seeds] + size_configs(rng, (1,), 40), positional=True)


@pytest.mark.points(1)
def test_output_size_floor_and_dilation(submission, rng):
    """output_size rounds down, knows dilation and returns an int, on random configurations"""
    configs = size_configs(rng, (2, 3), 30) + [([7, 2, 2, 0, 1], True), ([9, 3, 2, 1, 2], False),
                                               ([33, 4, 3, 1, 1], True), ([5, 1, 4, 0, 3], False)]
    check_output_sizes(submission, rng, configs)


# --- activation ---------------------------------------------------------------------

SPECIAL = torch.tensor([-1e4, -100.0, -50.0, -20.0, -3.5, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 2.5, 20.0, 50.0, 100.0, 1e4])
ACTIVATION_INPUTS = ["15 special values from -1e4 to 1e4", "a (7, 3, 5, 4) tensor with values up to about 40 in size",
                     "a (64, 10) tensor", "a (1, 1, 1, 1) tensor"]


def call_each(submission, rng, fn: str, calls: list[tuple]) -> list:
    """operations.<fn>(*args) for each argument tuple, in one request; the values returned."""
    s = Scenario(EXERCISE)
    made = [s.call(f"operations.{fn}", *args) for args in calls]
    readings = s.run(submission, seed=rng.seed())
    return [readings.value(m) for m in made]


def check_activation(submission, rng, fn: str, reference, hint: str) -> None:
    xs = [SPECIAL.clone(), rng.randn(7, 3, 5, 4, scale=10.0), rng.randn(64, 10, scale=3.0), rng.randn(1, 1, 1, 1)]
    for x, got, name in zip(xs, call_each(submission, rng, fn, [(x,) for x in xs]), ACTIVATION_INPUTS):
        expect_close(expect_tensor(got, f"{fn}(x) for {name}"), reference(x), f"{fn}(x) for {name}", atol=1e-6,
                     rtol=1e-5, hint=hint)


@pytest.mark.points(1)
def test_relu(submission, rng):
    """relu agrees exactly with torch.relu on random, negative and very large inputs"""
    check_activation(submission, rng, "relu", torch.relu, "max(x, 0), element-wise, same shape as x")


@pytest.mark.points(1)
def test_sigmoid(submission, rng):
    """sigmoid agrees with torch.sigmoid on random, negative and very large inputs"""
    check_activation(submission, rng, "sigmoid", torch.sigmoid, "torch.sigmoid: values in (0, 1), no overflow to nan")


@pytest.mark.points(1)
def test_tanh(submission, rng):
    """tanh agrees with torch.tanh on random, negative and very large inputs"""
    check_activation(submission, rng, "tanh", torch.tanh, "torch.tanh; (e^2x - 1) / (e^2x + 1) overflows to nan for large x")


# --- pooling ------------------------------------------------------------------------


def check_pool_layer(submission, rng, factory: str, shapes, reference, hint: str, shift: float) -> None:
    """operations.<factory>() called on random inputs in the worker; the values compared here."""
    xs = [rng.randn(*s, shift=shift) for s in shapes]
    s = Scenario(EXERCISE)
    layer = s.call(f"operations.{factory}")
    made = [s.call(layer, x) for x in xs]
    readings = s.run(submission, seed=rng.seed())
    for x, call in zip(xs, made):
        what = f"{factory}()(x) for x of shape {shape_str(x)}"
        expected = reference(x)
        got = expect_tensor(readings.value(call), what)
        expect_shape(got, expected.shape, what, hint)
        expect_close(got, expected, what, hint=hint)


@pytest.mark.points(1)
def test_lenet_pool(submission, rng):
    """lenet_pool() is 2x2 max pooling with stride 2 for batches of 1, 7 and 64 and odd sizes"""
    check_pool_layer(submission, rng, "lenet_pool", [(1, 6, 28, 28), (7, 6, 28, 28), (64, 6, 28, 28), (3, 2, 9, 11)],
                     lambda x: F.max_pool2d(x, 2, 2), "MAX pooling, kernel_size=2, stride=2, no padding", shift=-0.5)


@pytest.mark.points(1)
def test_overlapping_pool(submission, rng):
    """overlapping_pool() is 3x3 max pooling, stride 2, padding 1 (padding counts as -inf) on several batches and sizes"""
    check_pool_layer(submission, rng, "overlapping_pool", [(1, 3, 10, 8), (7, 3, 10, 8), (64, 1, 10, 8), (2, 5, 13, 9)],
                     lambda x: F.max_pool2d(x, 3, 2, 1), "kernel_size=3, stride=2, padding=1; max pooling pads with -inf",
                     shift=-1.5)


def check_pool_function(submission, rng, fn: str, cases, reference, hint: str) -> None:
    xs = [(rng.randn(*shape, shift=shift), args) for shape, shift, args in cases]
    for (x, args), got in zip(xs, call_each(submission, rng, fn, [(x, *args) for x, args in xs])):
        what = f"{fn}(x, {', '.join(map(str, args))}) for x of shape {shape_str(x)}"
        expected = reference(x, *args)
        expect_shape(expect_tensor(got, what), expected.shape, what, hint)
        expect_close(got, expected, what, hint=hint)


AVG_CASES = [((1, 1, 4, 4), 0.0, (2, 2)), ((7, 3, 10, 8), 0.0, (3, 2)), ((2, 4, 9, 11), 1.0, ((2, 3), (1, 2))),
             ((64, 2, 6, 6), -1.0, (3, 3)), ((3, 1, 8, 5), 0.0, ((3, 2), 2)), ((1, 2, 7, 7), 0.5, (4, 1))]
MIN_CASES = [((1, 1, 4, 4), 0.0, (2, 2)), ((7, 3, 10, 8), 2.0, (3, 2)), ((2, 4, 9, 11), -1.0, ((2, 3), (1, 2))),
             ((64, 2, 6, 6), 0.0, (3, 3)), ((3, 1, 8, 5), 0.0, ((3, 2), 2)), ((1, 2, 7, 7), 3.0, (4, 1))]
MIN_PAD_CASES = [((1, 3, 10, 8), 3.0, (3, 2, 1)), ((7, 2, 9, 11), 2.0, ((3, 5), (2, 1), (1, 2))),
                 ((64, 1, 6, 6), 2.5, (2, 1, 1)), ((2, 4, 10, 9), 3.0, (4, 3, 2)), ((3, 2, 8, 8), -3.0, (3, 2, 1))]


def torch_min_pool(x, k, s, p=0):
    return -F.max_pool2d(-x, k, s, p)


@pytest.mark.points(1)
def test_avg_pool(submission, rng):
    """avg_pool agrees with F.avg_pool2d on random inputs, (height, width) pairs and uneven sizes"""
    check_pool_function(submission, rng, "avg_pool", AVG_CASES, lambda x, k, s: F.avg_pool2d(x, k, s),
                        "the mean of each kernel_size window, moved by stride, no padding")


@pytest.mark.points(1)
def test_min_pool(submission, rng):
    """min_pool agrees with -F.max_pool2d(-x) on random inputs, pairs and uneven sizes"""
    check_pool_function(submission, rng, "min_pool", MIN_CASES, torch_min_pool,
                        "the smallest value of each window: -max_pool(-x)")


@pytest.mark.points(1)
def test_min_pool_padding(submission, rng):
    """min_pool with padding ignores the padding (it counts as +inf) on random configurations"""
    check_pool_function(submission, rng, "min_pool", MIN_PAD_CASES, torch_min_pool,
                        "a padded pixel must never be the minimum: -max_pool(-x, ..., padding=p) pads with +inf")


# --- batch normalisation ------------------------------------------------------------


def reference_batch_norm(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm, computed in float64 (a tiny variance loses digits in float32)."""
    x, gamma, beta = x.double(), gamma.double(), beta.double()
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


def gamma_beta(exported: Exported, gamma: torch.Tensor, beta: torch.Tensor) -> list[torch.Tensor]:
    """gamma and beta in the layer's parameter order, told apart by their initial values (gamma starts at
    ones, beta at zeros), else by declaration order."""
    channels = gamma.numel()
    expect([p.shape for p in exported.params] == [(channels,), (channels,)],
           f"{exported.what} has parameters of shapes {[p.shape for p in exported.params]}, expected a gamma and a beta "
           f"of shape ({channels},)")
    first = exported.params[0].value
    swapped = first is not None and bool((first == 0).all()) and bool((exported.params[1].value == 1).all())
    return [beta.clone(), gamma.clone()] if swapped else [gamma.clone(), beta.clone()]


@pytest.mark.points(1)
def test_batch_norm_parameters(submission, rng):
    """batch_norm(C) has a gamma of ones and a beta of zeros per channel (2C parameters) and normalises, for several C"""
    for channels in rng.python.sample([1, 2, 3, 5, 7, 16], 4):
        x = rng.randn(4, channels, 3, 3, scale=2.0, shift=1.0)
        bn = export_layer(submission, rng, "batch_norm", (channels,), [x], modes=["train"])
        what = f"batch_norm({channels})"
        expect_equal(bn.n_params, 2 * channels, f"the number of parameters of {what}",
                     "one gamma and one beta per channel: nn.BatchNorm2d(num_features)")
        expect_equal(bn.param_shapes, [(channels,), (channels,)], f"the parameter shapes of {what}")
        initial = [p.value for p in bn.params]
        ones = sum(bool((p == 1).all()) for p in initial if p is not None)
        zeros = sum(bool((p == 0).all()) for p in initial if p is not None)
        expect(ones == 1 and zeros == 1, f"{what} does not start with gamma = ones and beta = zeros")
        out = bn.forward(0, bn.state()[:2], [x]).output
        expect_close(out, reference_batch_norm(x, torch.ones(channels), torch.zeros(channels)),
                     f"{what}(x) in training mode for x of shape {shape_str(x)}", atol=1e-4,
                     hint="normalise each channel over (N, H, W)")


BN_CASES = [((7, 5, 6, 3), 2.0, 1.0), ((1, 4, 2, 3), 1.0, -2.0), ((64, 2, 3, 3), 0.5, 3.0), ((5, 3, 4, 4), 1e-3, 0.5)]


@pytest.mark.points(2)
def test_batch_norm_formula(submission, rng):
    """in training mode batch_norm(C) gives (x - mean) / sqrt(biased var + eps) * gamma + beta on unseen shapes"""
    for shape, scale, shift in BN_CASES:
        channels = shape[1]
        x = rng.randn(*shape, scale=scale, shift=shift)
        gamma, beta = rng.randn(channels), rng.randn(channels)
        bn = export_layer(submission, rng, "batch_norm", (channels,), [x], modes=["train"])
        expect_close(bn.forward(0, gamma_beta(bn, gamma, beta), [x]).output, reference_batch_norm(x, gamma, beta),
                     f"batch_norm({channels})(x) in training mode with gamma and beta set, x of shape {shape_str(x)}"
                     + (" and a tiny variance" if scale < 0.01 else ""), atol=1e-3 if scale < 0.01 else 1e-5,
                     hint="statistics over (N, H, W), the BIASED variance, eps = 1e-5 inside the square root")


@pytest.mark.points(2)
def test_batch_norm_running_stats(submission, rng):
    """batch_norm(C) behaves like nn.BatchNorm2d: training updates running statistics, eval mode uses them"""
    channels = rng.integer(2, 6)
    gamma, beta = rng.randn(channels), rng.randn(channels)
    steps = [("train", 8, 5, 2.0, 1.0), ("train", 3, 6, 0.5, -2.0), ("train", 16, 3, 1.0, 3.0), ("eval", 5, 5, 1.0, 0.0),
             ("eval", 1, 3, 3.0, 1.0), ("train", 6, 4, 1.5, 0.5), ("eval", 7, 2, 1.0, 2.0)]
    xs = [rng.randn(n, channels, size, size + 1, scale=scale, shift=shift) for _, n, size, scale, shift in steps]
    modes = [mode for mode, *_ in steps]
    bn = export_layer(submission, rng, "batch_norm", (channels,), xs, modes=modes)
    params = gamma_beta(bn, gamma, beta)
    buffers = bn.buffer_values()  # the running statistics, carried from call to call as the layer carries them
    reference = solution("operations").batch_norm(channels)
    with torch.no_grad():
        reference.weight.copy_(gamma)
        reference.bias.copy_(beta)
    trained = 0
    for call, (x, mode) in enumerate(zip(xs, modes)):
        reference.train(mode == "train")
        with torch.no_grad():
            expected = reference(x)
        trained += mode == "train"
        out = bn.forward(call, params, [x], buffers=buffers).output
        hint = ("in eval mode use the running mean and (unbiased) running variance, updated with momentum 0.1 "
                "at every training call: nn.BatchNorm2d does this") if mode == "eval" else "batch statistics in training mode"
        expect_close(out, expected, f"batch_norm({channels})(x) in {mode} mode after {trained} training batch(es), "
                     f"x of shape {shape_str(x)}", hint=hint)


# --- skip connection ----------------------------------------------------------------


@pytest.mark.points(1)
def test_skip_concat(submission, rng):
    """skip_concat stacks x's channels then y's for unseen channel counts and batch sizes 1, 7 and 64"""
    pairs = [(rng.randn(n, rng.integer(1, 6), h, w), rng.randn(n, rng.integer(1, 6), h, w))
             for n, h, w in [(7, 6, 5), (1, 2, 2), (64, 4, 4), (3, 1, 7)]]
    for (x, y), got in zip(pairs, call_each(submission, rng, "skip_concat", pairs)):
        what = f"skip_concat(x, y) for x {shape_str(x)} and y {shape_str(y)}"
        expected = torch.cat((x, y), dim=1)
        expect_shape(expect_tensor(got, what), expected.shape, what, "concatenate along the channel dimension, dim=1")
        expect_close(got, expected, what, atol=0, rtol=0, hint="x's channels first, then y's")


# --- linear -------------------------------------------------------------------------


@pytest.mark.points(1)
def test_flatten(submission, rng):
    """flatten keeps the batch dimension for batches of 1, 7 and 64 and odd shapes, values in order"""
    xs = [rng.randn(*s) for s in [(1, 3, 5, 4), (7, 16, 5, 5), (64, 6, 4, 4), (5, 1, 1, 1), (2, 3, 7, 11), (1, 1, 9, 2)]]
    for x, got in zip(xs, call_each(submission, rng, "flatten", [(x,) for x in xs])):
        what = f"flatten(x) for x of shape {shape_str(x)}"
        expected = x.reshape(x.shape[0], -1)
        expect_shape(expect_tensor(got, what), expected.shape, what,
                     "flatten every dimension but the batch one: torch.flatten(x, 1)")
        expect_close(got, expected, what, atol=0, rtol=0, hint="keep the values in their order")


HEAD_CASES = [(60, 2, [(1, 3, 5, 4), (7, 3, 5, 4)]), (400, 10, [(64, 16, 5, 5), (1, 16, 5, 5)]),
              (12, 5, [(7, 3, 2, 2)]), (10, 3, [(3, 10, 1, 1)])]


@pytest.mark.points(2)
def test_classifier_head(submission, rng):
    """classifier_head(in, out) flattens and applies one linear layer, for unseen sizes and batches of 1, 7 and 64"""
    for n_in, n_out, shapes in HEAD_CASES:
        xs = [rng.randn(*s) for s in shapes]
        head = export_layer(submission, rng, "classifier_head", (n_in, n_out), xs, values=False)
        what = f"classifier_head({n_in}, {n_out})"
        expect_equal(head.n_params, n_in * n_out + n_out, f"the number of parameters of {what}",
                     "one nn.Linear(in_features, out_features) with a bias")
        weight, bias = rng.randn(n_out, n_in, scale=0.1), rng.randn(n_out)
        params = head.by_shape([weight, bias])
        expect_all_used(head, params, xs[0])
        for x, out in zip(xs, outputs(head, params, xs)):
            expected = x.reshape(x.shape[0], -1) @ weight.T + bias
            expect_shape(out, expected.shape, f"{what}(x) for x of shape {shape_str(x)}", "flatten from dimension 1")
            expect_close(out, expected, f"{what}(x) with weights set, x of shape {shape_str(x)}",
                         hint="flatten from dimension 1, then W x + b, and nothing else")


def counted_specs(rng) -> list[dict]:
    """Kit modules to count: convolutions, batch norms, frozen, shared and bare parameters, random sizes."""
    c, k, f = rng.integer(2, 6), rng.integer(1, 4), rng.integer(3, 9)
    lenet = {"conv1": ["Conv2d", [1, 6, 5]], "relu": ["ReLU", []], "pool": ["MaxPool2d", [2]],
             "conv2": ["Conv2d", [6, 16, 5]], "flat": ["Flatten", []], "fc1": ["Linear", [400, 120]],
             "fc2": ["Linear", [120, 84]], "fc3": ["Linear", [84, 10]]}
    shared = ["Linear", [f, f]]
    return [
        {"kind": "module", "modules": {"a": ["Conv2d", [3, c, k]], "b": ["BatchNorm2d", [c]], "c": ["ReLU", []],
                                       "d": ["Conv2d", [c, 4, [k, 1]], {"bias": False}], "e": ["Linear", [50, 7]]}},
        {"kind": "module", "modules": {"a": ["Linear", [13, f]]}, "frozen": [True, False]},
        {"kind": "module", "modules": {"a": ["Conv2d", [2, c, [2, 4]]]}, "frozen": [True, True]},
        {"kind": "module", "modules": {"a": shared, "b": ["ReLU", []],
                                       "c": ["Sequential", [["Linear", [f, 3]], ["Dropout", [0.3]]]]}},
        {"kind": "module", "modules": lenet},
        {"kind": "module", "modules": {"a": ["ReLU", []]}},
        {"kind": "module", "modules": {"body": {"kind": "module", "modules": {"x": ["Conv2d", [1, 3, 2]],
                                                                           "y": ["MaxPool2d", [2]]}},
                                       "head": ["Sequential", [["Linear", [3, 2]], ["BatchNorm1d", [2]]]]},
         "frozen": [False, True, False, True]},
    ]


@pytest.mark.points(1)
def test_count_parameters(submission, rng):
    """count_parameters gives the true count of unseen modules, frozen, nested and batch-norm parameters included"""
    specs = counted_specs(rng)
    results = call_each(submission, rng, "count_parameters", [(kit(**spec),) for spec in specs])
    wrong, trainable_only, with_buffers = 0, 0, 0
    for spec, value in zip(specs, results):
        expect(type(value) is int, f"count_parameters returned {type_name(value)}, expected an int: "
               "return a Python int, e.g. sum(p.numel() for p in module.parameters())")
        module = kit_module(spec)
        if value != sum(p.numel() for p in module.parameters()):
            wrong += 1
            trainable_only += value == sum(p.numel() for p in module.parameters() if p.requires_grad)
            with_buffers += value == sum(t.numel() for t in module.state_dict().values())
    hint = ("count frozen parameters (requires_grad=False) too" if trainable_only else
            "count parameters only: the state_dict also holds buffers such as BatchNorm's running statistics"
            if with_buffers else "sum p.numel() over module.parameters()")
    expect(not wrong, f"count_parameters is wrong for {wrong} of {len(specs)} modules: {hint}")


# --- dropout ------------------------------------------------------------------------


def dropout_calls(submission, rng, p: float, calls: list[tuple[str, torch.Tensor]]) -> list:
    """dropout(p) switched to each mode and called on each input, in one request; the outputs."""
    s = Scenario(EXERCISE)
    layer = s.call("operations.dropout", p)
    made = []
    for mode, x in calls:
        s.call(layer.attr("train"), mode == "train")
        made.append(s.call(layer, x))
    readings = s.run(submission, seed=rng.seed())
    return [readings.value(m) for m in made]


@pytest.mark.points(2)
def test_dropout_train(submission, rng):
    """in training mode dropout(p) zeroes a fraction p at random, scales the rest by exactly 1/(1-p), new mask per call"""
    x = nonzero_randn(rng, 200, 250)
    for p in (0.5, 0.2, 0.7):
        outs = dropout_calls(submission, rng, p, [("train", x), ("train", x)])
        masks = [check_dropped(y, x, p, f"dropout({p}) in training mode on a (200, 250) tensor (call {k + 1})", 0.015)
                 for k, y in enumerate(outs)]
        expect(not torch.equal(masks[0], masks[1]), f"two calls of dropout({p}) dropped exactly the same values")
        rows, cols = masks[0].float().mean(dim=1), masks[0].float().mean(dim=0)
        expect(bool((rows - p).abs().max() < 0.2) and bool((cols - p).abs().max() < 0.2),
               f"dropout({p}) does not drop each value independently "
               "(some rows or columns are dropped far more than others)")


@pytest.mark.points(1)
def test_dropout_eval(submission, rng):
    """dropout(p) is the identity in eval mode and drops again after train(), for several p and shapes"""
    x, x4 = nonzero_randn(rng, 100, 100), rng.randn(7, 3, 5, 4)
    for p in (0.5, 0.9):
        outs = dropout_calls(submission, rng, p, [("train", x), ("eval", x), ("eval", x4), ("train", x)])
        expect_close(expect_tensor(outs[1], f"dropout({p}) after .eval()"), x,
                     f"dropout({p}) after .eval(), on a (100, 100) tensor", atol=0, rtol=0,
                     hint="nn.Dropout returns its input unchanged in eval mode")
        expect_close(expect_tensor(outs[2], f"dropout({p}) after .eval()"), x4,
                     f"dropout({p}) after .eval(), on a (7, 3, 5, 4) tensor", atol=0, rtol=0)
        for k in (0, 3):
            check_dropped(outs[k], x, p, f"dropout({p}) in training mode" + (" (after eval)" if k else ""), 0.05)


# --- pictures -----------------------------------------------------------------------


def a_digit(rng) -> torch.Tensor:
    """A shipped MNIST training digit, padded to 1x32x32 with values in [0, 1]."""
    from grader.grading.digits import shipped

    images, _ = shipped(True)
    return F.pad(images[rng.integer(0, len(images) - 1)].float().div(255)[None], (2, 2, 2, 2))


@pytest.mark.points(2)
def test_save_conv1_grid(submission, rng):
    """save_conv1_grid draws a non-blank PNG and returns conv(image)'s maps, for LeNet's conv1 and another conv"""
    c = rng.integer(2, 4)
    cases = [("LeNet's conv1 (6 kernels of 5x5) on a 1x32x32 digit", rng.randn(6, 1, 5, 5, scale=0.2),
              rng.randn(6, scale=0.1), a_digit(rng)),
             (f"a conv of {c} kernels of 3x3 on a 1x20x24 image", rng.randn(c, 1, 3, 3, scale=0.3),
              rng.randn(c, scale=0.1), rng.rand(1, 20, 24))]
    for what, weight, bias, image in cases:
        s = Scenario(EXERCISE)
        spec = {"conv": ["Conv2d", [1, weight.shape[0], list(weight.shape[2:])]]}
        holder = s.build(kit("module", modules=spec, weights=[weight, bias]))
        conv = s.call(holder.attr("get_submodule"), "conv")
        path = s.build(kit("path", name=f"conv1-grid-{rng.seed()}.png"))
        maps = s.call("operations.save_conv1_grid", conv, image, path)
        written = s.file(path)
        after = s.state(holder)
        readings = s.run(submission, seed=rng.seed())
        picture(readings[written], f"save_conv1_grid() for {what}")
        expected = F.conv2d(image.unsqueeze(0), weight, bias)[0]
        got = readings.value(maps)
        if isinstance(got, torch.Tensor) and got.dim() == 4 and got.shape[0] == 1:
            got = got[0]
        expect_close(got, expected, f"the feature maps save_conv1_grid() returned for {what}",
                     hint="return conv(image.unsqueeze(0))[0], of shape C x H' x W'")
        params = readings[after]["params"]
        expect(torch.equal(params[0]["value"], weight) and torch.equal(params[1]["value"], bias)
               and all(p["requires_grad"] for p in params),
               f"save_conv1_grid() changed the convolution it drew ({what}): only read conv.weight.detach()")
