"""Visible checks for exercises/loss_backprop.py. Run: pytest exercises/test_loss_backprop.py"""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from _kit.checks import expect, expect_close, expect_equal, expect_shape, expect_tensor, student


def tiny_conv_net() -> nn.Sequential:
    """A small seeded conv net: (N, 1, 8, 8) -> (N, 10), like the seed's LeNet in miniature."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 10)
    )


def tiny_mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def mlp_with_first_layer_grads(seed: int) -> tuple[nn.Sequential, list[torch.Tensor]]:
    """tiny_mlp() with random gradients on its first layer only (the last has none), and its
    parameters as they were."""
    net = tiny_mlp()
    torch.manual_seed(seed)
    for p in net[0].parameters():
        p.grad = torch.randn_like(p)
    return net, [p.detach().clone() for p in net.parameters()]


def reference_grads(net: nn.Module, criterion, x: torch.Tensor,
                    y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The loss and the gradient of every parameter for one batch, computed on a copy of `net`."""
    twin = copy.deepcopy(net)
    loss = criterion(twin(x), y)
    return loss.detach(), [g.detach() for g in torch.autograd.grad(loss, list(twin.parameters()))]


def fill_with_garbage(net: nn.Module) -> None:
    for p in net.parameters():
        p.grad = torch.full_like(p, 7.0)


def expect_grads(net: nn.Module, expected: list[torch.Tensor], what: str, hint: str) -> None:
    for (name, p), g in zip(net.named_parameters(), expected):
        expect(p.grad is not None, f"after {what}, parameter {name} has no .grad", "call loss.backward()")
        expect_close(p.grad, g, f"the .grad of parameter {name} after {what}", hint)


def test_dummy_target():
    """dummy_target() is 1, 2, ..., 10 as float32, of shape (1, 10)"""
    t = expect_tensor(student("loss_backprop").dummy_target(), "dummy_target()")
    expect_shape(t, (1, 10), "dummy_target()", "reshape torch.arange(1, 11) to (1, 10), the shape of the net's output")
    expect_equal(t.dtype, torch.float32, "dummy_target().dtype", "torch.arange gives int64: .to(torch.float32)")
    expect_close(t, torch.arange(1.0, 11.0).reshape(1, 10), "dummy_target()")


def test_mse_loss_matches_formula():
    """mse_loss(output, dummy_target()) is the mean of (output - target) ** 2"""
    lb = student("loss_backprop")
    torch.manual_seed(0)
    out = torch.randn(1, 10, requires_grad=True)
    target = torch.arange(1.0, 11.0).reshape(1, 10)
    loss = expect_tensor(lb.mse_loss(out, target), "mse_loss(output, target)")
    expect_shape(loss, (), "mse_loss(output, target)", "nn.MSELoss() averages over all elements into one number")
    expect_close(loss, ((out - target) ** 2).mean().detach(), "mse_loss(output, target) for output of shape (1, 10)")
    expect(loss.requires_grad, "mse_loss(output, target) is not connected to the graph of `output`",
           "return the loss tensor itself; do not detach it or call .item()")
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    expect_close(lb.mse_loss(a, b), ((a - b) ** 2).mean(), "mse_loss(a, b) for a and b of shape (4, 3)")


def test_cross_entropy_matches_log_softmax():
    """cross_entropy(logits, labels) is the mean of -log_softmax(logits)[i, labels[i]]"""
    lb = student("loss_backprop")
    torch.manual_seed(0)
    logits = torch.randn(4, 5)
    labels = torch.tensor([0, 3, 4, 1])
    loss = expect_tensor(lb.cross_entropy(logits, labels), "cross_entropy(logits, labels)")
    expected = -F.log_softmax(logits, dim=1)[torch.arange(4), labels].mean()
    expect_close(loss, expected, "cross_entropy(logits, labels) for logits (4, 5) and labels [0, 3, 4, 1]",
                 "nn.CrossEntropyLoss() takes raw scores: do not apply softmax first")


def test_compute_gradients_matches_autograd():
    """compute_gradients leaves exactly this batch's gradient in .grad, even if .grad held old values"""
    lb = student("loss_backprop")
    net, criterion = tiny_conv_net(), nn.MSELoss()
    x, y = torch.randn(1, 1, 8, 8), torch.arange(1.0, 11.0).reshape(1, 10)
    expected_loss, grads = reference_grads(net, criterion, x, y)
    fill_with_garbage(net)
    loss = expect_tensor(lb.compute_gradients(net, criterion, x, y), "compute_gradients(net, criterion, x, y)")
    expect_close(loss, expected_loss, "the loss returned by compute_gradients(net, criterion, x, y)",
                 "return criterion(net(inputs), targets)")
    expect_grads(net, grads, "compute_gradients(net, criterion, x, y)",
                 "old gradients are still in .grad: call net.zero_grad() before loss.backward()")
    conv_bias = net[0].bias.grad
    expect(bool((conv_bias != 0).any()), "the first convolution's bias gradient is all zeros after compute_gradients",
           "loss.backward() fills it, as conv1.bias.grad in the seed")


