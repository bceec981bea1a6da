"""Hidden checks for loss_backprop.py: exact losses and their gradients, fresh versus accumulated
gradients, the hand-written SGD step, the optimizer and the training step, on the kit's small
networks with random weights (the trusted side builds the same networks to compute expectations)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grader.grading.checks import expect, expect_close, expect_equal, expect_shape, expect_tensor
from grader.inside.probes.loss_backprop import NETS, build_net, initial_weights, make_criterion

ATOL, RTOL = 1e-6, 1e-5
DUMMY = torch.arange(1.0, 11.0).reshape(1, 10)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def batch(kind: str, n: int, criterion: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch for a kit network: inputs, and targets fitting the loss."""
    g = gen(seed)
    x = torch.randn(n, *NETS[kind], generator=g)
    outputs = build_net(kind)(x[:1]).shape[1]
    if criterion.startswith("ce"):
        y = torch.randint(0, outputs, (n,), generator=g)
    elif outputs == 10 and n == 1:
        y = DUMMY.clone()  # the seed's dummy target
    else:
        y = torch.randn(n, outputs, generator=g) * 2
    return x, y


def expected_grads(kind: str, weights, criterion: str, x, y) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """The loss and each parameter's gradient (None for frozen ones) for one batch."""
    net = build_net(kind, weights)
    loss = make_criterion(criterion)(net(x), y)
    trainable = [p for p in net.parameters() if p.requires_grad]
    found = iter(torch.autograd.grad(loss, trainable))
    return loss.detach(), [next(found) if p.requires_grad else None for p in net.parameters()]


def expect_grads(got: list, expected: list, what: str, hint: str) -> None:
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            expect(g is None, f"after {what}, the frozen parameter {i} (requires_grad=False) has a gradient")
            continue
        expect(g is not None, f"after {what}, parameter {i} (shape {tuple(e.shape)}) has no .grad: call loss.backward()")
        expect_close(g, e, f"the .grad of parameter {i} (shape {tuple(e.shape)}) after {what}", ATOL, RTOL, hint)


def expect_params(got: list, expected: list, what: str, hint: str) -> None:
    for i, (p, e) in enumerate(zip(got, expected)):
        expect_close(p, e, f"parameter {i} (shape {tuple(e.shape)}) after {what}", ATOL, RTOL, hint)


def returned_tensor(obs) -> torch.Tensor:
    """A tensor the probe reported (sent flattened, with its shape beside it)."""
    return expect_tensor(obs["value"], "the probe").reshape(obs["shape"])


def expect_loss_tensor(obs, expected: torch.Tensor, what: str, hint: str) -> None:
    expect(obs["kind"] == "tensor", f"{what} returned a {obs['kind']}, expected the loss as a scalar tensor")
    expect_shape(obs["shape"], (), what, "the loss is one number: a tensor of shape ()")
    expect_close(returned_tensor(obs), expected, what, ATOL, RTOL, hint)


@pytest.mark.points(1)
def test_dummy_target(submission):
    obs = submission.call("loss_backprop.dummy_target")
    expect(obs["kind"] == "tensor", f"dummy_target() returned a {obs['kind']}, expected a tensor")
    expect_shape(obs["shape"], (1, 10), "dummy_target()", "the shape of the net's output, (1, 10)")
    expect_equal(obs["dtype"], "float32", "dummy_target().dtype", "torch.arange gives int64: .to(torch.float32)")
    expect(torch.equal(returned_tensor(obs), DUMMY),
           "dummy_target() does not hold exactly the numbers 1, 2, ..., 10 in order: torch.arange(1, 11)")
    expect(not obs["requires_grad"], "dummy_target() requires a gradient: a target is a constant")


@pytest.mark.points(1)
def test_mse_loss_matches_formula(submission):
    g = gen(5)
    cases = [
        ("an output of shape (1, 10) against the dummy target", torch.randn(1, 10, generator=g) * 3, DUMMY.clone()),
        ("tensors of shape (7, 3, 5)", torch.randn(7, 3, 5, generator=g), torch.randn(7, 3, 5, generator=g)),
        ("a batch of 64 outputs of shape (64, 10)", torch.randn(64, 10, generator=g), torch.rand(64, 10, generator=g)),
    ]
    for what, a, b in cases:
        call = f"mse_loss(output, target) for {what}"
        obs = submission.call("loss_backprop.loss_call", fn="mse_loss", a=a, b=b)
        expect_loss_tensor(obs, F.mse_loss(a, b), call,
                           "nn.MSELoss() takes the mean of (output - target) ** 2 over all elements")
        expect(obs["requires_grad"] and obs["grad"] is not None, f"{call} is not connected to the graph of `output`: "
               "return the loss tensor itself; do not detach it or call .item()")
        expect_close(obs["grad"], 2 * (a - b) / a.numel(), f"the gradient of {call} with respect to output", ATOL, RTOL)
        expect(obs["inputs_kept"], f"{call} changed the target")


