"""Visible checks for exercises/transfer.py. Run: pytest exercises/test_transfer.py"""

import copy

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from _kit.checks import expect, expect_equal, student


def sequential_lenet() -> nn.Sequential:
    """Seed 002's LeNet as one nn.Sequential (ReLU modules, a Flatten)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


class Misnamed(nn.Module):
    """Attribute style, nested, with names that lie: the layer called `conv` is a Linear."""

    def __init__(self, classes=3):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3)
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 3, bias=False), nn.ReLU(), nn.MaxPool2d(2))
        self.conv = nn.Linear(4 * 4 * 4, 16)
        self.fc_features = nn.Linear(16, classes)

    def forward(self, x):
        x = torch.flatten(self.body(self.stem(x)), 1)
        return self.fc_features(torch.relu(self.conv(x)))

    def conv_params(self):
        return [*self.stem.parameters(), *self.body.parameters()]

    def linear_params(self):
        return [*self.conv.parameters(), *self.fc_features.parameters()]


class Patches(nn.Module):
    """One frozen-friendly conv of positive 4x4 filters (patch brightness) and a Linear head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 4, stride=4)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(8, 1, 4, 4).abs() * 0.25)
        self.head = nn.Linear(8 * 3 * 3, 3)

    def forward(self, x):
        return self.head(torch.flatten(torch.relu(self.conv(x)), 1))


