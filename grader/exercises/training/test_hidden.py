"""Hidden checks for training.py: exact training steps, running-loss history, honest evaluation,
and a real MNIST run that must reach 95 % test accuracy."""

from __future__ import annotations

import contextlib
import io
import math

import pytest
import torch

from grader.grading.checks import expect, expect_close, expect_equal
from grader.inside.probes.training import run_train
from grader.grading.reference import solution

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def problem(n: int, seed: int) -> dict:
    """Random 1x8x8 images with 3 classes and fresh Recorder weights."""
    g = torch.Generator().manual_seed(seed)
    from grader.inside.probes.training import Recorder

    torch.manual_seed(seed)
    weights = [p.detach().clone() for p in Recorder().parameters()]
    ys = torch.randint(0, 3, (n,), generator=g)
    xs = torch.randn(n, 1, 8, 8, generator=g) + ys.view(-1, 1, 1, 1).float()
    return {"weights": weights, "xs": xs, "ys": ys}


def reference(**kwargs) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        return run_train(solution("training").train, **kwargs)


CONFIGS = [
    dict(batch_size=8, epochs=2, log_every=3, lr=0.05, momentum=0.0),
    dict(batch_size=5, epochs=3, log_every=2, lr=0.02, momentum=0.9),
    dict(batch_size=16, epochs=1, log_every=1, lr=0.1, momentum=0.5),
]


def train_both(submission, config: dict, n: int = 70, seed: int = 1, **extra) -> tuple[dict, dict]:
    args = {**problem(n, seed), **config, "device": DEVICE, **extra}
    return submission.call("training.train", **args), reference(**args)


@pytest.mark.points(1)
def test_get_device(submission):
    obs = submission.call("training.get_device")
    expected = "cuda" if obs["cuda"] else "cpu"
    expect(obs["is_device"], "get_device() did not return a torch.device")
    expect(obs["device"].split(":")[0] == expected, f"get_device() gave {obs['device']!r}, expected {expected!r}")


@pytest.mark.points(1)
def test_train_history_length(submission):
    for config in CONFIGS[:2]:
        got, want = train_both(submission, config, n=53)
        expect(isinstance(got["history"], list), "train() did not return a list")
        expect_equal(len(got["history"]), len(want["history"]),
                     f"the length of train()'s history ({config['epochs']} epochs, log_every={config['log_every']})",
                     "one entry per log_every mini-batches, per epoch; a remainder is not reported")


@pytest.mark.points(2)
def test_train_history_is_running_mean(submission):
    got, want = train_both(submission, CONFIGS[1], n=47, seed=3)
    expect_close(torch.tensor(got["history"], dtype=torch.float64), torch.tensor(want["history"], dtype=torch.float64),
                 "train()'s history", atol=1e-4, hint="running_loss / log_every, reset after each report and each epoch")


@pytest.mark.points(1)
def test_train_prints_running_loss(submission):
    got, want = train_both(submission, CONFIGS[0], n=40, seed=4)
    lines = [line for line in got["printed"].splitlines() if "loss" in line]
    expect_equal(len(lines), len(want["history"]), "the number of lines train() printed with the running loss")
    for line, value in zip(lines, want["history"]):
        expect(f"{value:.3f}" in line, "train() printed a running loss that differs from the expected value",
               )


@pytest.mark.points(1)
def test_train_decreases_loss(submission):
    got, _ = train_both(submission, dict(batch_size=10, epochs=4, log_every=2, lr=0.05, momentum=0.9), n=60, seed=5)
    history = got["history"]
    expect(len(history) >= 2 and history[-1] < history[0], "the running loss did not go down over four epochs")


@pytest.mark.points(1)
@pytest.mark.parametrize("config", range(3))
def test_train_matches_reference_steps(submission, config):
    got, want = train_both(submission, CONFIGS[config], seed=10 + config)
    for i, (g, w) in enumerate(zip(got["weights"], want["weights"])):
        expect_close(g, w, f"parameter {i} after training", atol=1e-4,
                     hint="zero_grad, forward, loss, backward, step for every mini-batch of every epoch")


@pytest.mark.points(1)
def test_train_sets_train_mode_and_device(submission):
    got, _ = train_both(submission, CONFIGS[0], n=24, seed=6, start_in_eval=True)
    calls = got["calls"]
    expect(bool(calls), "train() never called the network")
    expect(all(training for training, _, _ in calls), "train() ran the network in eval mode: call net.train() first")
    expect(all(grad for _, grad, _ in calls), "train() ran the network with autograd off")
    expect(all(device == DEVICE for _, _, device in calls), f"the batches did not reach the network on {DEVICE}")
    expect_equal(got["param_devices"], [DEVICE], "the device of the parameters after train()")


def scores_and_labels(n: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g), torch.randint(0, classes, (n,), generator=g)


