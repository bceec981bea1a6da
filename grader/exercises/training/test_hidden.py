"""Hidden checks for training.py. train() runs in the worker on kit networks, data and optimizers
built from the run's secret; the grader builds the same objects, runs the reference loop
itself and compares the weights, history and printed lines. Evaluation is judged on networks
whose predictions change with their mode. The MNIST classifier is exported and measured here,
on held-back digits under the run's secret labels."""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any, cast

import pytest
import torch

from grader.exercises.common import picture
from grader.grading import digits
from grader.grading.checks import expect, expect_close, expect_equal, type_name
from grader.grading.reference import solution
from grader.grading.scenario import Scenario, Submission, kit
from grader.grading.secret import Draw
from grader.inside.kit import build

EXERCISE = "training"
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
MNIST_TIMEOUT = 600


def conv_net(rng: Draw, classes: int, batch_norm: bool = False) -> dict[str, Any]:
    """A small conv net for 1x8x8 images, with fresh weights (optionally a batch norm, left in eval mode)."""
    c = rng.integer(2, 5)
    modules: dict[str, list[Any]] = {"conv": ["Conv2d", [1, c, 3]]}
    if batch_norm:
        modules["norm"] = ["BatchNorm2d", [c]]
    modules.update({"act": ["ReLU", []], "flat": ["Flatten", []], "fc": ["Linear", [c * 36, classes]]})
    spec: dict[str, Any] = {"kind": "module", "modules": modules}
    spec["weights"] = [rng.randn(*p.shape, scale=0.3) for p in build(spec).parameters()]
    if batch_norm:
        spec["eval"] = [""]
    return spec


def problem(rng: Draw, n: int, config: dict[str, Any], batch_norm: bool = False) -> dict[str, Any]:
    """A train() call: a kit net, a loader of n random images of 3 classes, a loss, an SGD optimizer."""
    labels = rng.randint(0, 3, [n])
    images = rng.randn(n, 1, 8, 8) + labels.view(-1, 1, 1, 1).float()
    return {"net": conv_net(rng, 3, batch_norm),
            "loader": {"kind": "loader", "tensors": [images, labels], "batch_size": config["batch_size"]},
            "optimizer": {"lr": config["lr"], "momentum": config["momentum"]},
            "epochs": config["epochs"], "log_every": config["log_every"]}


def run_student(submission: Submission, rng: Draw, p: dict[str, Any]) -> tuple[dict[str, Any], object, str]:
    s = Scenario(EXERCISE)
    net = s.build(kit(**p["net"]))
    optimizer = s.build(kit("optimizer", type="SGD", params={"ref": net.name}, options=p["optimizer"]))
    history = s.call("training.train", net, kit(**p["loader"]), kit("criterion", name="ce"), optimizer,
                     epochs=p["epochs"], device=kit("device", name=DEVICE), log_every=p["log_every"], capture=True)
    after = s.state(net)
    readings = s.run(submission, seed=rng.seed())
    return readings[after], readings.value(history), readings.stdout(history)


def run_reference(p: dict[str, Any]) -> tuple[list[torch.Tensor], list[float], str]:
    net = build(p["net"])
    optimizer = build({"kind": "optimizer", "type": "SGD", "params": {"ref": "net"}, "options": p["optimizer"]},
                      {"net": net})
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = solution("training").train(net, build(p["loader"]), build({"kind": "criterion", "name": "ce"}),
                                             optimizer, epochs=p["epochs"], device=torch.device("cpu"),
                                             log_every=p["log_every"])
    return [q.detach().clone() for q in net.parameters()], history, printed.getvalue()


CONFIGS = [
    dict(batch_size=8, epochs=2, log_every=3, lr=0.05, momentum=0.0),
    dict(batch_size=5, epochs=3, log_every=2, lr=0.02, momentum=0.9),
    dict(batch_size=16, epochs=1, log_every=1, lr=0.1, momentum=0.5),
]


def train_both(submission: Submission, rng: Draw, config: dict[str, Any], n: int, batch_norm: bool = False
               ) -> tuple[tuple[dict[str, Any], object, str], tuple[list[torch.Tensor], list[float], str]]:
    p = problem(rng, n, config, batch_norm)
    return run_student(submission, rng, p), run_reference(p)


def history_of(value: object, what: str) -> list[float]:
    expect(isinstance(value, list) and all(isinstance(v, float) for v in value),
           f"{what} returned {type_name(value)}, expected a list of floats (the running losses)")
    return cast(list[float], value)  # just checked


