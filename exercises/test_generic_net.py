"""Visible checks for exercises/generic_net.py. Run: pytest exercises/test_generic_net.py"""

import torch
import torch.nn as nn

from _kit.checks import expect, expect_equal, expect_shape, student
from test_lenet import expect_lenet_on_a_batch


def run_with_hooks(net: nn.Module, x: torch.Tensor,
                   kinds: tuple[type, ...]) -> list[tuple[nn.Module, tuple[int, ...], tuple[int, ...]]]:
    """(module, input shape, output shape) for every module of the given kinds that runs, in call order."""
    calls: list[tuple[nn.Module, tuple[int, ...], tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, out: calls.append((m, tuple(i[0].shape), tuple(out.shape))))
        for m in net.modules()
        if isinstance(m, kinds)
    ]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return calls


def first_linear_in_features(net: nn.Module, input_shape: tuple[int, ...], what: str) -> int:
    """in_features of the first nn.Linear that a dummy batch reaches (even if that layer then fails)."""
    reached: list[nn.Linear] = []
    hooks = [m.register_forward_pre_hook(lambda m, _i: reached.append(m))
             for m in net.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            net(torch.zeros(1, *input_shape))
    except Exception:
        if not reached:
            raise
    finally:
        for h in hooks:
            h.remove()
    expect(bool(reached), f"{what} ran no nn.Linear layer", "fc1, fc2 and fc3 are nn.Linear layers")
    return reached[0].in_features


def no_hooks_left(model: nn.Module) -> bool:
    """No forward hook left on any module of `model`, nor a global one."""
    from torch.nn.modules import module as nn_module

    local = all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    return local and not nn_module._global_forward_hooks and not nn_module._global_forward_pre_hooks


class SharedPool(nn.Module):
    """A tiny net that calls its pool twice and never uses `unused`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.unused = nn.Linear(5, 5)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 2 * 2, 3))

    def forward(self, x):
        return self.head(self.pool(self.pool(self.conv(x))))


def expect_fc1_features(input_shape: tuple[int, int, int], num_outputs: int, features: int, hint: str) -> nn.Module:
    """Net(input_shape, num_outputs), once its fc1 is known to see `features` and it scores a batch of 2."""
    what = f"Net({input_shape}, {num_outputs})"
    net = student("generic_net").Net(input_shape=input_shape, num_outputs=num_outputs)
    n = first_linear_in_features(net, input_shape, what)
    expect_equal(n, features, f"in_features of the first nn.Linear that runs in {what}", hint)
    expect_shape(net(torch.randn(2, *input_shape)), (2, num_outputs), f"{what}(x) for x of shape {(2, *input_shape)}")
    return net


def test_net_fc1_in_features_rgb128():
    """Net((3, 128, 128), 3): fc1 sees 13,456 features and the output has 3 scores"""
    expect_fc1_features((3, 128, 128), 3, 13_456,
                        "conv 5x5 -> 124, pool -> 62, conv 5x5 -> 58, pool -> 29: 16 * 29 * 29 = 13,456")


def test_net_fc1_in_features_lenet():
    """Net((1, 32, 32), 10) is the workshop's LeNet: 400 features into fc1, 61,706 parameters"""
    net = expect_fc1_features((1, 32, 32), 10, 400,
                              "run torch.zeros(1, *input_shape) through the conv layers in __init__ and count the "
                              "features")
    expect_equal(sum(p.numel() for p in net.parameters()), 61_706, "Net((1, 32, 32), 10)'s parameter count",
                 "conv1 1->6 5x5, conv2 6->16 5x5, fc 400->120->84->10, all with bias")


def test_net_odd_input_shape():
    """Net((2, 37, 51), 4) works on a non-square, odd-sized input: 864 features into fc1"""
    expect_fc1_features((2, 37, 51), 4, 864,
                        "37x51 -> 33x47 -> 16x23 -> 12x19 -> 6x9, and 16 * 6 * 9 = 864: let a dummy pass count it")


def test_net_layer_shapes():
    """Net((3, 128, 128), 3)'s conv and pool layers give 6x124x124, 6x62x62, 16x58x58, 16x29x29"""
    net = student("generic_net").Net((3, 128, 128), 3)
    seen = run_with_hooks(net, torch.zeros(1, 3, 128, 128), (nn.Conv2d, nn.Linear))
    # pooling may be a module or F.max_pool2d: its results are what conv2 and fc1 receive
    got = [shape for _, _, shape in seen[:1]] + [shape for _, shape, _ in seen[1:2]] + \
          [shape for _, _, shape in seen[1:2]] + [shape for _, shape, _ in seen[2:3]]
    expected = [(1, 6, 124, 124), (1, 6, 62, 62), (1, 16, 58, 58), (1, 16 * 29 * 29)]
    expect_equal(got, expected, "the outputs of conv1 and of the first pool, of conv2 and of the second pool "
                 "(as fc1 receives it, flattened) for a (1, 3, 128, 128) input",
                 "5x5 kernels without padding, then 2x2 max pooling with stride 2, twice")


def test_net_any_batch_size():
    """Net computes LeNet's scores for each sample of a batch, with raw scores out (no ReLU on fc3)"""
    expect_lenet_on_a_batch(student("generic_net").Net((1, 32, 32), 10), "Net((1, 32, 32), 10)")


def test_summarize_sequential():
    """summarize lists each leaf layer of an nn.Sequential with its output shape and parameter count"""
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    rows = student("generic_net").summarize(model, (1, 8, 8))
    conv_rows = [("Conv2d", (1, 4, 6, 6), 40), ("ReLU", (1, 4, 6, 6), 0)]  # 4 * (3 * 3 + 1) parameters
    head_rows = [("Flatten", (1, 144), 0), ("Linear", (1, 5), 725)]  # 144 * 5 + 5
    expect_equal(rows, conv_rows + head_rows,
                 "summarize(nn.Sequential(Conv2d(1, 4, 3), ReLU(), Flatten(), Linear(144, 5)), (1, 8, 8))",
                 "one tuple (type(m).__name__, tuple(output.shape), own parameter count) per leaf call; no row for "
                 "the Sequential")


def test_summarize_call_order():
    """summarize gives one row per call: a pool used twice appears twice, an unused layer never"""
    torch.manual_seed(0)
    rows = student("generic_net").summarize(SharedPool(), (1, 8, 8))
    expected = [
        ("Conv2d", (1, 2, 8, 8), 20),
        ("MaxPool2d", (1, 2, 4, 4), 0),
        ("MaxPool2d", (1, 2, 2, 2), 0),
        ("Flatten", (1, 8), 0),
        ("Linear", (1, 3), 27),
    ]
    expect_equal(rows, expected,
                 "summarize(model, (1, 8, 8)) for a model that calls its pool twice and has an unused Linear",
                 "record rows from forward hooks as the layers run, not by walking model.modules()")


def test_summarize_net():
    """summarize(Net((1, 32, 32), 10), (1, 32, 32)): conv rows 6x28x28 and 16x10x10, parameters add up to 61,706"""
    gn = student("generic_net")
    net = gn.Net((1, 32, 32), 10)
    rows = gn.summarize(net, (1, 32, 32))
    expect(isinstance(rows, list) and all(isinstance(r, tuple) and len(r) == 3 for r in rows),
           f"summarize(...) returned {type(rows).__name__} {rows!r:.120}, expected a list of (name, shape, parameter "
           "count) tuples")
    convs = [tuple(shape) for name, shape, _ in rows if name == "Conv2d"]
    expect_equal(convs, [(1, 6, 28, 28), (1, 16, 10, 10)], "the shapes in summarize's Conv2d rows")
    linears = [tuple(shape) for name, shape, _ in rows if name == "Linear"]
    expect_equal(linears, [(1, 120), (1, 84), (1, 10)], "the shapes in summarize's Linear rows")
    total = sum(p.numel() for p in net.parameters())
    expect_equal(sum(n for _, _, n in rows), total, "the sum of summarize's parameter counts",
                 "count only each module's own parameters: module.parameters(recurse=False)")


def test_summarize_leaves_model_unchanged():
    """summarize removes its hooks (even on error), records no gradients and keeps each layer's train/eval mode"""
    summarize = student("generic_net").summarize
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    model[3].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grad_modes: list[bool] = []
    hook = model[0].register_forward_hook(lambda *_: grad_modes.append(torch.is_grad_enabled()))
    rows = summarize(model, (3,))
    hook.remove()
    expect_equal(len(rows), 4, "len(summarize(Sequential(Linear, Dropout, ReLU, Linear), (3,)))")
    expect(grad_modes == [False], "summarize ran the model with gradients enabled",
           "wrap the dummy pass in torch.no_grad()")
    expect(no_hooks_left(model), "after summarize(...) some modules still have forward hooks",
           "keep the handles from register_forward_hook and call handle.remove() on each")
    modes = [m.training for m in model]
    expect_equal(modes, [True, True, True, False], "the training flags of the 4 layers after summarize",
                 "leave each module's .training as it was (if you call eval(), restore every module's flag afterwards)")
    after = model.state_dict()
    expect(all(torch.equal(before[k], after[k]) for k in before), "summarize changed the model's parameters")
    expect(all(p.grad is None for p in model.parameters()), "summarize left gradients in the parameters' .grad")
    try:
        summarize(model, (5,))  # wrong input size: Linear(3, 4) raises
    except Exception:
        pass
    expect(no_hooks_left(model),
           "after summarize(...) raised (wrong input size), some modules still have forward hooks",
           "remove the hooks in a finally: block")
    expect_equal([m.training for m in model], [True, True, True, False],
                 "the training flags of the 4 layers after summarize raised (wrong input size)",
                 "restore the modes in a finally: block too")