def split(net: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The parameters of the Conv2d layers and of the Linear layers of `net`."""
    convs = [p for m in net.modules() if isinstance(m, nn.Conv2d) for p in m.parameters()]
    linears = [p for m in net.modules() if isinstance(m, nn.Linear) for p in m.parameters()]
    return convs, linears


def pictures(n=24, seed=0) -> TensorDataset:
    """n 1x12x12 images of three classes: a bright 4x4 square in one of three places, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    x = 0.3 * torch.randn(n, 1, 12, 12, generator=g)
    for i, label in enumerate(labels.tolist()):
        r, c = [(1, 1), (1, 7), (7, 4)][label]
        x[i, 0, r : r + 4, c : c + 4] += 2.0
    return TensorDataset(x, labels)


def test_freeze_features_sequential():
    """freeze_features() freezes every Conv2d of a LeNet nn.Sequential and no Linear"""
    net = sequential_lenet()
    result = student("transfer").freeze_features(net)
    convs, linears = split(net)
    expect(result is None, f"freeze_features(net) returned {type(result).__name__}, expected None",
           "change the parameters in place; return nothing")
    expect(not any(p.requires_grad for p in convs),
           f"after freeze_features(net), {sum(p.requires_grad for p in convs)} of the 4 conv weights/biases still "
           "require grad",
           "for every module in net.modules() that is an nn.Conv2d: p.requires_grad = False for its parameters")
    expect(all(p.requires_grad for p in linears),
           f"after freeze_features(net), {sum(not p.requires_grad for p in linears)} of the 6 Linear "
           "weights/biases are frozen",
           "freeze only the nn.Conv2d layers: the classifier must stay trainable")


def test_freeze_features_finds_convs_by_type():
    """freeze_features() finds nested convolutions by type, whatever their names (a Linear called 'conv')"""
    net = Misnamed()
    student("transfer").freeze_features(net)
    expect(not any(p.requires_grad for p in net.conv_params()),
           "freeze_features(net) left a convolution trainable (one is nested in an nn.Sequential called 'body', "
           "another is called 'stem')",
           "net.modules() walks through the nested layers too; test isinstance(module, nn.Conv2d), not the names")
    expect(all(p.requires_grad for p in net.linear_params()),
           "freeze_features(net) froze a Linear layer (one is called 'conv')",
           "decide by the type of the layer, not by its name")


def test_trainable_parameters():
    """trainable_parameters() lists the 6 tensors (59,134 numbers) of LeNet's classifier after freezing"""
    m = student("transfer")
    net = sequential_lenet()
    everything = m.trainable_parameters(net)
    expect(isinstance(everything, list),
           f"trainable_parameters(net) returned {type(everything).__name__}, expected a list",
           "return a list, e.g. [p for p in net.parameters() if ...]")
    expect_equal(len(everything), 10, "len(trainable_parameters(net)) before freezing",
                 "nothing is frozen yet: all 10 tensors")
    m.freeze_features(net)
    left = m.trainable_parameters(net)
    expect_equal(len(left), 6, "len(trainable_parameters(net)) after freeze_features(net)",
                 "keep the parameters whose requires_grad is True")
    expect_equal(sum(p.numel() for p in left), 59_134,
                 "the number of values in trainable_parameters(net) after freezing")
    _, linears = split(net)
    expect(all(any(p is q for q in linears) for p in left),
           "trainable_parameters(net) returned tensors that are not the network's Linear parameters",
           "return the parameters themselves, not copies or .data")


def test_retrain_classifier_keeps_conv_weights():
    """retrain_classifier() leaves the conv weights bit for bit unchanged and trains the Linear layers"""
    torch.manual_seed(0)
    net = Misnamed()
    before = copy.deepcopy(net)
    loader = DataLoader(pictures(24), batch_size=8, shuffle=True)
    losses = student("transfer").retrain_classifier(net, loader, epochs=2, lr=0.05)
    expect(isinstance(losses, list) and len(losses) == 2 and all(isinstance(x, float) for x in losses),
           f"retrain_classifier(net, loader, epochs=2) returned {losses!r}, expected a list of 2 floats",
           "one mean loss per epoch, computed from loss.item()")
    for p, q in zip(net.conv_params(), before.conv_params()):
        expect(torch.equal(p.detach().cpu(), q.detach()),
               "retrain_classifier() changed a convolution weight",
               "freeze_features(net) first, and give the optimizer trainable_parameters(net) only")
    moved = [not torch.equal(p.detach().cpu(), q.detach()) for p, q in zip(net.linear_params(), before.linear_params())]
    expect(all(moved),
           f"retrain_classifier() changed {sum(moved)} of the 4 Linear weights/biases, expected all of them",
           "zero_grad, forward, loss, backward, step for every mini-batch")


def test_retrain_classifier_optimizer_gets_trainable_only(monkeypatch):
    """retrain_classifier() gives its optimizer the Linear parameters only"""
    given: list[list[torch.Tensor]] = []
    original = torch.optim.Optimizer.__init__

    def recording_init(self, params, *args, **kwargs):
        params = list(params)
        flat = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
        given.append(flat)
        original(self, params, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Optimizer, "__init__", recording_init)
    torch.manual_seed(0)
    net = Misnamed()
    student("transfer").retrain_classifier(net, DataLoader(pictures(6), batch_size=6), epochs=1)
    expect(len(given) >= 1, "retrain_classifier() built no torch.optim optimizer", "torch.optim.SGD(...)")
    ids = {id(p) for p in given[-1]}
    expect(not ids & {id(p) for p in net.conv_params()},
           "retrain_classifier() gave its optimizer some frozen conv parameters",
           "torch.optim.SGD(trainable_parameters(net), ...), not net.parameters()")
    expect(ids == {id(p) for p in net.linear_params()},
           f"retrain_classifier() gave its optimizer {len(ids)} tensors, expected the 4 Linear weights and biases",
           "torch.optim.SGD(trainable_parameters(net), ...)")


def test_retrain_classifier_loss_decreases():
    """retrain_classifier() returns one mean loss per epoch, and they fall on an easy task"""
    torch.manual_seed(0)
    net = Patches()
    loader = DataLoader(pictures(48), batch_size=8, shuffle=True)
    losses = student("transfer").retrain_classifier(net, loader, epochs=3, lr=0.01)
    expect(isinstance(losses, list) and len(losses) == 3,
           f"retrain_classifier(net, loader, epochs=3) returned {losses!r}, expected a list of 3 floats",
           "append the epoch's mean loss after every epoch")
    expect(losses[-1] < 0.5 * losses[0],
           f"retrain_classifier() returned the epoch losses {[round(x, 3) for x in losses]}: expected them to fall by "
           "half or more",
           "the mean of loss.item() over the epoch's mini-batches; step the optimizer every mini-batch")


def test_retrain_classifier_returns_epoch_mean_losses():
    """retrain_classifier() returns, for each epoch, the mean cross-entropy of its mini-batches (checked with lr=0)"""
    torch.manual_seed(0)
    net = Patches()
    loader = DataLoader(pictures(24), batch_size=8)
    with torch.no_grad():
        expected = sum(nn.functional.cross_entropy(net(x), y).item() for x, y in loader) / len(loader)
    losses = student("transfer").retrain_classifier(net, loader, epochs=2, lr=0.0)
    expect(isinstance(losses, list) and len(losses) == 2,
           f"retrain_classifier(net, loader, epochs=2, lr=0) returned {losses!r}, expected a list of 2 floats",
           "append the epoch's mean loss after every epoch")
    expect(all(abs(x - expected) < 1e-5 for x in losses),
           f"with lr=0 (nothing learns) retrain_classifier() returned {[round(x, 4) for x in losses]}, "
           f"expected the mean loss {expected:.4f} for both epochs",
           "nn.CrossEntropyLoss(); add loss.item() for every mini-batch and divide by the number of mini-batches")
