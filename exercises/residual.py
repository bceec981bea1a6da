"""Exercise 9: residual connections and a tiny ResNet.

Seed 001 names residual connections among the operations a modern architecture applies
between its layers; seed 003 sums ResNet up: skip connections, batch normalisation and no
fully-connected layers. A residual block adds its input back onto what its layers computed,

    x --> conv 3x3 (stride) -> BN -> ReLU -> conv 3x3 -> BN --> (+) -> ReLU --> out
    |                                                            ^
    +------------------------- shortcut(x) ----------------------+

so its layers only learn a correction F(x) to x, and the gradient flows back through the
"+" untouched: that is what lets ResNets be hundreds of layers deep.

The numbers to aim for:

    ResidualBlock(16, 16)             N x 16 x H x W -> N x 16 x H x W          4,672 parameters
    ResidualBlock(16, 32, stride=2)   N x 16 x H x W -> N x 32 x H/2 x W/2     14,528 parameters
    TinyResNet(1, 10)                 N x 1 x H x W  -> N x 10, for any H, W   77,754 parameters

Where batch normalisation goes: seed 003 says ResNet uses it "after the activation
layers". The ResNet paper (He et al. 2015, section 3.4) puts it right after each
convolution and before the activation, and so do torchvision's ResNets: write
conv -> BN -> ReLU, as drawn above.

Name the layers as you like, use nn.ReLU or F.relu, nn.Sequential or separate
attributes, compute the shortcut first or last: the checks look at what your network
does, not at how you spell it.

Run the checks with:  pytest exercises/test_residual.py
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    """A basic residual block: out = ReLU(F(x) + shortcut(x)).

    ResidualBlock(in_channels, out_channels, stride=1) has

      F:        conv 3x3, in_channels -> out_channels, stride `stride`, padding 1, no bias
                batch norm (out_channels), ReLU
                conv 3x3, out_channels -> out_channels, stride 1, padding 1, no bias
                batch norm (out_channels)
      shortcut: the identity when the shape stays the same (stride 1 and
                in_channels == out_channels): no parameters at all;
                otherwise a 1x1 conv in_channels -> out_channels with stride `stride`
                and no bias, followed by a batch norm (a "projection").

    Add the shortcut to F(x) BEFORE the final ReLU. The convolutions have no bias
    because the batch norm after each one subtracts the mean anyway (its beta is the bias).

    Parameters: ResidualBlock(16, 16) has 2 * 16*16*3*3 + 2 * (16 + 16) = 4,672;
    ResidualBlock(16, 32, stride=2) has 32*16*3*3 + 32*32*3*3 + 32*16 + 3 * (32 + 32)
    = 14,528. An H x W input gives H x W out with stride 1, and (H + 1) // 2 x
    (W + 1) // 2 with stride 2 (both paths must agree on that size).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")


class TinyResNet(nn.Module):
    """The smallest ResNet of the paper's CIFAR family (ResNet-8): three residual stages.

    TinyResNet(in_channels=1, num_classes=10):

        stem      conv 3x3, in_channels -> 16, padding 1, no bias; batch norm; ReLU
        stage 1   ResidualBlock(16, 16)
        stage 2   ResidualBlock(16, 32, stride=2)
        stage 3   ResidualBlock(32, 64, stride=2)
        head      global average pooling: the mean of each of the 64 channels over the
                  whole image (nn.AdaptiveAvgPool2d(1), or x.mean(dim=(2, 3))), then one
                  nn.Linear(64, num_classes)

    forward(x) takes (N, in_channels, H, W) for ANY H and W and returns raw scores
    (N, num_classes), no softmax. TinyResNet(1, 10) has 77,754 parameters.

    Why one linear layer, when seed 003 says ResNet has no fully-connected layers: the
    layers ResNet drops are the hidden ones between the features and the output (LeNet's
    fc1 and fc2 hold 58,284 of its 61,706 parameters). Global average pooling leaves one
    number per channel whatever the image size, and the ResNet paper ends with global
    average pooling and a single fully-connected classifier from those channels to the
    classes. Here that classifier is 650 of the 77,754 parameters.
    """

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")
