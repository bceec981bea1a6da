"""Hidden checks for residual.py. The worker exports each block and network as graphs, in training
and in eval mode; the grader runs them here with its own weights, running statistics and inputs,
handed to the student's parameters and buffers by their roles in the graph (never by names or by
the order of declarations or statements), and compares outputs, updated running statistics, layer
shapes and gradients with what the reference gives with the same weights."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.exercises.common import expect_all_used, export, reference_output, role_order, run_layers, shape_str
from grader.grading.checks import Mismatch, expect, expect_close, expect_shape
from grader.grading.layers import Layer, layers, per_sample
from grader.grading.reference import solution
from grader.grading.scenario import Exported, Scenario, Submission, shape_difference
from grader.grading.secret import Draw

EXERCISE = "residual"
BLOCK_HINT = ("two 3x3 convolutions without bias, each followed by a BatchNorm2d; the shortcut is the identity "
              "(no parameters) when stride == 1 and in_channels == out_channels, else a 1x1 conv with the same "
              "stride and no bias, followed by a BatchNorm2d")
NET_HINT = ("stem conv 3x3 C->16 (no bias) + BN; blocks 16->16, 16->32 (stride 2), 32->64 (stride 2); "
            "global average pooling; one Linear(64, num_classes)")
STATS_HINT = "use nn.BatchNorm2d, which keeps a running mean and variance"
Case = tuple[int, int, int]  # ResidualBlock(in_channels, out_channels, stride)


def reference(cls: str, *args: int) -> nn.Module:
    module: nn.Module = getattr(solution("residual"), cls)(*args)
    return module


def block_name(cin: int, cout: int, stride: int) -> str:
    return f"ResidualBlock({cin}, {cout}{', stride=2' if stride == 2 else ''})"


def draw_state(module: nn.Module, rng: Draw) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Random weights and running statistics for the reference's parameters and buffers, in its order:
    convolution and linear weights at about 1/sqrt(fan_in), batch norms' gamma around 1 and beta around 0,
    running means around 0 and running variances between 0.5 and 1.5."""
    weights = []
    for name, p in module.named_parameters():
        if p.dim() > 1:
            weights.append(rng.randn(*p.shape, scale=p[0].numel() ** -0.5))
        elif name.endswith("weight"):
            weights.append(rng.randn(*p.shape, scale=0.5, shift=1.0))
        else:
            weights.append(rng.randn(*p.shape, scale=0.3))
    stats = []
    for name, b in module.named_buffers():
        if name.endswith("running_mean"):
            stats.append(rng.randn(*b.shape, scale=0.5))
        elif name.endswith("running_var"):
            stats.append(rng.rand(*b.shape) + 0.5)
        else:
            stats.append(b.clone())
    return weights, stats


def export_net(submission: Submission, rng: Draw, config: tuple[int, int], examples: Sequence[torch.Tensor],
               modes: Sequence[str]) -> Exported:
    """The student's TinyResNet(*config), exported for inputs shaped like `examples` (never the examples)."""
    return export(submission, EXERCISE, "residual.TinyResNet", config, [rng.randn(*x.shape) for x in examples],
                  f"TinyResNet{config}", rng, modes=list(modes))


def export_blocks(submission: Submission, rng: Draw, cases: Sequence[Case], inputs: Sequence[Sequence[torch.Tensor]],
                  modes: Sequence[Sequence[str]]) -> list[Exported]:
    """The student's ResidualBlock(*case) for each case, exported in one request, for inputs shaped like the
    case's inputs (never the inputs)."""
    s = Scenario(EXERCISE)
    steps = [s.export(s.call("residual.ResidualBlock", case[0], case[1], stride=case[2]),
                      [[rng.randn(*x.shape)] for x in xs], modes=list(m))
             for case, xs, m in zip(cases, inputs, modes)]
    readings = s.run(submission, seed=rng.seed())
    return [readings.exported(step, block_name(*case)) for case, step in zip(cases, steps)]


