"""Hidden checks for operations.py: every layer and function on unseen inputs and configurations,
compared with torch.nn.functional / real torch layers / the reference solution computed here."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from grader.grading.checks import Mismatch, call, expect, expect_close, expect_equal, expect_shape, expect_tensor
from grader.inside.probes import load_by_shape
from grader.inside.probes.operations import build_counted
from grader.grading.reference import solution


def randn(*shape: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale + shift


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g)




def shape_str(x: torch.Tensor) -> str:
    return str(tuple(x.shape))


def expect_all_used(obs: dict, what: str) -> None:
    used = obs.get("grads_used")
    expect(bool(used) and all(used), f"{what} has parameters that get no gradient from its output "
           f"({used.count(False) if used else 'all'} of {len(used or [])}): "
           "is every parameter used, and is nothing detached?")


def expect_loaded(obs: dict, what: str, expected_shapes: list[tuple[int, ...]]) -> None:
    expect(not obs["missing"], f"{what} has parameters of shapes {[tuple(s) for s in obs['param_shapes']]}, "
           f"expected {expected_shapes}")


def conv_weight_bias(obs: dict) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The reported 4-D weight and 1-D bias of a convolution, None where there is not exactly one."""
    four = [p for p in obs["params"] if p.dim() == 4]
    one = [p for p in obs["params"] if p.dim() == 1]
    return (four[0] if len(four) == 1 else None), (one[0] if len(one) == 1 else None)


# --- convolution --------------------------------------------------------------------

CONV1_INPUTS = [(1, 1, 32, 32), (7, 1, 32, 32), (64, 1, 32, 32), (3, 1, 17, 23), (2, 1, 5, 5)]


@pytest.mark.points(1)
def test_lenet_conv1_shape(submission):
    """lenet_conv1() trims 2 pixels per side for any batch and image size, with the right values"""
    xs = [randn(*s, seed=100 + i) for i, s in enumerate(CONV1_INPUTS)]
    weight = randn(6, 1, 5, 5, seed=110, scale=0.2)
    obs = call(submission, "operations.layer", fn="lenet_conv1", inputs=xs, weights=[weight])
    for x, out in zip(xs, obs["outs"]):
        n, _, h, w = x.shape
        expect_shape(out, (n, 6, h - 4, w - 4), f"lenet_conv1()(x) for x of shape {shape_str(x)}",
                     "6 output channels; a 5x5 kernel with stride=1 and padding=0 trims 2 pixels from each side")
    expect_loaded(obs, "lenet_conv1()", [(6, 1, 5, 5)])
    _, bias = conv_weight_bias(obs)
    bias = bias if bias is not None and tuple(bias.shape) == (6,) else None  # a stray bias: its own test's business
    for x, out in zip(xs, obs["outs"]):
        expect_close(out, F.conv2d(x, weight, bias), f"lenet_conv1()(x) with weights set, x of shape {shape_str(x)}",
                     hint="a plain 5x5 convolution, stride 1, padding 0")


@pytest.mark.points(1)
def test_lenet_conv1_parameters(submission):
    """lenet_conv1() has exactly one 6x1x5x5 weight (150 numbers, no bias), and every weight is used"""
    x = randn(4, 1, 32, 32, seed=120)
    weight = randn(6, 1, 5, 5, seed=121, scale=0.2)
    obs = call(submission, "operations.layer", fn="lenet_conv1", inputs=[x], weights=[weight], backward=True)
    expect_equal(obs["param_shapes"], [[6, 1, 5, 5]], "the parameter shapes of lenet_conv1()",
                 "nn.Conv2d(1, 6, kernel_size=5, bias=False): one (6, 1, 5, 5) weight and no bias")
    expect_equal(obs["n_params"], 150, "the number of parameters of lenet_conv1()", "6 * 1 * 5 * 5 = 150")
    expect_all_used(obs, "lenet_conv1()")
    # the weight must really be the layer's kernel; stride and padding are test_lenet_conv1_shape's business
    convs = [c for c in obs["configs"] if c["type"] == "Conv2d"]
    config = convs[0] if len(convs) == 1 else {}
    expected = F.conv2d(x, weight, None, stride=config.get("stride", 1), padding=config.get("padding", 0),
                        dilation=config.get("dilation", 1))
    expect_close(obs["outs"][0], expected, "lenet_conv1()(x) with its weight set, for a batch of 4",
                 hint="a plain convolution with the (6, 1, 5, 5) weight and no bias")