def test_accumulate_gradients_adds_up():
    """accumulate_gradients(..., times=3) leaves 3 times one batch's gradient in .grad"""
    lb = student("loss_backprop")
    net, criterion = tiny_mlp(), nn.MSELoss()
    x, y = torch.randn(5, 4), torch.randn(5, 3)
    _, grads = reference_grads(net, criterion, x, y)
    fill_with_garbage(net)
    result = lb.accumulate_gradients(net, criterion, x, y, 3)
    expect(result is None, f"accumulate_gradients(...) returned {type(result).__name__}, expected None")
    expect_grads(net, [3 * g for g in grads], "accumulate_gradients(net, criterion, x, y, times=3)",
                 "zero the gradients once before the loop, then backward 3 times without zeroing in between")


def test_sgd_update_moves_by_lr_grad():
    """sgd_update(net.parameters(), 0.1) moves every parameter by -0.1 * grad, skipping those without grad"""
    lb = student("loss_backprop")
    net, before = mlp_with_first_layer_grads(seed=2)
    lb.sgd_update(net.parameters(), 0.1)
    for (name, p), old in zip(net.named_parameters(), before):
        expect(p.is_leaf and p.requires_grad, f"parameter {name} is no longer a trainable leaf after sgd_update",
               "update in place inside torch.no_grad(): p -= lr * p.grad")
        expected = old - 0.1 * p.grad if p.grad is not None else old
        expect_close(p, expected, f"parameter {name} after sgd_update(net.parameters(), lr=0.1)",
                     "w <- w - lr * w.grad for parameters with a gradient; leave those whose .grad is None alone")


def test_make_optimizer():
    """make_optimizer(net, lr) is a plain SGD over all of net's parameters"""
    lb = student("loss_backprop")
    net = tiny_mlp()
    opt = lb.make_optimizer(net, lr=0.5)
    expect(isinstance(opt, optim.SGD),
           f"make_optimizer(net, lr=0.5) returned {type(opt).__name__}, expected torch.optim.SGD")
    in_opt = {id(p) for group in opt.param_groups for p in group["params"]}
    expect(in_opt == {id(p) for p in net.parameters()},
           "make_optimizer(net, lr=0.5) does not hold exactly net's parameters", "optim.SGD(net.parameters(), lr=lr)")
    expect_equal([g["lr"] for g in opt.param_groups], [0.5] * len(opt.param_groups),
                 "the learning rates of make_optimizer(net, lr=0.5)")
    expect_equal([g["momentum"] for g in opt.param_groups], [0] * len(opt.param_groups),
                 "the momentum of make_optimizer(net, lr=0.5)",
                 "plain SGD: no momentum")
    default = lb.make_optimizer(net)
    expect_equal([g["lr"] for g in default.param_groups], [0.01] * len(default.param_groups),
                 "the learning rate of make_optimizer(net)",
                 "lr defaults to 0.01")


def test_training_step_updates_parameters():
    """training_step returns the loss as a float and moves the parameters by -lr * grad"""
    lb = student("loss_backprop")
    net, criterion = tiny_conv_net(), nn.CrossEntropyLoss()
    x, labels = torch.randn(3, 1, 8, 8), torch.tensor([2, 7, 0])
    expected_loss, grads = reference_grads(net, criterion, x, labels)
    before = [p.detach().clone() for p in net.parameters()]
    fill_with_garbage(net)
    opt = optim.SGD(net.parameters(), lr=0.05)
    loss = lb.training_step(net, opt, criterion, x, labels)
    expect(isinstance(loss, float), f"training_step(...) returned {type(loss).__name__}, expected a float",
           "return loss.item()")
    expect(abs(loss - expected_loss.item()) < 1e-5,
           f"training_step(...) returned {loss}, expected {expected_loss.item()}",
           "return the loss computed before optimizer.step()")
    for (name, p), old, g in zip(net.named_parameters(), before, grads):
        expect_close(p, old - 0.05 * g, f"parameter {name} after training_step with optim.SGD(lr=0.05)",
                     "optimizer.zero_grad() first (old gradients!), then forward, loss, backward, optimizer.step()")


