"""Visible checks for exercises/residual.py. Run: pytest exercises/test_residual.py"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from _kit.checks import expect, expect_close, expect_equal, expect_shape, student


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def expect_block(channels: tuple[int, int], stride: int, parameters: int, out_shape: tuple[int, ...],
                 count_hint: str, shape_hint: str) -> None:
    """ResidualBlock(*channels, stride) has `parameters` parameters and maps (2, 16, 8, 8) to `out_shape`."""
    block = student("residual").ResidualBlock(*channels, stride=stride)
    args = ", ".join(map(str, channels)) + (f", stride={stride}" if stride != 1 else "")
    expect_equal(count(block), parameters, f"ResidualBlock({args})'s parameter count", count_hint)
    expect_shape(block(torch.randn(2, 16, 8, 8)), out_shape, f"ResidualBlock({args})(x) for x of shape (2, 16, 8, 8)",
                 shape_hint)


def test_block_identity_parameters():
    """ResidualBlock(16, 16) keeps the shape and has 4,672 parameters: two 3x3 convs, two batch norms"""
    expect_block((16, 16), 1, 4_672, (2, 16, 8, 8),
                 "2 * 16*16*3*3 (no bias) + 2 * (16 + 16) for the batch norms; the identity shortcut has none",
                 "3x3 convolutions with padding=1 keep the size")


def test_block_projection_parameters():
    """ResidualBlock(16, 32, stride=2) halves the size and has 14,528 parameters, shortcut included"""
    expect_block((16, 32), 2, 14_528, (2, 32, 4, 4),
                 "the shortcut is a 1x1 conv 16 -> 32 (no bias) and a BatchNorm2d(32): 512 + 64 parameters",
                 "stride 2 in the first 3x3 conv and in the 1x1 shortcut conv")


def test_block_skip():
    """with every batch norm's weight and bias at 0, ResidualBlock(4, 4) returns relu(x): the skip carries x"""
    torch.manual_seed(0)
    block = student("residual").ResidualBlock(4, 4)
    norms = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    expect(len(norms) == 2, f"ResidualBlock(4, 4) has {len(norms)} nn.BatchNorm2d layers, expected 2",
           "one after each 3x3 convolution; the identity shortcut has none")
    with torch.no_grad():
        for bn in norms:
            bn.weight.zero_()
            bn.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    out = block(x)
    expect(not bool((out.detach() == 0).all()), "ResidualBlock(4, 4) gave all zeros when F(x) = 0",
           "add the block's input back: relu(F(x) + x)")
    expect_close(out, F.relu(x), "ResidualBlock(4, 4)(x) with its batch norms zeroed",
                 "the shortcut is added before the last ReLU: relu(F(x) + x), not relu(F(x)) + x")


def test_block_eval_mode():
    """in eval mode a block uses running statistics, so each sample gets the same output alone as in a batch"""
    torch.manual_seed(0)
    block = student("residual").ResidualBlock(3, 6, stride=2)
    x = torch.randn(5, 3, 9, 9)
    block(x)  # one training batch moves the running statistics
    block.eval()
    with torch.no_grad():
        batch = block(x)
        alone = torch.cat([block(x[i : i + 1]) for i in range(5)])
    expect_close(batch, alone, "ResidualBlock(3, 6, stride=2) in eval mode, on a batch versus on each sample alone",
                 "nn.BatchNorm2d uses its running mean and variance in eval mode")


def test_tiny_resnet_parameters():
    """TinyResNet(1, 10) has 77,754 parameters and exactly one linear layer, the classifier"""
    net = student("residual").TinyResNet(1, 10)
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    expect(len(linear) == 1, f"TinyResNet(1, 10) has {len(linear)} nn.Linear layers, expected one",
           "ResNet has no hidden fully-connected layers: global average pooling, then Linear(64, num_classes)")
    expect_equal(count(net), 77_754, "TinyResNet(1, 10)'s parameter count",
                 "stem 144 + 32, blocks 4,672 + 14,528 + 57,728, classifier 64 * 10 + 10")


def test_tiny_resnet_shapes():
    """TinyResNet gives one score per class for 28x28, 32x32 and 17x23 images"""
    torch.manual_seed(0)
    residual = student("residual")
    for channels, classes, shape in [(1, 10, (2, 1, 28, 28)), (1, 10, (1, 1, 32, 32)), (3, 5, (3, 3, 17, 23))]:
        net = residual.TinyResNet(channels, classes)
        expect_shape(net(torch.randn(*shape)), (shape[0], classes),
                     f"TinyResNet({channels}, {classes})(x) for x of shape {shape}",
                     "average each channel over the whole image (nn.AdaptiveAvgPool2d(1)), flatten, then the linear "
                     "layer")


def test_tiny_resnet_global_average_pooling():
    """TinyResNet's scores depend only on each channel's mean over the image: the classifier sees 64 numbers"""
    torch.manual_seed(0)
    net = student("residual").TinyResNet(1, 10)
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    expect(len(linear) == 1, f"TinyResNet(1, 10) has {len(linear)} nn.Linear layers, expected one")
    seen = []
    handle = linear[0].register_forward_hook(lambda _m, i, _o: seen.append(tuple(i[0].shape)))
    try:
        net(torch.randn(2, 1, 20, 28))
    finally:
        handle.remove()
    expect_equal(seen, [(2, 64)], "the input shape of the linear classifier for a (2, 1, 20, 28) batch",
                 "nn.AdaptiveAvgPool2d(1) gives (N, 64, 1, 1): flatten it to (N, 64)")
