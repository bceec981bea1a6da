"""A correct training module with another structure: a while loop over an iterator, zero_grad
after the step, sums kept as tensors, torch.max, a per-label Python loop, pyplot with Agg."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def get_device():
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def train(net, loader, criterion, optimizer, epochs=1, device=None, log_every=50):
    device = device or get_device()
    net = net.to(device).train()
    optimizer.zero_grad(set_to_none=True)
    reports = []
    for epoch in range(1, epochs + 1):
        batches = iter(loader)
        count, since = 0, []
        while True:
            try:
                inputs, labels = next(batches)
            except StopIteration:
                break
            loss = criterion(net(inputs.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            count += 1
            since.append(loss.item())
            if len(since) == log_every:
                reports.append(sum(since) / log_every)
                print(f"[{epoch}, {count:5d}] loss: {reports[-1]:.3f}")
                since = []
    return reports


def _predictions(net, loader, device):
    device = device or get_device()
    net.to(device)
    net.eval()
    with torch.no_grad():
        for inputs, labels in loader:
            _, predicted = torch.max(net(inputs.to(device)), 1)
            yield predicted.cpu(), labels


def accuracy(net, loader, device=None):
    hits = total = 0
    for predicted, labels in _predictions(net, loader, device):
        hits += int((predicted == labels).sum())
        total += len(labels)
    return hits * 100.0 / total


def per_class_accuracy(net, loader, num_classes, device=None):
    hits, seen = [0] * num_classes, [0] * num_classes
    for predicted, labels in _predictions(net, loader, device):
        for p, y in zip(predicted.tolist(), labels.tolist()):
            seen[y] += 1
            hits[y] += p == y
    return [100.0 * h / s if s else math.nan for h, s in zip(hits, seen)]


class _LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.max_pool2d(F.relu(self.c1(x)), 2))), 2).flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def mnist_classifier(epochs: int = 5, seed: int = 0):
    from torch.utils.data import DataLoader
    from torchvision import transforms

    from _kit.datasets import mnist

    torch.manual_seed(seed)
    t = transforms.Compose([transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_loader = DataLoader(mnist(True, t), batch_size=32, shuffle=True)
    net = _LeNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    history = train(net, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=epochs - 1)
    optimizer.param_groups[0]["lr"] = 0.002
    history += train(net, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=1)
    return net, history, accuracy(net, DataLoader(mnist(False, t), batch_size=100))


def save_training_curves(history, accuracies, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history, label="loss")
    ax.set_xlabel("report")
    if accuracies:
        ax2 = ax.twinx()
        ax2.plot(accuracies, color="green", label="accuracy")
    fig.savefig(str(path))
    plt.close(fig)
