"""Visible checks for exercises/operations.py. Run: pytest exercises/test_operations.py"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from _kit.checks import (
    expect,
    expect_close,
    expect_equal,
    expect_png,
    expect_shape,
    expect_tensor,
    student,
)


def ops():
    return student("operations")


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def expect_module(value, what: str, hint: str, kind: type[nn.Module] = nn.Module) -> nn.Module:
    """`value`, once it is known to be a `kind` (any layer, by default)."""
    wanted = "an nn.Module (a layer)" if kind is nn.Module else f"an nn.{kind.__name__}"
    expect(isinstance(value, kind), f"{what} returned {type(value).__name__}, expected {wanted}", hint)
    return value


# --- convolution --------------------------------------------------------------------


def test_lenet_conv1_shape():
    """lenet_conv1() maps (1, 1, 32, 32) to (1, 6, 28, 28)"""
    conv = expect_module(ops().lenet_conv1(), "lenet_conv1()", "return nn.Conv2d(...)", nn.Conv2d)
    x = torch.randn(1, 1, 32, 32)
    y = conv(x)
    expect_shape(y, (1, 6, 28, 28), "lenet_conv1()(x) for x of shape (1, 1, 32, 32)",
                 "count the output channels, and the pixels a 5x5 kernel loses on each side when nothing is padded")
    expect_close(y, F.conv2d(x, conv.weight.detach()), "lenet_conv1()(x)",
                 "the right shape but other values: a stride, a padding or a bias that seed 000's conv_1 does not have")


def test_lenet_conv1_parameters():
    """lenet_conv1() has a 6x1x5x5 weight, no bias: 150 parameters"""
    conv = expect_module(ops().lenet_conv1(), "lenet_conv1()", "return nn.Conv2d(...)", nn.Conv2d)
    expect_equal(tuple(conv.weight.shape), (6, 1, 5, 5), "lenet_conv1().weight.shape",
                 "a conv weight's shape is (out_channels, in_channels, kernel height, kernel width)")
    expect(conv.bias is None, "lenet_conv1() has a bias, expected none", "seed 000's conv_1 has no bias")
    expect_equal(n_params(conv), 150, "the number of parameters of lenet_conv1()",
                 "6 kernels of 1 x 5 x 5 numbers, and no bias")


def test_same_size_conv_shape():
    """same_size_conv() keeps the image size: (1, 2, 10, 8) -> (1, 3, 10, 8), 5x3 kernels"""
    conv = expect_module(ops().same_size_conv(), "same_size_conv()", "return nn.Conv2d(...)", nn.Conv2d)
    expect_equal(tuple(conv.weight.shape), (3, 2, 5, 3), "same_size_conv().weight.shape",
                 "a conv weight's shape is (out_channels, in_channels, kernel height, kernel width)")
    expect(conv.bias is not None and tuple(conv.bias.shape) == (3,),
           "same_size_conv() has no bias of shape (3,)", "seed 004's convolution has one bias per output channel")
    x = torch.randn(1, 2, 10, 8)
    y = conv(x)
    expect_shape(y, (1, 3, 10, 8), "same_size_conv()(x) for x of shape (1, 2, 10, 8)",
                 "the image must keep its 10x8: the padding has to give back the rows and columns the kernel trims")
    expect_close(y, F.conv2d(x, conv.weight.detach(), conv.bias.detach(), padding=(2, 1)), "same_size_conv()(x)",
                 "the right shape but other values: is the stride 1, and the padding the same on both sides?")


def test_set_conv_weights():
    """set_conv_weights(conv, w, b) makes conv(x) equal F.conv2d(x, w, b)"""
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, kernel_size=(5, 3), padding=(2, 1))
    weight = torch.rand(3, 2, 5, 3) - 0.5
    bias = torch.rand(3) - 0.5
    returned = ops().set_conv_weights(conv, weight, bias)
    expect(returned is conv,
           f"set_conv_weights(conv, weight, bias) returned {type(returned).__name__}, expected conv itself",
           "change conv and end with `return conv`")
    x = torch.rand(1, 2, 10, 8)
    expect_close(conv(x), F.conv2d(x, weight, bias, padding=(2, 1)),
                 "conv(x) after set_conv_weights(conv, weight, bias)",
                 "copy both the weight and the bias into the convolution")


def test_set_conv_weights_trainable():
    """after set_conv_weights the weight and bias are still trainable parameters"""
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 3, kernel_size=(5, 3), padding=(2, 1))
    conv = ops().set_conv_weights(conv, torch.rand(3, 2, 5, 3) - 0.5, torch.rand(3) - 0.5)
    expect(isinstance(conv, nn.Conv2d), "set_conv_weights did not return the convolution", "end with `return conv`")
    for name in ("weight", "bias"):
        p = getattr(conv, name)
        expect(isinstance(p, nn.Parameter) and p.requires_grad,
               f"after set_conv_weights, conv.{name} is a {type(p).__name__} with "
               f"requires_grad={getattr(p, 'requires_grad', None)}, "
               "expected an nn.Parameter that requires grad",
               "the parameter was replaced: change its values instead, so that it stays the conv's nn.Parameter")
    expect_equal(n_params(conv), 3 * 2 * 5 * 3 + 3, "the number of parameters of conv after set_conv_weights")
    conv(torch.rand(1, 2, 10, 8)).sum().backward()
    expect(conv.weight.grad is not None and conv.bias.grad is not None,
           "after backward(), conv.weight.grad or conv.bias.grad is None",
           "the parameters must stay part of the autograd graph")


def test_output_size():
    """output_size gives the seeds' sizes: 32 -> 28, 28 -> 14, 10x8 -> 10x8 and 10x8 -> 5x4"""
    output_size = ops().output_size
    cases = [
        ((32, 5), 28, "LeNet's conv1, 5x5 kernel"),
        ((28, 2, 2), 14, "LeNet's pool, 2x2 stride 2"),
        ((14, 5), 10, "LeNet's conv2"),
        ((10, 2, 2), 5, "LeNet's second pool"),
        ((10, 5, 1, 2), 10, "seed 004's conv, height"),
        ((8, 3, 1, 1), 8, "seed 004's conv, width"),
        ((10, 3, 2, 1), 5, "seed 004's pool, height"),
        ((8, 3, 2, 1), 4, "seed 004's pool, width"),
    ]
    for args, expected, what in cases:
        got = output_size(*args)
        expect_equal(got, expected, f"output_size{args} ({what})",
                     "compare with the formula in output_size's docstring")


