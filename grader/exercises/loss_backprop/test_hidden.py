"""Hidden checks for loss_backprop.py. Every input, weight, gradient and learning rate is drawn from
the run's secret; every verdict is computed here:

- the losses are traced above autograd (a .detach() stays in the graph) and the graphs run here on
  the grader's own inputs: the values, and the gradients with respect to the output, come from
  that run;
- the other functions get a kit network built from a spec (random sizes, weights and old .grad
  values) and the grader builds the identical network here: the gradients, parameter values and
  losses read back after the student's code ran are compared with what the right procedure gives
  here (torch.autograd, and torch.optim on the grader's own copy);
- optimizers are judged by what they do: the grader rebuilds the described optimizer here and
  steps it beside the reference one, and the student's optimizer steps in the worker on the
  grader's gradients.

The worker's word about itself decides nothing; the leaf / requires_grad flags read back after
sgd_update and adagrad_update can only cost points that the parameter values already earned.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pytest
import torch
import torch.nn.functional as F

from grader.grading.checks import Mismatch, expect, expect_close, expect_equal, expect_tensor, type_name
from grader.grading.graphs import Graph, execute
from grader.grading.scenario import Readings, Ref, Scenario, Submission, kit, placeholder
from grader.grading.secret import Draw
from grader.inside.kit import CRITERIA, OPTIMIZERS, build as kit_build, module as kit_module, scaled_weights

EXERCISE = "loss_backprop"
ATOL, RTOL = 1e-6, 1e-5
DUMMY = torch.arange(1.0, 11.0).reshape(1, 10)


# --- kit networks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Net:
    """A kit network: its spec (weights included), the shape of one input sample, its outputs."""

    kind: str
    spec: dict[str, Any]
    sample: tuple[int, ...]
    outputs: int

    def build(self) -> torch.nn.Module:
        """The grader's own copy, identical to the one built in the worker."""
        return kit_module(self.spec)

    @property
    def trainable(self) -> list[bool]:
        return [p.requires_grad for p in self.build().parameters()]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [tuple(p.shape) for p in self.build().parameters()]

    def describe(self) -> str:
        return {"conv": "a small conv network", "deep": "a two-conv network",
                "mlp": "a small MLP with a frozen bias"}[self.kind]