SAME_INPUTS = [(1, 2, 10, 8), (7, 2, 10, 8), (64, 2, 10, 8), (3, 2, 7, 13), (2, 2, 5, 3), (5, 2, 3, 3)]


@pytest.mark.points(2)
def test_same_size_conv_shape(submission):
    """same_size_conv() keeps any image size for batches of 1, 7 and 64, with the right values"""
    xs = [randn(*s, seed=200 + i) for i, s in enumerate(SAME_INPUTS)]
    weight, bias = randn(3, 2, 5, 3, seed=210, scale=0.3), randn(3, seed=211)
    obs = call(submission, "operations.layer", fn="same_size_conv", inputs=xs, weights=[weight, bias], backward=True)
    for x, out in zip(xs, obs["outs"]):
        n, _, h, w = x.shape
        expect_shape(out, (n, 3, h, w), f"same_size_conv()(x) for x of shape {shape_str(x)}",
                     "pad (k - 1) / 2 on each side: padding=(2, 1) for a (5, 3) kernel, stride 1")
    expect_equal(sorted(obs["param_shapes"]), [[3], [3, 2, 5, 3]], "the parameter shapes of same_size_conv()",
                 "in_channels=2, out_channels=3, kernel_size=(5, 3) and a bias")
    expect_all_used(obs, "same_size_conv()")
    for x, out in zip(xs, obs["outs"]):
        expect_close(out, F.conv2d(x, weight, bias, padding=(2, 1)),
                     f"same_size_conv()(x) with weights set, x of shape {shape_str(x)}",
                     hint="kernel (5, 3) = (height, width), stride 1, zero padding (2, 1)")


SET_CONV_CASES = [
    (dict(in_channels=2, out_channels=3, kernel_size=(5, 3), padding=(2, 1)), (7, 2, 10, 8)),
    (dict(in_channels=4, out_channels=5, kernel_size=(3, 2), stride=2, padding=(1, 0)), (3, 4, 9, 7)),
    (dict(in_channels=1, out_channels=6, kernel_size=5), (1, 1, 12, 12)),
]


@pytest.mark.points(2)
def test_set_conv_weights(submission):
    """set_conv_weights makes several convolutions compute exactly F.conv2d with the given weight and bias"""
    for i, (conv, shape) in enumerate(SET_CONV_CASES):
        k = conv["kernel_size"] if isinstance(conv["kernel_size"], tuple) else (conv["kernel_size"],) * 2
        weight = rand(conv["out_channels"], conv["in_channels"], *k, seed=300 + i) - 0.5
        bias = rand(conv["out_channels"], seed=310 + i) - 0.5
        x = randn(*shape, seed=320 + i)
        obs = call(submission, "operations.set_conv", conv=conv, weight=weight, bias=bias, x=x)
        what = (f"set_conv_weights on nn.Conv2d({conv['in_channels']}, {conv['out_channels']}, "
                f"kernel_size={conv['kernel_size']}, ...)")
        expect(obs["returned_self"], f"{what} returned {obs['returned_type']}, expected the convolution it was given")
        expected = F.conv2d(x, weight, bias, stride=conv.get("stride", 1), padding=conv.get("padding", 0))
        expect_close(obs["out"], expected, f"conv(x) after {what}",
                     hint="copy both the weight and the bias into the convolution "
                     "(e.g. conv.weight.copy_(weight) under torch.no_grad())")


@pytest.mark.points(1)
def test_set_conv_weights_trainable(submission):
    """after set_conv_weights the weight and bias are trainable parameters: right gradients, and an SGD step moves them"""
    conv = dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)
    weight, bias = rand(4, 3, 3, 3, seed=330) - 0.5, rand(4, seed=331) - 0.5
    x, grad_out, lr = randn(2, 3, 6, 5, seed=332), randn(2, 4, 6, 5, seed=333), 0.1
    obs = call(submission, "operations.set_conv", conv=conv, weight=weight, bias=bias, x=x, grad_out=grad_out, lr=lr)
    expect(obs["weight_is_parameter"] and obs["bias_is_parameter"],
           "after set_conv_weights, conv.weight or conv.bias is no longer an nn.Parameter of the convolution")
    expect(all(p["parameter"] and p["requires_grad"] for p in obs["params"]),
           "after set_conv_weights a parameter of the convolution does not require grad: copy the values in "
           "(conv.weight.copy_(weight) inside torch.no_grad()) instead of replacing or freezing the parameter")
    expect_equal(obs["n_params"], 4 * 3 * 3 * 3 + 4, "the number of parameters of the convolution after set_conv_weights")
    w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    (F.conv2d(x, w, b, padding=1) * grad_out).sum().backward()
    expect(obs["grad_weight"] is not None and obs["grad_bias"] is not None,
           "after backward(), conv.weight.grad or conv.bias.grad is None: the parameters left the autograd graph")
    expect_close(obs["grad_weight"], w.grad, "conv.weight.grad after set_conv_weights and backward()")
    expect_close(obs["grad_bias"], b.grad, "conv.bias.grad after set_conv_weights and backward()")
    with torch.no_grad():
        stepped = F.conv2d(x, weight - lr * w.grad, bias - lr * b.grad, padding=1)
    expect_close(obs["out_after_step"], stepped, "conv(x) after set_conv_weights and one SGD step",
                 hint="the optimizer must see the parameters that hold the new values")