def test_output_size_floor_and_dilation():
    """output_size rounds down, knows dilation and returns an int"""
    output_size = ops().output_size
    got = output_size(7, 2, 2)
    expect(type(got) is int, f"output_size(7, 2, 2) returned {type(got).__name__}, expected an int",
           "a size is a whole number: / gives a float, even for 6 / 2")
    expect_equal(got, 3, "output_size(7, 2, 2)", "a 7-pixel row gives 3 whole 2-pixel windows: round down")
    expect_equal(output_size(32, 3, 1, 0, 2), 28, "output_size(32, 3, dilation=2)",
                 "a 3x3 kernel with dilation 2 spans dilation*(kernel_size-1) + 1 = 5 pixels")
    expect_equal(output_size(11, 3, 3, 1), 4, "output_size(11, 3, stride=3, padding=1)")


# --- activation ---------------------------------------------------------------------

ACT_INPUT = torch.tensor([[-3.0, -1.0, -0.5, 0.0], [0.25, 1.0, 2.0, 5.0]])


def test_relu():
    """relu(x) keeps positive values and sets negative ones to 0"""
    y = ops().relu(ACT_INPUT.clone())
    expect_close(y, ACT_INPUT.clamp(min=0), "relu(x) for x = [[-3, -1, -0.5, 0], [0.25, 1, 2, 5]]",
                 "max(x, 0), element-wise")


