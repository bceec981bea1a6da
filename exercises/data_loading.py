"""Exercise 6: data: transforms, normalisation, DataLoader and image grids.

Seed 003 prepares its radio-galaxy images like this:

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=2, shuffle=True, num_workers=2)
    images, labels = next(iter(trainloader))
    imshow(torchvision.utils.make_grid(images))      # imshow un-normalises with img / 2 + 0.5

You will do the same for the kit's MNIST digits (28x28 grey PIL images), padded to the
32x32 that LeNet expects:

    ToTensor():          pixel p in 0..255 -> p / 255 in [0, 1], shape (1, H, W)
    Normalize(0.5, 0.5): x -> (x - 0.5) / 0.5, so [0, 1] -> [-1, 1]

Load the kit's digits with:

    from _kit.datasets import mnist
    trainset = mnist(train=True, transform=mnist_transform())    # 4,000 digits

Run the checks with:  pytest exercises/test_data_loading.py
"""

import torch
import torchvision
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


def mnist_transform() -> transforms.Compose:
    """The transform for 28x28 MNIST digits: Pad(2), ToTensor(), Normalize((0.5,), (0.5,)).

    Pad first (on the PIL image: 28x28 -> 32x32, the new border is black, pixel 0), then
    convert to a tensor, then normalise. A 28x28 'L' (grey) PIL image becomes a float
    tensor of shape (1, 32, 32) with values in [-1, 1]: pixel 0 -> -1, pixel 255 -> 1.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def unnormalize(img: torch.Tensor) -> torch.Tensor:
    """Undo Normalize((0.5,), (0.5,)) for display: return img / 2 + 0.5 ([-1, 1] -> [0, 1]).

    Works on any shape (one image or a batch). Return a new tensor: do not change `img`.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int | None = None) -> DataLoader:
    """A DataLoader over `dataset` with `batch_size` items per batch and num_workers=0.

    With shuffle=True the order is random. If `seed` is given, make it reproducible: pass
    DataLoader a torch.Generator seeded with it (torch.Generator().manual_seed(seed)), so
    two loaders made with the same seed give their batches in the same order.
    The last batch holds what is left: 4,000 digits in batches of 64 give 63 batches.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def save_batch_grid(images: torch.Tensor, path, nrow: int = 8) -> torch.Tensor:
    """Lay a normalised batch `images` (N, C, H, W) out as one picture and save it as a PNG.

    Un-normalise the batch (unnormalize), then torchvision.utils.make_grid(..., nrow=nrow)
    (nrow images per row, 2 pixels of padding around each), save the grid at `path` (a
    file name ending in .png) with torchvision.utils.save_image, and return the grid: a
    tensor of shape (C', H', W') with values in [0, 1] (make_grid turns 1 channel into 3).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")
