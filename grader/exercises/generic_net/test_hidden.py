"""Hidden checks for generic_net.py. The student's Net is exported as a graph for each input
shape and run here with the grader's weights: fc1's size, every layer's shapes and settings,
the parameter count, the output and the gradients come from that run. summarize() is called
on kit models whose sizes are drawn for this run, and its rows are compared with the rows the
grader reads off the same model itself."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import torch
import torch.nn as nn

from grader.exercises.common import expect_failure_explained, export, shape_str
from grader.grading.checks import Mismatch, expect, expect_close, expect_equal, expect_shape
from grader.grading.layers import layers
from grader.grading.reference import solution
from grader.grading.scenario import Exported, Scenario, Submission, kit, not_connected
from grader.grading.secret import Draw
from grader.inside.kit import build, scaled_weights

EXERCISE = "generic_net"
TIMEOUT = 120


def config(input_shape: tuple[int, ...], num_outputs: int) -> str:
    return f"Net({tuple(input_shape)}, {num_outputs})"


@cache
def reference_shapes(input_shape: tuple[int, ...], num_outputs: int) -> list[tuple[int, ...]]:
    """The reference Net's parameter shapes, in its own order (built on the meta device: shapes without memory,
    where (3, 512, 512)'s fc1 alone would take 120 MB)."""
    with torch.device("meta"):
        return [tuple(p.shape) for p in solution("generic_net").Net(input_shape, num_outputs).parameters()]


def reference_count(input_shape: tuple[int, ...], num_outputs: int) -> int:
    return sum(int(torch.Size(s).numel()) for s in reference_shapes(input_shape, num_outputs))