def orders(cls: str, args: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Where the reference's parameters and buffers sit, in the order of their roles in its graph. That order
    follows from which layers feed which (and a 1x1 conv's batch norm before a 3x3 one's), never from channel
    counts, the input's size or the mode: one trace per structure."""
    return structure_orders(cls, cls == "ResidualBlock" and (args[2] != 1 or args[0] != args[1]))


@cache
def structure_orders(cls: str, projection: bool) -> tuple[list[int], list[int]]:
    args = ((3, 5, 2) if projection else (3, 3, 1)) if cls == "ResidualBlock" else (1, 10)
    return role_order(reference(cls, *args), torch.zeros(2, args[0], 12, 12), "train")


def by_role(cls: str, args: tuple[int, ...], values: list[torch.Tensor], buffers: bool = False) -> list[torch.Tensor]:
    """Values in the order of the reference's parameters (or buffers), rearranged into the order of their roles."""
    return [values[i] for i in orders(cls, args)[1 if buffers else 0]]


def loaded(exported: Exported, cls: str, args: tuple[int, ...], weights: list[torch.Tensor],
           stats: list[torch.Tensor] | None = None, call: int = 0
           ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    """The grader's weights (and running statistics) in the student's parameters (and buffers), by role."""
    hint = BLOCK_HINT if cls == "ResidualBlock" else NET_HINT
    params = exported.by_shape(by_role(cls, args, weights), hint, call)
    if stats is None:
        return params, None
    return params, exported.buffers_by_shape(by_role(cls, args, stats, buffers=True), STATS_HINT, call)


# --- the block ---------------------------------------------------------------------------


def odd_input(rng: Draw, channels: int, batch: int | None = None) -> torch.Tensor:
    """An input of unseen, often odd, size (a batch of one has at least 3x3 pixels for the batch norms)."""
    return rng.randn(batch or rng.integer(1, 6), channels, rng.integer(3, 13), rng.integer(3, 13), scale=1.5)


def identity_case(rng: Draw) -> Case:
    channels = rng.integer(2, 12)
    return channels, channels, 1


def projection_cases(rng: Draw) -> list[Case]:
    """More channels with stride 2, the same channels with stride 2, other channels with stride 1."""
    cin = rng.integer(2, 8)
    other = rng.choice([c for c in range(2, 12) if c != cin])
    return [(cin, cin + rng.integer(1, 8), 2), (cin, cin, 2), (cin, other, 1)]


def expect_block_parameters(submission: Submission, rng: Draw, cases: list[Case]) -> None:
    xs = [odd_input(rng, case[0]) for case in cases]
    for case, x, block in zip(cases, xs, export_blocks(submission, rng, cases, [[x] for x in xs],
                                                       [["train"]] * len(cases))):
        what = block_name(*case)
        ref = reference("ResidualBlock", *case)
        expect_parameter_shapes(block, ref, what, BLOCK_HINT)
        weights = by_role("ResidualBlock", case, draw_state(ref, rng)[0])
        expect_all_used(block, 0, weights, x)
        expect_layer_roles(block, run_layers(block, 0, weights, x), what, BLOCK_HINT)


def expect_parameter_shapes(exported: Exported, ref: nn.Module, what: str, hint: str) -> None:
    """The exported parameters have the reference's shapes (so its counts too), whatever their order."""
    have, wanted = exported.param_shapes, sorted(tuple(p.shape) for p in ref.parameters())
    expect(have == wanted, f"{what}'s parameters differ from the asked-for ones: {shape_difference(have, wanted)}: "
           f"{hint}")


def expect_layer_roles(exported: Exported, found: list[Layer], what: str, hint: str) -> None:
    """In the grader's run, each parameter must do the job its shape implies: a 4-d one is the weight of a
    convolution, a 2-d one the weight of a linear layer, a 1-d one a batch norm's gamma or beta (or the
    linear layer's bias)."""
    jobs: dict[int, set[str]] = {}
    for layer in found:
        for index in layer.params:
            jobs.setdefault(index, set()).add(layer.kind)
    expected = {4: {"conv"}, 2: {"linear"}, 1: {"batch_norm", "linear"}}
    wrong = [p for p in exported.params if not jobs.get(p.index, set()) & expected.get(len(p.shape), set())]
    if wrong:
        raise Mismatch(f"{what}: in the grader's run, its parameters of shapes "
                       f"{', '.join(shape_str(p.shape) for p in wrong)} are not the weights of convolutions, "
                       f"batch norms or a linear layer: {hint}")


@pytest.mark.points(1)
def test_block_identity_parameters(submission: Submission, rng: Draw) -> None:
    """ResidualBlock(C, C) has two bias-free 3x3 convolutions and two batch norms, no shortcut parameters,
    each doing its job in the grader's run"""
    expect_block_parameters(submission, rng, [identity_case(rng)])


@pytest.mark.points(1)
def test_block_projection_parameters(submission: Submission, rng: Draw) -> None:
    """a block that changes the shape has a 1x1 convolution and a batch norm on its shortcut, for more channels,
    stride 2 or both"""
    expect_block_parameters(submission, rng, projection_cases(rng))


def diagnose(ref: nn.Module, x: torch.Tensor, out: torch.Tensor) -> str:
    """What a block's wrong output looks like, computed with the reference's parts on the same input and weights."""
    conv1, bn1, conv2, bn2, shortcut_of = (ref.get_submodule(name)
                                           for name in ("conv1", "bn1", "conv2", "bn2", "shortcut"))
    with torch.no_grad():
        ref.train()
        residual = bn2(conv2(F.relu(bn1(conv1(x)))))
        shortcut = shortcut_of(x)
        norm_last = bn2(conv2(bn1(F.relu(conv1(x)))))
        looks = [(F.relu(residual), "it never adds the shortcut: return relu(F(x) + shortcut(x))"),
                 (F.relu(residual) + shortcut, "it adds the shortcut after the last ReLU: add first, then the ReLU"),
                 (residual + shortcut, "the ReLU after the addition is missing"),
                 (F.relu(norm_last + shortcut), "the first batch norm comes after its ReLU: write conv -> BN -> ReLU, "
                  "as the ResNet paper does")]
    for candidate, hint in looks:
        if candidate.shape == out.shape and torch.allclose(out, candidate, atol=1e-4, rtol=1e-3):
            return hint
    return "conv 3x3 (stride) -> BN -> ReLU -> conv 3x3 -> BN, plus the shortcut, then the ReLU"


def expect_block_output(submission: Submission, rng: Draw, cases: list[Case]) -> None:
    inputs = [[odd_input(rng, case[0]), odd_input(rng, case[0], batch=rng.integer(5, 16))] for case in cases]
    blocks = export_blocks(submission, rng, cases, inputs, [["train", "train"]] * len(cases))
    for case, xs, block in zip(cases, inputs, blocks):
        what = block_name(*case)
        ref = reference("ResidualBlock", *case)
        weights, _ = draw_state(ref, rng)
        for call, x in enumerate(xs):
            params, _ = loaded(block, "ResidualBlock", case, weights, call=call)
            out = block.forward(call, params, [x]).output
            expected = reference_output(ref, weights, x, train=True)
            expect_shape(out, expected.shape, f"{what}(x) for x of shape {shape_str(x)}",
                         "3x3 convolutions with padding 1; only the first one (and the 1x1 shortcut) has the stride")
            if not torch.allclose(out, expected, atol=1e-4, rtol=1e-3):
                raise Mismatch(f"{what}(x) in training mode, with random weights, has the right shape but the wrong "
                               f"values: {diagnose(ref, x, out)}")


@pytest.mark.points(2)
def test_block_identity_output(submission: Submission, rng: Draw) -> None:
    """ResidualBlock(C, C) computes relu(F(x) + x) exactly, with random weights, on unseen sizes and batches"""
    expect_block_output(submission, rng, [identity_case(rng)])


@pytest.mark.points(2)
def test_block_projection_output(submission: Submission, rng: Draw) -> None:
    """a block that changes the shape computes relu(F(x) + bn(conv1x1(x))) exactly, with random weights"""
    expect_block_output(submission, rng, projection_cases(rng))


@pytest.mark.points(1)
def test_block_skip(submission: Submission, rng: Draw) -> None:
    """with its residual branch silenced (gamma = beta = 0), a block gives relu(shortcut(x)): relu(x) when the
    shape stays, relu(bn(conv1x1(x))) when it changes"""
    cases = [identity_case(rng), projection_cases(rng)[0]]
    xs = [odd_input(rng, case[0]) for case in cases]
    for case, x, block in zip(cases, xs, export_blocks(submission, rng, cases, [[x] for x in xs], [["train"]] * 2)):
        what = block_name(*case)
        ref = reference("ResidualBlock", *case)
        weights, _ = draw_state(ref, rng)
        silenced = [torch.zeros_like(w) if name.startswith(("bn1.", "bn2.")) else w
                    for (name, _), w in zip(ref.named_parameters(), weights)]
        params, _ = loaded(block, "ResidualBlock", case, silenced)
        out = block.forward(0, params, [x]).output
        expected = reference_output(ref, silenced, x, train=True)
        expect_shape(out, expected.shape, f"{what}(x) for x of shape {shape_str(x)}")
        if torch.allclose(out, expected, atol=1e-4, rtol=1e-3):
            continue
        if not bool(out.abs().sum() > 0):
            hint = "it gave zeros: the block never adds the shortcut (its input) back"
        elif bool((out < 0).any()):
            hint = ("negative values came out: the block must end with relu(F(x) + shortcut(x)), the ReLU last, "
                    "after the addition")
        else:
            hint = "it should give relu(shortcut(x)) when F(x) is zero"
        raise Mismatch(f"{what}(x) with the batch norms of its residual branch at gamma = beta = 0: {hint}")


@pytest.mark.points(2)
def test_block_eval_mode(submission: Submission, rng: Draw) -> None:
    """a block updates its batch norms' running statistics in training mode and uses them in eval mode,
    as nn.BatchNorm2d does"""
    cases = [identity_case(rng), projection_cases(rng)[0]]
    inputs = [[odd_input(rng, case[0], batch=rng.integer(4, 12)), odd_input(rng, case[0], batch=rng.integer(1, 3))]
              for case in cases]
    for case, xs, block in zip(cases, inputs, export_blocks(submission, rng, cases, inputs, [["train", "eval"]] * 2)):
        what = block_name(*case)
        ref = reference("ResidualBlock", *case)
        weights, stats = draw_state(ref, rng)
        params, buffers = loaded(block, "ResidualBlock", case, weights, stats)
        assert buffers is not None
        out = block.forward(0, params, [xs[0]], buffers=buffers).output  # a training step: the statistics move
        expected = reference_output(ref, weights, xs[0], buffers=stats, train=True)
        if not (out.shape == expected.shape and torch.allclose(out, expected, atol=1e-4, rtol=1e-3)):
            raise Mismatch(f"{what}(x) is wrong in training mode already, so its eval mode cannot be right: "
                           f"{diagnose(ref, xs[0], out) if out.shape == expected.shape else 'see its output checks'}")
        moved = by_role("ResidualBlock", case, [b.clone() for b in ref.buffers()], buffers=True)
        for got, expected in zip(buffers, block.buffers_by_shape(moved, STATS_HINT)):
            expect_close(got.double(), expected.double(), f"{what}'s running statistics after one training batch",
                         hint="nn.BatchNorm2d's defaults: momentum 0.1, the unbiased variance")
        out = block.forward(1, params, [xs[1]], buffers=buffers).output
        expect_close(out, reference_output(ref, weights, xs[1], train=False),
                     f"{what}(x) in eval mode after one training batch, for a batch of {xs[1].shape[0]}", atol=1e-4,
                     rtol=1e-3, hint="in eval mode each batch norm uses its running mean and variance, not the batch's")


# --- the network -------------------------------------------------------------------------


def net_config(rng: Draw) -> tuple[int, int]:
    return rng.integer(1, 4), rng.integer(2, 12)


def net_input(rng: Draw, channels: int, batch: int | None = None) -> torch.Tensor:
    return rng.randn(batch or rng.integer(2, 6), channels, rng.integer(9, 40), rng.integer(9, 40))


def expect_net_output(submission: Submission, rng: Draw, mode: str) -> None:
    config = net_config(rng)
    what = f"TinyResNet{config}"
    ref = reference("TinyResNet", *config)
    xs = [net_input(rng, config[0]), net_input(rng, config[0], batch=rng.integer(1, 3) if mode == "eval" else None)]
    net = export_net(submission, rng, config, xs, [mode, mode])
    weights, stats = draw_state(ref, rng)
    for call, x in enumerate(xs):
        params, buffers = loaded(net, "TinyResNet", config, weights, stats if mode == "eval" else None, call)
        out = net.forward(call, params, [x], buffers=buffers).output
        expected = reference_output(ref, weights, x, buffers=stats, train=mode == "train")
        expect_close(out, expected, f"{what}(x) in {mode} mode with random weights, x of shape {shape_str(x)}",
                     atol=1e-4, rtol=1e-3, hint=("each batch norm uses its running statistics in eval mode (if "
                                                 "the training-mode scores are wrong too, fix those first)"
                                                 if mode == "eval" else
                                                 "stem conv-BN-ReLU, the three blocks, the average over H and W, "
                                                 "the linear classifier (no ReLU or softmax after it)"))


@pytest.mark.points(2)
def test_tiny_resnet_parameters(submission: Submission, rng: Draw) -> None:
    """TinyResNet(C, K) has the stem, the three blocks and one classifier (77,754 parameters for (1, 10)),
    each parameter doing its job in the grader's run"""
    config = net_config(rng)
    ref = reference("TinyResNet", *config)
    x = net_input(rng, config[0])
    net = export_net(submission, rng, config, [x], ["train"])
    what = f"TinyResNet{config}"
    expect_parameter_shapes(net, ref, what, NET_HINT)
    weights, _ = draw_state(ref, rng)
    expect_all_used(net, 0, by_role("TinyResNet", config, weights), x)
    expect_layer_roles(net, run_layers(net, 0, by_role("TinyResNet", config, weights), x), what, NET_HINT)


@pytest.mark.points(1)
def test_tiny_resnet_shapes(submission: Submission, rng: Draw) -> None:
    """each convolution of TinyResNet sees and gives the reference's shapes, on an unseen non-square image"""
    config = net_config(rng)
    what = f"TinyResNet{config}"
    ref = reference("TinyResNet", *config)
    x = net_input(rng, config[0])
    net = export_net(submission, rng, config, [x], ["train"])
    weights, _ = draw_state(ref, rng)
    params, _ = loaded(net, "TinyResNet", config, weights)
    run = net.forward(0, params, [x], keep=True)
    expect_shape(run.output, (x.shape[0], config[1]), f"{what}(x) for x of shape {shape_str(x)}",
                 "one score per class: flatten the pooled (N, 64, 1, 1) to (N, 64) before the linear layer")
    found = layers(net.graph(0), run, [*params, *net.buffer_values(), x], len(net.params))
    got = sorted((per_sample(c.in_shape), per_sample(c.out_shape)) for c in found if c.kind == "conv")
    seen: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda _m, i, o: seen.append((tuple(i[0].shape[1:]), tuple(o.shape[1:]))))
             for m in ref.modules() if isinstance(m, nn.Conv2d)]
    reference_output(ref, weights, x, train=True)
    for hook in hooks:
        hook.remove()
    expect(got == sorted(seen), f"{what}: the per-image (input, output) shapes of its convolutions differ from "
           "the reference's on a non-square image: padding 1 on every 3x3 conv, none on the 1x1 shortcuts, and "
           "stride 2 only in the first conv and the shortcut of the 16->32 and 32->64 blocks")


