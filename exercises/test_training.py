"""Visible checks for exercises/training.py. Run: pytest exercises/test_training.py"""

import copy
import math
import numbers
import re

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from _kit.checks import expect, expect_equal, expect_png, student

# Metrics computed in float32 are right too: percentages are compared with a relative tolerance.
REL_TOL = 1e-6


def is_number(value) -> bool:
    """A plain number (a Python or NumPy float or int), not a bool and not a tensor."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, torch.Tensor))


PRINTED = re.compile(r"\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*loss:\s*(-?\d+(?:\.\d+)?)")


class Probe(nn.Module):
    """A small classifier that records, at every forward, its mode, autograd's state and the input's device."""

    def __init__(self, in_features=4, num_classes=3):
        super().__init__()
        self.fc = nn.Linear(in_features, num_classes)
        self.calls: list[tuple[bool, bool, str]] = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled(), x.device.type))
        return self.fc(x)


class Table(nn.Module):
    """Returns fixed scores: input i (a float holding an index) gets row i of `scores`."""

    def __init__(self, scores):
        super().__init__()
        self.register_buffer("scores", torch.as_tensor(scores, dtype=torch.float32))
        self.one = nn.Parameter(torch.ones(()))
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.scores[x.view(-1).long()] * self.one


class PlainSGD:
    """Just what train() needs of an optimizer: zero_grad() and step() (torch.optim takes seconds to load)."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, closure=None):
        for p in self.params:
            if p.grad is not None:
                p -= self.lr * p.grad


def blobs(n=40, seed=0):
    """n points in 4-D around three well separated centres; labels 0, 1, 2."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]])
    return TensorDataset(centres[labels] + 0.5 * torch.randn(n, 4, generator=g), labels)


def table_loader(scores, labels, batch_size):
    """A loader whose inputs are the indices 0..N-1 into `scores`, with the given labels."""
    index = torch.arange(len(labels), dtype=torch.float32)
    return DataLoader(TensorDataset(index, torch.tensor(labels)), batch_size=batch_size)


def quiet_train(capsys, net, loader, *, lr=0.1, epochs=1, log_every=50, criterion=None):
    """Run the student's train() with a plain SGD; return its history and what it printed."""
    m = student("training")
    optimizer = PlainSGD(net.parameters(), lr=lr)
    history = m.train(net, loader, criterion or nn.CrossEntropyLoss(), optimizer, epochs=epochs, log_every=log_every)
    return history, capsys.readouterr().out


def test_get_device():
    """get_device() gives cuda exactly when torch.cuda.is_available()"""
    device = student("training").get_device()
    expect(isinstance(device, torch.device), f"get_device() returned {device!r}, expected a torch.device", "torch.device('cpu')")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    expect_equal(device.type, expected, "get_device().type", "torch.cuda.is_available() tells whether a GPU can be used")


def test_train_history_length(capsys):
    """train() logs once every log_every mini-batches of each epoch: 2 epochs x (10 // 3) = 6 values"""
    torch.manual_seed(0)
    loader = DataLoader(blobs(40), batch_size=4)  # 10 mini-batches per epoch
    history, _ = quiet_train(capsys, Probe(), loader, epochs=2, log_every=3)
    expect(isinstance(history, list), f"train() returned {type(history).__name__}, expected a list", "return the history list")
    expect_equal(len(history), 6, "len(train(..., epochs=2, log_every=3)) with 10 mini-batches per epoch",
                 "report after batches 3, 6 and 9 of each epoch; the 10th batch is a remainder that is not reported")
    expect(all(isinstance(h, float) for h in history), f"train() returned {history!r}: expected Python floats",
           "add loss.item() to the running loss, not the loss tensor")


