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
    ### BEGIN SOLUTION
    return nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=0, bias=False)
    ### END SOLUTION


def same_size_conv() -> nn.Conv2d:
    """Seed 004's convolution, as an nn.Conv2d: 2 -> 3 channels, 5x3 kernels, same size out.

    in_channels=2, out_channels=3, kernel_size=(5, 3) (height 5, width 3), with a bias
    (the default). Choose the padding so that the image keeps its size: an input of
    shape (1, 2, 10, 8) must give (1, 3, 10, 8). A kernel of size k needs (k - 1) / 2
    pixels of padding on each side, so padding=(2, 1). The weight has shape (3, 2, 5, 3)
    and the bias shape (3,).
    """
    ### BEGIN SOLUTION
    return nn.Conv2d(in_channels=2, out_channels=3, kernel_size=(5, 3), padding=(2, 1))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    with torch.no_grad():
        conv.weight.copy_(weight)
        if bias is not None and conv.bias is not None:
            conv.bias.copy_(bias)
    return conv
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    ### END SOLUTION


# --- activation ---------------------------------------------------------------------


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU, element-wise: max(x, 0). Same shape as x; negative values become 0."""
    ### BEGIN SOLUTION
    return F.relu(x)
    ### END SOLUTION


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The sigmoid (logistic) function, element-wise: 1 / (1 + exp(-x)), values in (0, 1)."""
    ### BEGIN SOLUTION
    return torch.sigmoid(x)
    ### END SOLUTION


def tanh(x: torch.Tensor) -> torch.Tensor:
    """The hyperbolic tangent, element-wise: values in (-1, 1), tanh(0) = 0."""
    ### BEGIN SOLUTION
    return torch.tanh(x)
    ### END SOLUTION


# --- pooling ------------------------------------------------------------------------


def lenet_pool() -> nn.Module:
    """LeNet's subsampling layer (S2): max pooling over 2x2 windows with stride 2.

    It halves the height and the width: (1, 6, 28, 28) -> (1, 6, 14, 14). Each output
    value is the largest of its 2x2 window.
    """
    ### BEGIN SOLUTION
    return nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
    ### END SOLUTION


def overlapping_pool() -> nn.Module:
    """Seed 004's max pooling: 3x3 windows, stride 2, padding 1 (the windows overlap).

    (1, 3, 10, 8) -> (1, 3, 5, 4). Max pooling pads with -inf, never with 0, so a
    padded border never wins over a negative value.
    """
    ### BEGIN SOLUTION
    return nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    ### END SOLUTION


def avg_pool(x: torch.Tensor, kernel_size, stride) -> torch.Tensor:
    """Average pooling (seed 001 names average, min and max pooling) of x (N, C, H, W).

    Each output value is the mean of its kernel_size window; the windows move by
    `stride`; no padding. kernel_size and stride are ints or (height, width) pairs.
    For example a 4x4 image with kernel_size=2 and stride=2 gives the 2x2 image of the
    means of its four 2x2 blocks.
    """
    ### BEGIN SOLUTION
    return F.avg_pool2d(x, kernel_size=kernel_size, stride=stride)
    ### END SOLUTION


def min_pool(x: torch.Tensor, kernel_size, stride, padding=0) -> torch.Tensor:
    """Min pooling of x (N, C, H, W): each output value is the smallest of its window.

    PyTorch has no min pooling, but min(a, b, ...) = -max(-a, -b, ...), so
    min_pool(x) = -max_pool(-x). kernel_size, stride and padding are ints or pairs.

    Mind the padding: a padded pixel must never be the minimum, so it has to count as
    +inf, not as 0. Max pooling pads with -inf, so -max_pool(-x) pads with +inf, as
    needed; padding x with zeros yourself would wrongly give 0 at the borders of a
    positive image.
    """
    ### BEGIN SOLUTION
    return -F.max_pool2d(-x, kernel_size=kernel_size, stride=stride, padding=padding)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return nn.BatchNorm2d(num_features=num_features)
    ### END SOLUTION


# --- skip connection ----------------------------------------------------------------


