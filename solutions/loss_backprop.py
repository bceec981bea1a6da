"""Exercise 5: loss, backward and the optimizer step.

Seed 002 trains a network in four moves:

    output = net(input)                 # forward pass
    loss = criterion(output, target)    # how far the output is from the target
    net.zero_grad(); loss.backward()    # back-propagation fills every parameter's .grad
    weight = weight - learning_rate * gradient    # the update, by hand or with torch.optim

Seed 003 trains with another optimizer, optim.Adagrad(net.parameters(), lr=0.01), which
gives every weight its own step size; you will write its update by hand too.

You will write each move as a function. The functions take the network, the loss
function (criterion) and the data as arguments, so they work for any nn.Module: the
checks use small networks of their own.

Run the checks with:  pytest exercises/test_loss_backprop.py
"""

import torch
import torch.nn as nn
import torch.optim as optim


def dummy_target() -> torch.Tensor:
    """Seed 002's dummy target: the numbers 1, 2, ..., 10 as float32, of shape (1, 10).

    The seed builds torch.arange(1, 11) (int64, shape (10,)), casts it to float32 and feeds
    it to nn.MSELoss against an output of shape (1, 10), which prints a UserWarning: "Using a
    target size (torch.Size([10])) that is different to the input size (torch.Size([1, 10]))".
    Give the target the output's shape, (1, 10), so nothing has to be broadcast.
    """
    ### BEGIN SOLUTION
    return torch.arange(1, 11, dtype=torch.float32).reshape(1, 10)
    ### END SOLUTION


def mse_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean squared error between `output` and `target`, with nn.MSELoss.

    Returns a scalar tensor, the mean of (output - target) ** 2 over all elements, that
    autograd can differentiate (do not call .item()).
    """
    ### BEGIN SOLUTION
    criterion = nn.MSELoss()
    return criterion(output, target)
    ### END SOLUTION


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The cross-entropy loss of raw scores `logits` (N, C) for class labels `labels` (N,), int64.

    Use nn.CrossEntropyLoss: it applies log-softmax itself, so pass raw scores, not
    probabilities. The result is the mean over the batch of -log(softmax(logits)[i, labels[i]]),
    a scalar tensor.
    """
    ### BEGIN SOLUTION
    criterion = nn.CrossEntropyLoss()
    return criterion(logits, labels)
    ### END SOLUTION