def test_train_history_is_running_mean(capsys):
    """Each logged value is the mean loss of the last log_every mini-batches, restarting every epoch"""
    torch.manual_seed(0)
    seen: list[float] = []
    ce = nn.CrossEntropyLoss()

    def criterion(outputs, labels):
        loss = ce(outputs, labels)
        seen.append(loss.item())
        return loss

    loader = DataLoader(blobs(40), batch_size=4)  # 10 mini-batches per epoch
    history, _ = quiet_train(capsys, Probe(), loader, epochs=2, log_every=3, criterion=criterion)
    expect_equal(len(seen), 20, "the number of criterion calls for 2 epochs of 10 mini-batches", "one loss per mini-batch")
    windows = [seen[e * 10 + s : e * 10 + s + 3] for e in range(2) for s in (0, 3, 6)]
    expected = [sum(w) / 3 for w in windows]
    expect(
        len(history) == 6 and all(math.isclose(h, x, rel_tol=REL_TOL, abs_tol=1e-7) for h, x in zip(history, expected)),
        f"train() returned {[round(h, 4) for h in history]}, expected {[round(x, 4) for x in expected]}",
        "divide the running loss by log_every, then reset it to 0 (and at the start of every epoch)",
    )


def test_train_prints_running_loss(capsys):
    """train() prints '[epoch, batch] loss: x.xxx' at every report, as the seeds do"""
    torch.manual_seed(0)
    loader = DataLoader(blobs(40), batch_size=4)
    history, out = quiet_train(capsys, Probe(), loader, epochs=2, log_every=5)
    printed = [(int(e), int(b), float(v)) for e, b, v in PRINTED.findall(out)]
    expect_equal([(e, b) for e, b, _ in printed], [(1, 5), (1, 10), (2, 5), (2, 10)],
                 "the [epoch, batch] pairs printed for 2 epochs of 10 mini-batches with log_every=5",
                 "epochs and batches count from 1: print epoch + 1 and i + 1")
    expect(
        all(abs(v - h) < 6e-4 for (_, _, v), h in zip(printed, history)),
        f"train() printed the losses {[v for _, _, v in printed]} but returned {[round(h, 3) for h in history]}",
        "print the same value you append: running_loss / log_every, with '%.3f'",
    )


def test_train_decreases_loss(capsys):
    """train() on three separable blobs brings the running loss down"""
    torch.manual_seed(0)
    loader = DataLoader(blobs(60), batch_size=4, shuffle=True)
    history, _ = quiet_train(capsys, Probe(), loader, lr=0.1, epochs=3, log_every=5)
    expect(len(history) == 9 and history[-1] < 0.5 * history[0],
           f"train() logged the losses {[round(h, 3) for h in history]}: expected them to fall by half or more",
           "one step is zero_grad, forward, loss, backward, step")