def true_size(size: int, kernel: int, stride: int, padding: int, dilation: int, pool: bool) -> int:
    """The size torch's own convolution / max pooling gives (trusted), the ground truth for output_size."""
    x = torch.zeros(1, 1, size, size)
    if pool:
        return int(F.max_pool2d(x, kernel, stride, padding, dilation).shape[-1])
    return int(F.conv2d(x, torch.zeros(1, 1, kernel, kernel), None, stride, padding, dilation).shape[-1])


def size_configs(seed: int, dilations: tuple[int, ...], count: int) -> list[tuple[list[int], bool]]:
    rng = random.Random(seed)
    configs = []
    while len(configs) < count:
        pool = rng.random() < 0.4
        kernel, stride, dilation = rng.randint(1, 7), rng.randint(1, 4), rng.choice(dilations)
        padding = rng.randint(0, kernel // 2) if pool else rng.randint(0, 3)
        size = rng.randint(1, 40)
        if size + 2 * padding < dilation * (kernel - 1) + 1:
            continue
        configs.append(([size, kernel, stride, padding, dilation], pool))
    return configs


def check_output_sizes(submission, configs: list[tuple[list[int], bool]], positional: bool = False) -> None:
    calls = [args[:4] if positional and args[4] == 1 else args for args, _ in configs]
    got = call(submission, "operations.call", fn="output_size", calls=calls)
    wrong = []
    for (args, pool), result in zip(configs, got):
        expect(result["type"] == "int", f"output_size{tuple(args)} returned {result['type']}, expected an int")
        if result["value"] != true_size(*args, pool=pool):
            wrong.append(args)
    if wrong:
        size, kernel, stride, padding, dilation = wrong[0]
        raise Mismatch(f"output_size disagrees with PyTorch's convolution / max pooling on {len(wrong)} of {len(configs)} "
                       f"configurations, for example output_size({size}, {kernel}, stride={stride}, padding={padding}, "
                       f"dilation={dilation}): floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1")


@pytest.mark.points(1)
def test_output_size(submission):
    """output_size agrees with real nn.Conv2d and nn.MaxPool2d layers on the seeds' and many random configurations"""
    seeds = [[32, 5, 1, 0, 1], [28, 2, 2, 0, 1], [14, 5, 1, 0, 1], [10, 2, 2, 0, 1],
             [10, 5, 1, 2, 1], [8, 3, 1, 1, 1], [10, 3, 2, 1, 1], [8, 3, 2, 1, 1]]
    configs = [(args, False) for args in seeds] + size_configs(400, (1,), 40)
    check_output_sizes(submission, configs, positional=True)


@pytest.mark.points(1)
def test_output_size_floor_and_dilation(submission):
    """output_size rounds down, knows dilation and returns an int, on random configurations"""
    configs = size_configs(410, (2, 3), 30) + [([7, 2, 2, 0, 1], True), ([9, 3, 2, 1, 2], False),
                                               ([33, 4, 3, 1, 1], True), ([5, 1, 4, 0, 3], False)]
    check_output_sizes(submission, configs)


# --- activation ---------------------------------------------------------------------

SPECIAL = torch.tensor([-1e4, -100.0, -50.0, -20.0, -3.5, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 2.5, 20.0, 50.0, 100.0, 1e4])


def activation_inputs(seed: int) -> list[torch.Tensor]:
    return [SPECIAL.clone(), randn(7, 3, 5, 4, seed=seed, scale=10.0), randn(64, 10, seed=seed + 1, scale=3.0),
            randn(1, 1, 1, 1, seed=seed + 2)]


def check_activation(submission, fn: str, reference, seed: int, hint: str) -> None:
    xs = activation_inputs(seed)
    results = call(submission, "operations.call", fn=fn, calls=[[x] for x in xs])
    names = ["15 special values from -1e4 to 1e4", "a (7, 3, 5, 4) tensor with values up to about 40 in size",
             "a (64, 10) tensor", "a (1, 1, 1, 1) tensor"]
    for x, result, name in zip(xs, results, names):
        got = expect_tensor(result["value"], f"{fn}(x) for {name}")
        expect_close(got, reference(x), f"{fn}(x) for {name}", atol=1e-6, rtol=1e-5, hint=hint)


@pytest.mark.points(1)
def test_relu(submission):
    """relu agrees exactly with torch.relu on random, negative and very large inputs"""
    check_activation(submission, "relu", torch.relu, 500, "max(x, 0), element-wise, same shape as x")


@pytest.mark.points(1)
def test_sigmoid(submission):
    """sigmoid agrees with torch.sigmoid on random, negative and very large inputs"""
    check_activation(submission, "sigmoid", torch.sigmoid, 510, "torch.sigmoid: values in (0, 1), no overflow to nan")


@pytest.mark.points(1)
def test_tanh(submission):
    """tanh agrees with torch.tanh on random, negative and very large inputs"""
    check_activation(submission, "tanh", torch.tanh, 520,
                     "torch.tanh; (e^2x - 1) / (e^2x + 1) overflows to nan for large x")


# --- pooling ------------------------------------------------------------------------


def check_pool_layer(submission, fn: str, shapes, reference, hint: str, seed: int, shift: float = 0.0) -> None:
    xs = [randn(*s, seed=seed + i, shift=shift) for i, s in enumerate(shapes)]
    obs = call(submission, "operations.layer", fn=fn, inputs=xs)
    for x, out in zip(xs, obs["outs"]):
        expected = reference(x)
        expect_shape(out, expected.shape, f"{fn}()(x) for x of shape {shape_str(x)}", hint)
        expect_close(out, expected, f"{fn}()(x) for x of shape {shape_str(x)}", hint=hint)


@pytest.mark.points(1)
def test_lenet_pool(submission):
    """lenet_pool() is 2x2 max pooling with stride 2 for batches of 1, 7 and 64 and odd sizes"""
    check_pool_layer(submission, "lenet_pool", [(1, 6, 28, 28), (7, 6, 28, 28), (64, 6, 28, 28), (3, 2, 9, 11)],
                     lambda x: F.max_pool2d(x, 2, 2), "MAX pooling, kernel_size=2, stride=2, no padding", 600, shift=-0.5)


@pytest.mark.points(1)
def test_overlapping_pool(submission):
    """overlapping_pool() is 3x3 max pooling, stride 2, padding 1 (padding counts as -inf) on several batches and sizes"""
    check_pool_layer(submission, "overlapping_pool", [(1, 3, 10, 8), (7, 3, 10, 8), (64, 1, 10, 8), (2, 5, 13, 9)],
                     lambda x: F.max_pool2d(x, 3, 2, 1), "kernel_size=3, stride=2, padding=1; max pooling pads with -inf",
                     610, shift=-1.5)


def pair(v):
    return list(v) if isinstance(v, tuple) else v


def check_pool_function(submission, fn: str, cases, reference, hint: str, seed: int) -> None:
    xs = [(randn(*shape, seed=seed + i, shift=shift), args) for i, (shape, shift, args) in enumerate(cases)]
    results = call(submission, "operations.call", fn=fn, calls=[[x, *[pair(a) for a in args]] for x, args in xs])
    for (x, args), result in zip(xs, results):
        what = f"{fn}(x, {', '.join(map(str, args))}) for x of shape {shape_str(x)}"
        expected = reference(x, *args)
        got = expect_tensor(result["value"], what)
        expect_shape(got, expected.shape, what, hint)
        expect_close(got, expected, what, hint=hint)


AVG_CASES = [((1, 1, 4, 4), 0.0, (2, 2)), ((7, 3, 10, 8), 0.0, (3, 2)), ((2, 4, 9, 11), 1.0, ((2, 3), (1, 2))),
             ((64, 2, 6, 6), -1.0, (3, 3)), ((3, 1, 8, 5), 0.0, ((3, 2), 2)), ((1, 2, 7, 7), 0.5, (4, 1))]


@pytest.mark.points(1)
def test_avg_pool(submission):
    """avg_pool agrees with F.avg_pool2d on random inputs, (height, width) pairs and uneven sizes"""
    check_pool_function(submission, "avg_pool", AVG_CASES, lambda x, k, s: F.avg_pool2d(x, k, s),
                        "the mean of each kernel_size window, moved by stride, no padding", 700)


MIN_CASES = [((1, 1, 4, 4), 0.0, (2, 2)), ((7, 3, 10, 8), 2.0, (3, 2)), ((2, 4, 9, 11), -1.0, ((2, 3), (1, 2))),
             ((64, 2, 6, 6), 0.0, (3, 3)), ((3, 1, 8, 5), 0.0, ((3, 2), 2)), ((1, 2, 7, 7), 3.0, (4, 1))]

MIN_PAD_CASES = [((1, 3, 10, 8), 3.0, (3, 2, 1)), ((7, 2, 9, 11), 2.0, ((3, 5), (2, 1), (1, 2))),
                 ((64, 1, 6, 6), 2.5, (2, 1, 1)), ((2, 4, 10, 9), 3.0, (4, 3, 2)), ((3, 2, 8, 8), -3.0, (3, 2, 1))]


def torch_min_pool(x, k, s, p=0):
    return -F.max_pool2d(-x, k, s, p)


@pytest.mark.points(1)
def test_min_pool(submission):
    """min_pool agrees with -F.max_pool2d(-x) on random inputs, pairs and uneven sizes"""
    check_pool_function(submission, "min_pool", MIN_CASES, torch_min_pool,
                        "the smallest value of each window: -max_pool(-x)", 800)


@pytest.mark.points(1)
def test_min_pool_padding(submission):
    """min_pool with padding ignores the padding (it counts as +inf) on random configurations"""
    check_pool_function(submission, "min_pool", MIN_PAD_CASES, torch_min_pool,
                        "a padded pixel must never be the minimum: -max_pool(-x, ..., padding=p) pads with +inf", 810)


# --- batch normalisation ------------------------------------------------------------


def reference_batch_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


@pytest.mark.points(1)
def test_batch_norm_parameters(submission):
    """batch_norm(C) has a gamma of ones and a beta of zeros per channel (2C parameters) and normalises, for several C"""
    for i, channels in enumerate((3, 16, 5, 1)):
        x = randn(4, channels, 3, 3, seed=900 + i, scale=2.0, shift=1.0)
        obs = call(submission, "operations.batch_norm", channels=channels, inputs=[x], modes=["train"])
        what = f"batch_norm({channels})"
        expect_equal(obs["n_params"], 2 * channels, f"the number of parameters of {what}",
                     "one gamma and one beta per channel: nn.BatchNorm2d(num_features)")
        expect_equal(obs["param_shapes"], [[channels], [channels]], f"the parameter shapes of {what}")
        initial = obs["initial"]
        ones = sum(bool((p == 1).all()) for p in initial)
        zeros = sum(bool((p == 0).all()) for p in initial)
        expect(ones == 1 and zeros == 1, f"{what} does not start with gamma = ones and beta = zeros")
        expect_close(obs["outs"][0], reference_batch_norm(x, torch.ones(channels), torch.zeros(channels)),
                     f"{what}(x) in training mode for x of shape {shape_str(x)}", atol=1e-4,
                     hint="normalise each channel over (N, H, W)")


BN_CASES = [((7, 5, 6, 3), 2.0, 1.0), ((1, 4, 2, 3), 1.0, -2.0), ((64, 2, 3, 3), 0.5, 3.0), ((5, 3, 4, 4), 1e-3, 0.5)]


@pytest.mark.points(2)
def test_batch_norm_formula(submission):
    """in training mode batch_norm(C) gives (x - mean) / sqrt(biased var + eps) * gamma + beta on unseen shapes"""
    for i, (shape, scale, shift) in enumerate(BN_CASES):
        channels = shape[1]
        x = randn(*shape, seed=1000 + i, scale=scale, shift=shift)
        gamma, beta = randn(channels, seed=1010 + i), randn(channels, seed=1020 + i)
        obs = call(submission, "operations.batch_norm", channels=channels, inputs=[x], modes=["train"],
                   gamma=gamma, beta=beta)
        expect_close(obs["outs"][0], reference_batch_norm(x, gamma, beta),
                     f"batch_norm({channels})(x) in training mode with gamma and beta set, x of shape {shape_str(x)}"
                     + (" and a tiny variance" if scale < 0.01 else ""),
                     hint="statistics over (N, H, W), the BIASED variance, eps = 1e-5 inside the square root")


@pytest.mark.points(2)
def test_batch_norm_running_stats(submission):
    """batch_norm(C) behaves like nn.BatchNorm2d: training updates running statistics, eval mode uses them"""
    channels = 4
    gamma, beta = randn(channels, seed=1100), randn(channels, seed=1101)
    steps = [("train", (8, 4, 5, 5), 2.0, 1.0), ("train", (3, 4, 6, 6), 0.5, -2.0), ("train", (16, 4, 3, 3), 1.0, 3.0),
             ("eval", (5, 4, 5, 5), 1.0, 0.0), ("eval", (1, 4, 3, 2), 3.0, 1.0), ("train", (6, 4, 4, 4), 1.5, 0.5),
             ("eval", (7, 4, 2, 5), 1.0, 2.0)]
    xs = [randn(*shape, seed=1110 + i, scale=scale, shift=shift) for i, (_, shape, scale, shift) in enumerate(steps)]
    modes = [mode for mode, *_ in steps]
    obs = call(submission, "operations.batch_norm", channels=channels, inputs=xs, modes=modes, gamma=gamma, beta=beta)
    reference = solution("operations").batch_norm(channels)
    with torch.no_grad():
        reference.weight.copy_(gamma)
        reference.bias.copy_(beta)
    trained = 0
    for x, mode, out in zip(xs, modes, obs["outs"]):
        reference.train(mode == "train")
        with torch.no_grad():
            expected = reference(x)
        trained += mode == "train"
        what = (f"batch_norm({channels})(x) in {mode} mode after {trained} training batch(es), x of shape {shape_str(x)}")
        hint = ("in eval mode use the running mean and (unbiased) running variance, updated with momentum 0.1 "
                "at every training call: nn.BatchNorm2d does this") if mode == "eval" else "batch statistics in training mode"
        expect_close(out, expected, what, hint=hint)


# --- skip connection ----------------------------------------------------------------

SKIP_CASES = [((7, 3, 6, 5), (7, 4, 6, 5)), ((1, 1, 2, 2), (1, 6, 2, 2)), ((64, 2, 4, 4), (64, 1, 4, 4)),
              ((3, 5, 1, 7), (3, 2, 1, 7))]


@pytest.mark.points(1)
def test_skip_concat(submission):
    """skip_concat stacks x's channels then y's for unseen channel counts and batch sizes 1, 7 and 64"""
    pairs = [(randn(*a, seed=1200 + i), randn(*b, seed=1210 + i)) for i, (a, b) in enumerate(SKIP_CASES)]
    results = call(submission, "operations.call", fn="skip_concat", calls=[[x, y] for x, y in pairs])
    for (x, y), result in zip(pairs, results):
        what = f"skip_concat(x, y) for x {shape_str(x)} and y {shape_str(y)}"
        expected = torch.cat((x, y), dim=1)
        got = expect_tensor(result["value"], what)
        expect_shape(got, expected.shape, what, "concatenate along the channel dimension, dim=1")
        expect_close(got, expected, what, atol=0, rtol=0, hint="x's channels first, then y's")


# --- linear -------------------------------------------------------------------------

FLATTEN_SHAPES = [(1, 3, 5, 4), (7, 16, 5, 5), (64, 6, 4, 4), (5, 1, 1, 1), (2, 3, 7, 11), (1, 1, 9, 2)]


@pytest.mark.points(1)
def test_flatten(submission):
    """flatten keeps the batch dimension for batches of 1, 7 and 64 and odd shapes, values in order"""
    xs = [randn(*s, seed=1300 + i) for i, s in enumerate(FLATTEN_SHAPES)]
    results = call(submission, "operations.call", fn="flatten", calls=[[x] for x in xs])
    for x, result in zip(xs, results):
        what = f"flatten(x) for x of shape {shape_str(x)}"
        expected = x.reshape(x.shape[0], -1)
        got = expect_tensor(result["value"], what)
        expect_shape(got, expected.shape, what, "flatten every dimension but the batch one: torch.flatten(x, 1)")
        expect_close(got, expected, what, atol=0, rtol=0, hint="keep the values in their order")


HEAD_CASES = [(60, 2, [(1, 3, 5, 4), (7, 3, 5, 4)]), (400, 10, [(64, 16, 5, 5), (1, 16, 5, 5)]),
              (12, 5, [(7, 3, 2, 2)]), (10, 3, [(3, 10, 1, 1)])]


@pytest.mark.points(2)
def test_classifier_head(submission):
    """classifier_head(in, out) flattens and applies one linear layer, for unseen sizes and batches of 1, 7 and 64"""
    for i, (n_in, n_out, shapes) in enumerate(HEAD_CASES):
        weight, bias = randn(n_out, n_in, seed=1400 + i, scale=0.1), randn(n_out, seed=1410 + i)
        xs = [randn(*s, seed=1420 + 10 * i + j) for j, s in enumerate(shapes)]
        obs = call(submission, "operations.layer", fn="classifier_head", args=[n_in, n_out], inputs=xs,
                   weights=[weight, bias], backward=True)
        what = f"classifier_head({n_in}, {n_out})"
        expect_equal(obs["n_params"], n_in * n_out + n_out, f"the number of parameters of {what}",
                     "one nn.Linear(in_features, out_features) with a bias")
        expect_loaded(obs, what, [(n_out, n_in), (n_out,)])
        expect_all_used(obs, what)
        reference = solution("operations").classifier_head(n_in, n_out)
        load_by_shape(reference, [weight, bias])
        for x, out in zip(xs, obs["outs"]):
            with torch.no_grad():
                expected = reference(x)
            expect_shape(out, expected.shape, f"{what}(x) for x of shape {shape_str(x)}", "flatten from dimension 1")
            expect_close(out, expected, f"{what}(x) with weights set, x of shape {shape_str(x)}",
                         hint="flatten from dimension 1, then W x + b, and nothing else")


COUNT_SPECS = [
    {"layers": [["Conv2d", [3, 8, 3], {}], ["BatchNorm2d", [8], {}], ["ReLU", [], {}],
                ["Conv2d", [8, 4, [3, 1]], {"bias": False}], ["Flatten", [], {}], ["Linear", [50, 7], {}]]},
    {"layers": [["Linear", [13, 5], {}]], "freeze": [0]},
    {"layers": [["Conv2d", [2, 5, [2, 4]], {}]], "freeze": [0, 1]},
    {"layers": [["Linear", [6, 6], {}], ["ReLU", [], {}]], "repeat": [0]},
    {"layers": [["Conv2d", [1, 3, 2], {}], ["MaxPool2d", [2], {}], ["Dropout", [0.3], {}]], "nested": True,
     "raw": [[4, 3], [7]], "freeze": [1, 4]},
    {"layers": [["Conv2d", [1, 6, 5], {}], ["ReLU", [], {}], ["MaxPool2d", [2], {}], ["Conv2d", [6, 16, 5], {}],
                ["Flatten", [], {}], ["Linear", [400, 120], {}], ["Linear", [120, 84], {}], ["Linear", [84, 10], {}]]},
    {"layers": [["ReLU", [], {}]]},
]


@pytest.mark.points(1)
def test_count_parameters(submission):
    """count_parameters gives the true count of unseen modules, frozen, shared and bare parameters included"""
    results = call(submission, "operations.count", specs=COUNT_SPECS)
    wrong, trainable_only, with_buffers = 0, 0, 0
    for spec, result in zip(COUNT_SPECS, results):
        expect(result["type"] == "int", f"count_parameters returned {result['type']}, expected an int: "
               "return a Python int, e.g. sum(p.numel() for p in module.parameters())")
        module = build_counted(spec)
        if result["value"] != sum(p.numel() for p in module.parameters()):
            wrong += 1
            trainable_only += result["value"] == sum(p.numel() for p in module.parameters() if p.requires_grad)
            with_buffers += result["value"] == sum(t.numel() for t in module.state_dict().values())
    hint = ("count frozen parameters (requires_grad=False) too" if trainable_only else
            "count parameters only: the state_dict also holds buffers such as BatchNorm's running statistics"
            if with_buffers else "sum p.numel() over module.parameters()")
    expect(not wrong, f"count_parameters is wrong for {wrong} of {len(COUNT_SPECS)} modules: {hint}")


# --- dropout ------------------------------------------------------------------------


def nonzero_randn(*shape: int, seed: int) -> torch.Tensor:
    x = randn(*shape, seed=seed)
    return torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)


