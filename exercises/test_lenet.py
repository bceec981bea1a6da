"""Visible checks for exercises/lenet.py. Run: pytest exercises/test_lenet.py"""

import torch
import torch.nn as nn

from _kit.checks import expect, expect_close, expect_equal, expect_shape, student

# What goes into and comes out of each convolution and the first linear layer. Pooling can be a
# module or F.max_pool2d, so its results (6x14x14, 16x5x5) are read from what the next layer gets.
LENET_SHAPES = [((1, 1, 32, 32), (1, 6, 28, 28)), ((1, 6, 14, 14), (1, 16, 10, 10)), ((1, 400), (1, 120))]


def conv_outputs(net: nn.Module, x: torch.Tensor) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(input, output) shapes of the convolutions and the first linear layer that run, in order."""
    shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda _m, i, out: shapes.append((tuple(i[0].shape), tuple(out.shape))))
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        net(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def test_net_parameters():
    """Net has ten parameter tensors and 61,706 parameters"""
    net = student("lenet").Net()
    params = list(net.parameters())
    expect_equal(len(params), 10, "len(list(Net().parameters()))", "five layers, each with a weight and a bias")
    expect_equal(sum(p.numel() for p in params), 61_706, "Net's parameter count", "conv1 has 6*1*5*5 + 6 = 156")


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
        f"the first conv layer mapped {got[0] if got else 'nothing'}, expected (1, 1, 32, 32) -> (1, 6, 28, 28)",
        "a 5x5 kernel with padding=0 trims 2 pixels from each side: 32 -> 28",
    )
    expect_equal(got, LENET_SHAPES, "the (input, output) shapes of conv1, conv2 and fc1",
                 "pool 2x2 halves 28 -> 14 and 10 -> 5, so fc1 gets 16 * 5 * 5 = 400 features")


def test_net_any_batch_size():
    """Net keeps the samples of a batch apart (batch of 3)"""
    torch.manual_seed(0)
    net = student("lenet").Net()
    x = torch.randn(3, 1, 32, 32)
    batch = net(x)
    expect_shape(batch, (3, 10), "Net()(x) for x of shape (3, 1, 32, 32)", "flatten with torch.flatten(x, 1)")
    one_by_one = torch.cat([net(x[i : i + 1]) for i in range(3)])
    expect_close(batch, one_by_one.detach(), "Net on a batch versus on each sample alone")


def test_lenet_softmax():
    """LeNet() returns probabilities: each row sums to 1"""
    net = student("lenet").LeNet(1, 10)
    y = net(torch.randn(2, 1, 32, 32))
    expect_shape(y, (2, 10), "LeNet(1, 10)(x) for x of shape (2, 1, 32, 32)")
    expect_close(y.sum(dim=1), torch.ones(2), "the row sums of LeNet's output", "torch.softmax(scores, dim=1)")


def test_lenet_parameters():
    """LeNet(1, 10) has 61,684 parameters: its convolutions have no bias"""
    net = student("lenet").LeNet(1, 10)
    expect_equal(sum(p.numel() for p in net.parameters()), 61_684, "LeNet(1, 10)'s parameter count", "bias=False in both nn.Conv2d")
