"""A correct LeNet built from nn.Sequential blocks with other attribute names and nn.Flatten."""

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
                                  nn.Linear(120, 84), nn.ReLU(inplace=True), nn.Linear(84, 10))
        self.body = nn.Sequential(nn.Conv2d(1, 6, kernel_size=(5, 5)), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))

    def forward(self, x):
        return self.head(self.body(x))


class LeNet(nn.Sequential):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__(
            nn.Conv2d(in_channels, 6, 5, bias=False), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, bias=False), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(1),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
            nn.Softmax(dim=1),
        )
