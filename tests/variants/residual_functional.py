"""A correct residual.py written differently from the reference: the shortcut is declared and computed
first, the batch norms sit in a ModuleList, layers are declared in reverse, the ReLU works in place, the
shortcut is added with +=, and the network pools with x.mean(dim=(2, 3)) and classifies with a linear
layer declared before everything else."""

import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.project = stride != 1 or in_channels != out_channels
        if self.project:
            self.skip_conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.skip_bn = nn.BatchNorm2d(out_channels)
        self.norms = nn.ModuleList([nn.BatchNorm2d(out_channels) for _ in range(2)])
        self.second = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.first = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)

    def forward(self, x):
        identity = self.skip_bn(self.skip_conv(x)) if self.project else x
        y = F.relu(self.norms[0](self.first(x)), inplace=True)
        y = self.norms[1](self.second(y))
        y += identity
        return F.relu(y)


class TinyResNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.classifier = nn.Linear(64, num_classes)
        self.layer3 = ResidualBlock(32, 64, 2)
        self.layer2 = ResidualBlock(16, 32, 2)
        self.layer1 = ResidualBlock(16, 16)
        self.bn = nn.BatchNorm2d(16)
        self.conv = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.classifier(x.mean(dim=(2, 3)))
