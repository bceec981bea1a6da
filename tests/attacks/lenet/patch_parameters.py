"""Attack: a network that does nothing, whose parameters(), named_parameters(), hooks and backward
are patched to look like LeNet's."""

import torch
import torch.nn as nn

SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
FAKE = [nn.Parameter(torch.zeros(s)) for s in SHAPES]


class Net(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], 10)


class LeNet(Net):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()


nn.Module.parameters = lambda self, recurse=True: iter(FAKE)
nn.Module.named_parameters = lambda self, *args, **kwargs: iter((f"p{i}", p) for i, p in enumerate(FAKE))
nn.Module.register_forward_hook = lambda self, hook, *args, **kwargs: None
torch.Tensor.backward = lambda self, *args, **kwargs: None