def ce_case(n: int, c: int, seed: int, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    return torch.randn(n, c, generator=g) * scale, torch.randint(0, c, (n,), generator=g)


def expect_ce(submission, logits: torch.Tensor, labels: torch.Tensor, what: str, hint: str) -> None:
    obs = submission.call("loss_backprop.loss_call", fn="cross_entropy", a=logits, b=labels)
    expect_loss_tensor(obs, F.cross_entropy(logits, labels), what, hint)
    expect(obs["grad"] is not None, f"{what} is not connected to the graph of the logits: return the loss tensor")
    onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    expect_close(obs["grad"], (F.softmax(logits, dim=1) - onehot) / logits.shape[0],
                 f"the gradient of {what} with respect to the logits", ATOL, RTOL)


@pytest.mark.points(1)
def test_cross_entropy_matches_log_softmax(submission):
    for n, c, seed in [(1, 10, 1), (7, 3, 2), (64, 5, 3)]:
        logits, labels = ce_case(n, c, seed, scale=2.0)
        expect_ce(submission, logits, labels, f"cross_entropy(logits, labels) for a batch of {n} with {c} classes",
                  "nn.CrossEntropyLoss() takes raw scores (not probabilities) and averages over the batch")


@pytest.mark.points(1)
def test_cross_entropy_large_logits(submission):
    logits, labels = ce_case(9, 6, 4, scale=60.0)
    labels[:4] = logits[:4].argmin(dim=1)  # some labels are the least likely class by far
    expect_ce(submission, logits, labels, "cross_entropy(logits, labels) for large raw scores (spread over hundreds)",
              "nn.CrossEntropyLoss() is numerically stable; log(softmax(...)) by hand is not")


GRAD_CASES = {
    "conv_mse_dummy": ("conv", "mse", 1, 11),
    "deep_ce_batch7": ("deep", "ce", 7, 12),
    "mlp_ce_fn_batch64": ("mlp", "ce_fn", 64, 13),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_compute_gradients_matches_autograd(submission, case):
    kind, criterion, n, seed = GRAD_CASES[case]
    weights = initial_weights(kind, seed)
    x, y = batch(kind, n, criterion, seed)
    loss, grads = expected_grads(kind, weights, criterion, x, y)
    what = f"compute_gradients(net, criterion, x, y) on a small {kind} network, a batch of {n}, .grad full of old values"
    obs = submission.call("loss_backprop.gradients", fn="compute_gradients", kind=kind, weights=weights,
                          criterion=criterion, x=x, y=y, garbage=seed)
    expect_loss_tensor(obs, loss, f"the loss returned by {what}", "return criterion(net(inputs), targets)")
    expect_grads(obs["grads"], grads, what, "old gradients are still in .grad: call net.zero_grad() before "
                 "loss.backward(), and back-propagate once")
    expect_params(obs["params"], weights, what, "compute_gradients must not change the parameters")


@pytest.mark.points(2)
def test_accumulate_gradients_adds_up(submission):
    for kind, criterion, n, times, seed in [("deep", "mse", 5, 1, 21), ("deep", "mse", 5, 2, 22),
                                            ("conv", "ce", 3, 4, 23), ("mlp", "mse", 8, 3, 24)]:
        weights = initial_weights(kind, seed)
        x, y = batch(kind, n, criterion, seed)
        _, grads = expected_grads(kind, weights, criterion, x, y)
        what = f"accumulate_gradients(net, criterion, x, y, times={times}) on a small {kind} network with old .grad values"
        obs = submission.call("loss_backprop.gradients", fn="accumulate_gradients", kind=kind, weights=weights,
                              criterion=criterion, x=x, y=y, times=times, garbage=seed)
        expect(obs["kind"] == "NoneType", f"{what} returned a {obs['kind']}, expected None")
        expect_grads(obs["grads"], [None if g is None else times * g for g in grads], what,
                     f"zero the gradients once before the loop, then backward {times} times without zeroing in between")
        expect_params(obs["params"], weights, what, "accumulate_gradients must not change the parameters")


@pytest.mark.points(2)
def test_sgd_update_moves_by_lr_grad(submission):
    for kind, lr, seed, missing in [("deep", 0.37, 31, {1}), ("mlp", 1e-3, 32, {0}), ("conv", 2.5, 33, set())]:
        weights = initial_weights(kind, seed)
        g = gen(seed)
        frozen = [not p.requires_grad for p in build_net(kind).parameters()]
        grads = [None if i in missing or frozen[i] else torch.randn(w.shape, generator=g) for i, w in enumerate(weights)]
        what = f"sgd_update(net.parameters(), lr={lr})"
        obs = submission.call("loss_backprop.sgd_update", kind=kind, weights=weights, grads=grads, lr=lr)
        expected = [w if gr is None else w - lr * gr for w, gr in zip(weights, grads)]
        expect_params(obs["params"], expected, what,
                      "w <- w - lr * w.grad for every parameter with a gradient; leave those whose .grad is None alone")
        expect(all(obs["leaves"]) and not any(obs["grad_fns"]),
               f"after {what}, a parameter is no longer a leaf tensor: update in place inside torch.no_grad()")
        expect(obs["requires_grad"] == [not f for f in frozen],
               f"after {what}, the parameters' requires_grad flags changed: update in place inside torch.no_grad()")
        expect(all(obs["trainable_after"]), f"after {what}, a backward pass no longer reaches every parameter: "
               "update the parameters in place (p -= lr * p.grad), do not replace them")


@pytest.mark.points(1)
def test_make_optimizer(submission):
    for kind, lr, seed in [("deep", 0.23, 41), ("mlp", None, 42)]:
        weights = initial_weights(kind, seed)
        g = gen(seed)
        grads = [torch.randn(w.shape, generator=g) for w in weights]
        what = f"make_optimizer(net{'' if lr is None else f', lr={lr}'})"
        obs = submission.call("loss_backprop.make_optimizer", kind=kind, weights=weights, grads=grads, lr=lr)
        expect(obs["is_sgd"], f"{what} returned a {obs['type']}, expected torch.optim.SGD")
        expect(obs["all_once"],
               f"{what} does not hold each of net's parameters exactly once: optim.SGD(net.parameters(), lr=lr)")
        want = 0.01 if lr is None else lr
        hint = ": lr defaults to 0.01" if lr is None else ", expected the lr given"
        expect(obs["lrs"] == [want] * len(obs["lrs"]), f"the learning rates of {what} are {obs['lrs']}{hint}")
        expect(not any(obs["momentum"]) and not any(obs["weight_decay"]) and not any(obs["nesterov"])
               and not any(obs["dampening"]) and not any(obs["maximize"]),
               f"{what} is not plain SGD (momentum, weight decay, nesterov, dampening or maximize is set)")
        expect_params(obs["params"], [w - want * gr for w, gr in zip(weights, grads)], f"one step() of {what}",
                      "plain SGD moves each parameter by -lr * grad")


def simulate_sgd(kind: str, weights, criterion: str, batches, lr: float, momentum: float):
    """What optim.SGD(lr, momentum) does over the batches, written out (no torch.optim needed here):
    buf <- g on the first step, buf <- momentum * buf + g after; p <- p - lr * buf."""
    current = [w.clone() for w in weights]
    buffers: list[torch.Tensor | None] = [None] * len(weights)
    losses, params = [], []
    for x, y in batches:
        loss, grads = expected_grads(kind, current, criterion, x, y)
        for i, g in enumerate(grads):
            if g is None:
                continue
            buffers[i] = g.clone() if buffers[i] is None or not momentum else momentum * buffers[i] + g
            current[i] = current[i] - lr * buffers[i]
        losses.append(loss.item())
        params.append([c.clone() for c in current])
    return losses, params


STEP_CASES = {
    "sgd_ce_batch7": ("deep", "ce", [7], {"type": "SGD", "lr": 0.05}, 51),
    "mse_dummy_two_steps": ("conv", "mse", [1, 1], {"type": "SGD", "lr": 0.01}, 52),
    "momentum_two_batches": ("mlp", "ce_fn", [64, 5], {"type": "SGD", "lr": 0.1, "momentum": 0.9}, 53),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(STEP_CASES))
def test_training_step_updates_parameters(submission, case):
    kind, criterion, sizes, opt_spec, seed = STEP_CASES[case]
    weights = initial_weights(kind, seed)
    batches = [list(batch(kind, n, criterion, seed + i)) for i, n in enumerate(sizes)]
    losses, params = simulate_sgd(kind, weights, criterion, batches, opt_spec["lr"], opt_spec.get("momentum", 0.0))
    obs = submission.call("loss_backprop.training_step", kind=kind, weights=weights, criterion=criterion,
                          batches=batches, optimizer=opt_spec, garbage=seed)
    options = ", ".join(f"{k}={v}" for k, v in opt_spec.items() if k != "type")
    for i, (got, want_loss, want_params) in enumerate(zip(obs["losses"], losses, params)):
        what = (f"training_step call {i + 1} of {len(batches)} (a small {kind} network, a batch of {sizes[i]}, "
                f"optim.{opt_spec['type']}({options}), old values in .grad)")
        expect(got["kind"] == "float", f"{what} returned a {got['kind']}, expected a float: return loss.item()")
        expect(abs(got["value"] - want_loss) <= 1e-5 * max(1.0, abs(want_loss)),
               f"{what} returned the wrong loss: return the loss of this batch, computed before optimizer.step()")
        expect_params(obs["params"][i], want_params, what,
                      "optimizer.zero_grad() first (old gradients!), then forward, loss, backward, and "
                      "optimizer.step() with the optimizer you were given")
