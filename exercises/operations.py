"""Exercise 1: the basic operations of a CNN.

Seed 004 ("Basic operations in PyTorch to build a CNN") walks through one layer of each
kind, and seeds 000 and 002 build LeNet's first layers the same way. Here you write them
yourself, one small function each:

    convolution   lenet_conv1, same_size_conv, set_conv_weights, output_size
    activation    relu, sigmoid, tanh
    pooling       lenet_pool, overlapping_pool, avg_pool, min_pool
    normalising   batch_norm
    skip          skip_concat
    linear        flatten, classifier_head, count_parameters
    dropout       dropout
    pictures      save_conv1_grid (conv1's kernels and feature maps of one digit)

The numbers to aim for (all from the seeds):

    1x1x32x32 --lenet_conv1--> 1x6x28x28 (150 weights) --lenet_pool--> 1x6x14x14
    1x2x10x8 --same_size_conv--> 1x3x10x8 --overlapping_pool--> 1x3x5x4
    1x3x5x4 --batch_norm(3)--> 1x3x5x4 --flatten--> 1x60 --Linear(60, 2)--> 1x2
    skip_concat(1x2x10x8, 1x3x10x8) -> 1x5x10x8
    nn.Dropout(0.5) zeroes about half of the values and doubles the others.

Use torch.nn (modules), torch.nn.functional (functions) or plain torch as you like: the
checks look at what your code does, not at how you spell it.

Run the checks with:  pytest exercises/test_operations.py
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- convolution --------------------------------------------------------------------


def lenet_conv1() -> nn.Conv2d:
    """LeNet's first convolution (seeds 000 and 002), as an nn.Conv2d.

    1 input channel (a grey image) -> 6 output channels, 5x5 kernels, stride 1,
    padding 0 and NO bias (bias=False, as in seed 000). Its weight has shape
    (6, 1, 5, 5), so it has 6 * 1 * 5 * 5 = 150 parameters, and it maps an input of
    shape (1, 1, 32, 32) to (1, 6, 28, 28): without padding a 5x5 kernel loses
    2 pixels on each side.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def same_size_conv() -> nn.Conv2d:
    """Seed 004's convolution, as an nn.Conv2d: 2 -> 3 channels, 5x3 kernels, same size out.

    in_channels=2, out_channels=3, kernel_size=(5, 3) (height 5, width 3), with a bias
    (the default). Choose the padding so that the image keeps its size: an input of
    shape (1, 2, 10, 8) must give (1, 3, 10, 8). A kernel of size k needs (k - 1) / 2
    pixels of padding on each side, so padding=(2, 1). The weight has shape (3, 2, 5, 3)
    and the bias shape (3,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def set_conv_weights(conv: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor) -> nn.Conv2d:
    """Set the kernels and the bias of `conv` by hand, and return `conv`.

    Seed 004 writes `conv.weight.data = torch.rand(3, 2, 5, 3) - 0.5`. Copy the values of
    `weight` (shape (out_channels, in_channels, kh, kw)) and `bias` (shape (out_channels,))
    into the convolution, so that afterwards conv(x) equals
    F.conv2d(x, weight, bias, stride=conv.stride, padding=conv.padding).

    The weight and the bias must stay learnable: nn.Parameter objects with
    requires_grad=True, so that an optimizer can still train them. Assigning a plain
    tensor (conv.weight = weight) is refused by PyTorch; copy the values instead, for
    example inside `with torch.no_grad():` with conv.weight.copy_(weight).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The output size (height or width) of a convolution or pooling layer, as an int.

    For an input of `size` pixels, PyTorch's nn.Conv2d and nn.MaxPool2d give

        floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1

    pixels. Use integer arithmetic only (no torch). Examples from the seeds:
    output_size(32, 5) == 28 (LeNet's conv1), output_size(28, 2, 2) == 14 (LeNet's pool),
    output_size(10, 5, 1, 2) == 10 and output_size(8, 3, 1, 1) == 8 (seed 004's conv keeps
    10x8), output_size(10, 3, 2, 1) == 5 and output_size(8, 3, 2, 1) == 4 (seed 004's pool:
    10x8 -> 5x4).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- activation ---------------------------------------------------------------------


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU, element-wise: max(x, 0). Same shape as x; negative values become 0."""
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The sigmoid (logistic) function, element-wise: 1 / (1 + exp(-x)), values in (0, 1)."""
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def tanh(x: torch.Tensor) -> torch.Tensor:
    """The hyperbolic tangent, element-wise: values in (-1, 1), tanh(0) = 0."""
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- pooling ------------------------------------------------------------------------


