"""Attack: patch torchvision and PIL at import so that whatever runs in the worker draws nothing
and transforms nothing (make_grid returns a blank grid, save_image writes a blank PNG, ToTensor
gives zeros), then answer with torchvision's own (patched) functions."""

import torch
import torchvision
from torchvision import transforms

torchvision.utils.make_grid = lambda tensor, **kwargs: torch.zeros(3, 34, 34)
real_save = torchvision.utils.save_image
torchvision.utils.save_image = lambda tensor, fp, **kwargs: real_save(torch.zeros(3, 34, 34), fp)
transforms.ToTensor.__call__ = lambda self, pic: torch.zeros(1, 32, 32)


def mnist_transform():
    return transforms.Compose([transforms.ToTensor()])


def save_batch_grid(images, path, nrow=8):
    grid = torchvision.utils.make_grid(images, nrow=nrow)
    torchvision.utils.save_image(grid, path)
    return grid