def skip_concat(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A skip connection by concatenation: x and y stacked along the channel dimension.

    x (N, C1, H, W) and y (N, C2, H, W) give (N, C1 + C2, H, W), x's channels first.
    Seed 004 concatenates the input (1, 2, 10, 8) with the ReLU output (1, 3, 10, 8)
    into (1, 5, 10, 8).
    """
    ### BEGIN SOLUTION
    return torch.cat((x, y), dim=1)
    ### END SOLUTION


# --- linear -------------------------------------------------------------------------


def flatten(x: torch.Tensor) -> torch.Tensor:
    """Flatten every dimension but the batch one: (N, C, H, W) -> (N, C * H * W).

    Seed 004 flattens the (1, 3, 5, 4) pooling output into (1, 60). Keep the batch
    dimension whatever the batch size: (4, 3, 5, 4) -> (4, 60).
    """
    ### BEGIN SOLUTION
    return torch.flatten(x, start_dim=1)
    ### END SOLUTION


def classifier_head(in_features: int, out_features: int) -> nn.Module:
    """A module that flattens its input from dimension 1, then applies a linear layer.

    classifier_head(60, 2) maps (1, 3, 5, 4) -> (1, 60) -> (1, 2), as seed 004's
    flatten + nn.Linear(in_features=60, out_features=2). The linear layer has a bias:
    60 * 2 + 2 = 122 parameters.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Flatten(start_dim=1), nn.Linear(in_features, out_features, bias=True))
    ### END SOLUTION


def count_parameters(module: nn.Module) -> int:
    """The number of parameters (numbers, not tensors) of `module`, as an int.

    Count ALL parameters, trainable or frozen (requires_grad=False): seed 000 sums
    torch.numel over net.parameters(). lenet_conv1() has 150, nn.Linear(60, 2) has 122,
    seed 000's LeNet 61,684.
    """
    ### BEGIN SOLUTION
    return sum(p.numel() for p in module.parameters())
    ### END SOLUTION


# --- dropout ------------------------------------------------------------------------