def check_dropped(y, x: torch.Tensor, p: float, what: str, band: float) -> torch.Tensor:
    """y must be 0 or exactly x / (1 - p) everywhere, with about a fraction p of zeros; return the zero mask."""
    y = expect_tensor(y, what)
    expect_shape(y, x.shape, what)
    zero = y == 0
    kept = ~zero
    expect_close(y[kept], x[kept] / (1 - p), f"the values kept by {what}", atol=1e-6, rtol=1e-5,
                 hint=f"every value is either 0 or x / (1 - p) = x / {1 - p:g}")
    frac = zero.float().mean().item()
    expect(abs(frac - p) < band, f"{what} zeroed {frac:.1%} of {x.numel():,} values, expected about {p:.0%}")
    return zero


@pytest.mark.points(2)
def test_dropout_train(submission):
    """in training mode dropout(p) zeroes a fraction p at random, scales the rest by exactly 1/(1-p), new mask per call"""
    x = nonzero_randn(200, 250, seed=1500)
    for p in (0.5, 0.2, 0.7):
        obs = call(submission, "operations.layer", fn="dropout", args=[p], inputs=[x, x], modes=["train", "train"],
                   seed=int(p * 10))
        masks = [check_dropped(y, x, p, f"dropout({p}) in training mode on a (200, 250) tensor (call {k + 1})", 0.015)
                 for k, y in enumerate(obs["outs"])]
        expect(not torch.equal(masks[0], masks[1]), f"two calls of dropout({p}) dropped exactly the same values")
        rows, cols = masks[0].float().mean(dim=1), masks[0].float().mean(dim=0)
        expect(bool((rows - p).abs().max() < 0.2) and bool((cols - p).abs().max() < 0.2),
               f"dropout({p}) does not drop each value independently "
               "(some rows or columns are dropped far more than others)")


