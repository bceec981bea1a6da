"""Visible checks for exercises/lenet.py. Run: pytest exercises/test_lenet.py"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from _kit.checks import expect, expect_close, expect_equal, expect_shape, student

# What goes into and comes out of each convolution and the first linear layer. Pooling can be a
# module or F.max_pool2d, so its results (6x14x14, 16x5x5) are read from what the next layer gets.
LENET_SHAPES = [((1, 1, 32, 32), (1, 6, 28, 28)), ((1, 6, 14, 14), (1, 16, 10, 10)), ((1, 400), (1, 120))]


def conv_outputs(net: nn.Module, x: torch.Tensor) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(input, output) shapes of the convolutions and the first linear layer that run, in order. When
    forward fails further on, the shapes seen so far still come back (they show where it went wrong)."""
    shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda _m, i, out: shapes.append((tuple(i[0].shape), tuple(out.shape))))
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        net(x)
    except Exception:
        if not shapes or shapes[: len(LENET_SHAPES)] == LENET_SHAPES[: len(shapes)]:
            raise  # the layers were right so far: the error itself says more
    finally:
        for h in hooks:
            h.remove()
    return shapes


def set_lenet_weights(net: nn.Module, seed: int) -> dict[tuple[int, ...], torch.Tensor]:
    """Give each parameter of a LeNet random values, found by shape (the layers may have any names
    and order); return them by shape. None of LeNet's parameters share a shape."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    with torch.no_grad():
        for p in net.parameters():
            scale = p[0].numel() ** -0.5 if p.dim() > 1 else 0.1  # scores of about 1: a softmax that is not saturated
            p.copy_(torch.randn(p.shape, generator=generator) * scale)
            weights[tuple(p.shape)] = p.detach().clone()
    return weights


def lenet_scores(weights: dict[tuple[int, ...], torch.Tensor], x: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """LeNet's raw scores for x with these weights: conv, ReLU, max pool, twice; then three linear
    layers with a ReLU after the first two. Convolution biases are used when there are any."""
    channels = x.shape[1]
    w = weights.get
    y = F.max_pool2d(F.relu(F.conv2d(x, w((6, channels, 5, 5)), w((6,)))), 2)
    y = F.max_pool2d(F.relu(F.conv2d(y, w((16, 6, 5, 5)), w((16,)))), 2)
    y = F.relu(F.linear(torch.flatten(y, 1), w((120, 400)), w((120,))))
    y = F.relu(F.linear(y, w((84, 120)), w((84,))))
    return F.linear(y, w((classes, 84)), w((classes,)))


def expect_lenet_shapes(weights: dict[tuple[int, ...], torch.Tensor], what: str, channels: int = 1) -> None:
    needed = [(6, channels, 5, 5), (16, 6, 5, 5), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
    missing = [shape for shape in needed if shape not in weights]
    expect(not missing, f"{what} has no parameter of shape {missing[0] if missing else ''}",
           "the parameter checks of this file say which layer is off")


def test_net_parameters():
    """Net has ten parameter tensors and 61,706 parameters"""
    net = student("lenet").Net()
    params = list(net.parameters())
    expect_equal(len(params), 10, "len(list(Net().parameters()))", "each of the five layers holds a weight and a bias")
    expect_equal(sum(p.numel() for p in params), 61_706, "Net's parameter count",
                 "count each layer: a convolution holds out * in * k * k weights and out biases")


def test_net_output_shape():
    """Net maps a (1, 1, 32, 32) image to 10 scores"""
    net = student("lenet").Net()
    expect_shape(net(torch.randn(1, 1, 32, 32)), (1, 10), "Net()(x) for x of shape (1, 1, 32, 32)")


def test_net_intermediate_shapes():
    """Net's layers give 6x28x28, then 6x14x14 into conv2, 16x10x10, then 16x5x5 = 400 into fc1"""
    net = student("lenet").Net()
    got = conv_outputs(net, torch.randn(1, 1, 32, 32))[:3]
    expect(
        got[:1] == LENET_SHAPES[:1],
        f"the first conv layer mapped {' -> '.join(map(str, got[0])) if got else 'nothing'}, "
        "expected (1, 1, 32, 32) -> (1, 6, 28, 28)",
        "without padding, a 5x5 kernel cannot be centred on the 2 outer pixels of each side",
    )
    expect_equal(got, LENET_SHAPES, "the (input, output) shapes of conv1, conv2 and fc1",
                 "each 2x2 pooling halves the height and the width")


def expect_lenet_on_a_batch(net: nn.Module, what: str) -> None:
    """`net` (a LeNet for 1x32x32 inputs, built as `what`) computes LeNet's scores for each sample of a batch of 3."""
    weights = set_lenet_weights(net, seed=0)
    expect_lenet_shapes(weights, what)
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    batch = net(x)
    expect_shape(batch, (3, 10), f"{what}(x) for x of shape (3, 1, 32, 32)",
                 "the flatten must keep the batch dimension, whatever the batch size")
    one_by_one = torch.cat([net(x[i : i + 1]) for i in range(3)])
    expect_close(batch, one_by_one.detach(), "Net on a batch versus on each sample alone",
                 "the samples of a batch must not mix: look at how forward flattens")
    expect_close(batch, lenet_scores(weights, x), f"{what}'s scores with random weights",
                 "the order of the layers, or the ReLUs: one after every layer but fc3, none on the scores")


def test_net_any_batch_size():
    """Net computes LeNet's scores (a ReLU after every layer but the last) for each sample of a batch of 3"""
    expect_lenet_on_a_batch(student("lenet").Net(), "Net()")


def test_lenet_softmax():
    """LeNet() returns LeNet's probabilities: the softmax of its scores, each row summing to 1"""
    net = student("lenet").LeNet(1, 10)
    weights = set_lenet_weights(net, seed=2)
    x = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(3))
    y = net(x)
    expect_shape(y, (2, 10), "LeNet(1, 10)(x) for x of shape (2, 1, 32, 32)")
    expect_close(y.sum(dim=1), torch.ones(2), "the row sums of LeNet's output",
                 "a softmax over the classes makes each sample's 10 values sum to 1")
    expect_lenet_shapes(weights, "LeNet(1, 10)")
    expect_close(y, torch.softmax(lenet_scores(weights, x), dim=1), "LeNet's probabilities with random weights",
                 "the same layers as Net, and the softmax right after fc3 (no ReLU before it)")


def test_lenet_parameters():
    """LeNet(1, 10) has 61,684 parameters: its convolutions have no bias"""
    net = student("lenet").LeNet(1, 10)
    expect_equal(sum(p.numel() for p in net.parameters()), 61_684, "LeNet(1, 10)'s parameter count",
                 "22 parameters fewer than Net: the 6 + 16 biases of the two convolutions")
