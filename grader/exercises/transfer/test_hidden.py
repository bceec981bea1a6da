"""Hidden checks for transfer.py: convolutions frozen by type, the optimizer given only what
trains, exact retraining steps with bit-identical features, and the digits 0-4 -> 5-9 story."""

from __future__ import annotations

import pytest
import torch

from grader.grading.checks import expect, expect_close, expect_equal
from grader.inside.probes.transfer import build, kinds, run_retrain
from grader.grading.reference import solution


def frozen_pattern(kind: str) -> list[bool]:
    return [k == "Conv2d" for k in kinds(build(kind))]


@pytest.mark.points(1)
def test_freeze_features_sequential(submission):
    obs = submission.call("transfer.freeze", kind="lenet")
    expect(obs["returned_none"], "freeze_features(net) should change the network in place and return None")
    expect_equal(obs["requires_grad"], [not f for f in frozen_pattern("lenet")],
                 "requires_grad of LeNet's parameters after freeze_features", "freeze every nn.Conv2d, no Linear")


@pytest.mark.points(1)
def test_freeze_features_finds_convs_by_type(submission):
    obs = submission.call("transfer.freeze", kind="nested")
    pattern = frozen_pattern("nested")
    convs_left = sum(r for r, f in zip(obs["requires_grad"], pattern) if f)
    others_frozen = sum(not r for r, f in zip(obs["requires_grad"], pattern) if not f)
    expect(convs_left == 0, f"{convs_left} convolution parameter(s) of a nested network stayed trainable: "
           "find nn.Conv2d layers by type through net.modules()")
    expect(others_frozen == 0, f"{others_frozen} non-convolution parameter(s) were frozen (names can mislead)")


@pytest.mark.points(1)
def test_trainable_parameters(submission):
    for kind in ("lenet", "nested"):
        pattern = frozen_pattern(kind)
        for frozen in (pattern, [False] * len(pattern), [i % 3 == 0 for i in range(len(pattern))]):
            obs = submission.call("transfer.trainable", kind=kind, frozen=frozen)
            expect(obs["is_list"], "trainable_parameters(net) did not return a list")
            expect_equal(obs["indices"], [i for i, f in enumerate(frozen) if not f],
                         "the positions (in net.parameters()) of what trainable_parameters(net) returned",
                         "the parameters themselves, in order, whose requires_grad is True")


def problem(kind: str, n: int, seed: int) -> dict:
    torch.manual_seed(seed)
    weights = [p.detach().clone() for p in build(kind).parameters()]
    g = torch.Generator().manual_seed(seed)
    ys = torch.randint(0, 3, (n,), generator=g)
    size = 32 if kind == "lenet" else 12
    xs = torch.randn(n, 1, size, size, generator=g) + ys.view(-1, 1, 1, 1).float()
    return {"kind": kind, "weights": weights, "xs": xs, "ys": ys}


def retrain_both(submission, n=30, seed=0, **config) -> tuple[dict, dict]:
    args = {**problem("nested", n, seed), **config}
    return submission.call("transfer.retrain", **args), run_retrain(solution("transfer").retrain_classifier, **args)


@pytest.mark.points(2)
def test_retrain_classifier_keeps_conv_weights(submission):
    got, want = retrain_both(submission, seed=1, batch_size=7, epochs=2, lr=0.05)
    sent = problem("nested", 30, 1)["weights"]
    for i, frozen in enumerate(frozen_pattern("nested")):
        if frozen:
            expect(torch.equal(got["weights"][i], sent[i]), "retrain_classifier() changed a convolution weight")
        else:
            expect_close(got["weights"][i], want["weights"][i], f"parameter {i} after retraining", atol=1e-4,
                         hint="SGD(trainable_parameters(net), lr, momentum=0.9); zero_grad, forward, loss, backward, "
                              "step for every mini-batch")


@pytest.mark.points(1)
def test_retrain_classifier_optimizer_gets_trainable_only(submission):
    got, _ = retrain_both(submission, seed=2, batch_size=10, epochs=1, lr=0.01)
    expect(bool(got["optimizers"]), "retrain_classifier() built no torch.optim optimizer")
    expect_equal(got["optimizers"][-1], [i for i, f in enumerate(frozen_pattern("nested")) if not f],
                 "the parameters given to the optimizer (positions in net.parameters())",
                 "torch.optim.SGD(trainable_parameters(net), ...)")


@pytest.mark.points(1)
def test_retrain_classifier_loss_decreases(submission):
    got, want = retrain_both(submission, n=60, seed=3, batch_size=6, epochs=4, lr=0.05)
    losses = got["losses"]
    expect(isinstance(losses, list) and len(losses) == 4, "retrain_classifier(epochs=4) did not return 4 losses")
    expect(losses[-1] < losses[0], "the epoch losses of retrain_classifier() did not fall")
    expect_close(torch.tensor(losses, dtype=torch.float64), torch.tensor(want["losses"], dtype=torch.float64),
                 "retrain_classifier()'s epoch losses", atol=1e-4)


@pytest.mark.points(1)
def test_retrain_classifier_returns_epoch_mean_losses(submission):
    got, want = retrain_both(submission, n=23, seed=4, batch_size=5, epochs=3, lr=0.0)
    expect(isinstance(got["losses"], list) and len(got["losses"]) == 3,
           "retrain_classifier(epochs=3) did not return a list of 3 losses")
    expect_close(torch.tensor(got["losses"], dtype=torch.float64), torch.tensor(want["losses"], dtype=torch.float64),
                 "the epoch mean losses with lr=0", atol=1e-5,
                 hint="the mean of loss.item() over the epoch's mini-batches (the last one may be smaller)")


@pytest.mark.points(2)
def test_transfer_digits(submission):
    obs = submission.call("transfer.digits", timeout=600)
    expect(obs["low"] >= 90.0, f"after pre-training, the accuracy on the test digits 0-4 is {obs['low']:.1f} %, "
           "below 90 %")
    expect(obs["high"] >= 85.0, f"after retraining the classifier, the accuracy on the test digits 5-9 is "
           f"{obs['high']:.1f} %, below 85 %")