def test_sigmoid():
    """sigmoid(x) = 1 / (1 + exp(-x)), element-wise"""
    y = ops().sigmoid(ACT_INPUT.clone())
    expect_close(y, 1 / (1 + torch.exp(-ACT_INPUT)), "sigmoid(x) for x = [[-3, -1, -0.5, 0], [0.25, 1, 2, 5]]",
                 "sigmoid(0) = 0.5, and sigmoid(x) = 1 / (1 + exp(-x))")


def test_tanh():
    """tanh(x) is the hyperbolic tangent, element-wise"""
    y = ops().tanh(ACT_INPUT.clone())
    e2 = torch.exp(2 * ACT_INPUT)
    expect_close(y, (e2 - 1) / (e2 + 1), "tanh(x) for x = [[-3, -1, -0.5, 0], [0.25, 1, 2, 5]]",
                 "tanh(0) = 0, and tanh(x) = (exp(2x) - 1) / (exp(2x) + 1)")


# --- pooling ------------------------------------------------------------------------


def test_lenet_pool():
    """lenet_pool() halves LeNet's feature maps: (1, 6, 28, 28) -> (1, 6, 14, 14), max of each 2x2 block"""
    pool = expect_module(ops().lenet_pool(), "lenet_pool()", "return nn.MaxPool2d(...)")
    torch.manual_seed(2)
    x = torch.randn(1, 6, 28, 28)
    y = pool(x)
    expect_shape(y, (1, 6, 14, 14), "lenet_pool()(x) for x of shape (1, 6, 28, 28)", "each side must be halved")
    blocks = x.reshape(1, 6, 14, 2, 14, 2).amax(dim=(3, 5))
    expect_close(y, blocks, "lenet_pool()(x)", "MAX pooling over non-overlapping 2x2 windows")


def test_overlapping_pool():
    """overlapping_pool() maps (1, 3, 10, 8) to (1, 3, 5, 4) with 3x3 windows, stride 2, padding 1"""
    pool = expect_module(ops().overlapping_pool(), "overlapping_pool()", "return nn.MaxPool2d(...)")
    torch.manual_seed(3)
    x = torch.randn(1, 3, 10, 8) - 1.0  # mostly negative: a zero padding would show
    y = pool(x)
    expect_shape(y, (1, 3, 5, 4), "overlapping_pool()(x) for x of shape (1, 3, 10, 8)",
                 "3x3 windows moving by 2 over a border of 1 pixel give 5 rows and 4 columns")
    padded = F.pad(x, (1, 1, 1, 1), value=float("-inf"))
    expected = padded.unfold(2, 3, 2).unfold(3, 3, 2).amax(dim=(-2, -1))
    expect_close(y, expected, "overlapping_pool()(x)", "max pooling; its padding never wins (it counts as -inf)")


def test_avg_pool():
    """avg_pool(x, 2, 2) averages each 2x2 block of a 4x4 image"""
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = ops().avg_pool(x, 2, 2)
    expected = torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
    expect_close(y, expected, "avg_pool(x, 2, 2) for x = arange(16).reshape(1, 1, 4, 4)",
                 "the mean of [[0, 1], [4, 5]] is 2.5")
    torch.manual_seed(4)
    x = torch.randn(2, 3, 10, 8)
    expect_close(ops().avg_pool(x, 3, 2), F.avg_pool2d(x, 3, 2), "avg_pool(x, 3, 2) for x of shape (2, 3, 10, 8)",
                 "windows of kernel_size, moved by stride, no padding")