def test_train_matches_reference_steps(capsys):
    """train() changes the weights exactly as the seed's loop does (zero_grad, forward, loss, backward, step)"""
    torch.manual_seed(0)
    net = Probe()
    start = copy.deepcopy(net)
    reference = copy.deepcopy(net)
    loader = DataLoader(blobs(24), batch_size=4)
    quiet_train(capsys, net, loader, lr=0.1, epochs=2, log_every=2)
    optimizer = PlainSGD(reference.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    for _ in range(2):
        for inputs, labels in loader:
            optimizer.zero_grad()
            criterion(reference(inputs), labels).backward()
            optimizer.step()
    moved = any(not torch.equal(p.detach().cpu(), q.detach()) for p, q in zip(net.parameters(), start.parameters()))
    expect(moved, "train() left every weight as it was", "call optimizer.step() after loss.backward()")
    same = all(torch.allclose(p.detach().cpu(), q.detach(), atol=1e-6) for p, q in zip(net.parameters(), reference.parameters()))
    expect(same, "after train(net, loader, CrossEntropyLoss(), an SGD with lr=0.1, epochs=2) the weights differ from the seed's loop",
           "call optimizer.zero_grad() before every backward() (gradients add up otherwise) and step once per mini-batch")


def test_train_sets_train_mode_and_device(capsys):
    """train() puts the net in training mode with autograd on, and the net and batches on get_device()"""
    m = student("training")
    net = Probe()
    net.eval()
    quiet_train(capsys, net, DataLoader(blobs(8), batch_size=4), log_every=1)
    expected = m.get_device().type
    expect(bool(net.calls), "train() never called the network", "outputs = net(inputs) for every mini-batch")
    expect(all(training for training, _, _ in net.calls), "train() ran the network in eval mode", "call net.train() before the loop")
    expect(all(grad for _, grad, _ in net.calls), "train() ran the network with autograd off", "no torch.no_grad() while training")
    expect(all(d == expected for _, _, d in net.calls), f"the batches reached the network on {net.calls[0][2]}, expected {expected}",
           "inputs, labels = inputs.to(device), labels.to(device)")
    where = {p.device.type for p in net.parameters()}
    expect_equal(where, {expected}, "the device of the parameters after train()", "net.to(device)")


def test_accuracy_percent():
    """accuracy() is the percentage of right argmax predictions: 3 of 4 right gives 75.0"""
    scores = [[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.0, 4.0], [1.0, 0.0, 0.0]]
    acc = student("training").accuracy(Table(scores), table_loader(scores, [0, 1, 2, 2], batch_size=4))
    expect(is_number(acc), f"accuracy() returned {type(acc).__name__}, expected a Python float",
           "a tensor holding one number gives it up with .item()")
    expect(math.isclose(acc, 75.0, rel_tol=REL_TOL), f"accuracy() returned {acc!r} with 3 of 4 samples right, expected 75.0",
           "a sample is right when its largest score sits at its label; give a percentage, 0 to 100")


def test_accuracy_counts_partial_batch():
    """accuracy() counts every sample when the last batch is smaller (5 samples, batches of 2)"""
    scores = [[1.0, 0.0]] * 5
    acc = student("training").accuracy(Table(scores), table_loader(scores, [0, 0, 0, 0, 1], batch_size=2))
    expect(is_number(acc) and math.isclose(acc, 80.0, rel_tol=REL_TOL),
           f"accuracy() returned {acc!r} with 4 of 5 samples right in batches of 2, 2, 1, expected 80.0",
           "the last batch holds only 1 sample: count the samples each batch really has")


def expect_evaluates_without_training(name: str, *extra) -> None:
    """training.<name>(net, loader, *extra) must run the network in eval mode inside torch.no_grad()."""
    scores = [[1.0, 0.0], [0.0, 1.0]]
    net = Table(scores)
    net.train()
    getattr(student("training"), name)(net, table_loader(scores, [0, 1], batch_size=2), *extra)
    expect(bool(net.calls), f"{name}() never called the network")
    expect(not any(training for training, _ in net.calls), f"{name}() ran the network in training mode",
           "call net.eval() first: dropout and batch norm must not act while evaluating")
    expect(not any(grad for _, grad in net.calls), f"{name}() ran the network with autograd on",
           "wrap the loop in `with torch.no_grad():`")


def test_accuracy_eval_mode_no_grad():
    """accuracy() evaluates in eval mode inside torch.no_grad()"""
    expect_evaluates_without_training("accuracy")


def test_per_class_accuracy():
    """per_class_accuracy() gives one percentage per class, nan for a class with no samples"""
    # rows predict 0, 0, 1, 1, 2, 0, 1 (argmax); the labels have no class 3
    scores = [[5, 0, 0, 0], [5, 0, 0, 0], [0, 5, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [5, 0, 0, 0], [0, 5, 0, 0]]
    labels = [0, 1, 1, 1, 2, 0, 2]
    got = student("training").per_class_accuracy(Table(scores), table_loader(scores, labels, batch_size=3), 4)
    expected = [100.0, 200 / 3, 50.0, math.nan]
    expect(isinstance(got, list) and len(got) == 4,
           f"per_class_accuracy(..., num_classes=4) returned {got!r}, expected a list of 4 floats",
           "one entry per class, in class order")
    ok = all(is_number(g) and (math.isnan(g) if math.isnan(e) else math.isclose(g, e, rel_tol=REL_TOL))
             for g, e in zip(got, expected))
    expect(ok, f"per_class_accuracy() returned {got!r}, expected [100.0, {200 / 3!r}, 50.0, nan] "
           "(7 samples in batches of 3, 3, 1)",
           "the last batch holds 1 sample, not 3; a class with no samples has no percentage: float('nan')")


def test_per_class_accuracy_eval_mode_no_grad():
    """per_class_accuracy() evaluates in eval mode inside torch.no_grad()"""
    expect_evaluates_without_training("per_class_accuracy", 2)


def test_save_training_curves(tmp_path):
    """save_training_curves() writes PNG images, with and without accuracies"""
    m = student("training")
    for name, accuracies in (("training_loss.png", None), ("training_curves.png", [50.0, 80.0, 90.0])):
        path = tmp_path / name
        m.save_training_curves([2.3, 1.5, 0.9, 0.6, 0.4], accuracies, path)
        expect_png(path, f"save_training_curves(history, {accuracies!r}, path)")
