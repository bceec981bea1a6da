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
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")


class LeNet(nn.Module):
    """Seed 000's LeNet: bias-free convolutions and a softmax output.

    LeNet(in_channels=1, num_classes=10) has the same layers as Net except that both
    convolutions have bias=False, conv1 takes `in_channels` channels, fc3 gives
    `num_classes` outputs, and forward ends with a softmax over the classes, so each row
    of the output sums to 1. With the defaults it has 61,684 parameters.
    """

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")