def compute_gradients(net: nn.Module, criterion, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Back-propagate one batch and return its loss (the scalar tensor).

    Clear the old gradients first (net.zero_grad()), then forward, loss = criterion(output,
    targets), loss.backward(). Afterwards every parameter's .grad holds exactly this batch's
    gradient, whatever was in .grad before. In the seed, conv1.bias.grad is zeros before the
    backward (None in recent PyTorch) and non-zero after it.
    """
    ### BEGIN SOLUTION
    net.zero_grad()
    loss = criterion(net(inputs), targets)
    loss.backward()
    return loss
    ### END SOLUTION


def accumulate_gradients(net: nn.Module, criterion, inputs: torch.Tensor, targets: torch.Tensor, times: int) -> None:
    """Show that gradients add up: back-propagate the same batch `times` times.

    Clear the gradients ONCE at the start, then `times` times: forward, loss, backward,
    without clearing in between. Afterwards each .grad is `times` times the gradient of
    one batch. This is why the seed says to call zero_grad() before every backward.
    """
    ### BEGIN SOLUTION
    net.zero_grad()
    for _ in range(times):
        loss = criterion(net(inputs), targets)
        loss.backward()
    ### END SOLUTION


def sgd_update(parameters, lr: float) -> None:
    """One step of plain stochastic gradient descent, by hand: w <- w - lr * w.grad.

    `parameters` is an iterable of parameters, such as net.parameters() (a generator:
    you can walk it only once). Update each parameter that has a gradient IN PLACE and
    inside `with torch.no_grad():` so that autograd does not record the update; skip
    those whose .grad is None. Do not use torch.optim here.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.sub_(lr * p.grad)
    ### END SOLUTION


def make_optimizer(net: nn.Module, lr: float = 0.01) -> optim.SGD:
    """A plain torch.optim.SGD over all of `net`'s parameters with learning rate `lr`."""
    ### BEGIN SOLUTION
    return optim.SGD(net.parameters(), lr=lr)
    ### END SOLUTION


def training_step(net: nn.Module, optimizer: optim.Optimizer, criterion, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """One training step with `optimizer`, as in the seed's training loop.

    optimizer.zero_grad(), output = net(inputs), loss = criterion(output, targets),
    loss.backward(), optimizer.step(). Return the loss as a Python float (loss.item()):
    the loss computed before the step.
    """
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    loss = criterion(net(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


def adagrad_update(parameters, state: dict, lr: float, eps: float = 1e-10) -> None:
    """One step of Adagrad by hand, the optimizer seed 003 trains with.

    Plain SGD moves every weight by the same multiple of its gradient. Adagrad remembers,
    for every number of every parameter, the sum of the squares of all the gradients it has
    had so far, and divides the step by the square root of that sum: a weight that keeps
    getting large gradients takes smaller and smaller steps. For each parameter w with a
    gradient g = w.grad, element-wise:

        state_sum <- state_sum + g * g                  (state_sum starts at zeros)
        w <- w - lr * g / (sqrt(state_sum) + eps)

    eps only keeps the division finite where state_sum is still 0; it is added AFTER the
    square root, as torch.optim.Adagrad does (its default is eps=1e-10).

    `parameters` is an iterable of parameters, such as net.parameters(). `state` is a dict
    that the caller keeps between calls and you keep the sums in: the first call gets it
    empty ({}). Store the sum of the i-th parameter (its position in `parameters`) as
    state[i], a tensor of the parameter's shape, and add to it at every later call. Skip
    parameters whose .grad is None: neither they nor their sums change. Update in place
    inside `with torch.no_grad():`, as in sgd_update. Do not use torch.optim here.

    k calls with the same `state` do exactly what k steps of
    torch.optim.Adagrad(net.parameters(), lr=lr, eps=eps) do (with its other defaults: no
    learning-rate decay, no weight decay, sums starting at 0).
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for i, p in enumerate(parameters):
            if p.grad is None:
                continue
            if i not in state:
                state[i] = torch.zeros_like(p)
            state[i] += p.grad * p.grad
            p -= lr * p.grad / (state[i].sqrt() + eps)
    ### END SOLUTION


def make_adagrad(net: nn.Module, lr: float = 0.01) -> optim.Adagrad:
    """Seed 003's optimizer: torch.optim.Adagrad over all of `net`'s parameters with
    learning rate `lr` (default 0.01), and Adagrad's other options left at their defaults."""
    ### BEGIN SOLUTION
    return optim.Adagrad(net.parameters(), lr=lr)
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_loss_backprop.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_dummy_target": (
        "The target must look like the network's output: a float tensor of shape (1, 10) holding 1, 2, ..., 10.",
        "torch.arange(1, 11) gives 1..10 as int64 and shape (10,): ask for dtype=torch.float32 and reshape it to "
        "(1, 10).",
        "return torch.arange(1, 11, dtype=torch.float32).reshape(1, 10)",
    ),
    "test_mse_loss_matches_formula": (
        "The loss must stay a tensor connected to `output`, so that backward() can follow it back: one number, the "
        "mean of the squared differences.",
        "nn.MSELoss() is a module: build it, then call it on (output, target). Calling .item() or .detach() would cut "
        "the graph.",
        "criterion = nn.MSELoss()\nreturn criterion(output, target)",
    ),
    "test_cross_entropy_matches_log_softmax": (
        "Cross-entropy compares raw scores with class labels; it applies the softmax itself.",
        "nn.CrossEntropyLoss() takes the logits and the int64 labels as they are: a softmax of your own before it "
        "would count twice.",
        "criterion = nn.CrossEntropyLoss()\nreturn criterion(logits, labels)",
    ),
    "test_compute_gradients_matches_autograd": (
        "backward() adds to whatever .grad already holds, and the check puts old values there first.",
        "Clear the gradients with net.zero_grad() before the forward pass, then compute the loss with the criterion "
        "and call loss.backward(); return the loss.",
        "net.zero_grad()\nloss = criterion(net(inputs), targets)\nloss.backward()\nreturn loss",
    ),
    "test_accumulate_gradients_adds_up": (
        "Gradients add up over backward() calls: that is the point of this function. Start clean once, then let "
        "them add up.",
        "net.zero_grad() once before the loop; inside it, forward, loss and backward `times` times, with no zero_grad "
        "in between. Return nothing.",
        "net.zero_grad()\nfor _ in range(times):\n    criterion(net(inputs), targets).backward()",
    ),
    "test_sgd_update_moves_by_lr_grad": (
        "Each parameter that has a gradient moves against it: w <- w - lr * grad. Those without a gradient stay "
        "where they are.",
        "Change the parameters in place (p.sub_ or p -= ...) inside `with torch.no_grad():`, so autograd does not "
        "record the update; skip p.grad is None.",
        "with torch.no_grad():\n    for p in parameters:\n        if p.grad is not None:\n            p.sub_(lr * p.grad)",
    ),
    "test_make_optimizer": (
        "torch.optim holds the ready-made optimizers; this one is plain stochastic gradient descent over every "
        "parameter of the network.",
        "optim.SGD takes the parameters to update and the learning rate; its momentum stays 0 by default.",
        "return optim.SGD(net.parameters(), lr=lr)",
    ),
    "test_training_step_updates_parameters": (
        "One training step is five moves in a fixed order, and the check puts old gradients in .grad first.",
        "optimizer.zero_grad(), then the forward pass and the loss, loss.backward(), optimizer.step(); return the loss "
        "as a Python float.",
        "optimizer.zero_grad()\nloss = criterion(net(inputs), targets)\nloss.backward()\noptimizer.step()\n"
        "return loss.item()",
    ),
    "test_adagrad_update_formula": (
        "Adagrad divides each step by the square root of the sum of all the squared gradients that weight has had: "
        "keep that sum, per parameter, in `state` between calls.",
        "state[i] starts at zeros_like(p) and adds p.grad * p.grad at every call; then, in place inside "
        "torch.no_grad(), w <- w - lr * grad / (sqrt(state[i]) + eps). Skip parameters whose .grad is None.",
        "with torch.no_grad():\n    for i, p in enumerate(parameters):\n        if p.grad is None:\n"
        "            continue\n        state[i] = state.get(i, torch.zeros_like(p)) + p.grad * p.grad\n"
        "        p -= lr * p.grad / (state[i].sqrt() + eps)",
    ),
    "test_adagrad_update_matches_torch": (
        "After three calls your weights must equal torch.optim.Adagrad's: the sums must grow from call to call, and "
        "eps must sit where Adagrad puts it.",
        "Add to state[i] (never reset it), and add eps after the square root, sqrt(state_sum) + eps, not inside it.",
        "p -= lr * p.grad / (state[i].sqrt() + eps)",
    ),
    "test_make_adagrad": (
        "torch.optim has Adagrad ready-made; give it every parameter of the network and the learning rate.",
        "optim.Adagrad(params, lr=...): leave its other options (lr_decay, weight_decay, eps...) at their defaults, "
        "and let lr default to 0.01.",
        "return optim.Adagrad(net.parameters(), lr=lr)",
    ),
}
### END HINTS