@pytest.mark.points(1)
def test_get_device(submission: Submission, rng: Draw) -> None:
    """get_device() returns torch.device("cuda") when torch.cuda reports a GPU, torch.device("cpu") when not"""
    s = Scenario(EXERCISE)
    devices = {available: s.call("training.get_device", cuda=available) for available in (True, False)}
    readings = s.run(submission, seed=rng.seed())
    for available, call in devices.items():
        value = readings.value(call)
        expect(type_name(value) == "device", f"get_device() returned {type_name(value)}, expected a torch.device")
        expect_equal(str(value.text).split(":")[0], "cuda" if available else "cpu",
                     f"get_device()'s device type when torch.cuda.is_available() is {available}",
                     "torch.device('cuda') when torch.cuda.is_available(), else torch.device('cpu')")


@pytest.mark.points(1)
def test_train_history_length(submission: Submission, rng: Draw) -> None:
    """train() logs one running loss per log_every mini-batches of each epoch, and none for a remainder"""
    for config in CONFIGS[:2]:
        (_, history, _), (_, expected, _) = train_both(submission, rng, config, n=53)
        expect_equal(len(history_of(history, "train()")), len(expected),
                     f"the length of train()'s history ({config['epochs']} epochs, log_every={config['log_every']})",
                     "one entry per log_every mini-batches, per epoch; a remainder is not reported")


@pytest.mark.points(2)
def test_train_history_is_running_mean(submission: Submission, rng: Draw) -> None:
    """train()'s history holds running_loss / log_every, reset after each report and each epoch"""
    (_, history, _), (_, expected, _) = train_both(submission, rng, CONFIGS[1], n=47)
    expect_close(torch.tensor(history_of(history, "train()"), dtype=torch.float64),
                 torch.tensor(expected, dtype=torch.float64),
                 "train()'s history", atol=1e-4,
                 hint="running_loss / log_every, reset after each report and each epoch")


@pytest.mark.points(1)
def test_train_prints_running_loss(submission: Submission, rng: Draw) -> None:
    """train() prints '[epoch, batch] loss: x.xxx' with the running loss at each report"""
    (_, _, printed), (_, expected, _) = train_both(submission, rng, CONFIGS[0], n=40)
    lines = [line for line in printed.splitlines() if "loss" in line]
    expect_equal(len(lines), len(expected), "the number of lines train() printed with the running loss")
    for line, value in zip(lines, expected):
        expect(f"{value:.3f}" in line, "train() printed a running loss that differs from the expected value")