def kit_net(rng: Draw, kind: str, outputs: int | None = None) -> Net:
    """A kit network of random sizes and random weights (1/sqrt(fan_in))."""
    out = outputs or rng.integer(3, 9)
    frozen = None
    if kind == "conv":  # a LeNet in miniature
        c, k, size = rng.integer(2, 4), rng.integer(2, 3), rng.integer(8, 11)
        features = c * ((size - k + 1) // 2) ** 2
        modules = {"conv": ["Conv2d", [1, c, k]], "relu": ["ReLU", []], "pool": ["MaxPool2d", [2]],
                   "flat": ["Flatten", []], "fc": ["Linear", [features, out]]}
        sample: tuple[int, ...] = (1, size, size)
    elif kind == "deep":
        cin, c1, c2, hidden, size = rng.integer(1, 3), rng.integer(2, 5), rng.integer(2, 6), rng.integer(5, 9), \
            rng.integer(7, 10)
        side = size // 2 - 1
        modules = {"c1": ["Conv2d", [cin, c1, 3], {"padding": 1}], "t1": ["Tanh", []], "pool": ["MaxPool2d", [2]],
                   "c2": ["Conv2d", [c1, c2, 2]], "r": ["ReLU", []], "flat": ["Flatten", []],
                   "f1": ["Linear", [c2 * side * side, hidden]], "t2": ["Tanh", []], "f2": ["Linear", [hidden, out]]}
        sample = (cin, size, size)
    elif kind == "mlp":
        n_in, hidden = rng.integer(4, 8), rng.integer(5, 9)
        modules = {"a": ["Linear", [n_in, hidden]], "s": ["Sigmoid", []], "b": ["Linear", [hidden, out]]}
        sample = (n_in,)
        frozen = [False, False, False, True]  # the last bias never gets a gradient
    else:
        raise ValueError(kind)
    spec: dict[str, Any] = {"kind": "module", "modules": modules}
    shapes = [list(p.shape) for p in kit_module(spec).parameters()]
    spec["weights"] = scaled_weights(shapes, rng.generator)
    if frozen:
        spec["frozen"] = frozen
    return Net(kind, spec, sample, out)


def batch(rng: Draw, net: Net, n: int, criterion: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs for the network, and targets that fit the loss."""
    x = rng.randn(n, *net.sample)
    if criterion.startswith("ce"):
        return x, rng.randint(0, net.outputs, (n,))
    if net.outputs == 10 and n == 1:
        return x, DUMMY.clone()  # the seed's dummy target
    return x, rng.randn(n, net.outputs, scale=2.0)


def old_grads(rng: Draw, net: Net) -> list[torch.Tensor | None]:
    """Large random values for every trainable parameter's .grad (what an earlier batch left)."""
    return [rng.randn(*shape, scale=50.0) if trainable else None for shape, trainable in zip(net.shapes, net.trainable)]


def expected_grads(net: Net, weights: Sequence[torch.Tensor] | None, criterion: str, x: torch.Tensor,
                   y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """The loss and each parameter's gradient (None for frozen ones) for one batch, computed here."""
    model = net.build()
    if weights is not None:
        with torch.no_grad():
            for p, w in zip(model.parameters(), weights):
                p.copy_(w)
    loss = CRITERIA[criterion]()(model(x), y)
    trainable = [p for p in model.parameters() if p.requires_grad]
    found = iter(torch.autograd.grad(loss, trainable))
    return loss.detach(), [next(found) if p.requires_grad else None for p in model.parameters()]


def params_of(reading: dict[str, Any], what: str) -> list[dict[str, Any]]:
    params = reading.get("params") if isinstance(reading, dict) else None
    expect(isinstance(params, list), f"{what}: the network's state could not be read back")
    return cast(list[dict[str, Any]], params)  # just checked


def expect_grads(params: list[dict[str, Any]], expected: list[torch.Tensor | None], what: str, hint: str) -> None:
    for i, (p, e) in enumerate(zip(params, expected)):
        if e is None:
            expect(p["grad"] is None or not bool(p["grad"].abs().sum() > 0),
                   f"after {what}, the frozen parameter {i} (requires_grad=False) has a gradient")
            continue
        expect(p["grad"] is not None, f"after {what}, parameter {i} (shape {tuple(e.shape)}) has no .grad: "
               "call loss.backward()")
        expect_close(p["grad"], e, f"the .grad of parameter {i} (shape {tuple(e.shape)}) after {what}", ATOL, RTOL,
                     hint)


def expect_values(params: list[dict[str, Any]], expected: Sequence[torch.Tensor], what: str, hint: str) -> None:
    expect(len(params) == len(expected), f"after {what} the network has {len(params)} parameters, "
           f"expected {len(expected)}: change the parameters' values, not the parameters")
    for i, (p, e) in enumerate(zip(params, expected)):
        expect_close(p["value"], e, f"parameter {i} (shape {tuple(e.shape)}) after {what}", ATOL, RTOL, hint)


def expect_trainable_leaves(params: list[dict[str, Any]], trainable: list[bool], what: str) -> None:
    """The flags read back: they can only cost a point that the parameter values already earned."""
    expect(all(p["leaf"] and p["parameter"] for p in params),
           f"after {what}, a parameter is no longer a leaf nn.Parameter: update in place inside torch.no_grad()")
    expect([p["requires_grad"] for p in params] == trainable,
           f"after {what}, the parameters' requires_grad flags changed: update in place inside torch.no_grad(), "
           "without touching requires_grad")


def returned_loss(value: Any, expected: torch.Tensor, what: str, hint: str) -> None:
    loss = expect_tensor(value, what)
    expect(loss.dim() == 0, f"{what} returned a tensor of shape {tuple(loss.shape)}, expected the loss itself, "
           "a tensor of shape ()")
    expect_close(loss, expected, what, ATOL, RTOL, hint)


# --- dummy target ---------------------------------------------------------------------------


@pytest.mark.points(1)
def test_dummy_target(submission: Submission, rng: Draw) -> None:
    """dummy_target() is the float32 tensor 1, 2, ..., 10 of shape (1, 10)"""
    s = Scenario(EXERCISE)
    made = s.call("loss_backprop.dummy_target")
    target = expect_tensor(s.run(submission, seed=rng.seed()).value(made), "dummy_target()")
    expect(tuple(target.shape) == (1, 10), f"dummy_target() has shape {tuple(target.shape)}, expected (1, 10): "
           "the shape of the net's output")
    expect_equal(str(target.dtype).removeprefix("torch."), "float32", "dummy_target().dtype",
                 "torch.arange gives int64: .to(torch.float32)")
    expect(torch.equal(target, DUMMY), "dummy_target() does not hold exactly the numbers 1, 2, ..., 10 in order: "
           "torch.arange(1, 11)")


# --- losses, traced and run here ------------------------------------------------------------


def loss_graph(submission: Submission, rng: Draw, fn: str, examples: Sequence[torch.Tensor], what: str) -> Graph:
    """The student's loss function traced above autograd on examples like the inputs (never the inputs)."""
    s = Scenario(EXERCISE)
    step = s.trace_autograd(f"loss_backprop.{fn}", *[placeholder(x) for x in examples])
    return s.run(submission, seed=rng.seed()).graph(step, what)


def like(rng: Draw, x: torch.Tensor) -> torch.Tensor:
    """An example of x's shape and dtype for the trace, with other values."""
    if x.is_floating_point():
        return rng.randn(*x.shape)
    return rng.randint(0, int(x.max()) + 1, x.shape)


def run_loss(graph: Graph, first: torch.Tensor, second: torch.Tensor, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss the graph gives here on (first, second), and its gradient with respect to `first`."""
    leaf = first.clone().requires_grad_(True)
    other = second.clone()
    loss = execute(graph, [leaf, other], what).output
    expect(isinstance(loss, torch.Tensor), f"{what} did not return a tensor")
    expect(loss.dim() == 0, f"{what} returned a tensor of shape {tuple(loss.shape)}, expected one number: "
           "a tensor of shape ()")
    expect(torch.equal(other, second), f"{what} changed its second argument: compute a new tensor instead")
    expect(loss.requires_grad, f"{what} is not connected to the graph of its first argument: return the loss tensor "
           "itself, without .detach(), .item() or torch.no_grad()")
    (grad,) = torch.autograd.grad(loss, leaf, allow_unused=True)
    expect(grad is not None, f"{what} does not depend on its first argument")
    return loss.detach(), grad


@pytest.mark.points(1)
def test_mse_loss_matches_formula(submission: Submission, rng: Draw) -> None:
    """mse_loss is the mean of (output - target) ** 2 with the right gradient, on the dummy target and unseen shapes"""
    shape = (rng.integer(2, 8), rng.integer(2, 5), rng.integer(2, 6))
    batch_of = rng.integer(20, 64)
    cases = [("an output of shape (1, 10) against the dummy target", rng.randn(1, 10, scale=3.0), DUMMY.clone()),
             (f"tensors of shape {shape}", rng.randn(*shape), rng.randn(*shape)),
             (f"a batch of {batch_of} outputs of shape ({batch_of}, 10)", rng.randn(batch_of, 10),
              rng.rand(batch_of, 10))]
    for name, output, target in cases:
        what = f"mse_loss(output, target) for {name}"
        graph = loss_graph(submission, rng, "mse_loss", [like(rng, output), target], what)
        loss, grad = run_loss(graph, output, target, what)
        expect_close(loss, F.mse_loss(output, target), what, ATOL, RTOL,
                     hint="nn.MSELoss() takes the mean of (output - target) ** 2 over all elements")
        expect_close(grad, 2 * (output - target) / output.numel(), f"the gradient of {what} with respect to output",
                     ATOL, RTOL, hint="the mean over ALL elements, and nothing detached")


def check_cross_entropy(submission: Submission, rng: Draw, logits: torch.Tensor, labels: torch.Tensor, what: str,
                        hint: str) -> None:
    graph = loss_graph(submission, rng, "cross_entropy", [like(rng, logits), like(rng, labels)], what)
    loss, grad = run_loss(graph, logits, labels, what)
    expect_close(loss, F.cross_entropy(logits, labels), what, ATOL, RTOL, hint=hint)
    onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    expect_close(grad, (F.softmax(logits, dim=1) - onehot) / logits.shape[0],
                 f"the gradient of {what} with respect to the logits", ATOL, RTOL)


@pytest.mark.points(1)
def test_cross_entropy_matches_log_softmax(submission: Submission, rng: Draw) -> None:
    """cross_entropy is the batch mean of -log_softmax(logits)[i, labels[i]], with its gradient, on unseen sizes"""
    for n, c in [(1, 10), (rng.integer(2, 9), rng.integer(2, 4)), (rng.integer(30, 64), rng.integer(5, 12))]:
        logits, labels = rng.randn(n, c, scale=2.0), rng.randint(0, c, (n,))
        check_cross_entropy(submission, rng, logits, labels,
                            f"cross_entropy(logits, labels) for a batch of {n} with {c} classes",
                            "nn.CrossEntropyLoss() takes raw scores (not probabilities) and averages over the batch")


@pytest.mark.points(1)
def test_cross_entropy_large_logits(submission: Submission, rng: Draw) -> None:
    """cross_entropy stays exact for raw scores in the hundreds, even when the label is the least likely class"""
    n, c = rng.integer(6, 12), rng.integer(4, 8)
    logits = rng.randn(n, c, scale=60.0)
    labels = rng.randint(0, c, (n,))
    labels[: n // 2] = logits[: n // 2].argmin(dim=1)  # some labels are the least likely class by far
    check_cross_entropy(submission, rng, logits, labels,
                        "cross_entropy(logits, labels) for large raw scores (spread over hundreds)",
                        "nn.CrossEntropyLoss() is numerically stable; log(softmax(...)) by hand is not")


# --- gradients, read back after the student's code ran --------------------------------------


def gradients_run(submission: Submission, rng: Draw, net: Net, fn: str, criterion: str, x: torch.Tensor,
                  y: torch.Tensor, *extra: int) -> tuple[Any, list[dict[str, Any]]]:
    """fn(net, criterion, x, y, *extra) on the kit network with old values in .grad: what it returned,
    and the parameters (values, gradients) read back afterwards."""
    s = Scenario(EXERCISE)
    made = s.build(kit(**net.spec))
    s.set_grads(made, old_grads(rng, net))
    result = s.call(f"loss_backprop.{fn}", made, kit("criterion", name=criterion), x, y, *extra)
    after = s.state(made)
    readings = s.run(submission, seed=rng.seed())
    return readings.value(result), params_of(readings[after], fn)


GRAD_CASES = {"conv_mse_dummy": ("conv", "mse", 1, 10), "deep_ce_batch": ("deep", "ce", 7, None),
              "mlp_ce_fn_batch64": ("mlp", "ce_fn", 64, None)}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_compute_gradients_matches_autograd(submission: Submission, rng: Draw, case: str) -> None:
    """compute_gradients leaves exactly this batch's gradient in .grad, whatever .grad held, and returns the loss"""
    kind, criterion, n, outputs = GRAD_CASES[case]
    net = kit_net(rng, kind, outputs)
    x, y = batch(rng, net, n, criterion)
    loss, grads = expected_grads(net, None, criterion, x, y)
    what = f"compute_gradients(net, criterion, x, y) on {net.describe()}, a batch of {n}, .grad full of old values"
    value, params = gradients_run(submission, rng, net, "compute_gradients", criterion, x, y)
    returned_loss(value, loss, f"the loss returned by {what}", "return criterion(net(inputs), targets)")
    expect_grads(params, grads, what, "old gradients are still in .grad: call net.zero_grad() before loss.backward(), "
                 "and back-propagate once")
    expect_values(params, net.spec["weights"], what, "compute_gradients must not change the parameters")


@pytest.mark.points(2)
def test_accumulate_gradients_adds_up(submission: Submission, rng: Draw) -> None:
    """accumulate_gradients(..., times=k) leaves k times one batch's gradient in .grad, for several k and networks"""
    for kind, criterion, times in [("deep", "mse", 1), ("deep", "mse", 2), ("conv", "ce", rng.integer(3, 5)),
                                   ("mlp", "mse", 3)]:
        net = kit_net(rng, kind)
        x, y = batch(rng, net, rng.integer(3, 9), criterion)
        _, grads = expected_grads(net, None, criterion, x, y)
        what = f"accumulate_gradients(net, criterion, x, y, times={times}) on {net.describe()} with old .grad values"
        value, params = gradients_run(submission, rng, net, "accumulate_gradients", criterion, x, y, times)
        expect(value is None, f"{what} returned {type_name(value)}, expected None")
        expect_grads(params, [None if g is None else times * g for g in grads], what,
                     f"zero the gradients once before the loop, then backward {times} times without zeroing in between")
        expect_values(params, net.spec["weights"], what, "accumulate_gradients must not change the parameters")


# --- updates by hand ------------------------------------------------------------------------


def some_grads(rng: Draw, net: Net, missing: set[int], scale: float = 1.0) -> list[torch.Tensor | None]:
    """Random gradients for the trainable parameters, None for the frozen ones and those in `missing`."""
    return [rng.randn(*shape, scale=scale) if trainable and i not in missing else None
            for i, (shape, trainable) in enumerate(zip(net.shapes, net.trainable))]


def update_run(submission: Submission, rng: Draw, net: Net, fn: str, steps: list[list[torch.Tensor | None]], *args: Any,
               state: bool = False, **kwargs: Any) -> list[list[dict[str, Any]]]:
    """For each list of gradients: set them as .grad, call fn(net.parameters(), [a kit dict,] *args, **kwargs);
    the parameters read back after each call."""
    s = Scenario(EXERCISE)
    made = s.build(kit(**net.spec))
    kept = s.build(kit("dict")) if state else None
    after = []
    for grads in steps:
        s.set_grads(made, grads)
        params = s.call(made.attr("parameters"))
        s.call(f"loss_backprop.{fn}", params, *([kept] if kept else []), *args, **kwargs)
        after.append(s.state(made))
    readings = s.run(submission, seed=rng.seed())
    return [params_of(readings[a], fn) for a in after]


@pytest.mark.points(2)
def test_sgd_update_moves_by_lr_grad(submission: Submission, rng: Draw) -> None:
    """sgd_update(net.parameters(), lr) moves each parameter by -lr * grad, skips those without a gradient, and
    leaves them trainable leaves"""
    for kind, lr in [("deep", rng.uniform(0.1, 0.9)), ("mlp", rng.uniform(1e-4, 1e-2)),
                     ("conv", rng.uniform(1.0, 3.0))]:
        net = kit_net(rng, kind)
        missing = {rng.integer(0, len(net.shapes) - 1)} if kind != "conv" else set()
        grads = some_grads(rng, net, missing)
        what = f"sgd_update(net.parameters(), lr={lr:.4g}) on {net.describe()}"
        (params,) = update_run(submission, rng, net, "sgd_update", [grads], lr)
        expected = [w if g is None else w - lr * g for w, g in zip(net.spec["weights"], grads)]
        expect_values(params, expected, what,
                      "w <- w - lr * w.grad for every parameter with a gradient; leave those whose .grad is None alone")
        expect_trainable_leaves(params, net.trainable, what)


def adagrad_by_formula(weights: Sequence[torch.Tensor], steps: list[list[torch.Tensor | None]], lr: float,
                       eps: float) -> list[list[torch.Tensor]]:
    """Adagrad written out: sum += g * g; w -= lr * g / (sqrt(sum) + eps); the weights after each step."""
    current = [w.clone() for w in weights]
    sums: list[torch.Tensor | None] = [None] * len(weights)
    trajectory = []
    for grads in steps:
        for i, g in enumerate(grads):
            if g is None:
                continue
            previous = sums[i]
            total = (previous if previous is not None else torch.zeros_like(g)) + g * g
            sums[i] = total
            current[i] = current[i] - lr * g / (total.sqrt() + eps)
        trajectory.append([c.clone() for c in current])
    return trajectory


def adagrad_by_torch(net: Net, steps: list[list[torch.Tensor | None]], lr: float,
                     eps: float) -> list[list[torch.Tensor]]:
    """torch.optim.Adagrad on the grader's own copy of the network; the weights after each step."""
    model = net.build()
    params = list(model.parameters())
    opt = torch.optim.Adagrad(params, lr=lr, eps=eps)
    trajectory = []
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.clone()
        opt.step()
        trajectory.append([p.detach().clone() for p in params])
    return trajectory


ADAGRAD_HINT = ("state[i] += grad * grad (kept between calls), then w <- w - lr * grad / (sqrt(state[i]) + eps), "
                "eps added after the square root; skip parameters whose .grad is None")


def adagrad_case(rng: Draw, eps: float | None) -> tuple[dict[str, float], float, str]:
    lr = rng.uniform(0.01, 0.5)
    options = {"lr": lr} if eps is None else {"lr": lr, "eps": eps}
    call = f"adagrad_update(net.parameters(), state, lr={lr:.3g}{'' if eps is None else f', eps={eps:.3g}'})"
    return options, 1e-10 if eps is None else eps, call


@pytest.mark.points(1)
def test_adagrad_update_formula(submission: Submission, rng: Draw) -> None:
    """one adagrad_update from an empty state moves each weight by -lr * grad / (sqrt(grad ** 2) + eps), for the
    default eps and a large one"""
    for kind, eps in [("mlp", None), ("conv", rng.uniform(0.05, 0.5))]:
        net = kit_net(rng, kind)
        grads = some_grads(rng, net, {0} if kind == "mlp" else set(), scale=rng.uniform(0.05, 2.0))
        options, eps_value, call = adagrad_case(rng, eps)
        (params,) = update_run(submission, rng, net, "adagrad_update", [grads], state=True, **options)
        (expected,) = adagrad_by_formula(net.spec["weights"], [grads], options["lr"], eps_value)
        what = f"one {call} on {net.describe()}, the state empty"
        expect_values(params, expected, what, ADAGRAD_HINT)
        expect_trainable_leaves(params, net.trainable, what)


@pytest.mark.points(1)
def test_adagrad_update_matches_torch(submission: Submission, rng: Draw) -> None:
    """k adagrad_update calls on one state dict match k steps of torch.optim.Adagrad, with gradients of growing and
    shrinking size, missing gradients and a large eps"""
    for kind, eps in [("deep", None), ("mlp", rng.uniform(0.05, 0.5))]:
        net = kit_net(rng, kind)
        k = rng.integer(3, 5)
        steps = [some_grads(rng, net, {rng.integer(0, len(net.shapes) - 1)} if step == 1 else set(),
                            scale=rng.uniform(0.01, 3.0)) for step in range(k)]
        options, eps_value, call = adagrad_case(rng, eps)
        readings = update_run(submission, rng, net, "adagrad_update", steps, state=True, **options)
        expected_steps = adagrad_by_torch(net, steps, options["lr"], eps_value)
        for step, (params, expected) in enumerate(zip(readings, expected_steps)):
            expect_values(params, expected, f"{step + 1} of {k} calls of {call} on {net.describe()}, one state dict "
                          f"kept between calls (torch.optim.Adagrad(lr={options['lr']:.3g}"
                          f"{'' if eps is None else f', eps={eps:.3g}'}) gives this)", ADAGRAD_HINT)


# --- optimizers, judged by what they do -----------------------------------------------------


def described_optimizer(description: Any, model: torch.nn.Module, what: str,
                        expected_class: str) -> torch.optim.Optimizer:
    """The optimizer the description stands for, rebuilt here on the grader's own copy of the network."""
    expect(isinstance(description, dict) and bool(description.get("is_optimizer")),
           f"{what} returned a {description.get('class') if isinstance(description, dict) else '?'}, expected a "
           f"torch.optim.{expected_class}")
    name = description["class"]
    expect(name == expected_class, f"{what} returned a torch.optim.{name}, expected a torch.optim.{expected_class}")
    params = list(model.parameters())
    held = [i for group in description["groups"] for i in group["params"]]
    expect(sorted(held) == list(range(len(params))),
           f"{what} does not hold each of net's parameters exactly once: "
           f"optim.{expected_class}(net.parameters(), lr=lr)")
    accepted = set(inspect.signature(OPTIMIZERS[name]).parameters) - {"params"}
    groups = [{"params": [params[i] for i in group["params"]],
               **{k: v for k, v in group["options"].items() if k in accepted}} for group in description["groups"]]
    return OPTIMIZERS[name](groups)


def trajectory(model: torch.nn.Module, opt: torch.optim.Optimizer,
               steps: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    out = []
    for grads in steps:
        for p, g in zip(model.parameters(), grads):
            p.grad = g.clone()
        opt.step()
        out.append([p.detach().clone() for p in model.parameters()])
    return out


def check_optimizer_factory(submission: Submission, rng: Draw, fn: str, expected_class: str, default_lr: float) -> None:
    """fn(net[, lr]) judged by the optimizer it describes (rebuilt and stepped here beside the reference one) and by
    what it does in the worker: two step()s on the grader's gradients, parameters read back after each."""
    for kind, lr in [("deep", round(rng.uniform(0.05, 0.5), 3)), ("conv", None)]:
        net = kit_net(rng, kind)
        steps = [[rng.randn(*shape) for shape in net.shapes] for _ in range(2)]
        what = f"{fn}(net{'' if lr is None else f', lr={lr}'})"
        s = Scenario(EXERCISE)
        made = s.build(kit(**net.spec))
        opt = s.call(f"loss_backprop.{fn}", made) if lr is None else s.call(f"loss_backprop.{fn}", made, lr=lr)
        described = s.optimizer(opt, made)
        after = []
        for grads in steps:
            s.set_grads(made, grads)
            s.call(opt.attr("step"))
            after.append(s.state(made))
        readings = s.run(submission, seed=rng.seed())
        want = default_lr if lr is None else lr
        reference = net.build()
        expected = trajectory(reference, OPTIMIZERS[expected_class](reference.parameters(), lr=want), steps)
        description = readings[described]
        copy = net.build()
        rebuilt = described_optimizer(description, copy, what, expected_class)
        lrs = [group["lr"] for group in rebuilt.param_groups]
        expect(all(abs(value - want) <= 1e-12 for value in lrs), f"the learning rate of {what} is "
               f"{', '.join(f'{v:g}' for v in lrs)}, expected {want:g}"
               + (f": lr defaults to {default_lr:g}" if lr is None else ": use the lr given"))
        for step, (got, wanted) in enumerate(zip(trajectory(copy, rebuilt, steps), expected)):
            if not all(torch.allclose(g, w, atol=ATOL, rtol=RTOL) for g, w in zip(got, wanted)):
                defaults = {k: v.default for k, v in inspect.signature(OPTIMIZERS[expected_class]).parameters.items()}
                changed = sorted({f"{k}={v}" for group in description["groups"] for k, v in group["options"].items()
                                  if k in defaults and k != "lr" and v != defaults[k]})
                raise Mismatch(f"{what} does not step like a plain torch.optim.{expected_class}(net.parameters(), "
                               f"lr={want:g}) (step {step + 1} differs)"
                               + (f": it sets {', '.join(changed)}" if changed else "")
                               + f". Leave {expected_class}'s other options at their defaults")
        for step, (reading, wanted) in enumerate(zip(after, expected)):
            expect_values(params_of(readings[reading], what), wanted, f"step {step + 1} of the optimizer {what} "
                          "returned", f"a plain torch.optim.{expected_class} over net.parameters()")


@pytest.mark.points(1)
def test_make_optimizer(submission: Submission, rng: Draw) -> None:
    """make_optimizer(net, lr) is a plain SGD over all of net's parameters that steps like one, lr defaulting to 0.01"""
    check_optimizer_factory(submission, rng, "make_optimizer", "SGD", 0.01)


@pytest.mark.points(1)
def test_make_adagrad(submission: Submission, rng: Draw) -> None:
    """make_adagrad(net, lr) is seed 003's Adagrad over all of net's parameters and steps like one, lr defaulting
    to 0.01"""
    check_optimizer_factory(submission, rng, "make_adagrad", "Adagrad", 0.01)


# --- the training step ----------------------------------------------------------------------


def simulate(net: Net, optimizer: dict[str, Any], criterion: str, batches: list[tuple[torch.Tensor, torch.Tensor]]
             ) -> tuple[list[float], list[list[torch.Tensor]]]:
    """The right loop on the grader's own copy: zero_grad, forward, loss, backward, step."""
    model = net.build()
    opt = kit_build(optimizer, {"net": model})
    loss_fn = CRITERIA[criterion]()
    losses, weights = [], []
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        weights.append([p.detach().clone() for p in model.parameters()])
    return losses, weights


STEP_CASES = {  # network, loss, batch sizes (0: the dummy target's single sample), optimizer, options
    "adagrad_ce_two_batches": ("deep", "ce", [7, 5], "Adagrad", {"lr": 0.01}),
    "mse_dummy_two_steps": ("conv", "mse", [1, 1], "SGD", {}),
    "momentum_two_batches": ("mlp", "ce_fn", [64, 5], "SGD", {"momentum": 0.9}),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(STEP_CASES))
def test_training_step_updates_parameters(submission: Submission, rng: Draw, case: str) -> None:
    """training_step returns each batch's loss as a float and leaves the weights the right loop gives, with the
    optimizer it was given and old values in .grad"""
    kind, criterion, sizes, kind_of_optimizer, options = STEP_CASES[case]
    net = kit_net(rng, kind, 10 if kind == "conv" else None)
    options = {"lr": round(rng.uniform(0.01, 0.2), 3), **options}
    batches = [batch(rng, net, n, criterion) for n in sizes]
    s = Scenario(EXERCISE)
    made = s.build(kit(**net.spec))
    spec = {"kind": "optimizer", "params": {"ref": "net"}, "type": kind_of_optimizer, "options": options}
    opt = s.build(kit("optimizer", params={"ref": made.name}, type=kind_of_optimizer, options=options))
    s.set_grads(made, old_grads(rng, net))
    calls: list[tuple[Ref, Any]] = []
    for x, y in batches:
        returned = s.call("loss_backprop.training_step", made, opt, kit("criterion", name=criterion), x, y)
        calls.append((returned, s.state(made)))
    readings: Readings = s.run(submission, seed=rng.seed())
    losses, weights = simulate(net, spec, criterion, batches)
    described = ", ".join(f"{k}={v}" for k, v in options.items())
    for i, ((returned, state), want_loss, want) in enumerate(zip(calls, losses, weights)):
        what = (f"training_step call {i + 1} of {len(batches)} ({net.describe()}, a batch of {sizes[i]}, "
                f"optim.{kind_of_optimizer}({described}), old values in .grad)")
        value = readings.value(returned)
        expect(type(value) is float, f"{what} returned {type_name(value)}, expected a float: return loss.item()")
        expect(abs(value - want_loss) <= 1e-5 * max(1.0, abs(want_loss)),
               f"{what} returned the wrong loss: return the loss of this batch, computed before optimizer.step()")
        expect_values(params_of(readings[state], what), want, what,
                      "optimizer.zero_grad() first (old gradients!), then forward, loss, backward, and "
                      "optimizer.step() with the optimizer you were given")