def adagrad_by_formula(params: list[torch.Tensor], grads: list[torch.Tensor | None], sums: list[torch.Tensor | None],
                       lr: float, eps: float) -> None:
    """Adagrad's step written out (in place on params and sums), for the checks below."""
    for i, (p, g) in enumerate(zip(params, grads)):
        if g is None:
            continue
        sums[i] = (sums[i] if sums[i] is not None else torch.zeros_like(p)) + g * g
        p -= lr * g / (sums[i].sqrt() + eps)


def test_adagrad_update_formula():
    """adagrad_update's first step: state[i] = grad ** 2 and w <- w - lr * grad / (sqrt(state[i]) + eps)"""
    lb = student("loss_backprop")
    net, before = mlp_with_first_layer_grads(seed=3)
    expected = [b.clone() for b in before]
    grads = [None if p.grad is None else p.grad.clone() for p in net.parameters()]
    adagrad_by_formula(expected, grads, [None] * len(grads), lr=0.1, eps=1e-10)
    state: dict = {}
    result = lb.adagrad_update(net.parameters(), state, lr=0.1)
    expect(result is None, f"adagrad_update(...) returned {type(result).__name__}, expected None",
           "update the parameters in place and return nothing")
    for i, ((name, p), g, want) in enumerate(zip(net.named_parameters(), grads, expected)):
        expect(p.is_leaf and p.requires_grad, f"parameter {name} is no longer a trainable leaf after adagrad_update",
               "update in place inside torch.no_grad(), as in sgd_update")
        if g is None:
            expect_close(p, want, f"parameter {name}, which has no gradient, after adagrad_update",
                         "skip parameters whose .grad is None")
            continue
        expect(i in state, f"after the first adagrad_update, state has no entry {i} for parameter {name}",
               "keep the sum of squared gradients of the i-th parameter in state[i]")
        expect_close(state[i], g * g, f"state[{i}] (the sum of squared gradients of {name}) after one step",
                     "it starts at zeros and adds grad * grad at every step")
        expect_close(p, want, f"parameter {name} after one adagrad_update(net.parameters(), state, lr=0.1)",
                     "w <- w - lr * grad / (sqrt(state_sum) + eps): on the first step each weight moves by about lr")


def test_adagrad_update_matches_torch():
    """three adagrad_update steps on one state dict do what torch.optim.Adagrad does, for eps=1e-10 and eps=0.5"""
    lb = student("loss_backprop")
    for lr, eps in [(0.01, None), (0.3, 0.5)]:
        net = tiny_conv_net()
        twin = copy.deepcopy(net)
        options = {"lr": lr} if eps is None else {"lr": lr, "eps": eps}
        opt = optim.Adagrad(twin.parameters(), **options)
        state: dict = {}
        torch.manual_seed(4)
        for step in range(3):
            grads = [torch.randn_like(p) * (step + 1) for p in net.parameters()]
            for p, q, g in zip(net.parameters(), twin.parameters(), grads):
                p.grad, q.grad = g.clone(), g.clone()
            lb.adagrad_update(net.parameters(), state, **options)
            opt.step()
            call = f"adagrad_update(net.parameters(), state, {', '.join(f'{k}={v}' for k, v in options.items())})"
            for (name, p), q in zip(net.named_parameters(), twin.parameters()):
                expect_close(p, q, f"parameter {name} after {step + 1} calls of {call}",
                             "add grad * grad to state[i] at every call (keep it between calls), and add eps "
                             "after the square root: lr * grad / (sqrt(state_sum) + eps)")


def test_make_adagrad():
    """make_adagrad(net, lr) is seed 003's optim.Adagrad over all of net's parameters, lr defaulting to 0.01"""
    lb = student("loss_backprop")
    net = tiny_mlp()
    for args, lr in [((), 0.01), ((0.2,), 0.2)]:
        call = f"make_adagrad(net{', ' + str(args[0]) if args else ''})"
        opt = lb.make_adagrad(net, *args)
        expect(isinstance(opt, optim.Adagrad), f"{call} returned {type(opt).__name__}, expected torch.optim.Adagrad")
        in_opt = {id(p) for group in opt.param_groups for p in group["params"]}
        expect(in_opt == {id(p) for p in net.parameters()}, f"{call} does not hold exactly net's parameters",
               "optim.Adagrad(net.parameters(), lr=lr)")
        for option, want in [("lr", lr), ("lr_decay", 0), ("weight_decay", 0), ("initial_accumulator_value", 0),
                             ("eps", 1e-10)]:
            expect_equal([g[option] for g in opt.param_groups], [want] * len(opt.param_groups),
                         f"the {option} of {call}",
                         "lr defaults to 0.01; leave the other options at Adagrad's defaults")
