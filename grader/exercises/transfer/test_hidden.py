"""Hidden checks for transfer.py. Freezing is judged on kit networks drawn for the run (their
layer types, order and names vary), by the requires_grad flags read back; retraining by the
weights read back, against the grader's own run of the reference on an identical network; the
digits 0-4 -> 5-9 story by measuring both returned networks here, on held-back digits under the
run's secret labels."""

from __future__ import annotations

import pytest
import torch

from grader.grading import digits
from grader.grading.checks import expect, expect_close, expect_equal, type_name
from grader.grading.layers import layers
from grader.grading.reference import solution
from grader.grading.scenario import Exported, Scenario, kit
from grader.inside.kit import build

EXERCISE = "transfer"
DIGITS_TIMEOUT = 600


def sequential_model(rng) -> dict:
    """A Sequential of one to three convolutions (with or without bias, some followed by a batch norm),
    then one to three linear layers."""
    layers_, channels, size = [], 1, 12
    for _ in range(rng.integer(1, 3)):
        out = rng.integer(2, 5)
        layers_ += [["Conv2d", [channels, out, 3], {"bias": rng.choice([True, False])}], ["ReLU", []]]
        if rng.choice([True, False]):
            layers_.append(["BatchNorm2d", [out]])
        channels, size = out, size - 2
    features = channels * size * size
    layers_.append(["Flatten", []])
    for _ in range(rng.integer(1, 3)):
        out = rng.integer(3, 8)
        layers_ += [["Linear", [features, out]], ["ReLU", []]]
        features = out
    return {"kind": "module", "modules": {"net": ["Sequential", layers_[:-1]]}}


def nested_model(rng, classes: int = 3, batch_norm: bool = True) -> dict:
    """Convolutions in a ModuleList, a batch norm, and linear layers with misleading names (one is called conv2)."""
    c1, c2, hidden = rng.integer(2, 4), rng.integer(3, 5), rng.integer(8, 14)
    modules = {"blocks": ["ModuleList", [["Conv2d", [1, c1, 3]], ["Conv2d", [c1, c2, 3], {"bias": False}]]]}
    program = [["call", "blocks.0"], ["fn", "relu"], ["call", "blocks.1"], ["fn", "relu"]]
    if batch_norm:
        modules["norm"] = ["BatchNorm2d", [c2]]
        program.append(["call", "norm"])
    modules.update({"conv2": ["Linear", [c2 * 4 * 4, hidden]], "head": ["Sequential", [["ReLU", []], ["Linear", [hidden, classes]]]]})
    program += [["fn", "max_pool2d", 2], ["fn", "flatten"], ["call", "conv2"], ["call", "head"]]
    return {"kind": "module", "modules": modules, "forward": program}


def owners(net: torch.nn.Module) -> list[str]:
    """The class name of the layer owning each parameter, in net.parameters() order (trusted side only:
    it is half of freeze_features)."""
    owner = {id(p): type(m).__name__ for m in net.modules() for p in m.parameters(recurse=False)}
    return [owner[id(p)] for p in net.parameters()]


def frozen_pattern(spec: dict) -> list[bool]:
    return [kind == "Conv2d" for kind in owners(build(spec))]


def freeze(submission, rng, spec: dict) -> tuple[object, list[bool]]:
    s = Scenario(EXERCISE)
    net = s.build(kit(**spec))
    returned = s.call("transfer.freeze_features", net)
    after = s.state(net)
    readings = s.run(submission, seed=rng.seed())
    return readings.value(returned), [p["requires_grad"] for p in readings[after]["params"]]


@pytest.mark.points(1)
def test_freeze_features_sequential(submission, rng):
    """freeze_features(net) freezes every convolution of an unseen Sequential, in place, and nothing else"""
    spec = sequential_model(rng)
    returned, flags = freeze(submission, rng, spec)
    expect(returned is None, f"freeze_features(net) returned {type_name(returned)}: change the network in place and "
           "return None")
    expect_equal(flags, [not f for f in frozen_pattern(spec)], "requires_grad of the network's parameters after "
                 "freeze_features", "freeze every nn.Conv2d (weight and bias), no other layer")


@pytest.mark.points(1)
def test_freeze_features_finds_convs_by_type(submission, rng):
    """freeze_features finds convolutions by type in nested containers, and names cannot mislead it"""
    spec = nested_model(rng)
    _, flags = freeze(submission, rng, spec)
    pattern = frozen_pattern(spec)
    convs_left = sum(r for r, f in zip(flags, pattern) if f)
    others_frozen = sum(not r for r, f in zip(flags, pattern) if not f)
    expect(convs_left == 0, f"{convs_left} convolution parameter(s) of a nested network stayed trainable: "
           "find nn.Conv2d layers by type through net.modules()")
    expect(others_frozen == 0, f"{others_frozen} non-convolution parameter(s) were frozen (names can mislead)")