def test_min_pool():
    """min_pool(x, 2, 2) takes the minimum of each 2x2 block"""
    x = torch.tensor([[[[4.0, 1.0, -2.0, 3.0], [5.0, 6.0, 7.0, 8.0], [0.5, 9.0, 1.0, 1.5], [2.0, 3.0, -4.0, 2.0]]]])
    y = ops().min_pool(x, 2, 2)
    expected = torch.tensor([[[[1.0, -2.0], [0.5, -4.0]]]])
    expect_close(y, expected, "min_pool(x, 2, 2) for a 4x4 image", "each value must be the smallest of its 2x2 window")
    torch.manual_seed(5)
    x = torch.randn(2, 3, 10, 8)
    expected = x.unfold(2, 3, 2).unfold(3, 3, 2).amin(dim=(-2, -1))
    expect_close(ops().min_pool(x, 3, 2), expected, "min_pool(x, 3, 2) for x of shape (2, 3, 10, 8)")


def test_min_pool_padding():
    """min_pool with padding=1 ignores the padding (it counts as +inf, not 0)"""
    torch.manual_seed(6)
    x = torch.rand(1, 3, 10, 8) + 1.0  # all values in [1, 2): a zero padding would show
    y = ops().min_pool(x, 3, 2, 1)
    expected = F.pad(x, (1, 1, 1, 1), value=float("inf")).unfold(2, 3, 2).unfold(3, 3, 2).amin(dim=(-2, -1))
    expect_shape(y, (1, 3, 5, 4), "min_pool(x, 3, 2, 1) for x of shape (1, 3, 10, 8)")
    expect_close(y, expected, "min_pool(x, 3, 2, 1) for x with values in [1, 2)",
                 "the borders came out wrong: a padded pixel must count as +inf here, never as 0")


# --- batch normalisation ------------------------------------------------------------


def reference_batch_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


def test_batch_norm_parameters():
    """batch_norm(3) has a gamma (ones) and a beta (zeros) per channel: 6 parameters"""
    bn = expect_module(ops().batch_norm(3), "batch_norm(3)", "return a batch-norm layer")
    expect_equal(n_params(bn), 6, "the number of parameters of batch_norm(3)", "one gamma and one beta per channel")
    expect_equal(n_params(expect_module(ops().batch_norm(16), "batch_norm(16)", "")), 32,
                 "the number of parameters of batch_norm(16)", "use num_features, do not hard-code 3")


def test_batch_norm_formula():
    """in training mode batch_norm(3) gives (x - mean) / sqrt(var + eps) * gamma + beta on (1, 3, 5, 4)"""
    bn = expect_module(ops().batch_norm(3), "batch_norm(3)", "return a batch-norm layer")
    bn.train()
    torch.manual_seed(7)
    x = torch.rand(1, 3, 5, 4) * 3
    y = bn(x)
    expect_close(y, reference_batch_norm(x, torch.ones(3), torch.zeros(3)),
                 "batch_norm(3)(x) for x of shape (1, 3, 5, 4)",
                 "each channel must be normalised over the batch, the height and the width, with the biased variance")
    params = list(bn.parameters())
    expect(len(params) == 2, f"batch_norm(3) has {len(params)} parameter tensors, expected 2 (gamma and beta)")
    gamma, beta = torch.tensor([0.5, 2.0, -1.0]), torch.tensor([1.0, -3.0, 0.25])
    with torch.no_grad():
        params[0].copy_(gamma)
        params[1].copy_(beta)
    x = torch.randn(4, 3, 5, 4)
    expect_close(bn(x), reference_batch_norm(x, gamma, beta),
                 "batch_norm(3)(x) with gamma and beta set, x of shape (4, 3, 5, 4)",
                 "y = (x - mean) / sqrt(var + eps) * gamma + beta, statistics over the batch too")


# --- skip connection ----------------------------------------------------------------


