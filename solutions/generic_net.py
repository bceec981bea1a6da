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
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(input_shape[0], 6, kernel_size=5, stride=1, padding=0)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        with torch.no_grad():
            n_size = self._features(torch.zeros(1, *input_shape)).shape[1]
        self.fc1 = nn.Linear(n_size, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_outputs)
        ### END SOLUTION

    def _features(self, x):
        """The convolutional part, flattened: (N, C, H, W) -> (N, n). Optional helper."""
        ### BEGIN SOLUTION
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return torch.flatten(x, 1)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        x = self._features(x)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
        ### END SOLUTION


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
    ### BEGIN SOLUTION
    rows: list[tuple[str, tuple[int, ...], int]] = []

    def record(module: nn.Module, _inputs, output) -> None:
        n_params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((type(module).__name__, tuple(output.shape), n_params))

    modes = {m: m.training for m in model.modules()}
    handles = [m.register_forward_hook(record) for m in model.modules() if not list(m.children())]
    try:
        model.eval()
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes.items():
            m.training = training
    return rows
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_generic_net.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_net_fc1_in_features_rgb128": (
        "fc1 has to know how many numbers the convolutional part gives for one image, and that depends on the "
        "input's shape. Let the network measure it instead of computing it by hand.",
        "In __init__, after building conv1, the pool and conv2, push torch.zeros(1, *input_shape) through them inside "
        "torch.no_grad() and count what comes out per image; conv1 takes input_shape[0] channels.",
        "with torch.no_grad():\n    n_size = self._features(torch.zeros(1, *input_shape)).shape[1]\n"
        "self.fc1 = nn.Linear(n_size, 120)",
    ),
    "test_net_fc1_in_features_lenet": (
        "For a 1x32x32 input this network is exactly the workshop's LeNet: 400 features into fc1 and the same 61,706 "
        "parameters.",
        "A helper that runs the convolutional part and flattens it (say _features) serves both the dummy pass in "
        "__init__ and forward, so the two can never disagree.",
        "def _features(self, x):\n    x = self.pool(F.relu(self.conv1(x)))\n    x = self.pool(F.relu(self.conv2(x)))\n"
        "    return torch.flatten(x, 1)",
    ),
    "test_net_odd_input_shape": (
        "An odd size does not halve evenly: pooling rounds down. A dummy pass gets that right by itself; a formula "
        "written by hand rarely does.",
        "Count the features of the dummy output, whatever its shape: .shape[1] after flattening, or .numel() of one "
        "image's maps. Nothing in __init__ may assume a square or a 32x32 input.",
        "n_size = self._features(torch.zeros(1, *input_shape)).shape[1]",
    ),
    "test_net_layer_shapes": (
        "Follow a 3x128x128 image through the convolutional part: each 5x5 convolution takes 4 pixels off each side "
        "length, each 2x2 pooling halves it.",
        "128 -> 124 -> 62 -> 58 -> 29: padding=0 in both convolutions, kernel_size=2 and stride=2 in both poolings, "
        "and conv1 reads input_shape[0] channels.",
        "self.conv1 = nn.Conv2d(input_shape[0], 6, kernel_size=5)\nself.pool = nn.MaxPool2d(kernel_size=2, stride=2)\n"
        "self.conv2 = nn.Conv2d(6, 16, kernel_size=5)",
    ),
    "test_net_any_batch_size": (
        "Two things are compared: a batch against its samples one by one, and your scores against LeNet's with the "
        "same weights. Which one failed?",
        "Flatten with torch.flatten(x, 1) so that each sample keeps its row; a ReLU follows every layer but fc3, whose "
        "scores stay raw.",
        "x = self._features(x)\nx = F.relu(self.fc1(x))\nx = F.relu(self.fc2(x))\nreturn self.fc3(x)",
    ),
    "test_summarize_sequential": (
        "A forward hook is a function a module calls every time it runs, with its input and its output: the place "
        "to write a row of the summary.",
        "Hook every leaf module (one with no children: next(m.children(), None) is None); in the hook, append "
        "(type(m).__name__, tuple(output.shape), parameters of m alone). Then run one zeros batch of shape "
        "(1, *input_shape).",
        "rows.append((type(module).__name__, tuple(output.shape), sum(p.numel() for p in module.parameters(recurse=False))))",
    ),
    "test_summarize_call_order": (
        "The rows must follow the calls as they happen, not the list of modules: a pool used twice gives two rows, a "
        "layer never called gives none.",
        "Walking model.modules() lists each module once, called or not; a forward hook fires once per call, in the "
        "order of the calls.",
        "handles = [m.register_forward_hook(record) for m in model.modules() if not list(m.children())]",
    ),
    "test_summarize_net": (
        "Summed over the rows, the parameter counts must give the network's total: count each layer's own "
        "parameters, not those of the modules inside it.",
        "module.parameters(recurse=False) gives a module's own parameters only; the rows are (name, shape tuple, "
        "count) tuples in a list.",
        "n_params = sum(p.numel() for p in module.parameters(recurse=False))",
    ),
    "test_summarize_leaves_model_unchanged": (
        "A summary should leave no trace: no hooks left behind, no gradients, and every module in the mode it was in, "
        "even when the model raises.",
        "Keep the handles register_forward_hook returns and remove them in a finally: block; run under "
        "torch.no_grad(); if you call model.eval(), note every module's .training first and restore it in the "
        "finally: block.",
        "modes = {m: m.training for m in model.modules()}\ntry:\n    model.eval()\n    with torch.no_grad():\n"
        "        model(torch.zeros(1, *input_shape))\nfinally:\n    for handle in handles:\n        handle.remove()\n"
        "    for m, training in modes.items():\n        m.training = training",
    ),
}
### END HINTS
