"""Hidden checks for lenet.py. The worker exports each network as a graph; every fact below
(parameter shapes and counts, each layer's shapes, the output, the gradients) comes from the
grader's own run of that graph, with its own random weights and inputs."""

from __future__ import annotations

import pytest
import torch

from grader.exercises.common import expect_all_used, export, forward, reference_output, reference_weights, run_layers
from grader.grading.checks import expect, expect_close, expect_equal, expect_shape
from grader.grading.layers import per_sample
from grader.grading.reference import solution
from grader.grading.scenario import Exported, Submission
from grader.grading.secret import Draw
from grader.inside.kit import scaled_weights

EXERCISE = "lenet"
# Per-image (input, output) shapes of the conv and linear layers: pooling may be a module or F.max_pool2d,
# so its 6x14x14 and 16x5x5 outputs are read from what the next layer receives.
NET_SHAPES = [((1, 32, 32), (6, 28, 28)), ((6, 14, 14), (16, 10, 10)), ((400,), (120,)), ((120,), (84,)),
              ((84,), (10,))]
LAYERS_HINT = "conv1 28x28, pool to 14x14, conv2 10x10, pool to 5x5, then 400 -> 120 -> 84 -> 10"


def reference(cls: str, *args: int) -> torch.nn.Module:
    module: torch.nn.Module = getattr(solution("lenet"), cls)(*args)
    return module


def export_net(submission: Submission, rng: Draw, cls: str, args: tuple[int, ...], batches: list[int], channels: int = 1
               ) -> Exported:
    """The student's lenet.<cls>(*args), exported for inputs of these batch sizes."""
    examples = [rng.randn(n, channels, 32, 32) for n in batches]
    return export(submission, EXERCISE, f"lenet.{cls}", args, examples, f"{cls}{args if args else '()'}", rng)


@pytest.mark.points(2)
def test_net_parameters(submission: Submission, rng: Draw) -> None:
    """Net() has LeNet's ten parameter tensors (61,706 numbers), and every one of them is used"""
    net = export_net(submission, rng, "Net", (), [2])
    expect_equal(net.param_shapes, sorted(tuple(p.shape) for p in reference("Net").parameters()),
                 "Net's parameter shapes (sorted)", "conv 1->6 5x5, conv 6->16 5x5, fc 400->120->84->10, all with bias")
    expect_equal(net.n_params, 61_706, "Net's parameter count")
    weights = reference_weights(reference("Net"), rng)
    expect_all_used(net, 0, weights, rng.randn(2, 1, 32, 32))


@pytest.mark.points(2)
def test_net_output_shape(submission: Submission, rng: Draw) -> None:
    """Net() maps one 1x32x32 image to 10 scores, and every parameter takes part"""
    net = export_net(submission, rng, "Net", (), [1])
    weights = reference_weights(reference("Net"), rng)
    x = rng.randn(1, 1, 32, 32)
    expect_shape(forward(net, 0, weights, x).output, (1, 10), "Net on one 1x32x32 image")
    expect_all_used(net, 0, weights, x)


@pytest.mark.points(3)
def test_net_intermediate_shapes(submission: Submission, rng: Draw) -> None:
    """each conv and linear layer of Net() sees and gives LeNet's shapes, for a batch of 7"""
    net = export_net(submission, rng, "Net", (), [7])
    weights = reference_weights(reference("Net"), rng)
    x = rng.randn(7, 1, 32, 32)
    got = [(per_sample(layer.in_shape), per_sample(layer.out_shape))
           for layer in run_layers(net, 0, weights, x) if layer.kind in ("conv", "linear")]
    expect(got[:1] == NET_SHAPES[:1], f"the first convolution mapped {got[0] if got else 'nothing'}, expected "
           "(1, 32, 32) -> (6, 28, 28) per image: a 5x5 kernel with padding=0 trims 2 pixels from each side")
    expect_equal(got, NET_SHAPES, "the per-image (input, output) shapes of each conv and linear layer", LAYERS_HINT)
    expect_all_used(net, 0, weights, x)


@pytest.mark.points(3)
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_net_any_batch_size(submission: Submission, rng: Draw, batch: int) -> None:
    """Net() computes exactly LeNet's scores with random weights, for batches of 1, 7 and 64"""
    net = export_net(submission, rng, "Net", (), [batch])
    weights = reference_weights(reference("Net"), rng)
    x = rng.randn(batch, 1, 32, 32)
    expect_close(forward(net, 0, weights, x).output, reference_output(reference("Net"), weights, x),
                 f"Net's scores for a batch of {batch}",
                 hint="check the layer order, the ReLUs (none after fc3) and a flatten that keeps the batch dimension")


@pytest.mark.points(2)
def test_lenet_softmax(submission: Submission, rng: Draw) -> None:
    """LeNet() gives probabilities: LeNet's softmax over the classes, exactly, with random weights"""
    net = export_net(submission, rng, "LeNet", (1, 10), [5])
    weights = reference_weights(reference("LeNet"), rng)
    x = rng.randn(5, 1, 32, 32)
    out = forward(net, 0, weights, x).output
    expect_close(out.sum(dim=1), torch.ones(5), "the row sums of LeNet's output", hint="softmax over dim=1")
    expect_close(out, reference_output(reference("LeNet"), weights, x), "LeNet's probabilities")


@pytest.mark.points(2)
def test_lenet_parameters(submission: Submission, rng: Draw) -> None:
    """LeNet(in_channels, num_classes) has bias-free convolutions and the right size for other channels and classes"""
    channels, classes = rng.choice([2, 3, 4]), rng.choice([3, 4, 7])
    net = export_net(submission, rng, "LeNet", (channels, classes), [2], channels=channels)
    what = f"LeNet({channels}, {classes})"
    expect_equal(net.param_shapes, sorted(tuple(p.shape) for p in reference("LeNet", channels, classes).parameters()),
                 f"{what}'s parameter shapes (sorted)",
                 "both convolutions have bias=False; fc3 has num_classes outputs")
    expect_equal(net.n_params, sum(p.numel() for p in reference("LeNet", channels, classes).parameters()),
                 f"{what}'s parameter count")
    # weights at 1/sqrt(fan_in): at a fixed scale the scores can grow so large that the softmax saturates and
    # every gradient underflows to zero, a correct LeNet's included (13 draws in 1,000 at 0.2; none at this scale)
    shapes = [list(p.shape) for p in reference("LeNet", channels, classes).parameters()]
    expect_all_used(net, 0, scaled_weights(shapes, rng.generator), rng.randn(2, channels, 32, 32))
    expect_equal(export_net(submission, rng, "LeNet", (1, 10), [1]).n_params, 61_684, "LeNet(1, 10)'s parameter count")