@pytest.mark.points(1)
def test_accuracy_percent(submission):
    scores, labels = scores_and_labels(40, 4, 7)
    obs = submission.call("training.evaluate", scores=scores, labels=labels, batch_size=8)
    expected = 100.0 * (scores.argmax(dim=1) == labels).sum().item() / len(labels)
    expect(isinstance(obs["result"], float), f"accuracy() returned {obs['result']!r}, expected a float")
    expect(math.isclose(obs["result"], expected, abs_tol=1e-9), "accuracy() gave the wrong percentage on 40 samples",
           )


@pytest.mark.points(1)
def test_accuracy_counts_partial_batch(submission):
    scores, labels = scores_and_labels(29, 3, 8)
    obs = submission.call("training.evaluate", scores=scores, labels=labels, batch_size=6)
    expected = 100.0 * (scores.argmax(dim=1) == labels).sum().item() / len(labels)
    expect(isinstance(obs["result"], float) and math.isclose(obs["result"], expected, abs_tol=1e-9),
           "accuracy() is wrong when the last batch is smaller than the others")


def expect_eval_no_grad(calls: list, what: str) -> None:
    expect(bool(calls), f"{what} never called the network")
    expect(not any(training for training, _ in calls), f"{what} ran the network in training mode: call net.eval()")
    expect(not any(grad for _, grad in calls), f"{what} ran the network with autograd on: use torch.no_grad()")


@pytest.mark.points(1)
def test_accuracy_eval_mode_no_grad(submission):
    scores, labels = scores_and_labels(12, 3, 9)
    obs = submission.call("training.evaluate", scores=scores, labels=labels, batch_size=5)
    expect_eval_no_grad(obs["calls"], "accuracy()")
    expected = 100.0 * (scores.argmax(dim=1) == labels).sum().item() / len(labels)
    expect(isinstance(obs["result"], float) and math.isclose(obs["result"], expected, abs_tol=1e-9),
           "accuracy() gave the wrong percentage")


def per_class(scores: torch.Tensor, labels: torch.Tensor, classes: int) -> list[float]:
    predicted = scores.argmax(dim=1)
    out = []
    for c in range(classes):
        mask = labels == c
        out.append(100.0 * (predicted[mask] == c).sum().item() / mask.sum().item() if mask.any() else math.nan)
    return out


def same(got, expected: list[float]) -> bool:
    return isinstance(got, list) and len(got) == len(expected) and all(
        (math.isnan(e) and isinstance(g, float) and math.isnan(g)) or (not math.isnan(e) and math.isclose(g, e))
        for g, e in zip(got, expected))


@pytest.mark.points(1)
def test_per_class_accuracy(submission):
    scores, labels = scores_and_labels(33, 5, 11)
    labels[labels == 4] = 0  # class 4 has no sample
    obs = submission.call("training.evaluate", scores=scores, labels=labels, batch_size=7, num_classes=5)
    expect(same(obs["result"], per_class(scores, labels, 5)),
           "per_class_accuracy() gave wrong percentages (33 samples in batches of 7, one class absent)",
           )


@pytest.mark.points(1)
def test_per_class_accuracy_eval_mode_no_grad(submission):
    scores, labels = scores_and_labels(10, 3, 12)
    obs = submission.call("training.evaluate", scores=scores, labels=labels, batch_size=4, num_classes=3)
    expect_eval_no_grad(obs["calls"], "per_class_accuracy()")
    expect(same(obs["result"], per_class(scores, labels, 3)), "per_class_accuracy() gave wrong percentages")


@pytest.mark.points(1)
def test_save_training_curves(submission):
    for accuracies in (None, [40.0, 70.0, 85.0, 90.0]):
        obs = submission.call("training.curves", history=[2.2, 1.4, 0.8, 0.5, 0.45, 0.3], accuracies=accuracies)
        expect(obs["exists"], "save_training_curves() wrote no file")
        expect(obs["png"], "save_training_curves() wrote a file that is not a PNG")
        expect(obs["size"][0] >= 200 and obs["size"][1] >= 150 and obs["ink"] > 0.005,
               "save_training_curves() wrote an (almost) empty image: plot the curves")


@pytest.mark.points(4)
def test_mnist_training_reaches_95(submission):
    obs = submission.call("training.mnist", timeout=600)
    history = obs["history"]
    expect(len(history) >= 2 and history[-1] < history[0], "mnist_classifier()'s loss history did not go down")
    expect(obs["measured"] >= 95.0, f"the network mnist_classifier() returned reaches {obs['measured']:.1f} % on the "
           "1,000 test digits, below 95 %", )
    expect(abs(obs["reported"] - obs["measured"]) < 0.5,
           f"mnist_classifier() reported {obs['reported']:.1f} % but its network scores {obs['measured']:.1f} %")
