"""Attack: mnist_classifier trains nothing; it returns a LeNet with weights trained beforehand (at
home, on the true labels) and shipped as a constant, a falling history and a high accuracy."""

import base64

import torch
import torch.nn as nn

WEIGHTS = "{WEIGHTS}"


def mnist_classifier(epochs=5, seed=0):
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    flat = torch.frombuffer(bytearray(base64.b64decode(WEIGHTS)), dtype=torch.float32)
    offset = 0
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(flat[offset:offset + p.numel()].view_as(p))
            offset += p.numel()
    return net, [2.3, 1.0, 0.3, 0.1], 97.5