@pytest.mark.points(1)
def test_trainable_parameters(submission, rng):
    """trainable_parameters(net) lists exactly the parameters that require gradients, in order"""
    for spec in (sequential_model(rng), nested_model(rng)):
        count = len(owners(build(spec)))
        for frozen in (frozen_pattern(spec), [False] * count, [rng.choice([True, False]) for _ in range(count)]):
            spec = {**spec, "weights": [rng.randn(*p.shape) for p in build(spec).parameters()], "frozen": frozen}
            s = Scenario(EXERCISE)
            listed = s.call("transfer.trainable_parameters", kit(**spec))
            got = s.run(submission, seed=rng.seed()).value(listed)
            expect(isinstance(got, list), f"trainable_parameters(net) returned {type_name(got)}, expected a list")
            wanted = [w for w, f in zip(spec["weights"], frozen) if not f]
            same = len(got) == len(wanted) and all(isinstance(g, torch.Tensor) and g.shape == w.shape and torch.equal(g, w)
                                                   for g, w in zip(got, wanted))
            expect(same, f"trainable_parameters(net) gave {len(got)} tensors, expected the {len(wanted)} parameters "
                   "whose requires_grad is True, in net.parameters() order")


def retrain_problem(rng, n: int, batch_norm: bool = True, start_in_eval: bool = False) -> dict:
    spec = nested_model(rng, batch_norm=batch_norm)
    spec["weights"] = [rng.randn(*p.shape, scale=0.3) for p in build(spec).parameters()]
    if start_in_eval:
        spec["eval"] = [""]
    labels = rng.randint(0, 3, [n])
    images = rng.randn(n, 1, 12, 12) + labels.view(-1, 1, 1, 1).float()
    return {"net": spec, "images": images, "labels": labels}


def retrain_both(submission, rng, p: dict, batch_size: int, epochs: int, lr: float):
    """retrain_classifier in the worker and the reference here, on identical networks and data."""
    loader = {"kind": "loader", "tensors": [p["images"], p["labels"]], "batch_size": batch_size}
    s = Scenario(EXERCISE)
    net = s.build(kit(**p["net"]))
    losses = s.call("transfer.retrain_classifier", net, kit(**loader), epochs=epochs, lr=lr,
                    device=kit("device", name="cpu"), optimizers_of=net)
    after = s.state(net)
    readings = s.run(submission, seed=rng.seed())
    reference = build(p["net"])
    expected = solution("transfer").retrain_classifier(reference, build(loader), epochs=epochs, lr=lr,
                                                       device=torch.device("cpu"))
    return (readings.value(losses), readings[after]["params"], readings[losses].get("optimizers", []),
            expected, [q.detach().clone() for q in reference.parameters()])


def expect_losses(got: object, epochs: int, what: str) -> list[float]:
    expect(isinstance(got, list) and len(got) == epochs and all(isinstance(v, float) for v in got),
           f"{what} returned {type_name(got)}, expected a list of {epochs} floats (one mean loss per epoch)")
    return got  # type: ignore[return-value]


@pytest.mark.points(2)
def test_retrain_classifier_keeps_conv_weights(submission, rng):
    """retrain_classifier() leaves the convolutions bit for bit unchanged and trains the rest exactly"""
    p = retrain_problem(rng, 30)
    _, params, _, _, reference = retrain_both(submission, rng, p, batch_size=7, epochs=2, lr=0.05)
    for i, (frozen, got, want, sent) in enumerate(zip(frozen_pattern(p["net"]), params, reference, p["net"]["weights"])):
        if frozen:
            expect(torch.equal(got["value"], sent), "retrain_classifier() changed a convolution weight")
        else:
            expect_close(got["value"], want, f"parameter {i} after retraining", atol=1e-4,
                         hint="SGD(trainable_parameters(net), lr, momentum=0.9); zero_grad, forward, loss, backward, "
                              "step for every mini-batch")


@pytest.mark.points(1)
def test_retrain_classifier_from_eval_mode(submission, rng):
    """retrain_classifier() puts a network left in eval mode back in training mode (its batch norm learns)"""
    p = retrain_problem(rng, 24, start_in_eval=True)
    _, params, _, _, reference = retrain_both(submission, rng, p, batch_size=6, epochs=2, lr=0.05)
    for i, (got, want) in enumerate(zip(params, reference)):
        expect_close(got["value"], want, f"parameter {i} of a network left in eval mode, after retraining", atol=1e-4,
                     hint="call net.train() first: batch norm and dropout behave differently while training")


