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
    ### BEGIN SOLUTION
    return transforms.Compose([
        transforms.Pad(2),
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,)),
    ])
    ### END SOLUTION


def unnormalize(img: torch.Tensor) -> torch.Tensor:
    """Undo Normalize((0.5,), (0.5,)) for display: return img / 2 + 0.5 ([-1, 1] -> [0, 1]).

    Works on any shape (one image or a batch). Return a new tensor: do not change `img`.
    """
    ### BEGIN SOLUTION
    return img / 2 + 0.5
    ### END SOLUTION


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int | None = None) -> DataLoader:
    """A DataLoader over `dataset` with `batch_size` items per batch and num_workers=0.

    With shuffle=True the order is random. If `seed` is given, make it reproducible: pass
    DataLoader a torch.Generator seeded with it (torch.Generator().manual_seed(seed)), so
    two loaders made with the same seed give their batches in the same order.
    The last batch holds what is left: 4,000 digits in batches of 64 give 63 batches.
    """
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0, generator=generator)
    ### END SOLUTION


def save_batch_grid(images: torch.Tensor, path, nrow: int = 8) -> torch.Tensor:
    """Lay a normalised batch `images` (N, C, H, W) out as one picture and save it as a PNG.

    Un-normalise the batch (unnormalize), then torchvision.utils.make_grid(..., nrow=nrow)
    (nrow images per row, 2 pixels of padding around each), save the grid at `path` (a
    file name ending in .png) with torchvision.utils.save_image, and return the grid: a
    tensor of shape (C', H', W') with values in [0, 1] (make_grid turns 1 channel into 3).
    """
    ### BEGIN SOLUTION
    grid = torchvision.utils.make_grid(unnormalize(images), nrow=nrow)
    torchvision.utils.save_image(grid, path)
    return grid
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_data_loading.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_mnist_transform_synthetic": (
        "Three steps in order: make the 28x28 image 32x32, turn it into a tensor, then map [0, 1] to [-1, 1].",
        "transforms.Compose chains Pad(2) (on the PIL image, so the border is black), ToTensor() and "
        "Normalize((0.5,), (0.5,)).",
        "return transforms.Compose([transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])",
    ),
    "test_mnist_transform_first_digit": (
        "On a real digit each pixel p must become (p / 255 - 0.5) / 0.5, inside a black border of 2 pixels.",
        "Pad before ToTensor: padding a normalised tensor with zeros would give a grey border (0) instead of black (-1).",
        "return transforms.Compose([transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])",
    ),
    "test_unnormalize_inverts": (
        "Normalize computed (x - 0.5) / 0.5; undo it step by step, and leave the input as it was.",
        "Solve y = (x - 0.5) / 0.5 for x; write it as a new tensor (an in-place operation would change the caller's "
        "image).",
        "return img / 2 + 0.5",
    ),
    "test_make_loader_mnist_batches": (
        "A DataLoader cuts a dataset into batches of batch_size items, in order unless shuffled; the last batch keeps "
        "what is left over.",
        "DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0): 4,000 digits in batches of 64 "
        "make 63 batches.",
        "return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0)",
    ),
    "test_make_loader_shuffle_seeded": (
        "Shuffling is random; to make it repeatable, the loader needs its own random number generator, seeded.",
        "DataLoader takes generator=...: a torch.Generator seeded with manual_seed(seed), only when a seed is given.",
        "generator = torch.Generator().manual_seed(seed) if seed is not None else None\n"
        "return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0, generator=generator)",
    ),
    "test_save_batch_grid_png": (
        "Undo the normalisation first (a picture wants values in [0, 1]), then lay the batch out as one image, save "
        "it, and return it.",
        "torchvision.utils.make_grid(images, nrow=nrow) lays out the batch; torchvision.utils.save_image(grid, path) "
        "writes the PNG.",
        "grid = torchvision.utils.make_grid(unnormalize(images), nrow=nrow)\ntorchvision.utils.save_image(grid, path)\n"
        "return grid",
    ),
}
### END HINTS
