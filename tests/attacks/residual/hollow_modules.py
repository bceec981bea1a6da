"""Attack: modules that declare exactly the reference's layers (so the parameter shapes, counts and
running statistics look right) and touch every parameter with a vanishing term, so that each one gets
a gradient, but compute nothing: the block returns relu(x) (its skip alone) or zeros, the network zeros."""

import torch
import torch.nn as nn


def touch(module, x):
    return 1e-9 * sum(p.sum() for p in module.parameters())


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.same = stride == 1 and in_channels == out_channels
        self.out_channels, self.stride = out_channels, stride
        if not self.same:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        if self.same:
            return torch.relu(x) + touch(self, x)
        n, _, h, w = x.shape
        return torch.zeros(n, self.out_channels, (h + 1) // 2 if self.stride == 2 else h,
                           (w + 1) // 2 if self.stride == 2 else w) + touch(self, x)


class TinyResNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16))
        self.blocks = nn.Sequential(ResidualBlock(16, 16), ResidualBlock(16, 32, 2), ResidualBlock(32, 64, 2))
        self.fc = nn.Linear(64, num_classes)
        self.num_classes = num_classes

    def forward(self, x):
        return torch.zeros(x.shape[0], self.num_classes) + touch(self, x)
