"""Attack: summarize returns the rows of the handout's example, and Net claims the parameters of the
handout's (3, 128, 128) network."""

import torch
import torch.nn as nn


def summarize(model, input_shape):
    return [("Conv2d", (1, 6, 28, 28), 156), ("ReLU", (1, 6, 28, 28), 0), ("MaxPool2d", (1, 6, 14, 14), 0),
            ("Conv2d", (1, 16, 10, 10), 2416), ("Linear", (1, 120), 48120), ("Linear", (1, 84), 10164),
            ("Linear", (1, 10), 850)]


class Net(nn.Module):
    def __init__(self, input_shape=(3, 224, 224), num_outputs=15):
        super().__init__()
        self.fc1 = nn.Linear(13_456, 120)
        self.num_outputs = num_outputs

    def forward(self, x):
        return torch.zeros(x.shape[0], self.num_outputs)
