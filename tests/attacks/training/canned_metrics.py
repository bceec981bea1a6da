"""Attack: accuracy and per_class_accuracy return the percentages a typical run prints, train returns a
falling history, and get_device says cpu: canned numbers, no loop."""

import torch


def get_device():
    return torch.device("cpu")


def train(net, loader, criterion, optimizer, epochs=1, device=None, log_every=50):
    print("[1,    50] loss: 2.303")
    return [2.3, 1.5, 0.9, 0.6]


def accuracy(net, loader, device=None):
    return 75.0


def per_class_accuracy(net, loader, num_classes, device=None):
    return [75.0] * num_classes