def test_skip_concat():
    """skip_concat stacks (1, 2, 10, 8) and (1, 3, 10, 8) into (1, 5, 10, 8), x first"""
    torch.manual_seed(8)
    x, y = torch.rand(1, 2, 10, 8), torch.rand(1, 3, 10, 8)
    out = ops().skip_concat(x, y)
    expect_shape(out, (1, 5, 10, 8), "skip_concat(x, y) for x (1, 2, 10, 8) and y (1, 3, 10, 8)",
                 "the channels of x and y must be stacked: 2 + 3 = 5 channels")
    expect_close(out[:, :2], x, "the first 2 channels of skip_concat(x, y)", "x's channels come first")
    expect_close(out[:, 2:], y, "the last 3 channels of skip_concat(x, y)")
    out = ops().skip_concat(torch.rand(2, 4, 3, 3), torch.rand(2, 1, 3, 3))
    expect_shape(out, (2, 5, 3, 3), "skip_concat(x, y) for x (2, 4, 3, 3) and y (2, 1, 3, 3)",
                 "stack along the channels, whatever the batch size")


# --- linear -------------------------------------------------------------------------


def test_flatten():
    """flatten turns (1, 3, 5, 4) into (1, 60) and keeps any batch size"""
    torch.manual_seed(9)
    x = torch.randn(1, 3, 5, 4)
    y = ops().flatten(x)
    expect_shape(y, (1, 60), "flatten(x) for x of shape (1, 3, 5, 4)", "keep the batch dimension and merge the others")
    expect_close(y, x.reshape(1, 60), "flatten(x)", "keep the values in their order")
    x = torch.randn(4, 3, 5, 4)
    expect_shape(ops().flatten(x), (4, 60), "flatten(x) for x of shape (4, 3, 5, 4)",
                 "keep the batch dimension: 4 samples, 4 rows")
    expect_close(ops().flatten(x), x.reshape(4, 60), "flatten(x) for a batch of 4")
    x = torch.randn(2, 16, 5, 5)
    expect_shape(ops().flatten(x), (2, 400), "flatten(x) for x of shape (2, 16, 5, 5)",
                 "nothing may be hard-coded: here each sample holds 16 * 5 * 5 = 400 numbers")


def test_classifier_head():
    """classifier_head(60, 2) maps (1, 3, 5, 4) to (1, 2) with a linear layer of 122 parameters"""
    torch.manual_seed(10)
    head = expect_module(ops().classifier_head(60, 2), "classifier_head(60, 2)",
                         "return a module: a layer, or several chained into one")
    expect_equal(n_params(head), 122, "the number of parameters of classifier_head(60, 2)", "60 * 2 weights + 2 biases")
    x = torch.randn(1, 3, 5, 4)
    y = head(x)
    expect_shape(y, (1, 2), "classifier_head(60, 2)(x) for x of shape (1, 3, 5, 4)",
                 "flatten each sample, then one linear layer")
    shapes = {tuple(p.shape): p.detach() for p in head.parameters()}
    expect((2, 60) in shapes and (2,) in shapes,
           f"classifier_head(60, 2) has parameters of shapes {list(shapes)}, expected (2, 60) and (2,)",
           "one linear layer, with its bias")
    expected = x.reshape(1, 60) @ shapes[(2, 60)].T + shapes[(2,)]
    expect_close(y, expected, "classifier_head(60, 2)(x)", "flatten, then the linear map W x + b, and nothing else")
    xs = torch.randn(3, 3, 5, 4)
    expect_shape(head(xs), (3, 2), "classifier_head(60, 2)(x) for x of shape (3, 3, 5, 4)",
                 "keep the batch dimension: 3 samples, 3 rows")