def dropout(p: float = 0.5) -> nn.Module:
    """A dropout layer that drops values with probability p (seed 004 uses p = 0.5).

    In training mode (module.train()) it sets each value to 0 with probability p and
    multiplies the others by 1 / (1 - p), so that the mean stays the same: with p = 0.5
    the survivors are doubled. In evaluation mode (module.eval()) it returns its input
    unchanged.
    """
    ### BEGIN SOLUTION
    return nn.Dropout(p=p)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    from matplotlib.figure import Figure
    from torchvision.utils import make_grid

    with torch.no_grad():
        maps = conv(image.unsqueeze(0))[0]
    kernels = conv.weight.detach().cpu()
    fig = Figure(figsize=(8, 3.2))
    rows = fig.subplots(2, 1)
    for axes, pictures, title in ((rows[0], kernels, "conv1 kernels"), (rows[1], maps.cpu().unsqueeze(1), "feature maps")):
        grid = make_grid(pictures, nrow=len(pictures), padding=1, normalize=True, scale_each=True, pad_value=1)
        axes.imshow(grid[0].numpy(), cmap="gray")
        axes.set_title(title)
        axes.set_axis_off()
    fig.savefig(path, format="png")
    return maps
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_operations.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_lenet_conv1_shape": (
        "A convolution layer is defined by its input and output channels and its kernel size. LeNet's first one "
        "reads a grey image (1 channel) and makes 6 feature maps.",
        "nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True): 1 channel in, 6 out, "
        "5x5 kernels, stride 1, no padding, and seed 000 turns the bias off.",
        "return nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=0, bias=False)",
    ),
    "test_lenet_conv1_parameters": (
        "A convolution's parameters are its kernels (out x in x height x width numbers) and, unless it has none, "
        "one bias per output channel.",
        "6 * 1 * 5 * 5 = 150 weights and nothing else: seed 000 builds conv_1 with bias=False.",
        "return nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=0, bias=False)",
    ),
    "test_same_size_conv_shape": (
        "A kernel k pixels high trims (k - 1) / 2 rows at the top and as many at the bottom; padding gives them back. "
        "Height and width may need different amounts.",
        "nn.Conv2d takes pairs for a kernel that is not square: kernel_size=(5, 3) is 5 high and 3 wide, and it needs "
        "padding=((5 - 1) / 2, (3 - 1) / 2) pixels. Keep the default bias.",
        "return nn.Conv2d(in_channels=2, out_channels=3, kernel_size=(5, 3), padding=(2, 1))",
    ),
    "test_set_conv_weights": (
        "A convolution keeps its kernels in conv.weight and its biases in conv.bias: put the given values into both, "
        "then return the convolution itself.",
        "Write into the existing parameters, in place, while autograd is not watching: Tensor.copy_ inside "
        "`with torch.no_grad():`.",
        "with torch.no_grad():\n    conv.weight.copy_(weight)\n    conv.bias.copy_(bias)\nreturn conv",
    ),
    "test_set_conv_weights_trainable": (
        "An optimizer can only train nn.Parameter objects that require gradients: change the values of conv.weight, "
        "not the object it is.",
        "Assigning a new tensor (or a new .data) swaps the parameter out; Tensor.copy_ inside torch.no_grad() writes "
        "into the parameter you already have.",
        "with torch.no_grad():\n    conv.weight.copy_(weight)\n    conv.bias.copy_(bias)",
    ),
    "test_output_size": (
        "Count the positions a kernel can take along the padded input, moving `stride` pixels at a time.",
        "A kernel of size k with dilation d spans d * (k - 1) + 1 pixels; the padded input has size + 2 * padding; "
        "count the whole steps of `stride` that still fit, plus the first position.",
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
    ),
    "test_output_size_floor_and_dilation": (
        "A window that would stick out of the image is not used: the count rounds down, and a size is a whole "
        "number.",
        "Integer division // rounds down and keeps an int, where / gives a float. Dilation spreads a kernel over "
        "dilation * (kernel_size - 1) + 1 pixels.",
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
    ),
    "test_relu": (
        "ReLU keeps the positive values and replaces the negative ones by 0, element by element.",
        "F.relu, torch.relu and nn.ReLU() all compute it; so does x.clamp(min=0).",
        "return F.relu(x)",
    ),
    "test_sigmoid": (
        "The sigmoid squashes any number into (0, 1): large negative values go to 0, large positive ones to 1, and "
        "0 gives 0.5.",
        "It is 1 / (1 + exp(-x)), element-wise; torch has it as a function and nn as a layer.",
        "return torch.sigmoid(x)",
    ),
    "test_tanh": (
        "tanh squashes any number into (-1, 1), with tanh(0) = 0.",
        "torch has it as a function (and nn.Tanh as a layer): no need to write the exponentials.",
        "return torch.tanh(x)",
    ),
    "test_lenet_pool": (
        "LeNet's subsampling keeps the largest value of each 2x2 block, so it halves the height and the width.",
        "nn.MaxPool2d takes the window size and the step; both are 2 here, so the windows do not overlap.",
        "return nn.MaxPool2d(kernel_size=2, stride=2, padding=0)",
    ),
    "test_overlapping_pool": (
        "Seed 004's pooling uses 3x3 windows that move by 2 (so they overlap) over a border of one padded pixel.",
        "nn.MaxPool2d(kernel_size, stride, padding) with 3, 2 and 1 gives (10 + 2 - 3) // 2 + 1 = 5 rows. Max "
        "pooling's padding counts as -inf, so it never wins.",
        "return nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))",
    ),
    "test_avg_pool": (
        "Average pooling is max pooling with the mean of each window instead of its largest value.",
        "torch.nn.functional has it as a function of the input, the window size and the stride (no padding here).",
        "return F.avg_pool2d(x, kernel_size=kernel_size, stride=stride)",
    ),
    "test_min_pool": (
        "PyTorch has max pooling but no min pooling. How can a maximum give you a minimum?",
        "min(a, b, c) = -max(-a, -b, -c): negate the input, max-pool it, and negate the result.",
        "return -F.max_pool2d(-x, kernel_size=kernel_size, stride=stride, padding=padding)",
    ),
    "test_min_pool_padding": (
        "A padded pixel must never be the minimum of its window: it has to count as +infinity, not as 0.",
        "Padding x with zeros yourself puts 0 at the borders of a positive image. Max pooling pads with -inf, so "
        "-max_pool(-x) pads with +inf: hand the padding to max pooling.",
        "return -F.max_pool2d(-x, kernel_size=kernel_size, stride=stride, padding=padding)",
    ),
    "test_batch_norm_parameters": (
        "Batch normalisation learns a scale (gamma) and a shift (beta) for each channel.",
        "nn.BatchNorm2d(num_features) holds num_features gammas (starting at 1) and num_features betas (at 0). Use "
        "the argument: the checks ask for 3 and for 16 channels.",
        "return nn.BatchNorm2d(num_features=num_features)",
    ),
    "test_batch_norm_formula": (
        "While training, batch norm standardises each channel with that channel's mean and variance over the whole "
        "batch, then scales by gamma and shifts by beta.",
        "nn.BatchNorm2d does exactly that: statistics over (N, H, W), the biased variance, eps = 1e-5 inside the "
        "square root. A hand-written version easily gets one of these wrong.",
        "return nn.BatchNorm2d(num_features=num_features)",
    ),
    "test_skip_concat": (
        "A skip connection by concatenation stacks the feature maps of x and of y into one tensor with more channels.",
        "torch.cat joins tensors along one dimension; in (N, C, H, W) the channels are dimension 1, and x's come first.",
        "return torch.cat((x, y), dim=1)",
    ),
    "test_flatten": (
        "Flattening keeps one row per sample: only the dimensions after the batch dimension are merged.",
        "torch.flatten(x, start_dim) merges the dimensions from start_dim on; x.view(x.size(0), -1) does the same. A "
        "hard-coded 60 breaks for other shapes.",
        "return torch.flatten(x, start_dim=1)",
    ),
    "test_classifier_head": (
        "The head does two things in a row, flatten then a linear map, and one module can hold both.",
        "nn.Sequential chains modules: nn.Flatten() (it keeps the batch dimension), then nn.Linear(in_features, "
        "out_features) with its bias.",
        "return nn.Sequential(nn.Flatten(start_dim=1), nn.Linear(in_features, out_features))",
    ),
    "test_count_parameters": (
        "module.parameters() gives every parameter tensor, trainable or frozen; count the numbers each one holds.",
        "p.numel() is how many numbers a tensor holds; add them up over module.parameters() (skip none) into a "
        "Python int.",
        "return sum(p.numel() for p in module.parameters())",
    ),
    "test_dropout_train": (
        "While training, dropout zeroes each value with probability p and scales the survivors, so that the mean "
        "stays the same.",
        "nn.Dropout(p) does both (the survivors are multiplied by 1 / (1 - p)). Pass p on: the checks try 0.5 and 0.2.",
        "return nn.Dropout(p=p)",
    ),
    "test_dropout_eval": (
        "A dropout layer knows whether it is training: after .eval() it must leave its input alone.",
        "nn.Dropout switches itself off in eval mode; a random mask you apply yourself does not.",
        "return nn.Dropout(p=p)",
    ),
    "test_save_conv1_grid": (
        "Draw two rows, the kernels conv.weight[i, 0] on top and the feature maps conv(image)[i] below, and return "
        "the maps, of shape C x H' x W'.",
        "Compute the maps under torch.no_grad() from conv(image.unsqueeze(0))[0]; draw conv.weight.detach(); build a "
        "matplotlib.figure.Figure (it opens no window) and finish with fig.savefig(path).",
        "with torch.no_grad():\n    maps = conv(image.unsqueeze(0))[0]\nfig = Figure(figsize=(8, 3))\n"
        "top, bottom = fig.subplots(2, 1)\ntop.imshow(make_grid(conv.weight.detach(), normalize=True)[0], cmap='gray')\n"
        "bottom.imshow(make_grid(maps.unsqueeze(1), normalize=True)[0], cmap='gray')\nfig.savefig(path)\nreturn maps",
    ),
}
### END HINTS