@pytest.mark.points(1)
def test_train_decreases_loss(submission: Submission, rng: Draw) -> None:
    """train()'s running loss goes down over four epochs on separable data"""
    (_, history, _), (_, expected, _) = train_both(submission, rng, dict(batch_size=10, epochs=4, log_every=2, lr=0.05,
                                                                        momentum=0.9), n=60)
    history = history_of(history, "train()")
    expect(len(history) >= 2 and history[-1] < history[0], "the running loss did not go down over four epochs")
    expect_close(torch.tensor(history, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                 "train()'s running losses over four epochs", atol=1e-4,
                 hint="the running losses of the real loop: zero_grad, forward, loss, backward, step")


@pytest.mark.points(1)
@pytest.mark.parametrize("config", range(3))
def test_train_matches_reference_steps(submission: Submission, rng: Draw, config: int) -> None:
    """train() updates the weights exactly as zero_grad, forward, loss, backward, step for every mini-batch"""
    (state, _, _), (weights, _, _) = train_both(submission, rng, CONFIGS[config], n=70)
    for i, (got, want) in enumerate(zip(state["params"], weights)):
        expect_close(got["value"], want, f"parameter {i} after training", atol=1e-4,
                     hint="zero_grad, forward, loss, backward, step for every mini-batch of every epoch")


@pytest.mark.points(1)
def test_train_sets_train_mode_and_device(submission: Submission, rng: Draw) -> None:
    """train() puts a network left in eval mode back in training mode (its batch norm learns), on the device"""
    (state, _, _), (weights, _, _) = train_both(submission, rng, CONFIGS[0], n=24, batch_norm=True)
    expect_equal(sorted({p["device"] for p in state["params"]}), [DEVICE], "the device of the parameters after train()")
    for i, (got, want) in enumerate(zip(state["params"], weights)):
        expect_close(got["value"], want, f"parameter {i} of a network with a batch norm, started in eval mode, after "
                     "train()", atol=1e-4,
                     hint="call net.train() first: batch norm and dropout behave differently while "
                     "training, and the caller may have left the network in eval mode")


# --- accuracy -------------------------------------------------------------------------------


def table_problem(rng: Draw, n: int, classes: int, batch_size: int, absent: int | None = None) -> dict[str, Any]:
    """A Lookup network and a loader of indices. The network's predictions change with its mode and with
    autograd (its rows are shuffled in training mode, shuffled otherwise with autograd on): only an
    evaluation in eval mode and without autograd sees its real scores."""
    scores = rng.randn(n, classes)
    labels = rng.randint(0, classes, [n])
    if absent is not None:
        labels[labels == absent] = (absent + 1) % classes
    train_scores, grad_scores = scores[rng.permutation(n)], scores[rng.permutation(n)]
    net = {"kind": "module", "modules": {"table": ["Lookup", [scores, train_scores, grad_scores]]}}
    loader = {"kind": "loader", "tensors": [torch.arange(n).float().view(-1, 1), labels], "batch_size": batch_size}
    return {"net": net, "loader": loader, "scores": scores, "train_scores": train_scores, "grad_scores": grad_scores,
            "labels": labels}


def evaluate(submission: Submission, rng: Draw, p: dict[str, Any], fn: str, *extra: object) -> object:
    s = Scenario(EXERCISE)
    result = s.call(f"training.{fn}", kit(**p["net"]), kit(**p["loader"]), *extra, device=kit("device", name="cpu"))
    return s.run(submission, seed=rng.seed()).value(result)


def percent(scores: torch.Tensor, labels: torch.Tensor) -> float:
    return 100.0 * (scores.argmax(dim=1) == labels).sum().item() / len(labels)


def per_class(scores: torch.Tensor, labels: torch.Tensor, classes: int) -> list[float]:
    predicted = scores.argmax(dim=1)
    return [100.0 * (predicted[labels == c] == c).sum().item() / (labels == c).sum().item() if (labels == c).any()
            else math.nan for c in range(classes)]


def same_percent(got: object, expected: float) -> bool:
    """Percentages match to a relative 1e-6: float32 arithmetic is fine."""
    return isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6)


MODE_HINT = ("the network was evaluated in training mode (its predictions change with its mode, as dropout's do): "
             "call net.eval() first")
GRAD_HINT = ("the network was evaluated with autograd on (this one predicts differently then): evaluate inside "
             "torch.no_grad() (or torch.inference_mode()), so that no graph is built")


def expect_accuracy(got: object, p: dict[str, Any], what: str, hint: str) -> None:
    expect(isinstance(got, float), f"{what} returned {type_name(got)}, expected a float (use .item() on tensors)")
    expected = percent(p["scores"], p["labels"])
    if not same_percent(got, expected):
        if same_percent(got, percent(p["train_scores"], p["labels"])):
            hint = MODE_HINT
        elif same_percent(got, percent(p["grad_scores"], p["labels"])):
            hint = GRAD_HINT
    expect(same_percent(got, expected), f"{what} gave a wrong percentage: {hint}")


@pytest.mark.points(1)
def test_accuracy_percent(submission: Submission, rng: Draw) -> None:
    """accuracy() is the percentage of right argmax predictions over every sample"""
    p = table_problem(rng, 40, 4, 8)
    got = evaluate(submission, rng, p, "accuracy")
    expect_accuracy(got, p, "accuracy() on 40 samples", "100 * correct / total, predictions = argmax over dim 1")


@pytest.mark.points(1)
def test_accuracy_counts_partial_batch(submission: Submission, rng: Draw) -> None:
    """accuracy() counts the samples of a smaller last batch"""
    p = table_problem(rng, 29, 3, 6)
    got = evaluate(submission, rng, p, "accuracy")
    expect_accuracy(got, p, "accuracy() with a smaller last batch", "count labels.size(0) of every batch, the last too")


@pytest.mark.points(1)
def test_accuracy_eval_mode_no_grad(submission: Submission, rng: Draw) -> None:
    """accuracy() evaluates in eval mode without autograd: a network whose predictions change with both"""
    p = table_problem(rng, 12, 3, 5)
    expect_accuracy(evaluate(submission, rng, p, "accuracy"), p, "accuracy()",
                    "call net.eval() and evaluate inside torch.no_grad()")


