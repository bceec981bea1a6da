"""Attack: canned answers of the right types and shapes: a transform that returns a blank 1x32x32
tensor, unnormalize that returns zeros, a "loader" that is a list of blank batches, and a grid
saved as a blank PNG of the usual size."""

import torch
import torchvision


def mnist_transform():
    return lambda image: -torch.ones(1, 32, 32)


def unnormalize(img):
    return torch.zeros_like(img)


def make_loader(dataset, batch_size, shuffle, seed=None):
    blank = torch.zeros(batch_size, 1, 32, 32)
    return [[blank, torch.zeros(batch_size, dtype=torch.long), torch.arange(batch_size)]] * 3


def save_batch_grid(images, path, nrow=8):
    grid = torch.zeros(3, 274, 274)
    torchvision.utils.save_image(grid, path)
    return grid
