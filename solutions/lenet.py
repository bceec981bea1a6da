"""Exercise 3: LeNet.

LeNet-5 reads a 1x32x32 grey image and scores 10 digits:

    input 1x32x32 -> conv 6@5x5 -> 6x28x28 -> ReLU -> max pool 2 -> 6x14x14
                  -> conv 16@5x5 -> 16x10x10 -> ReLU -> max pool 2 -> 16x5x5
                  -> flatten -> 400 -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10

Write two versions of it. Name the layers as you like, and use nn.ReLU or F.relu,
nn.Sequential or separate attributes: the checks look at what your network does.

Run the checks with:  pytest exercises/test_lenet.py
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """The workshop's LeNet (seed 002): convolutions with bias, raw scores out.

    Layers: conv1 1->6 (5x5), max pool 2x2 stride 2, conv2 6->16 (5x5), the same
    pool, then fully connected 400->120->84->10, with ReLU after every layer but the last.
    It has ten parameter tensors and 61,706 parameters.

    forward(x) takes a batch of shape (N, 1, 32, 32) and returns scores of shape (N, 10),
    for ANY batch size N. The workshop flattens with x.view(-1, 16 * 5 * 5): find out
    why torch.flatten(x, 1) is safer.
    """

    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
        ### END SOLUTION


class LeNet(nn.Module):
    """Seed 000's LeNet: bias-free convolutions and a softmax output.

    LeNet(in_channels=1, num_classes=10) has the same layers as Net except that both
    convolutions have bias=False, conv1 takes `in_channels` channels, fc3 gives
    `num_classes` outputs, and forward ends with a softmax over the classes, so each row
    of the output sums to 1. With the defaults it has 61,684 parameters.
    """

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        ### BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, bias=False),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5, bias=False),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return torch.softmax(self.classifier(self.features(x)), dim=1)
        ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_lenet.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_net_parameters": (
        "Net has five layers that learn: two convolutions and three fully connected layers, each with a weight and a "
        "bias.",
        "Follow the shapes in the docstring: conv1 1 -> 6 and conv2 6 -> 16 with 5x5 kernels, then fc1 400 -> 120, "
        "fc2 120 -> 84, fc3 84 -> 10. Pooling and ReLU hold no parameters.",
        "self.conv1 = nn.Conv2d(1, 6, kernel_size=5)\nself.conv2 = nn.Conv2d(6, 16, kernel_size=5)\n"
        "self.fc1 = nn.Linear(16 * 5 * 5, 120)\nself.fc2 = nn.Linear(120, 84)\nself.fc3 = nn.Linear(84, 10)",
    ),
    "test_net_output_shape": (
        "Follow one image through forward and write down its shape after every layer: where does it stop matching "
        "the docstring's picture?",
        "The convolutional part ends with 16 maps of 5x5 = 400 numbers per image; flatten them (keeping the batch "
        "dimension) before fc1, and end with fc3's 10 scores.",
        "x = self.pool(F.relu(self.conv1(x)))\nx = self.pool(F.relu(self.conv2(x)))\nx = torch.flatten(x, 1)\n"
        "x = F.relu(self.fc1(x))\nx = F.relu(self.fc2(x))\nreturn self.fc3(x)",
    ),
    "test_net_intermediate_shapes": (
        "Each layer changes the shape in a way you can compute: a 5x5 convolution without padding takes 4 pixels off "
        "each side length, a 2x2 pooling halves it.",
        "32 -> conv1 -> 28 -> pool -> 14 -> conv2 -> 10 -> pool -> 5: both convolutions use padding=0, and both "
        "poolings kernel_size=2, stride=2.",
        "self.conv1 = nn.Conv2d(1, 6, kernel_size=5)\nself.pool = nn.MaxPool2d(kernel_size=2, stride=2)\n"
        "x = self.pool(F.relu(self.conv1(x)))",
    ),
    "test_net_any_batch_size": (
        "Two things are compared: a batch against its samples one by one, and your scores against LeNet's with the "
        "same weights. Which one failed?",
        "x.view(-1, 16 * 5 * 5) mixes samples when a shape is off; torch.flatten(x, 1) keeps one row per sample. "
        "Every layer but fc3 is followed by a ReLU; the scores themselves get none.",
        "x = torch.flatten(x, 1)\nx = F.relu(self.fc1(x))\nx = F.relu(self.fc2(x))\nreturn self.fc3(x)",
    ),
    "test_lenet_softmax": (
        "LeNet turns its 10 scores into probabilities: positive numbers that sum to 1 for each image.",
        "torch.softmax(scores, dim=...) normalises along one dimension: the classes are dimension 1 of an (N, 10) "
        "output, and fc3 has no ReLU before the softmax.",
        "return torch.softmax(self.classifier(self.features(x)), dim=1)",
    ),
    "test_lenet_parameters": (
        "LeNet has the same layers as Net but 22 parameters fewer: which parameters does seed 000 leave out?",
        "Seed 000 builds both convolutions with bias=False (6 + 16 = 22 biases fewer); conv1 reads in_channels "
        "channels and fc3 gives num_classes scores.",
        "nn.Conv2d(in_channels, 6, kernel_size=5, bias=False)\nnn.Conv2d(6, 16, kernel_size=5, bias=False)\n"
        "nn.Linear(84, num_classes)",
    ),
}
### END HINTS
