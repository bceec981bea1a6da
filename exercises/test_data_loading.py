"""Visible checks for exercises/data_loading.py. Run: pytest exercises/test_data_loading.py"""

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import TensorDataset

from _kit.checks import expect, expect_close, expect_equal, expect_shape, expect_tensor, student


def order_of(loader) -> list[int]:
    """The sample indices of an index dataset in the order the loader gives them."""
    return [int(i) for batch in loader for i in batch[0]]


def test_mnist_transform_synthetic():
    """mnist_transform() pads a 28x28 grey image to 1x32x32 and maps pixels 0 / 255 to -1 / 1"""
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[:, 14:] = 255
    x = expect_tensor(student("data_loading").mnist_transform()(Image.fromarray(pixels)),
                      "mnist_transform()(image)")
    expect_shape(x, (1, 32, 32), "mnist_transform()(image) for a 28x28 grey PIL image",
                 "transforms.Pad(2) adds 2 pixels on every side: 28 -> 32; ToTensor puts the channel first")
    expected = -torch.ones(1, 32, 32)
    expected[:, 2:30, 16:30] = 1.0
    expect_close(x, expected, "mnist_transform()(image) for an image half black (0), half white (255)",
                 "Pad before ToTensor (the border is black, 0 -> -1); Normalize((0.5,), (0.5,)) maps [0, 1] to [-1, 1]")


def test_mnist_transform_first_digit():
    """mnist_transform() on the first MNIST training digit gives (pixel / 255 - 0.5) / 0.5, padded"""
    from _kit.datasets import mnist

    transform = student("data_loading").mnist_transform()
    image, label = mnist(train=True)[0]
    x, label_t = mnist(train=True, transform=transform)[0]
    expected = torch.full((1, 32, 32), -1.0)
    expected[0, 2:30, 2:30] = (torch.tensor(np.array(image), dtype=torch.float32) / 255 - 0.5) / 0.5
    expect_close(x, expected, "mnist(train=True, transform=mnist_transform())[0][0], the first digit",
                 "Pad(2), then ToTensor(), then Normalize((0.5,), (0.5,))")
    expect_equal(label_t, label, "the label of the first digit", "the transform changes only the image")


def test_unnormalize_inverts():
    """unnormalize undoes Normalize((0.5,), (0.5,)) and leaves its input alone"""
    unnormalize = student("data_loading").unnormalize
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 4)
    normalized = (x - 0.5) / 0.5
    copy = normalized.clone()
    expect_close(unnormalize(normalized), x, "unnormalize((x - 0.5) / 0.5) for x in [0, 1]", "img / 2 + 0.5")
    expect(torch.equal(normalized, copy), "unnormalize(img) changed img",
           "return img / 2 + 0.5 instead of changing img in place")
    expect_close(unnormalize(torch.tensor([-1.0, 0.0, 1.0])), torch.tensor([0.0, 0.5, 1.0]),
                 "unnormalize(tensor([-1., 0., 1.]))")


def test_make_loader_mnist_batches():
    """make_loader(4,000 digits, 64, shuffle=False) gives 63 batches, the first of shape (64, 1, 32, 32)"""
    from _kit.datasets import mnist

    dl = student("data_loading")
    trainset = mnist(train=True, transform=dl.mnist_transform())
    loader = dl.make_loader(trainset, 64, shuffle=False)
    expect_equal(len(loader), 63, "len(make_loader(trainset, 64, shuffle=False)) for 4,000 digits",
                 "ceil(4000 / 64) = 63: the last batch keeps the 32 digits left over")
    expect_equal(loader.num_workers, 0, "make_loader(...).num_workers", "num_workers=0")
    images, labels = next(iter(loader))
    expect_shape(images, (64, 1, 32, 32), "the images of the first batch")
    expect_shape(labels, (64,), "the labels of the first batch")
    expect_equal(labels.dtype, torch.int64, "the labels' dtype", "CrossEntropyLoss wants int64 class labels")
    first = torch.stack([trainset[i][0] for i in (0, 1, 63)])
    expect_close(images[[0, 1, 63]], first, "images 0, 1 and 63 of the first unshuffled batch",
                 "shuffle=False keeps the dataset's order")


def test_make_loader_shuffle_seeded():
    """make_loader shuffles when asked, reproducibly for a given seed"""
    make_loader = student("data_loading").make_loader
    data = TensorDataset(torch.arange(100))
    plain = order_of(make_loader(data, 16, shuffle=False))
    expect_equal(plain, list(range(100)), "the order of make_loader(range 100, 16, shuffle=False)")
    loader = make_loader(data, 16, shuffle=True, seed=0)
    expect_equal(len(loader), 7, "len(make_loader(100 items, 16, shuffle=True, seed=0))", "ceil(100 / 16) = 7")
    first = order_of(loader)
    expect_equal(sorted(first), list(range(100)), "the sorted indices of a shuffled epoch",
                 "each item exactly once per epoch")
    expect(first != plain, "make_loader(data, 16, shuffle=True, seed=0) did not shuffle",
           "DataLoader(..., shuffle=shuffle)")
    again = order_of(make_loader(data, 16, shuffle=True, seed=0))
    expect(again == first, "two loaders made with seed=0 gave different orders",
           "pass generator=torch.Generator().manual_seed(seed) to the DataLoader")
    other = order_of(make_loader(data, 16, shuffle=True, seed=1))
    expect(other != first, "seed=0 and seed=1 gave the same order", "seed the generator with `seed`")


def test_save_batch_grid_png(tmp_path):
    """save_batch_grid returns make_grid of the un-normalised batch and saves it as that PNG"""
    save_batch_grid = student("data_loading").save_batch_grid
    torch.manual_seed(0)
    for n, shape, nrow in [(8, (1, 32, 32), 8), (6, (3, 16, 16), 4)]:
        images = torch.rand(n, *shape) * 2 - 1
        path = tmp_path / f"grid_{n}.png"
        what = f"save_batch_grid(images of shape {(n, *shape)}, path, nrow={nrow})"
        grid = expect_tensor(save_batch_grid(images, path, nrow=nrow), what)
        expected = torchvision.utils.make_grid(images / 2 + 0.5, nrow=nrow)
        expect_close(grid, expected, what, "torchvision.utils.make_grid(unnormalize(images), nrow=nrow)")
        expect(path.is_file(), f"{what} wrote no file at path", "torchvision.utils.save_image(grid, path)")
        with Image.open(path) as picture:
            expect_equal(picture.format, "PNG", f"the format of the file written by {what}")
            expect_equal(picture.size, (expected.shape[2], expected.shape[1]),
                         f"the (width, height) of the PNG written by {what}", "save the grid itself")
            pixels = torch.tensor(np.array(picture.convert("RGB")), dtype=torch.float32).permute(2, 0, 1)
        expect_close(pixels, (expected * 255).round(), f"the pixels of the PNG written by {what}",
                     "save the un-normalised grid (values in [0, 1]) with torchvision.utils.save_image", atol=1.01)
