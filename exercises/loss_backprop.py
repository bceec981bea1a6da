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
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def mse_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean squared error between `output` and `target`, with nn.MSELoss.

    Returns a scalar tensor, the mean of (output - target) ** 2 over all elements, that
    autograd can differentiate (do not call .item()).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The cross-entropy loss of raw scores `logits` (N, C) for class labels `labels` (N,), int64.

    Use nn.CrossEntropyLoss: it applies log-softmax itself, so pass raw scores, not
    probabilities. The result is the mean over the batch of -log(softmax(logits)[i, labels[i]]),
    a scalar tensor.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def compute_gradients(net: nn.Module, criterion, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Back-propagate one batch and return its loss (the scalar tensor).

    Clear the old gradients first (net.zero_grad()), then forward, loss = criterion(output,
    targets), loss.backward(). Afterwards every parameter's .grad holds exactly this batch's
    gradient, whatever was in .grad before. In the seed, conv1.bias.grad is zeros before the
    backward (None in recent PyTorch) and non-zero after it.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def accumulate_gradients(net: nn.Module, criterion, inputs: torch.Tensor, targets: torch.Tensor, times: int) -> None:
    """Show that gradients add up: back-propagate the same batch `times` times.

    Clear the gradients ONCE at the start, then `times` times: forward, loss, backward,
    without clearing in between. Afterwards each .grad is `times` times the gradient of
    one batch. This is why the seed says to call zero_grad() before every backward.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def sgd_update(parameters, lr: float) -> None:
    """One step of plain stochastic gradient descent, by hand: w <- w - lr * w.grad.

    `parameters` is an iterable of parameters, such as net.parameters() (a generator:
    you can walk it only once). Update each parameter that has a gradient IN PLACE and
    inside `with torch.no_grad():` so that autograd does not record the update; skip
    those whose .grad is None. Do not use torch.optim here.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def make_optimizer(net: nn.Module, lr: float = 0.01) -> optim.SGD:
    """A plain torch.optim.SGD over all of `net`'s parameters with learning rate `lr`."""
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def training_step(net: nn.Module, optimizer: optim.Optimizer, criterion, inputs: torch.Tensor,
                  targets: torch.Tensor) -> float:
    """One training step with `optimizer`, as in the seed's training loop.

    optimizer.zero_grad(), output = net(inputs), loss = criterion(output, targets),
    loss.backward(), optimizer.step(). Return the loss as a Python float (loss.item()):
    the loss computed before the step.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


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
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def make_adagrad(net: nn.Module, lr: float = 0.01) -> optim.Adagrad:
    """Seed 003's optimizer: torch.optim.Adagrad over all of `net`'s parameters with
    learning rate `lr` (default 0.01), and Adagrad's other options left at their defaults."""
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")