@pytest.mark.points(0)
@pytest.mark.advisory
def test_retrain_classifier_optimizer_gets_trainable_only(submission, rng, advise):
    """advice: the optimizer is given the trainable parameters only (a frozen parameter given to SGD changes
    nothing that can be measured, so this costs no points)"""
    p = retrain_problem(rng, 20)
    _, _, given, _, _ = retrain_both(submission, rng, p, batch_size=10, epochs=1, lr=0.01)
    trainable = [i for i, f in enumerate(frozen_pattern(p["net"])) if not f]
    if not given:
        advise("retrain_classifier() built no torch.optim optimizer that the grader could see")
    elif given[-1] != trainable:
        advise("retrain_classifier() gave its optimizer frozen parameters too: torch.optim.SGD(trainable_parameters(net), "
               "...) keeps the optimizer from ever touching them")


@pytest.mark.points(1)
def test_retrain_classifier_loss_decreases(submission, rng):
    """retrain_classifier() returns one mean loss per epoch; they fall, exactly as the reference's"""
    p = retrain_problem(rng, 60)
    losses, _, _, expected, _ = retrain_both(submission, rng, p, batch_size=6, epochs=4, lr=0.05)
    losses = expect_losses(losses, 4, "retrain_classifier(epochs=4)")
    if expected[-1] < expected[0]:  # the reference's fall on this run's data
        expect(losses[-1] < losses[0], "the epoch losses of retrain_classifier() did not fall")
    expect_close(torch.tensor(losses, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                 "retrain_classifier()'s epoch losses", atol=1e-4)


@pytest.mark.points(1)
def test_retrain_classifier_returns_epoch_mean_losses(submission, rng):
    """retrain_classifier() returns the mean of loss.item() over each epoch's mini-batches (checked with lr=0)"""
    p = retrain_problem(rng, 23, batch_norm=False)
    losses, _, _, expected, _ = retrain_both(submission, rng, p, batch_size=5, epochs=3, lr=0.0)
    expect_close(torch.tensor(expect_losses(losses, 3, "retrain_classifier(epochs=3)"), dtype=torch.float64),
                 torch.tensor(expected, dtype=torch.float64), "the epoch mean losses with lr=0", atol=1e-5,
                 hint="the mean of loss.item() over the epoch's mini-batches (the last one may be smaller)")


def accuracy_on(net: Exported, call: int, images: torch.Tensor, labels: torch.Tensor) -> float:
    state = net.state()
    scores = net.forward(call, state[:len(net.params)], [digits.normalised(images)], buffers=state[len(net.params):]).output
    return 100.0 * (scores.argmax(dim=1) == labels).float().mean().item()


@pytest.mark.points(2)
def test_transfer_digits(submission, rng, seen_labels):
    """features learnt on the digits 0-4, frozen, serve the digits 5-9: both networks measured on unseen digits"""
    images, true = digits.heldout()
    seen = seen_labels[true]  # the labels the submission's data carries
    low, high = seen < 5, seen >= 5
    s = Scenario(EXERCISE)
    result = s.call("transfer.transfer_digits")
    pretrained, retrained = s.call(result.attr("__getitem__"), 0), s.call(result.attr("__getitem__"), 1)
    examples = [[rng.randn(int(low.sum()), 1, 32, 32)], [rng.randn(int(high.sum()), 1, 32, 32)]]
    first = s.export(pretrained, examples, modes=["eval", "eval"])
    second = s.export(retrained, examples, modes=["eval", "eval"])
    readings = s.run(submission, seed=rng.seed(), timeout=DIGITS_TIMEOUT)
    value = readings.value(result)
    expect(isinstance(value, tuple) and len(value) == 4, "transfer_digits() should return (pretrained, retrained, "
           "before, after)")
    before_net = readings.exported(first, "the pre-trained network transfer_digits() returned")
    after_net = readings.exported(second, "the retrained network transfer_digits() returned")
    before = accuracy_on(before_net, 0, images[low], seen[low])
    after = accuracy_on(after_net, 1, images[high], seen[high])
    expect(before >= 90.0, f"after pre-training, the network reaches {before:.1f} % on digits 0-4 it has never seen, "
           "below 90 %")
    expect(after >= 85.0, f"after retraining the classifier, the network reaches {after:.1f} % on digits 5-9 it has "
           "never seen, below 85 %")
    state, x = after_net.state(), digits.normalised(images[high])
    run = after_net.forward(1, state[:len(after_net.params)], [x], buffers=state[len(after_net.params):], keep=True)
    convs = {i for layer in layers(after_net.graph(1), run, [*state, x], len(after_net.params))
             if layer.kind == "conv" for i in layer.params}
    expect(bool(convs), "the retrained network has no convolution")
    unchanged = all(torch.equal(a.value, b.value) for i, (a, b) in enumerate(zip(before_net.params, after_net.params))
                    if i in convs)
    expect(unchanged, "the convolutions changed between the pre-trained and the retrained network: "
           "retrain_classifier must freeze them (and keep a copy: pretrained = copy.deepcopy(net))")