@pytest.mark.points(1)
def test_dropout_eval(submission):
    """dropout(p) is the identity in eval mode and drops again after train(), for several p and shapes"""
    x, x4 = nonzero_randn(100, 100, seed=1600), randn(7, 3, 5, 4, seed=1601)
    for p in (0.5, 0.9):
        obs = call(submission, "operations.layer", fn="dropout", args=[p], inputs=[x, x, x4, x],
                   modes=["train", "eval", "eval", "train"], seed=7)
        expect_close(obs["outs"][1], x, f"dropout({p}) after .eval(), on a (100, 100) tensor", atol=0, rtol=0,
                     hint="nn.Dropout returns its input unchanged in eval mode")
        expect_close(obs["outs"][2], x4, f"dropout({p}) after .eval(), on a (7, 3, 5, 4) tensor", atol=0, rtol=0)
        for k in (0, 3):
            check_dropped(obs["outs"][k], x, p, f"dropout({p}) in training mode" + (" (after eval)" if k else ""), 0.05)


# --- pictures -----------------------------------------------------------------------


def a_digit(index: int) -> torch.Tensor:
    """A shipped MNIST training digit (one the visible check does not use), padded to 1x32x32."""
    import torchvision

    from grader.paths import DATA

    image, _ = torchvision.datasets.MNIST(str(DATA), train=True, download=False)[index]
    return F.pad(torch.tensor(list(image.getdata()), dtype=torch.float32).reshape(1, 28, 28) / 255, (2, 2, 2, 2))