@pytest.mark.points(2)
def test_tiny_resnet_output(submission: Submission, rng: Draw) -> None:
    """TinyResNet(C, K) computes the reference's scores exactly in training mode, with random weights, on
    unseen image sizes"""
    expect_net_output(submission, rng, "train")


@pytest.mark.points(1)
def test_tiny_resnet_eval_mode(submission: Submission, rng: Draw) -> None:
    """in eval mode TinyResNet(C, K) gives the reference's scores with the grader's running statistics"""
    expect_net_output(submission, rng, "eval")


@pytest.mark.points(1)
def test_tiny_resnet_global_average_pooling(submission: Submission, rng: Draw) -> None:
    """TinyResNet ends in global average pooling and ONE linear classifier: its scores are the linear map of
    each channel's mean over the whole image, for images of different sizes"""
    config = net_config(rng)
    what = f"TinyResNet{config}"
    ref = reference("TinyResNet", *config)
    xs = [net_input(rng, config[0]), net_input(rng, config[0])]
    net = export_net(submission, rng, config, xs, ["eval", "eval"])
    weights, stats = draw_state(ref, rng)
    named = {name: w for (name, _), w in zip(ref.named_parameters(), weights)}
    for call, x in enumerate(xs):
        params, buffers = loaded(net, "TinyResNet", config, weights, stats, call)
        run = net.forward(call, params, [x], buffers=buffers, keep=True)
        state = [*params, *(buffers or []), x]
        linear = [layer for layer in layers(net.graph(call), run, state, len(params)) if layer.kind == "linear"]
        expect(len(linear) == 1, f"{what} has {len(linear)} linear layers, expected one: the classifier after the "
               "global average pooling, and no hidden fully-connected layers")
        maps = [v for v in run.values if isinstance(v, torch.Tensor) and v.dim() == 4 and v.shape[2] * v.shape[3] > 1]
        expect(bool(maps), f"{what} has no feature maps larger than 1x1")
        expected = F.linear(maps[-1].mean(dim=(2, 3)), named["fc.weight"], named["fc.bias"])
        expect_close(run.output, expected, f"{what}(x) compared with the linear classifier applied to each channel's "
                     f"mean over the last feature maps, x of shape {shape_str(x)}", atol=1e-4, rtol=1e-3,
                     hint="average each of the 64 channels over the whole image (nn.AdaptiveAvgPool2d(1) or "
                     "x.mean(dim=(2, 3))), flatten, then the one linear layer")