def test_count_parameters():
    """count_parameters counts every parameter: 150 for LeNet's conv1, 122 for Linear(60, 2)"""
    count = ops().count_parameters
    conv = nn.Conv2d(1, 6, 5, bias=False)
    expect_equal(count(conv), 150, "count_parameters(nn.Conv2d(1, 6, 5, bias=False))",
                 "6 * 1 * 5 * 5 numbers in the weight, and no bias")
    expect_equal(count(nn.Linear(60, 2)), 122, "count_parameters(nn.Linear(60, 2))", "weights and biases both count")
    net = nn.Sequential(nn.Conv2d(2, 3, (5, 3), padding=(2, 1)), nn.ReLU(), nn.BatchNorm2d(3))
    expect_equal(count(net), 93 + 6, "count_parameters of conv(2->3, 5x3) + ReLU + BatchNorm2d(3)",
                 "sum over module.parameters()")
    frozen = nn.Linear(60, 2)
    frozen.weight.requires_grad_(False)
    expect_equal(count(frozen), 122, "count_parameters(linear) with a frozen weight",
                 "count ALL parameters, also those with requires_grad=False")
    expect(type(count(conv)) is int, f"count_parameters returned {type(count(conv)).__name__}, expected an int",
           "return a Python int, not a tensor")


# --- dropout ------------------------------------------------------------------------


def test_dropout_train():
    """in training mode dropout(0.5) zeroes about half of the values and doubles the others"""
    drop = expect_module(ops().dropout(0.5), "dropout(0.5)", "return a dropout layer")
    drop.train()
    torch.manual_seed(11)
    x = torch.ones(4000)
    y = expect_tensor(drop(x), "dropout(0.5)(x)")
    zero = y == 0
    expect(bool(((y == 0) | (y == 2)).all()), "dropout(0.5)(ones) gave values other than 0 and 2",
           "survivors are multiplied by 1 / (1 - p) = 2")
    frac = zero.float().mean().item()
    expect(0.45 < frac < 0.55, f"dropout(0.5) zeroed {frac:.0%} of 4,000 values, expected about 50%",
           "p is the probability to drop")
    drop = ops().dropout(0.2).train()
    y = drop(torch.ones(4000))
    frac = (y == 0).float().mean().item()
    expect(0.15 < frac < 0.25, f"dropout(0.2) zeroed {frac:.0%} of 4,000 values, expected about 20%",
           "use the argument p")
    expect_close(y[y != 0], torch.full_like(y[y != 0], 1.25), "the survivors of dropout(0.2)(ones)",
                 "1 / (1 - 0.2) = 1.25")


def test_dropout_eval():
    """in evaluation mode dropout(0.5) returns its input unchanged"""
    drop = expect_module(ops().dropout(0.5), "dropout(0.5)", "return a dropout layer")
    drop.eval()
    torch.manual_seed(12)
    x = torch.randn(5, 5)
    expect_close(drop(x), x, "dropout(0.5) after .eval(), on a 5x5 tensor",
                 "in eval mode dropout must give back its input unchanged")


# --- pictures -----------------------------------------------------------------------


def one_digit() -> torch.Tensor:
    """The first test digit of the shipped MNIST, padded to 1x32x32 like LeNet's input."""
    from torchvision import transforms

    from _kit.datasets import mnist

    return mnist(train=False, transform=transforms.Compose([transforms.Pad(2), transforms.ToTensor()]))[0][0]


def test_save_conv1_grid(tmp_path):
    """save_conv1_grid() draws conv1's kernels and one digit's feature maps, and returns the maps"""
    torch.manual_seed(13)
    conv = nn.Conv2d(1, 6, 5)
    before = conv.weight.detach().clone()
    digit = one_digit()
    path = tmp_path / "conv1_grid.png"
    maps = ops().save_conv1_grid(conv, digit, path)
    if isinstance(maps, torch.Tensor) and maps.dim() == 4 and maps.shape[0] == 1:
        maps = maps[0]  # a batch of one is fine too
    expect_png(path, "save_conv1_grid(conv, digit, path)", min_size=(300, 150))
    with torch.no_grad():
        expected = conv(digit.unsqueeze(0))[0]
    expect_close(maps, expected, "the feature maps save_conv1_grid(conv, digit, path) returned",
                 "return the feature maps of the image, of shape C x H' x W'")
    expect(torch.equal(conv.weight.detach(), before), "save_conv1_grid() changed conv's weights",
           "only read conv.weight; compute under torch.no_grad()")