def expect_per_class(got: object, p: dict[str, Any], classes: int, what: str) -> None:
    expected = per_class(p["scores"], p["labels"], classes)
    expect(isinstance(got, list) and len(got) == classes and all(isinstance(v, float) for v in got),
           f"{what} returned {type_name(got)}, expected a list of {classes} floats")
    values = cast(list[float], got)  # just checked
    wrong = [c for c, (g, e) in enumerate(zip(values, expected))
             if not (math.isnan(e) and math.isnan(g)) and not (not math.isnan(e) and same_percent(g, e))]
    if wrong and any(math.isnan(e) for e in expected) and not any(math.isnan(g) for g in values):
        raise AssertionError(f"{what}: a class without samples must give float('nan')")
    expect(not wrong,
           f"{what} gave wrong percentages (for {len(wrong)} of {classes} classes): loop over the labels each "
           "batch really has, or count with torch.bincount; the last batch may be smaller")


@pytest.mark.points(1)
def test_per_class_accuracy(submission: Submission, rng: Draw) -> None:
    """per_class_accuracy() gives each class's percentage, nan for a class without samples, with a smaller last batch"""
    p = table_problem(rng, 33, 5, 7, absent=4)
    got = evaluate(submission, rng, p, "per_class_accuracy", 5)
    expect_per_class(got, p, 5, "per_class_accuracy() (33 samples in batches of 7, one class absent)")


@pytest.mark.points(1)
def test_per_class_accuracy_eval_mode_no_grad(submission: Submission, rng: Draw) -> None:
    """per_class_accuracy() evaluates in eval mode without autograd"""
    p = table_problem(rng, 10, 3, 4)
    expect_per_class(evaluate(submission, rng, p, "per_class_accuracy", 3), p, 3,
                     "per_class_accuracy() of a network whose predictions change with its mode and with autograd "
                     "(call net.eval() and evaluate inside torch.no_grad())")


@pytest.mark.points(1)
def test_save_training_curves(submission: Submission, rng: Draw) -> None:
    """save_training_curves() draws the losses (and the accuracies, when given) in a PNG that changes with them"""
    drawn = []
    for accuracies in (None, [rng.uniform(10, 50), rng.uniform(50, 80), rng.uniform(80, 95)]):
        history = sorted((rng.uniform(0.1, 2.5) for _ in range(rng.integer(5, 12))), reverse=True)
        s = Scenario(EXERCISE)
        path = s.build(kit("path", name=f"curves-{rng.seed()}.png"))
        s.call("training.save_training_curves", history, accuracies, path)
        written = s.file(path)
        drawn.append(picture(s.run(submission, seed=rng.seed())[written], "save_training_curves()", (200, 150)))
    expect(drawn[0].shape != drawn[1].shape or not torch.equal(drawn[0], drawn[1]),
           "save_training_curves() drew the same picture for other data: plot the history and accuracies it is given")


# --- MNIST ----------------------------------------------------------------------------------


@pytest.mark.points(4)
def test_mnist_training_reaches_95(submission: Submission, rng: Draw, seen_labels: torch.Tensor) -> None:
    """mnist_classifier() trains a network that reaches 95 % on digits it has never seen"""
    images, true = digits.heldout()
    s = Scenario(EXERCISE)
    result = s.call("training.mnist_classifier")
    net = s.call(result.attr("__getitem__"), 0)
    exported = s.export(net, [[rng.randn(len(images), 1, 32, 32)]], modes=["eval"])
    readings = s.run(submission, seed=rng.seed(), timeout=MNIST_TIMEOUT)
    value = readings.value(result)
    expect(isinstance(value, tuple) and len(value) == 3, "mnist_classifier() should return (net, history, accuracy)")
    _, history, reported = value
    expect(isinstance(history, list) and len(history) >= 2 and history[-1] < history[0],
           "mnist_classifier()'s loss history did not go down")
    trained = readings.exported(exported, "the network mnist_classifier() returned")
    state = trained.state()
    scores = trained.forward(0, state[:len(trained.params)], [digits.normalised(images)],
                             buffers=state[len(trained.params):]).output
    measured = percent(scores, seen_labels[true])
    expect(measured >= 95.0, f"the network mnist_classifier() returned reaches {measured:.1f} % on 500 digits it has "
           "never seen, below 95 %: train longer or with the recipe's learning rates")
    test_images, test_true = digits.shipped(False)
    shipped = percent(trained.forward(0, state[:len(trained.params)], [digits.normalised(test_images)],
                                      buffers=state[len(trained.params):]).output, seen_labels[test_true])
    expect(isinstance(reported, float) and abs(reported - shipped) < 0.5,
           f"mnist_classifier() reported {reported!r} % but its network scores {shipped:.1f} % on the test digits")
