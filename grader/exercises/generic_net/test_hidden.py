"""Hidden checks for generic_net.py: fc1 sized by a dummy pass for any input shape, exact
forward values with weights loaded by shape, gradient flow, and summarize() against traces."""

from __future__ import annotations

from functools import cache

import pytest
import torch

from grader.grading.checks import Mismatch, expect, expect_close, expect_equal, expect_shape
from grader.inside.probes import load_by_shape, parameter_shapes
from grader.inside.probes.generic_net import build_model, seeded_weights, trace_rows
from grader.grading.reference import solution

CALL_TIMEOUT = 120


def reference_net(input_shape: tuple[int, ...], num_outputs: int) -> torch.nn.Module:
    return solution("generic_net").Net(input_shape, num_outputs)


@cache
def reference_shapes(input_shape: tuple[int, ...], num_outputs: int) -> list[list[int]]:
    """The reference Net's parameter shapes, sorted (declaration order does not matter)."""
    return parameter_shapes(reference_net(input_shape, num_outputs))


def reference_count(input_shape: tuple[int, ...], num_outputs: int) -> int:
    """LeNet's parameter count for this configuration, by formula (no 30M-weight model needed)."""
    c, h, w = input_shape
    h, w = ((h - 4) // 2 - 4) // 2, ((w - 4) // 2 - 4) // 2
    n = 16 * h * w
    return (6 * c * 25 + 6) + (16 * 6 * 25 + 16) + (120 * n + 120) + (120 * 84 + 84) + (84 * num_outputs + num_outputs)


def run_net(submission, input_shape, num_outputs, batch, seed=0, weights=False, send_output=True):
    """Run the student's Net on a seeded random batch; return observations and the input."""
    gen = torch.Generator().manual_seed(1000 + seed)
    x = torch.randn(batch, *input_shape, generator=gen)
    args = {}
    if weights:
        args = {"weight_shapes": reference_shapes(input_shape, num_outputs), "weight_seed": seed}
    obs = submission.call("generic_net.net_run", timeout=CALL_TIMEOUT, input_shape=list(input_shape),
                          num_outputs=num_outputs, x=x, send_output=send_output, **args)
    return obs, x


def reference_output(input_shape, num_outputs, seed, x) -> torch.Tensor:
    net = reference_net(input_shape, num_outputs)
    load_by_shape(net, seeded_weights(parameter_shapes(net), seed))
    with torch.no_grad():
        return net(x)


def output_of(obs, what: str) -> torch.Tensor:
    expect(obs["error"] is None, f"{what} raised {obs['error']}")
    return obs["out"]


def config(input_shape, num_outputs) -> str:
    return f"Net({tuple(input_shape)}, {num_outputs})"


def expect_fc1(obs, expected: int, what: str, reveal: bool) -> None:
    """The first Linear that runs must take `expected` features (reported even if it then failed)."""
    got = obs["first_linear_in"]
    expect(got is not None, f"{what}: no nn.Linear layer ran on a batch (fc1, fc2 and fc3 are nn.Linear layers)")
    if got != expected:
        want = f", expected {expected:,}" if reveal else ""
        raise Mismatch(f"{what}: the first nn.Linear that runs has in_features={got:,}{want}: run "
                       "torch.zeros(1, *input_shape) through the conv layers in __init__ and count the features")
    expect(obs["error"] is None, f"{what}(x) raised {obs['error']}")


def expect_all_grads(obs, what: str) -> None:
    """Every parameter got a finite, non-zero gradient from output.sum().backward()."""
    expect(obs["error"] is None, f"{what}(x) raised {obs['error']}")
    for g in obs["grads"]:
        expect(g["has"], f"after {what}(x).sum().backward(), the parameter of shape {tuple(g['shape'])} has no "
               "gradient: every layer must be used in forward")
        expect(g["finite"], f"after {what}(x).sum().backward(), the parameter of shape {tuple(g['shape'])} has "
               "a non-finite gradient")
        expect(g["nonzero"], f"after {what}(x).sum().backward(), the gradient of the parameter of shape "
               f"{tuple(g['shape'])} is all zeros: is that layer really part of the forward pass?")


def expect_net(submission, input_shape, num_outputs, batch, fc1: int, reveal: bool, seed: int = 0) -> dict:
    """fc1's in_features, the output's shape, the parameter count and gradient flow of one configuration."""
    what = config(input_shape, num_outputs)
    obs, _ = run_net(submission, input_shape, num_outputs, batch, seed=seed, send_output=False)
    expect_fc1(obs, fc1, what, reveal)
    expect_shape(obs["out_shape"], (batch, num_outputs), f"{what}(x) for a batch of {batch}",
                 "flatten with torch.flatten(x, 1); fc3 has num_outputs outputs")
    expect(obs["n_params"] == reference_count(input_shape, num_outputs),
           f"{what} has {obs['n_params']:,} parameters, not what conv1 C->6 5x5, conv2 6->16 5x5, fc1 n->120, "
           "fc2 120->84, fc3 84->num_outputs (all with bias) give")
    expect_all_grads(obs, what)
    return obs


@pytest.mark.points(1)
def test_net_fc1_in_features_rgb128(submission):
    obs = expect_net(submission, (3, 128, 128), 3, batch=2, fc1=13_456, reveal=True)
    expect_equal(obs["n_params"], 13_456 * 120 + 120 + 456 + 2416 + 10_164 + 255, "Net((3, 128, 128), 3)'s parameter count")


@pytest.mark.points(1)
def test_net_fc1_in_features_lenet(submission):
    obs = expect_net(submission, (1, 32, 32), 10, batch=5, fc1=400, reveal=True)
    expect_equal(obs["n_params"], 61_706, "Net((1, 32, 32), 10)'s parameter count")
    obs, x = run_net(submission, (1, 32, 32), 10, batch=5, seed=3, weights=True)
    expect_close(output_of(obs, "Net((1, 32, 32), 10)(x)"), reference_output((1, 32, 32), 10, 3, x),
                 "Net((1, 32, 32), 10)'s scores with random weights",
                 hint="LeNet: conv-relu-pool twice, then fc1-relu, fc2-relu, fc3 (raw scores)")


@pytest.mark.points(1)
def test_net_fc1_in_features_seed_sizes(submission):
    """Seed 003's (1, 150, 150) radio galaxies and the large (3, 512, 512): one light batch each."""
    expect_net(submission, (1, 150, 150), 2, batch=1, fc1=18_496, reveal=True)
    expect_net(submission, (3, 512, 512), 4, batch=1, fc1=250_000, reveal=True)


@pytest.mark.points(1)
def test_net_odd_input_shape(submission):
    expect_net(submission, (2, 61, 47), 7, batch=3, fc1=16 * 12 * 8, reveal=False, seed=1)
    expect_net(submission, (5, 26, 99), 6, batch=4, fc1=16 * 3 * 21, reveal=False, seed=2)
    obs, x = run_net(submission, (2, 61, 47), 7, batch=3, seed=4, weights=True)
    expect_close(output_of(obs, "Net((2, 61, 47), 7)(x)"), reference_output((2, 61, 47), 7, 4, x),
                 "Net((2, 61, 47), 7)'s scores with random weights on a non-square input",
                 hint="conv-relu-pool twice, flatten, fc1-relu, fc2-relu, fc3")


@pytest.mark.points(1)
def test_net_layer_shapes(submission):
    for input_shape, batch, convs, fc1 in [
        ((4, 29, 70), 7, [((7, 4, 29, 70), (7, 6, 25, 66)), ((7, 6, 12, 33), (7, 16, 8, 29))], 16 * 4 * 14),
        ((3, 128, 128), 1, [((1, 3, 128, 128), (1, 6, 124, 124)), ((1, 6, 62, 62), (1, 16, 58, 58))], 13_456),
    ]:
        what = config(input_shape, 5)
        obs, _ = run_net(submission, input_shape, 5, batch, send_output=False)
        expect(obs["error"] is None, f"{what}(x) raised {obs['error']}")
        got = [(tuple(c["in_shape"]), tuple(c["shape"] or ())) for c in obs["calls"] if c["type"] == "Conv2d"]
        expect(len(got) == 2, f"{what} ran {len(got)} nn.Conv2d layers on a batch, expected 2 (conv1 and conv2)")
        expect(got[0] == convs[0], f"{what}: conv1 turned an input of shape {got[0][0]} into {got[0][1]}, "
               f"expected {convs[0][1]}: conv1 takes input_shape[0] channels, 6 filters of 5x5, no padding, stride 1")
        expect(got[1] == convs[1], f"{what}: conv2 turned {got[1][0]} into {got[1][1]}, expected {convs[1][0]} -> "
               f"{convs[1][1]}: a 2x2 max pool with stride 2 after conv1's ReLU, then 16 filters of 5x5")
        configs = [c["config"] for c in obs["calls"] if c["type"] == "Conv2d"]
        for c in configs:
            expect(tuple(c["kernel_size"]) == (5, 5) and tuple(c["stride"]) == (1, 1) and tuple(c["padding"]) == (0, 0),
                   f"{what}: a Conv2d has kernel {tuple(c['kernel_size'])}, stride {tuple(c['stride'])}, padding "
                   f"{tuple(c['padding'])}, expected 5x5, stride 1, no padding")
        linears = [(tuple(c["in_shape"]), tuple(c["shape"] or ())) for c in obs["calls"] if c["type"] == "Linear"]
        expect_equal(linears, [((batch, fc1), (batch, 120)), ((batch, 120), (batch, 84)), ((batch, 84), (batch, 5))],
                     f"the (input, output) shapes of the nn.Linear layers of {what} on a batch of {batch}",
                     "the second pool halves conv2's output; flatten keeps the batch dimension")
        expect_all_grads(obs, what)


@pytest.mark.points(1)
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_net_any_batch_size(submission, batch):
    input_shape = (3, 40, 36)
    obs, x = run_net(submission, input_shape, 7, batch, seed=10 + batch, weights=True)
    expect(obs["error"] is None, f"Net((3, 40, 36), 7)(x) for a batch of {batch} raised {obs['error']}")
    expect_shape(obs["out"], (batch, 7), f"Net((3, 40, 36), 7)(x) for a batch of {batch}",
                 "flatten with torch.flatten(x, 1) or x.view(x.size(0), -1)")
    expect_close(obs["out"], reference_output(input_shape, 7, 10 + batch, x),
                 f"Net((3, 40, 36), 7)'s scores for a batch of {batch} with random weights",
                 hint="check the layer order, the ReLUs (none after fc3) and a flatten that keeps the batch dimension")


@pytest.mark.points(1)
def test_net_parameter_counts(submission):
    for input_shape, num_outputs in [((5, 44, 30), 5), ((1, 28, 28), 10), ((3, 64, 96), 11)]:
        what = config(input_shape, num_outputs)
        obs, _ = run_net(submission, input_shape, num_outputs, 4, send_output=False)
        expected = reference_shapes(input_shape, num_outputs)
        expect(obs["param_shapes"] == expected,
               f"{what}'s parameter shapes differ from conv1 C->6 5x5, conv2 6->16 5x5, fc1 n->120, fc2 120->84, "
               "fc3 84->num_outputs (all with bias): no extra or missing layers")
        expect(obs["n_params"] == reference_count(input_shape, num_outputs),
               f"{what} has {obs['n_params']:,} parameters, not the expected count")
        expect_all_grads(obs, what)


@pytest.mark.points(1)
def test_net_gradient_flow(submission):
    for input_shape, num_outputs, batch in [((2, 61, 47), 7, 4), ((1, 32, 32), 10, 1), ((3, 33, 33), 3, 9)]:
        obs, _ = run_net(submission, input_shape, num_outputs, batch, seed=batch, send_output=False)
        expect(obs["error"] is None, f"{config(input_shape, num_outputs)}(x) raised {obs['error']}")
        expect_all_grads(obs, config(input_shape, num_outputs))


def expect_rows(obs, expected: list, what: str, hint: str) -> None:
    expect(obs["format"] is None, f"{what} {obs['format']}")
    rows = obs["rows"]
    if rows == expected:
        return
    if len(rows) != len(expected):
        raise Mismatch(f"{what} gave {len(rows)} rows, expected one per leaf call ({len(expected)}): {hint}")
    for i, (got, want) in enumerate(zip(rows, expected)):
        if got != want:
            part = "name" if got[0] != want[0] else "output shape" if got[1] != want[1] else "parameter count"
            raise Mismatch(f"{what}: row {i} ({got[0]}) has the wrong {part}: {hint}")


@pytest.mark.points(1)
def test_summarize_sequential(submission):
    model, shape = build_model("sequential")
    obs = submission.call("generic_net.summarize_kit", model="sequential")
    expect_rows(obs, trace_rows(model, shape),
                "summarize(nn.Sequential(Conv2d, BatchNorm2d, ReLU, MaxPool2d, Conv2d, Tanh, Flatten, Linear, "
                "Dropout, LeakyReLU, Linear), (3, 13, 11))",
                "one row (type(m).__name__, tuple(output.shape), own parameter count) per leaf call, for a batch of one")


@pytest.mark.points(1)
def test_summarize_call_order(submission):
    model, shape = build_model("shared")
    obs = submission.call("generic_net.summarize_kit", model="shared")
    expect_rows(obs, trace_rows(model, shape),
                "summarize(model, (2, 11, 17)) for a model with nested blocks called twice, a custom layer with "
                "its own parameter, a ModuleList and an unused layer",
                "hook every module without children and record a row each time one runs, in call order")


@pytest.mark.points(1)
def test_summarize_leaf_models(submission):
    for name, what in [("leaf_conv", "summarize(nn.Conv2d(2, 3, (3, 2), stride=(2, 1)), (2, 9, 7))"),
                       ("leaf_flatten", "summarize(nn.Flatten(), (3, 4, 5))"),
                       ("leaf_custom", "summarize(a custom module with one parameter and no children, (5, 3, 2))")]:
        model, shape = build_model(name)
        obs = submission.call("generic_net.summarize_kit", model=name)
        expect_rows(obs, trace_rows(model, shape), what,
                    "a model without children is itself a leaf: it gets a hook and gives one row")


@pytest.mark.points(1)
def test_summarize_net(submission):
    obs = submission.call("generic_net.summarize_net", timeout=CALL_TIMEOUT, input_shape=[1, 150, 150], num_outputs=2)
    what = "summarize(Net((1, 150, 150), 2), (1, 150, 150))"
    expect_rows(obs, obs["trace"], what, "one row per leaf call of your Net, as forward hooks see them")
    rows = obs["rows"]
    convs = [tuple(shape) for name, shape, _ in rows if name == "Conv2d"]
    expect_equal(convs, [(1, 6, 146, 146), (1, 16, 69, 69)], f"the shapes in the Conv2d rows of {what}")
    linears = [(tuple(shape), n) for name, shape, n in rows if name == "Linear"]
    expect_equal(linears, [((1, 120), 18_496 * 120 + 120), ((1, 84), 10_164), ((1, 2), 170)],
                 f"the (shape, parameter count) of the Linear rows of {what}")
    expect_equal(sum(n for _, _, n in rows), obs["n_params"], f"the sum of the parameter counts of {what}",
                 "count only each module's own parameters: module.parameters(recurse=False)")


@pytest.mark.points(1)
def test_summarize_leaves_model_unchanged(submission):
    model, shape = build_model("guest")
    obs = submission.call("generic_net.summarize_guest")
    expect_rows(obs, trace_rows(model, shape), "summarize(model, (6,)) for Linear, Dropout, ReLU, Linear, Dropout, "
                "Tanh, Linear in nested containers", "one row per leaf call")
    expect(obs["grad_modes"] != [] and not any(obs["grad_modes"]),
           "summarize ran the model with gradients enabled: wrap the dummy pass in torch.no_grad()")
    expect(obs["own_hooks_kept"], "summarize removed hooks that the model had before it was called: "
           "remove only the handles your own register_forward_hook calls returned")
    expect(obs["hooks_kept"], "after summarize(...) some modules still have forward hooks: "
           "keep the handles from register_forward_hook and call handle.remove() on each")
    expect(obs["modes_after"] == obs["modes_before"],
           "summarize changed the train/eval flags of a model whose submodules had mixed modes: "
           "record every module's .training first and restore each one afterwards (model.train() is not enough)")
    expect(obs["params_same"], "summarize changed the model's parameters")
    expect(obs["params_trainable"], "after summarize, some parameters no longer require gradients")
    expect(obs["grads_none"], "summarize left gradients in the parameters' .grad")
    expect(obs["hooks_kept_after_error"], "after summarize(...) raised (wrong input size), some hooks were left behind "
           "or the model's own hooks were removed: remove your hooks in a finally: block")
    expect(obs["modes_after_error"] == obs["modes_before"],
           "after summarize(...) raised (wrong input size), the train/eval flags were not restored: "
           "restore the modes in a finally: block too")
