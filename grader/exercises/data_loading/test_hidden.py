"""Hidden checks for data_loading.py: exact transform values on images the sandbox builds from
random pixels, unnormalize, make_loader on unseen sizes (order, last batch, seeded shuffles),
and the grid and its PNG against torchvision computed here."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

from grader.grading.checks import expect, expect_close, expect_equal, expect_shape
from grader.paths import DATA


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def expected_transform(pixels: torch.Tensor) -> torch.Tensor:
    """Pad(2) with black, ToTensor, Normalize(0.5, 0.5) of a (28, 28) uint8 image, done by hand."""
    x = pixels.to(torch.float32).div(255)
    x = F.pad(x, (2, 2, 2, 2), value=0.0)
    return ((x - 0.5) / 0.5)[None]


@cache
def mnist_raw(train: bool) -> torchvision.datasets.MNIST:
    return torchvision.datasets.MNIST(str(DATA), train=train, download=False)


@pytest.mark.points(2)
def test_mnist_transform_synthetic(submission):
    g = gen(7)
    pixels = torch.randint(0, 256, (6, 28, 28), generator=g, dtype=torch.uint8)
    pixels[0] = 0
    pixels[1] = 255
    pixels[2] = torch.arange(28, dtype=torch.uint8)[:, None] * 9  # rows of grey: top dark, bottom light
    pixels[3, :, :5] = 255  # a white band touching the left edge
    obs = submission.call("data_loading.transform", pixels=pixels)
    names = ["an all-black image", "an all-white image", "an image with grey rows", "an image with a white left band",
             "a random image", "another random image"]
    for out, dtype, p, name in zip(obs["outs"], obs["dtypes"], pixels, names):
        what = f"mnist_transform()(image) for {name} (28x28, grey)"
        expect_shape(out, (1, 32, 32), what,
                     "transforms.Pad(2) on the PIL image: 28 -> 32; ToTensor puts the single channel first")
        expect(dtype == "float32", f"{what} gave a {dtype} tensor, expected float32: ToTensor()")
        expect_close(out, expected_transform(p), what, atol=1e-6, rtol=1e-6,
                     hint="Pad(2) first (black border: 0 -> -1), then ToTensor() (p / 255), then "
                          "Normalize((0.5,), (0.5,)): (x - 0.5) / 0.5")


@pytest.mark.points(1)
def test_mnist_transform_first_digit(submission, labels):
    permutation = labels
    for train, indices in [(True, [0, 1, 2345, 3999]), (False, [0, 217, 499])]:
        split = "training" if train else "test"
        obs = submission.call("data_loading.transform_mnist", train=train, indices=indices)
        raw = mnist_raw(train)
        for i, x, label in zip(indices, obs["images"], obs["labels"]):
            image, want = raw[i]
            pixels = torch.from_numpy(np.array(image))
            what = f"mnist(train={train}, transform=mnist_transform())[{i}], a {split} digit"
            expect_close(x, expected_transform(pixels), what, atol=1e-6, rtol=1e-6,
                         hint="Pad(2), then ToTensor(), then Normalize((0.5,), (0.5,))")
            expect(label == int(permutation[want]), f"the label of {what} changed: the transform changes only the image")


@pytest.mark.points(1)
def test_unnormalize_inverts(submission):
    g = gen(11)
    for shape in [(64, 1, 32, 32), (3, 17, 5), (7,)]:
        x = torch.rand(*shape, generator=g) * 2 - 1
        obs = submission.call("data_loading.unnormalize", x=x)
        what = f"unnormalize(img) for img of shape {shape}"
        expect_close(obs["out"], x / 2 + 0.5, what, atol=1e-6, rtol=1e-6, hint="img / 2 + 0.5, for any shape")
        expect(obs["input_kept"], f"{what} changed img: return img / 2 + 0.5 instead of changing img in place")
        expect(not obs.get("shares_memory", False),
               f"{what} returned a tensor that shares memory with img: return a new tensor")


LOADER_CASES = {
    # n items, item shape, batch size
    "last_batch_partial": (203, [1, 4, 4], 64),
    "one_partial_batch": (5, [3, 2, 2], 8),
    "exact_batches": (42, [1, 3, 3], 7),
    "batch_of_one": (3, [2], 1),
}


@pytest.mark.points(1)
def test_make_loader_mnist_batches(submission, labels):
    permutation = labels
    obs = submission.call("data_loading.make_loader_mnist", batch_size=7)
    what = "make_loader(500 test digits, 7, shuffle=False)"
    expect_equal(obs["len"], 72, f"len({what})", "ceil(500 / 7) = 72: the last batch keeps the 3 digits left over")
    expect(obs["num_workers"] == 0, f"{what}.num_workers is {obs['num_workers']}, expected 0")
    first = obs["batches"][0]
    expect_shape(first["images"], (7, 1, 32, 32), f"the images of the first batch of {what}")
    expect_shape(first["labels"], (7,), f"the labels of the first batch of {what}")
    expect(first["label_dtype"] == "int64", f"the labels of {what} are {first['label_dtype']}, expected int64")
    raw = mnist_raw(False)
    expected = torch.stack([expected_transform(torch.from_numpy(np.array(raw[i][0]))) for i in range(3)])
    expect_close(obs["first_images"], expected, f"images 0, 1 and 2 of the first batch of {what}", atol=1e-6,
                 hint="shuffle=False keeps the dataset's order")
    expect(obs["first_labels"] == [int(permutation[raw[i][1]]) for i in range(3)],
           f"labels 0, 1 and 2 of the first batch of {what} are not the test set's first labels")


@pytest.mark.points(1)
def test_make_loader_sizes(submission):
    for case, (n, item, bs) in LOADER_CASES.items():
        what = f"make_loader(a dataset of {n} items of shape {tuple(item)}, {bs}, shuffle=False)"
        obs = submission.call("data_loading.make_loader", n=n, feature_shape=item, batch_size=bs)
        sizes = [bs] * (n // bs) + ([n % bs] if n % bs else [])
        expect_equal(obs["len"], len(sizes), f"len({what})",
                     "the last batch holds what is left: len is ceil(n / batch_size), nothing is dropped")
        got = [b["images"] for b in obs["batches"]]
        expect(got == [[k, *item] for k in sizes],
               f"{what} gave batches of images of shapes {[tuple(s) for s in got][:6]}"
               f"{' ...' if len(got) > 6 else ''}, expected {len(sizes)} batches of ({bs}, *item) "
               f"and a last batch of the {sizes[-1]} items left")
        expect(all(b["labels"] == [k] for b, k in zip(obs["batches"], sizes)), f"{what} gave labels of the wrong shape")
        expect(all(b.get("consistent", False) for b in obs["batches"]),
               f"{what} gave images and labels that do not belong together")
        flat = [k for b in obs["batches"] for k in b["index"]]
        expect(flat == list(range(n)), f"{what} did not give the items in the dataset's order: shuffle=False")
        expect(obs["num_workers"] == 0, f"{what}.num_workers is {obs['num_workers']}, expected 0")


@pytest.mark.points(2)
def test_make_loader_shuffle_seeded(submission):
    n, bs, seeds = 150, 16, [0, 7, 12345]
    obs = submission.call("data_loading.shuffled", n=n, batch_size=bs, seeds=seeds)
    what = f"make_loader(a dataset of {n} items, {bs}, shuffle=True, seed=s)"
    firsts = []
    for s in seeds:
        a, b = obs["orders"][str(s)]
        expect(obs["lengths"][str(s)] == 10, f"len({what.replace('seed=s', f'seed={s}')}) is {obs['lengths'][str(s)]}, "
               "expected ceil(150 / 16) = 10")
        expect(sorted(a) == list(range(n)), f"a shuffled epoch of {what} does not give each item exactly once")
        expect(a != list(range(n)), f"{what} did not shuffle: DataLoader(..., shuffle=shuffle)")
        expect(a == b, f"two loaders made with the same seed ({s}) before either was read gave different orders: "
               "pass generator=torch.Generator().manual_seed(seed) to the DataLoader (not torch.manual_seed)")
        firsts.append(a)
    expect(len({tuple(o) for o in firsts}) == len(seeds), f"{what} gave the same order for different seeds: "
           "seed the generator with `seed`")
    expect(obs["plain_seeded"] == list(range(n)), "make_loader(..., shuffle=False, seed=0) changed the order")
    unseeded = obs["unseeded"]
    expect(sorted(unseeded) == list(range(n)) and unseeded != list(range(n)),
           "make_loader(..., shuffle=True) without a seed did not give a shuffled epoch of every item once")


GRID_CASES = {
    "odd_batch_nrow3": [((7, 1, 12, 12), 3, True), ((5, 3, 10, 14), 2, False)],
    "batch64_default_nrow": [((64, 1, 32, 32), None, False), ((1, 3, 9, 11), 4, True)],
}


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(GRID_CASES))
def test_save_batch_grid_png(submission, case):
    for k, (shape, nrow, as_path) in enumerate(GRID_CASES[case]):
        images = torch.rand(*shape, generator=gen(60 + k + 10 * len(case))) * 2 - 1
        obs = submission.call("data_loading.save_grid", images=images, nrow=nrow, name=f"grid_{case}_{k}.png",
                              as_path=as_path)
        expected = torchvision.utils.make_grid(images / 2 + 0.5, **({} if nrow is None else {"nrow": nrow}))
        what = f"save_batch_grid(images of shape {shape}, path{'' if nrow is None else f', nrow={nrow}'})"
        expect_close(obs["grid"], expected, what, atol=1e-6, rtol=1e-6,
                     hint="torchvision.utils.make_grid(unnormalize(images), nrow=nrow), nrow defaults to 8")
        expect(obs["input_kept"], f"{what} changed `images`: unnormalize must return a new tensor")
        expect(obs["file"], f"{what} wrote no file at path (given as a {'pathlib.Path' if as_path else 'str'}): "
               "torchvision.utils.save_image(grid, path)")
        expect_equal(obs.get("format"), "PNG", f"the format of the file written by {what}")
        pixels = obs["pixels"]
        expect_shape(pixels, tuple(expected.shape) if expected.shape[0] == 3 else (3, *expected.shape[1:]),
                     f"the PNG written by {what} (as RGB)", "save the grid itself")
        want = (expected * 255 + 0.5).clamp(0, 255).floor()
        expect_close(pixels.to(torch.float32), want.expand_as(pixels), f"the pixels of the PNG written by {what}",
                     atol=1.01, rtol=0, hint="save the un-normalised grid (values in [0, 1]) with save_image")
