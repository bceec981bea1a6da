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
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
        )
        self.stages = nn.Sequential(
            ResidualBlock(16, 16),
            ResidualBlock(16, 32, stride=2),
            ResidualBlock(32, 64, stride=2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))
        ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_residual.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_block_identity_parameters": (
        "A block that keeps its shape learns only on its main path: two convolutions, each followed by a batch "
        "norm. Its shortcut is the input itself, with no parameters.",
        "Both convolutions are 3x3 with padding=1 (the size stays) and bias=False (the batch norm after each has "
        "its own beta): 2 * 16*16*3*3 + 2 * (16 + 16) = 4,672.",
        "self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)\n"
        "self.bn1 = nn.BatchNorm2d(out_channels)\n"
        "self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)\n"
        "self.bn2 = nn.BatchNorm2d(out_channels)",
    ),
    "test_block_projection_parameters": (
        "When the block changes the channels or the size, x cannot be added to F(x) as it is: the shortcut must "
        "change its shape the same way the main path does.",
        "Only the first 3x3 conv has the stride. The shortcut is then a 1x1 conv with the same stride and no bias, "
        "followed by a BatchNorm2d: 32*16 + 32 + 32 = 576 of the 14,528 parameters.",
        "if stride != 1 or in_channels != out_channels:\n"
        "    self.shortcut = nn.Sequential(\n"
        "        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),\n"
        "        nn.BatchNorm2d(out_channels))\n"
        "else:\n"
        "    self.shortcut = nn.Identity()",
    ),
    "test_block_skip": (
        "With every batch norm's gamma and beta at 0 the residual branch F(x) gives 0: what is left of the block "
        "is its skip connection.",
        "Add the shortcut to F(x) first and apply the last ReLU to the sum: relu(F(x) + x), not relu(F(x)) + x, "
        "and not relu(F(x)) alone.",
        "out = F.relu(self.bn1(self.conv1(x)))\nout = self.bn2(self.conv2(out))\nreturn F.relu(out + self.shortcut(x))",
    ),
    "test_block_eval_mode": (
        "In training mode a batch norm uses the batch's own mean and variance; in eval mode it must use what it "
        "learnt, so that each sample's output no longer depends on the rest of the batch.",
        "nn.BatchNorm2d keeps running_mean and running_var and switches by itself when .eval() is called on the "
        "block; a hand-made normalisation, or track_running_stats=False, always uses the batch.",
        "self.bn1 = nn.BatchNorm2d(out_channels)\nself.bn2 = nn.BatchNorm2d(out_channels)",
    ),
    "test_tiny_resnet_parameters": (
        "TinyResNet is a stem, three residual blocks and one classifier: ResNet keeps no hidden fully-connected "
        "layers.",
        "Stem: conv 3x3 in_channels -> 16 without bias, then BatchNorm2d(16). Blocks 16->16, 16->32 with stride 2, "
        "32->64 with stride 2. Then Linear(64, num_classes): 176 + 4,672 + 14,528 + 57,728 + 650 = 77,754.",
        "self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False),\n"
        "                          nn.BatchNorm2d(16), nn.ReLU())\n"
        "self.stages = nn.Sequential(ResidualBlock(16, 16), ResidualBlock(16, 32, stride=2),\n"
        "                            ResidualBlock(32, 64, stride=2))\n"
        "self.fc = nn.Linear(64, num_classes)",
    ),
    "test_tiny_resnet_shapes": (
        "The scores must not depend on the image's size: after the blocks, 64 maps of any size have to become 64 "
        "numbers.",
        "Global average pooling takes each channel's mean over the whole map: nn.AdaptiveAvgPool2d(1) gives "
        "(N, 64, 1, 1); flatten it to (N, 64) before the linear layer.",
        "x = self.stages(self.stem(x))\nreturn self.fc(torch.flatten(self.pool(x), 1))",
    ),
    "test_tiny_resnet_global_average_pooling": (
        "The classifier should see one number per channel, that channel's average over the image.",
        "nn.AdaptiveAvgPool2d(1) or x.mean(dim=(2, 3)) averages over height and width; torch.flatten(x, 1) turns "
        "(N, 64, 1, 1) into (N, 64).",
        "self.pool = nn.AdaptiveAvgPool2d(1)\nreturn self.fc(torch.flatten(self.pool(x), 1))",
    ),
}
### END HINTS