def lenet_pool() -> nn.Module:
    """LeNet's subsampling layer (S2): max pooling over 2x2 windows with stride 2.

    It halves the height and the width: (1, 6, 28, 28) -> (1, 6, 14, 14). Each output
    value is the largest of its 2x2 window.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def overlapping_pool() -> nn.Module:
    """Seed 004's max pooling: 3x3 windows, stride 2, padding 1 (the windows overlap).

    (1, 3, 10, 8) -> (1, 3, 5, 4). Max pooling pads with -inf, never with 0, so a
    padded border never wins over a negative value.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def avg_pool(x: torch.Tensor, kernel_size, stride) -> torch.Tensor:
    """Average pooling (seed 001 names average, min and max pooling) of x (N, C, H, W).

    Each output value is the mean of its kernel_size window; the windows move by
    `stride`; no padding. kernel_size and stride are ints or (height, width) pairs.
    For example a 4x4 image with kernel_size=2 and stride=2 gives the 2x2 image of the
    means of its four 2x2 blocks.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def min_pool(x: torch.Tensor, kernel_size, stride, padding=0) -> torch.Tensor:
    """Min pooling of x (N, C, H, W): each output value is the smallest of its window.

    PyTorch has no min pooling, but min(a, b, ...) = -max(-a, -b, ...), so
    min_pool(x) = -max_pool(-x). kernel_size, stride and padding are ints or pairs.

    Mind the padding: a padded pixel must never be the minimum, so it has to count as
    +inf, not as 0. Max pooling pads with -inf, so -max_pool(-x) pads with +inf, as
    needed; padding x with zeros yourself would wrongly give 0 at the borders of a
    positive image.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- batch normalisation ------------------------------------------------------------


def batch_norm(num_features: int) -> nn.BatchNorm2d:
    """Seed 004's batch normalisation layer for `num_features` channels (an nn.BatchNorm2d).

    In training mode it normalises each channel c with the mean and the BIASED variance
    (divide by n, not n - 1) of that channel over the batch, the height and the width
    (dimensions N, H, W), then scales and shifts it with its learnable gamma (weight) and
    beta (bias):

        y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c,   eps = 1e-5

    Seed 004 prints the formula with eps outside the square root, (x - E[x]) /
    (sqrt(Var[x]) + eps): that is a typo, PyTorch adds eps to the variance. gamma starts
    at 1 and beta at 0, so there are 2 * num_features parameters. Seed 004 uses
    batch_norm(3) on the (1, 3, 5, 4) output of the pooling.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- skip connection ----------------------------------------------------------------


def skip_concat(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A skip connection by concatenation: x and y stacked along the channel dimension.

    x (N, C1, H, W) and y (N, C2, H, W) give (N, C1 + C2, H, W), x's channels first.
    Seed 004 concatenates the input (1, 2, 10, 8) with the ReLU output (1, 3, 10, 8)
    into (1, 5, 10, 8).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- linear -------------------------------------------------------------------------


def flatten(x: torch.Tensor) -> torch.Tensor:
    """Flatten every dimension but the batch one: (N, C, H, W) -> (N, C * H * W).

    Seed 004 flattens the (1, 3, 5, 4) pooling output into (1, 60). Keep the batch
    dimension whatever the batch size: (4, 3, 5, 4) -> (4, 60).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def classifier_head(in_features: int, out_features: int) -> nn.Module:
    """A module that flattens its input from dimension 1, then applies a linear layer.

    classifier_head(60, 2) maps (1, 3, 5, 4) -> (1, 60) -> (1, 2), as seed 004's
    flatten + nn.Linear(in_features=60, out_features=2). The linear layer has a bias:
    60 * 2 + 2 = 122 parameters.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def count_parameters(module: nn.Module) -> int:
    """The number of parameters (numbers, not tensors) of `module`, as an int.

    Count ALL parameters, trainable or frozen (requires_grad=False): seed 000 sums
    torch.numel over net.parameters(). lenet_conv1() has 150, nn.Linear(60, 2) has 122,
    seed 000's LeNet 61,684.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- dropout ------------------------------------------------------------------------


def dropout(p: float = 0.5) -> nn.Module:
    """A dropout layer that drops values with probability p (seed 004 uses p = 0.5).

    In training mode (module.train()) it sets each value to 0 with probability p and
    multiplies the others by 1 / (1 - p), so that the mean stays the same: with p = 0.5
    the survivors are doubled. In evaluation mode (module.eval()) it returns its input
    unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


# --- pictures -----------------------------------------------------------------------


def save_conv1_grid(conv: nn.Conv2d, image: torch.Tensor, path) -> torch.Tensor:
    """Save a picture of what a first convolution does to one image; return its feature maps.

    - conv: a convolution with one input channel, e.g. lenet_conv1() (6 kernels of 5x5);
    - image: one grey image of shape 1xHxW, e.g. an MNIST digit padded to 1x32x32;
    - path: where to write the PNG image (a str or a pathlib.Path).

    Draw two rows in grey, each with a title: on top the C kernels conv.weight[i, 0] (5x5),
    below them the C feature maps conv(image)[i] (28x28 for a 32x32 digit), in the same
    order, so you can see which strokes each kernel picks out. torchvision.utils.make_grid
    (seed 003's image grids) lays out a row of pictures as one image, and imshow draws it;
    one subplot per picture works too. Return the feature maps as a tensor of shape
    C x H' x W' (6x28x28 for LeNet's conv1).

    conv's weights require gradients, and .numpy() refuses such tensors: draw
    conv.weight.detach() (even a slice of it taken under torch.no_grad() still requires
    them) and compute the maps under torch.no_grad(). The checks run without a screen, so draw without pyplot's windows:
    build a matplotlib.figure.Figure directly, or call matplotlib.use("Agg") before
    importing matplotlib.pyplot (and plt.close(fig) after fig.savefig(path)).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")