def fc1_features(input_shape: tuple[int, ...]) -> int:
    _, h, w = input_shape
    return 16 * (((h - 4) // 2 - 4) // 2) * (((w - 4) // 2 - 4) // 2)


def export_net(submission: Submission, rng: Draw, input_shape: tuple[int, ...], num_outputs: int, batches: list[int]
               ) -> Exported:
    examples = [rng.randn(n, *input_shape) for n in batches]
    return export(submission, EXERCISE, "generic_net.Net", (tuple(input_shape), num_outputs), examples,
                  config(input_shape, num_outputs), rng, timeout=TIMEOUT)


SHAPES_HINT = "conv1 C->6 5x5, conv2 6->16 5x5, fc1 n->120, fc2 120->84, fc3 84->num_outputs, all with bias"


def weights_for(net: Exported, input_shape: tuple[int, ...], num_outputs: int, rng: Draw
                ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Random weights (1/sqrt(fan_in) scale): in the reference's parameter order, and in the student's."""
    weights = scaled_weights([list(s) for s in reference_shapes(input_shape, num_outputs)], rng.generator)
    return weights, net.by_shape(weights, SHAPES_HINT)


def reference_output(input_shape: tuple[int, ...], num_outputs: int, weights: list[torch.Tensor], x: torch.Tensor
                     ) -> torch.Tensor:
    """The reference Net's scores with these weights (in its own parameter order)."""
    reference = solution("generic_net").Net(input_shape, num_outputs)
    with torch.no_grad():
        for p, w in zip(reference.parameters(), weights):
            p.copy_(w)
        scores: torch.Tensor = reference(x)
        return scores


def expect_fc1(net: Exported, expected: int, what: str, reveal: bool) -> None:
    """fc1 (the 2-d parameter with 120 rows) must take `expected` features, said even if the forward failed."""
    found = [p.shape[1] for p in net.params if len(p.shape) == 2 and p.shape[0] == 120]
    expect(bool(found), f"{what} has no linear layer with 120 outputs (fc1 n -> 120)")
    if found[0] != expected:
        want = f", expected {expected:,}" if reveal else ""
        raise Mismatch(f"{what}: fc1 has in_features={found[0]:,}{want}: run torch.zeros(1, *input_shape) through "
                       "the conv layers in __init__ and count the features")
    expect_failure_explained(net, 0)


def expect_all_grads(net: Exported, params: list[torch.Tensor], x: torch.Tensor, what: str) -> None:
    unused = not_connected(net.gradients(0, params, [x]))
    if unused:
        shapes = ", ".join(shape_str(net.params[i].shape) for i in unused)
        raise Mismatch(f"after {what}(x).sum().backward(), the parameters of shapes {shapes} get no finite, non-zero "
                       "gradient: every layer must be part of the forward pass")


def expect_net(submission: Submission, rng: Draw, input_shape: tuple[int, ...], num_outputs: int, batch: int,
               reveal: bool, grads: bool = True
               ) -> tuple[Exported, list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """fc1's in_features, the output's shape, the parameter count and gradient flow of one configuration.

    With `grads` False, only shapes: the graph runs on the meta device, where tensors have shapes but no
    memory ((3, 512, 512)'s fc1 alone has 30 million weights; gradients are checked at every other size)."""
    what = config(input_shape, num_outputs)
    net = export_net(submission, rng, input_shape, num_outputs, [batch])
    expect_fc1(net, fc1_features(input_shape), what, reveal)
    if grads:
        weights, params = weights_for(net, input_shape, num_outputs, rng)
        x = rng.randn(batch, *input_shape)
    else:
        weights = [torch.empty(shape, device="meta") for shape in reference_shapes(input_shape, num_outputs)]
        params, x = net.by_shape(weights, SHAPES_HINT), torch.empty(batch, *input_shape, device="meta")
    expect_shape(net.forward(0, params, [x]).output, (batch, num_outputs), f"{what}(x) for a batch of {batch}",
                 "flatten with torch.flatten(x, 1); fc3 has num_outputs outputs")
    expect(net.n_params == reference_count(input_shape, num_outputs),
           f"{what} has {net.n_params:,} parameters, not what conv1 C->6 5x5, conv2 6->16 5x5, fc1 n->120, "
           "fc2 120->84, fc3 84->num_outputs (all with bias) give")
    if grads:
        expect_all_grads(net, params, x, what)
    return net, weights, params, x


@pytest.mark.points(1)
def test_net_fc1_in_features_rgb128(submission: Submission, rng: Draw) -> None:
    """Net((3, 128, 128), 3) sizes fc1 by a dummy pass: 13,456 features"""
    net, _, _, _ = expect_net(submission, rng, (3, 128, 128), 3, batch=2, reveal=True)
    expect_equal(net.n_params, 13_456 * 120 + 120 + 456 + 2416 + 10_164 + 255,
                 "Net((3, 128, 128), 3)'s parameter count")


@pytest.mark.points(1)
def test_net_fc1_in_features_lenet(submission: Submission, rng: Draw) -> None:
    """Net((1, 32, 32), 10) is the workshop's LeNet: 400 features, 61,706 parameters and LeNet's scores"""
    net, weights, params, x = expect_net(submission, rng, (1, 32, 32), 10, batch=5, reveal=True)
    expect_equal(net.n_params, 61_706, "Net((1, 32, 32), 10)'s parameter count")
    expect_close(net.forward(0, params, [x]).output, reference_output((1, 32, 32), 10, weights, x),
                 "Net((1, 32, 32), 10)'s scores with random weights",
                 hint="LeNet: conv-relu-pool twice, then fc1-relu, fc2-relu, fc3 (raw scores)")


@pytest.mark.points(1)
def test_net_fc1_in_features_seed_sizes(submission: Submission, rng: Draw) -> None:
    """Seed 003's (1, 150, 150) radio galaxies and the large (3, 512, 512): one light batch each"""
    expect_net(submission, rng, (1, 150, 150), 2, batch=1, reveal=True)
    expect_net(submission, rng, (3, 512, 512), 4, batch=1, reveal=True, grads=False)


def odd_shape(rng: Draw) -> tuple[int, int, int]:
    return (rng.integer(1, 5), rng.integer(26, 70), rng.integer(26, 100))


@pytest.mark.points(1)
def test_net_odd_input_shape(submission: Submission, rng: Draw) -> None:
    """Net(input_shape, n) for unseen non-square shapes and channel counts, with the right scores"""
    for _ in range(2):
        shape, outputs = odd_shape(rng), rng.integer(2, 9)
        net, weights, params, x = expect_net(submission, rng, shape, outputs, batch=rng.integer(1, 5), reveal=False)
        expect_close(net.forward(0, params, [x]).output, reference_output(shape, outputs, weights, x),
                     f"{config(shape, outputs)}'s scores with random weights on a non-square input",
                     hint="conv-relu-pool twice, flatten, fc1-relu, fc2-relu, fc3")


@pytest.mark.points(1)
def test_net_layer_shapes(submission: Submission, rng: Draw) -> None:
    """each conv and linear layer sees and gives the right shapes, with 5x5 kernels, stride 1 and no padding"""
    for input_shape, batch in [(odd_shape(rng), 7), ((3, 128, 128), 1)]:
        c, h, w = input_shape
        what = config(input_shape, 5)
        net = export_net(submission, rng, input_shape, 5, [batch])
        expect_fc1(net, fc1_features(input_shape), what, reveal=False)
        _, params = weights_for(net, input_shape, 5, rng)
        x = rng.randn(batch, *input_shape)
        found = layers(net.graph(0), net.forward(0, params, [x], keep=True), [*params, *net.buffer_values(), x],
                       len(net.params))
        convs = [(layer.in_shape, layer.out_shape, layer.options) for layer in found if layer.kind == "conv"]
        expect(len(convs) == 2, f"{what} ran {len(convs)} convolutions on a batch, expected 2 (conv1 and conv2)")
        h1, w1 = h - 4, w - 4
        expected = [((batch, c, h, w), (batch, 6, h1, w1)),
                    ((batch, 6, h1 // 2, w1 // 2), (batch, 16, h1 // 2 - 4, w1 // 2 - 4))]
        expect(convs[0][:2] == expected[0], f"{what}: conv1 turned an input of shape {convs[0][0]} into {convs[0][1]}, "
               f"expected {expected[0][1]}: conv1 takes input_shape[0] channels, 6 filters of 5x5, no padding, "
               "stride 1")
        expect(convs[1][:2] == expected[1], f"{what}: conv2 turned {convs[1][0]} into {convs[1][1]}, expected "
               f"{expected[1][0]} -> {expected[1][1]}: a 2x2 max pool with stride 2 after conv1's ReLU, then 16 "
               "filters of 5x5")
        for _, _, options in convs:
            expect(options["kernel"] == (5, 5) and options["stride"] == (1, 1) and options["padding"] == (0, 0),
                   f"{what}: a convolution has kernel {options['kernel']}, stride {options['stride']}, padding "
                   f"{options['padding']}, expected 5x5, stride 1, no padding")
        fc1 = fc1_features(input_shape)
        linears = [(layer.in_shape, layer.out_shape) for layer in found if layer.kind == "linear"]
        expect_equal(linears, [((batch, fc1), (batch, 120)), ((batch, 120), (batch, 84)), ((batch, 84), (batch, 5))],
                     f"the (input, output) shapes of the linear layers of {what} on a batch of {batch}",
                     "the second pool halves conv2's output; flatten keeps the batch dimension")
        expect_all_grads(net, params, x, what)


@pytest.mark.points(1)
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_net_any_batch_size(submission: Submission, rng: Draw, batch: int) -> None:
    """Net((3, 40, 36), 7) gives the right scores for batches of 1, 7 and 64"""
    input_shape = (3, 40, 36)
    net = export_net(submission, rng, input_shape, 7, [batch])
    expect_failure_explained(net, 0)
    weights, params = weights_for(net, input_shape, 7, rng)
    x = rng.randn(batch, *input_shape)
    out = net.forward(0, params, [x]).output
    expect_shape(out, (batch, 7), f"Net((3, 40, 36), 7)(x) for a batch of {batch}",
                 "flatten with torch.flatten(x, 1) or x.view(x.size(0), -1)")
    expect_close(out, reference_output(input_shape, 7, weights, x),
                 f"Net((3, 40, 36), 7)'s scores for a batch of {batch} with random weights",
                 hint="check the layer order, the ReLUs (none after fc3) and a flatten that keeps the batch dimension")


@pytest.mark.points(1)
def test_net_parameter_counts(submission: Submission, rng: Draw) -> None:
    """Net(input_shape, n) has exactly LeNet's parameters for unseen shapes and output counts"""
    for _ in range(3):
        input_shape, outputs = odd_shape(rng), rng.integer(2, 12)
        what = config(input_shape, outputs)
        net = export_net(submission, rng, input_shape, outputs, [2])
        expect(net.param_shapes == sorted(reference_shapes(input_shape, outputs)),
               f"{what}'s parameter shapes differ from conv1 C->6 5x5, conv2 6->16 5x5, fc1 n->120, fc2 120->84, "
               "fc3 84->num_outputs (all with bias): no extra or missing layers")
        expect(net.n_params == reference_count(input_shape, outputs), f"{what} has {net.n_params:,} parameters, "
               "not the expected count")


@pytest.mark.points(1)
def test_net_gradient_flow(submission: Submission, rng: Draw) -> None:
    """every parameter of Net gets a finite, non-zero gradient, for unseen shapes and batches"""
    for _ in range(3):
        input_shape, outputs, batch = odd_shape(rng), rng.integer(2, 10), rng.integer(1, 9)
        net = export_net(submission, rng, input_shape, outputs, [batch])
        expect_failure_explained(net, 0)
        expect_all_grads(net, weights_for(net, input_shape, outputs, rng)[1], rng.randn(batch, *input_shape),
                         config(input_shape, outputs))


# --- summarize ------------------------------------------------------------------------------


def trace_rows(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...], int]]:
    """What summarize(model, input_shape) should give: the grader's own hooks on every leaf."""
    rows: list[tuple[str, tuple[int, ...], int]] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda m, _, out: rows.append(
        (type(m).__name__, tuple(out.shape), sum(p.numel() for p in m.parameters(recurse=False))))) for m in leaves]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def sequential_model(rng: Draw) -> tuple[dict[str, Any], tuple[int, ...]]:
    c0, c1, c2, f, k = rng.integer(1, 4), rng.integer(3, 8), rng.integer(3, 9), rng.integer(5, 12), rng.integer(2, 6)
    h, w = rng.integer(12, 20), rng.integer(10, 18)
    ph, pw = h // 2, w // 2
    oh, ow = (ph - 3) // 2 + 1, (pw - 2) // 2 + 1
    layers_ = [["Conv2d", [c0, c1, 3], {"padding": 1}], ["BatchNorm2d", [c1]], ["ReLU", []], ["MaxPool2d", [2]],
               ["Conv2d", [c1, c2, [3, 2]], {"stride": 2}], ["Tanh", []], ["Flatten", []],
               ["Linear", [c2 * oh * ow, f]], ["Dropout", [0.3]], ["LeakyReLU", []], ["Linear", [f, k]]]
    return {"kind": "layer", "spec": ["Sequential", layers_]}, (c0, h, w)


def shared_model(rng: Draw) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Blocks and a pool called twice, a custom leaf with a parameter, a ModuleList, an unused layer,
    functional work between the modules."""
    c, hidden, k = rng.integer(2, 5), rng.integer(4, 8), rng.integer(2, 6)
    block = {"kind": "module", "modules": {"conv": ["Conv2d", [c, c, 3], {"padding": 1, "bias": False}],
                                           "scale": ["Scale", [c]], "act": ["ReLU", []]}}
    spec = {"kind": "module",
            "modules": {"stem": ["Conv2d", [2, c, [3, 5]], {"stride": [1, 2]}], "block": block,
                        "pool": ["MaxPool2d", [2], {"ceil_mode": True}],
                        "never": ["Sequential", [["Linear", [9, 9]], ["ReLU", []]]],
                        "heads": ["ModuleList", [["Linear", [c * 3 * 2, hidden]], ["Linear", [hidden, k]]]],
                        "gate": ["Sigmoid", []]},
            "forward": [["call", "stem"], ["call", "block"], ["call", "pool"], ["call", "block"], ["call", "pool"],
                        ["fn", "flatten"], ["call", "heads.0"], ["fn", "relu"], ["call", "heads.1"], ["call", "gate"]]}
    return spec, (2, 11, 17)


def summarize_rows(submission: Submission, rng: Draw, spec: dict[str, Any], input_shape: tuple[int, ...]) -> Any:
    s = Scenario(EXERCISE)
    rows = s.call("generic_net.summarize", kit(**spec), input_shape)
    return s.run(submission, seed=rng.seed()).value(rows)


def expect_rows(rows: Any, expected: list[tuple[str, tuple[int, ...], int]], what: str, hint: str) -> None:
    expect(isinstance(rows, list), f"{what} returned a {type(rows).__name__}, expected a list of (name, shape, "
           "parameter count) tuples")
    for i, row in enumerate(rows):
        expect(isinstance(row, tuple) and len(row) == 3, f"{what}: row {i} is not a tuple of 3")
        name, shape, count = row
        expect(isinstance(name, str), f"{what}: row {i}'s name is not a str (type(module).__name__)")
        expect(isinstance(shape, tuple) and all(type(d) is int for d in shape),
               f"{what}: row {i}'s shape is not a tuple of ints (tuple(output.shape))")
        expect(type(count) is int, f"{what}: row {i}'s parameter count is not an int")
    if rows == expected:
        return
    if len(rows) != len(expected):
        raise Mismatch(f"{what} gave {len(rows)} rows, expected one per leaf call ({len(expected)}): {hint}")
    for i, (got, want) in enumerate(zip(rows, expected)):
        if got != want:
            part = "name" if got[0] != want[0] else "output shape" if got[1] != want[1] else "parameter count"
            raise Mismatch(f"{what}: row {i} ({got[0]}) has the wrong {part}: {hint}")


@pytest.mark.points(1)
def test_summarize_sequential(submission: Submission, rng: Draw) -> None:
    """summarize gives one (name, output shape, own parameter count) row per leaf of an unseen nn.Sequential"""
    spec, shape = sequential_model(rng)
    expect_rows(summarize_rows(submission, rng, spec, shape), trace_rows(build(spec), shape),
                "summarize(nn.Sequential(Conv2d, BatchNorm2d, ReLU, MaxPool2d, Conv2d, Tanh, Flatten, Linear, Dropout, "
                f"LeakyReLU, Linear), {shape})",
                "one row (type(m).__name__, tuple(output.shape), own parameter count) per leaf call, for a batch of "
                "one")


@pytest.mark.points(1)
def test_summarize_call_order(submission: Submission, rng: Draw) -> None:
    """summarize records leaf calls in order: nested blocks called twice, a custom layer, a ModuleList, an
    unused layer"""
    spec, shape = shared_model(rng)
    expect_rows(summarize_rows(submission, rng, spec, shape), trace_rows(build(spec), shape),
                f"summarize(model, {shape}) for a model with nested blocks called twice, a custom layer with its own "
                "parameter, a ModuleList and an unused layer",
                "hook every module without children and record a row each time one runs, in call order")


@pytest.mark.points(1)
def test_summarize_leaf_models(submission: Submission, rng: Draw) -> None:
    """a model without children is itself a leaf: one row, for a conv, a flatten and a custom layer"""
    c = rng.integer(2, 6)
    for layer, shape, what in [(["Conv2d", [2, c, [3, 2]], {"stride": [2, 1]}], (2, 9, 7),
                                f"nn.Conv2d(2, {c}, (3, 2))"),
                               (["Flatten", []], (3, 4, rng.integer(2, 6)), "nn.Flatten()"),
                               (["Scale", [c]], (c, 3, 2), "a custom module with one parameter and no children")]:
        spec = {"kind": "layer", "spec": layer}
        expect_rows(summarize_rows(submission, rng, spec, shape), trace_rows(build(spec), shape),
                    f"summarize({what}, {shape})",
                    "a model without children is itself a leaf: it gets a hook and gives one row")


@pytest.mark.points(1)
def test_summarize_net(submission: Submission, rng: Draw) -> None:
    """summarize on the student's own Net((1, 150, 150), 2): the conv and linear rows, and counts that add up"""
    s = Scenario(EXERCISE)
    net = s.call("generic_net.Net", (1, 150, 150), 2)
    rows = s.call("generic_net.summarize", net, (1, 150, 150))
    exported = s.export(net, [[rng.randn(1, 1, 150, 150)]], values=False)
    readings = s.run(submission, seed=rng.seed(), timeout=TIMEOUT)
    what = "summarize(Net((1, 150, 150), 2), (1, 150, 150))"
    found = readings.value(rows)
    expect_rows(found, found, what, "")
    convs = [shape for name, shape, _ in found if name == "Conv2d"]
    expect_equal(convs, [(1, 6, 146, 146), (1, 16, 69, 69)], f"the shapes in the Conv2d rows of {what}")
    linears = [(shape, n) for name, shape, n in found if name == "Linear"]
    expect_equal(linears, [((1, 120), 18_496 * 120 + 120), ((1, 84), 10_164), ((1, 2), 170)],
                 f"the (shape, parameter count) of the Linear rows of {what}")
    expect_equal(sum(n for _, _, n in found), readings.exported(exported, "Net((1, 150, 150), 2)").n_params,
                 f"the sum of the parameter counts of {what}",
                 "count only each module's own parameters: module.parameters(recurse=False)")


def guest_model(rng: Draw) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Linear layers, dropouts and activations in nested containers, with mixed modes and hooks of their own."""
    a, b = rng.integer(5, 10), rng.integer(3, 7)
    spec = {"kind": "module",
            "modules": {"body": ["Sequential", [["Linear", [6, a]], ["Dropout", [0.4]], ["ReLU", []]]],
                        "head": ["Sequential",
                                 [["Linear", [a, b]], ["Dropout", [0.2]], ["Sequential", [["Tanh", []]]]]],
                        "out": ["Linear", [b, 3]]},
            "eval": ["head", "body.1"], "train": ["head.2"], "hooks": ["body.0", "out"]}
    return spec, (6,)


def expect_restored(start: dict[str, Any], end: dict[str, Any], hooks_message: str, modes_message: str) -> None:
    """The model's hooks (its own and the global ones) and every module's train/eval flag are as they were."""
    expect(end["hooks"] == start["hooks"] and end["global_hooks"] == start["global_hooks"], hooks_message)
    expect(end["modes"] == start["modes"], modes_message)


@pytest.mark.points(1)
def test_summarize_leaves_model_unchanged(submission: Submission, rng: Draw, advise: Callable[[str], None]) -> None:
    """summarize leaves a model as it found it: modes, hooks, parameters and gradients, even when the forward raises"""
    spec, shape = guest_model(rng)
    model = build(spec)
    s = Scenario(EXERCISE)
    guest = s.build(kit(**spec))
    before = s.state(guest)
    rows = s.call("generic_net.summarize", guest, shape)
    after = s.state(guest)
    s.call("generic_net.summarize", guest, (7,), catch=True)  # Linear(6, a) cannot take 7 features: the forward raises
    after_error = s.state(guest)
    readings = s.run(submission, seed=rng.seed())
    expect_rows(readings.value(rows), trace_rows(model, shape), f"summarize(model, {shape}) for Linear, Dropout, ReLU, "
                "Linear, Dropout, Tanh, Linear in nested containers", "one row per leaf call")
    start, end, failed = readings[before], readings[after], readings[after_error]
    expect_restored(start, end, "after summarize(...) the model's hooks differ: remove exactly the handles your own "
                    "register_forward_hook calls returned (handle.remove()), and keep the model's own hooks",
                    "summarize changed the train/eval flags of a model whose submodules had mixed modes: record every "
                    "module's .training first and restore each one afterwards (model.train() is not enough)")
    for p0, p1 in zip(start["params"], end["params"]):
        expect(torch.equal(p0["value"], p1["value"]), "summarize changed the model's parameters")
        expect(p1["requires_grad"] and p1["leaf"], "after summarize, some parameters no longer require gradients")
        expect(p1["grad"] is None, "summarize left gradients in the parameters' .grad")
    expect_restored(start, failed, "after summarize(...) raised (wrong input size), some hooks were left behind or "
                    "the model's own hooks were removed: remove your hooks in a finally: block",
                    "after summarize(...) raised (wrong input size), the train/eval flags were not restored: restore "
                    "the modes in a finally: block too")
    grad_modes = [grad for kind, grad, *_ in end["calls"] if kind == "hook"]
    if any(grad_modes):
        advise("summarize ran the model with gradients enabled: wrap the dummy pass in torch.no_grad() "
               "(the model's own hook saw autograd on; this costs no points)")
