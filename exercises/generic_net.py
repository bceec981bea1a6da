"""Exercise 4: a LeNet for any input shape, and a layer-by-layer summary.

The workshop's LeNet only reads 1x32x32 images, because fc1 expects exactly
16 * 5 * 5 = 400 features. Seed 002's bonus network works for any input shape: it
pushes a dummy tensor through the convolutional layers once, in __init__, and counts
how many features come out. For example:

    input_shape   conv1 -> pool -> conv2 -> pool         features into fc1
    (1, 32, 32)   6x28x28 -> 6x14x14 -> 16x10x10 -> 16x5x5      400
    (3, 128, 128) 6x124x124 -> 6x62x62 -> 16x58x58 -> 16x29x29  13,456
    (1, 150, 150) 6x146x146 -> 6x73x73 -> 16x69x69 -> 16x34x34  18,496  (seed 003's radio galaxies)
    (3, 512, 512) ... -> 16x125x125                             250,000

Seed 003 prints such a table with torchsummary's summary(net, (1, 150, 150)). You will
write a small version of it with forward hooks.

Name the layers as you like, and use nn.ReLU or F.relu, nn.Sequential or separate
attributes: the checks look at what your network does.

Run the checks with:  pytest exercises/test_generic_net.py
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """Seed 002's bonus network: LeNet for inputs of shape `input_shape` = (C, H, W).

    Layers: conv1 C->6 (5x5), max pool 2x2 stride 2, conv2 6->16 (5x5), the same pool,
    flatten, fc1 n->120, fc2 120->84, fc3 84->num_outputs, with ReLU after every layer
    but the last (fc3 gives raw scores).

    Do NOT work n out with a formula. In __init__, after building the convolutional
    layers, run a dummy batch torch.zeros(1, *input_shape) (or torch.rand) through them
    inside `with torch.no_grad():` and count the features of what comes out, as seed
    002's _get_conv_output does. Then build fc1 with that many inputs.
    Net((3, 128, 128), 3) gets n = 13,456 and Net((1, 32, 32), 10) gets n = 400.

    forward(x) takes a batch of shape (N, *input_shape) and returns scores of shape
    (N, num_outputs) for any batch size N: flatten with torch.flatten(x, 1) or
    x.view(x.size(0), -1).

    Tip: put the convolutional part in a helper method (say `_features(self, x)`) so
    that __init__'s dummy pass and forward use the same code.
    """

    def __init__(self, input_shape=(3, 224, 224), num_outputs=15):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def _features(self, x):
        """The convolutional part, flattened: (N, C, H, W) -> (N, n). Optional helper."""
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError("not started yet")


def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...], int]]:
    """A per-layer summary of `model`, like torchsummary's summary(model, input_shape).

    Run ONE dummy batch of shape (1, *input_shape) through the model. Put a forward hook
    (module.register_forward_hook) on every leaf module, i.e. every module without
    children (nn.Conv2d, nn.ReLU, nn.Linear, ...; a model with no children is itself a
    leaf). Each time a hooked module runs, record one row, in the order the calls happen:

        (class name, output shape as a tuple, number of the module's own parameters)

    e.g. ("Conv2d", (1, 6, 28, 28), 156). A module that runs twice (a shared pool)
    gives two rows; a module that never runs gives none; containers such as
    nn.Sequential give none (their leaves do).

    Return the list of rows. Be a good guest:
      - remove every hook afterwards, even if the forward pass raised (try/finally);
      - record no gradients (torch.no_grad());
      - leave the model as you found it: the same parameters and the same
        train/eval mode in every module (if you switch to eval(), which a batch of
        one needs for BatchNorm1d, switch each module back).
    Summing the third column gives the model's parameter count when every layer runs once.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")