@pytest.mark.points(2)
def test_save_conv1_grid(submission):
    """save_conv1_grid draws a non-blank PNG and returns conv(image)'s maps, for LeNet's conv1 and another conv"""
    cases = [("LeNet's conv1 (6 kernels of 5x5) on a 1x32x32 digit", randn(6, 1, 5, 5, seed=1700, scale=0.2),
              randn(6, seed=1701, scale=0.1), a_digit(1234)),
             ("a conv of 3 kernels of 3x3 on a 1x20x24 image", randn(3, 1, 3, 3, seed=1702, scale=0.3),
              randn(3, seed=1703, scale=0.1), rand(1, 20, 24, seed=1704))]
    for what, weight, bias, image in cases:
        obs = call(submission, "operations.conv1_grid", weight=weight, bias=bias, image=image)
        picture = obs["picture"]
        expect(picture["exists"], f"save_conv1_grid() for {what} wrote no file at path: finish with fig.savefig(path)")
        expect(picture["png"], f"save_conv1_grid() for {what} wrote a file that is not a PNG image")
        width, height = picture["size"]
        expect(width >= 300 and height >= 150 and picture["ink"] > 0.005,
               f"save_conv1_grid() for {what} wrote a {width}x{height} image with {picture['ink']:.1%} ink: "
               "draw the kernels and the feature maps")
        expected = F.conv2d(image.unsqueeze(0), weight, bias)[0]
        maps = obs["maps"]
        if isinstance(maps, torch.Tensor) and maps.dim() == 4 and maps.shape[0] == 1:
            maps = maps[0]
        expect_close(maps, expected, f"the feature maps save_conv1_grid() returned for {what}",
                     hint="return conv(image.unsqueeze(0))[0], of shape C x H' x W'")
        expect(obs["weight_kept"] and obs["trainable"], f"save_conv1_grid() changed the convolution it drew ({what}): "
               "only read conv.weight.detach()")
