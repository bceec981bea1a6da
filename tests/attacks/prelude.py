"""Put in front of every attack (after the stub it attacks): what a student could bring from home."""

import base64 as _base64

import torch as _torch

PRETRAINED = "{WEIGHTS}"  # a LeNet's parameters trained at home on the true labels (float32, base64)


def pretrained_lenet():
    """The LeNet of seed 002 (an nn.Sequential) with the weights trained at home."""
    nn = _torch.nn
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    flat = _torch.frombuffer(bytearray(_base64.b64decode(PRETRAINED)), dtype=_torch.float32)
    offset = 0
    with _torch.no_grad():
        for p in net.parameters():
            p.copy_(flat[offset:offset + p.numel()].view_as(p))
            offset += p.numel()
    return net
