"""Hidden checks for data_loading.py. Every image, shape, batch size and seed is drawn from the run's
secret, and every verdict is computed here:

- mnist_transform is applied in the worker to PIL images the grader built from its own random
  pixels, and to the shipped digits; the tensors are compared here with the transform done by hand;
- unnormalize's values come from calls on the grader's tensors; whether it changes its input or
  returns a view of it is read from the grader's own run of its traced graph;
- make_loader is given datasets of the grader's tensors (index datasets: item i holds the
  number i), so the batches read back show its sizes and order;
- save_batch_grid's grid is compared with torchvision's, and its PNG is read back as bytes and
  decoded here.

The sandbox reads the shipped digits with the run's labels (grader.grading.relabel); no transform
of the kit runs there.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import torchvision

from grader.grading.checks import Mismatch, expect, expect_close, expect_equal, expect_shape, expect_tensor, type_name
from grader.grading.digits import normalised, shipped
from grader.grading.graphs import execute
from grader.grading.scenario import Ref, Scenario, Submission, decode, kit, placeholder
from grader.grading.secret import Draw

EXERCISE = "data_loading"
TRANSFORM_HINT = ("Pad(2) first (black border: 0 -> -1), then ToTensor() (p / 255), then "
                  "Normalize((0.5,), (0.5,)): (x - 0.5) / 0.5")


def expected_transform(pixels: torch.Tensor) -> torch.Tensor:
    """Pad(2) with black, ToTensor, Normalize(0.5, 0.5) of a (28, 28) uint8 image, done by hand."""
    x = F.pad(pixels.to(torch.float32).div(255), (2, 2, 2, 2), value=0.0)
    return ((x - 0.5) / 0.5)[None]


def random_images(rng: Draw) -> list[tuple[str, torch.Tensor]]:
    """28x28 grey images: structured ones (with random placement and levels) and noise."""
    def square(background: int, ink: int) -> torch.Tensor:
        image = torch.full((28, 28), background, dtype=torch.uint8)
        top, left, size = rng.integer(0, 20), rng.integer(0, 20), rng.integer(3, 8)
        image[top:top + size, left:left + size] = ink
        return image

    rows = (torch.arange(28)[:, None] * rng.integer(4, 9) + rng.integer(0, 30)).clamp(max=255).expand(28, 28)
    band = rng.randint(0, 256, (28, 28))
    band[:, : rng.integer(2, 6)] = 255
    return [("a black image with a bright square", square(0, rng.integer(128, 255))),
            ("a white image with a dark square", square(255, rng.integer(0, 100))),
            ("an image with grey rows", rows.to(torch.uint8).contiguous()),
            ("an image with a white band on its left edge", band.to(torch.uint8)),
            ("a random image", rng.randint(0, 256, (28, 28)).to(torch.uint8)),
            ("another random image", rng.randint(0, 256, (28, 28)).to(torch.uint8))]


@pytest.mark.points(2)
def test_mnist_transform_synthetic(submission: Submission, rng: Draw) -> None:
    """mnist_transform() pads, converts and normalises unseen 28x28 grey images exactly, as float32"""
    images = random_images(rng)
    s = Scenario(EXERCISE)
    transform = s.call("data_loading.mnist_transform")
    outs = [s.call(transform, kit("image", pixels=pixels)) for _, pixels in images]
    readings = s.run(submission, seed=rng.seed())
    for (name, pixels), out in zip(images, outs):
        what = f"mnist_transform()(image) for {name} (28x28, grey)"
        got = expect_tensor(readings.value(out), what)
        expect_shape(got, (1, 32, 32), what,
                     "transforms.Pad(2) on the PIL image: 28 -> 32; ToTensor puts the single channel first")
        expect(got.dtype == torch.float32, f"{what} gave a {str(got.dtype).removeprefix('torch.')} tensor, expected "
               "float32: ToTensor()")
        expect_close(got, expected_transform(pixels), what, atol=1e-6, rtol=1e-6, hint=TRANSFORM_HINT)


@pytest.mark.points(1)
def test_mnist_transform_first_digit(submission: Submission, rng: Draw, seen_labels: torch.Tensor) -> None:
    """mnist(train, transform=mnist_transform()) gives the shipped digits transformed exactly, labels untouched"""
    for train in (True, False):
        images, labels = shipped(train)
        indices = [0, *sorted(rng.python.sample(range(1, len(images)), 3))]
        s = Scenario(EXERCISE)
        transform = s.call("data_loading.mnist_transform")
        dataset = s.build(kit("mnist", train=train, transform={"ref": transform.name}))
        items = [s.call(dataset.attr("__getitem__"), i) for i in indices]
        readings = s.run(submission, seed=rng.seed())
        for i, item in zip(indices, items):
            what = f"mnist(train={train}, transform=mnist_transform())[{i}], a {'training' if train else 'test'} digit"
            value = readings.value(item)
            expect(isinstance(value, tuple) and len(value) == 2, f"{what} is not an (image, label) pair")
            image, label = value
            expect_close(expect_tensor(image, what), expected_transform(images[i]), what, atol=1e-6, rtol=1e-6,
                         hint=TRANSFORM_HINT)
            expect(type(label) is int and label == int(seen_labels[labels[i]]),
                   f"the label of {what} changed: the transform changes only the image")


def new_storage(out: torch.Tensor, x: torch.Tensor) -> bool:
    return out.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


@pytest.mark.points(1)
def test_unnormalize_inverts(submission: Submission, rng: Draw) -> None:
    """unnormalize(img) is img / 2 + 0.5 for any shape, in a new tensor, leaving img alone"""
    shapes = [(rng.integer(1, 64), 1, 32, 32), (3, rng.integer(2, 20), 5), (rng.integer(1, 9),)]
    xs = [rng.rand(*shape) * 2 - 1 for shape in shapes]
    s = Scenario(EXERCISE)
    calls = [s.call("data_loading.unnormalize", x) for x in xs]
    traces = [s.trace("data_loading.unnormalize", placeholder(rng.rand(*x.shape) * 2 - 1)) for x in xs]
    readings = s.run(submission, seed=rng.seed())
    for x, made, traced in zip(xs, calls, traces):
        what = f"unnormalize(img) for img of shape {tuple(x.shape)}"
        expect_close(expect_tensor(readings.value(made), what), x / 2 + 0.5, what, atol=1e-6, rtol=1e-6,
                     hint="img / 2 + 0.5, for any shape")
        mine = x.clone()
        out = execute(readings.graph(traced, what), [mine], what).output
        expect(torch.equal(mine, x), f"{what} changed img: return img / 2 + 0.5 instead of changing img in place")
        expect(not isinstance(out, torch.Tensor) or new_storage(out, mine),
               f"{what} returned a tensor that shares memory with img: return a new tensor")


def index_dataset(n: int, item: tuple[int, ...]) -> dict[str, Any]:
    """A kit dataset of n items (image i filled with the number i, label i % 10, index i)."""
    index = torch.arange(n)
    images = index.to(torch.float32).reshape(n, *([1] * len(item))).expand(n, *item).clone()
    return kit("dataset", tensors=[images, index % 10, index])


def batches_of(reading: Any, what: str) -> list[list[torch.Tensor]]:
    """The batches an iterate step read back, each a list of tensors."""
    batches = decode(reading)
    expect(isinstance(batches, list), f"{what} could not be iterated")
    for b in batches:
        expect(isinstance(b, (list, tuple)) and len(b) >= 2 and all(isinstance(t, torch.Tensor) for t in b),
               f"{what} gave a batch of type {type_name(b)}, expected (images, labels, ...) tensors")
    return [list(b) for b in batches]


def order_of(batches: list[list[torch.Tensor]]) -> list[int]:
    return [int(i) for b in batches for i in (b[2] if len(b) > 2 else [])]


@pytest.mark.points(1)
def test_make_loader_mnist_batches(submission: Submission, rng: Draw, seen_labels: torch.Tensor,
                                   advise: Callable[[str], None]) -> None:
    """make_loader(500 test digits, unseen batch size, shuffle=False) has the right length and first batches"""
    raw, labels = shipped(False)
    images, labels = normalised(raw), seen_labels[labels]
    batch_size = rng.integer(5, 40)
    s = Scenario(EXERCISE)
    loader = s.call("data_loading.make_loader", kit("dataset", tensors=[images, labels]), batch_size, shuffle=False)
    length = s.length(loader)
    workers = s.call(loader.attr("__getattribute__"), "num_workers", catch=True)
    first = s.iterate(loader, limit=2, in_process=True)
    readings = s.run(submission, seed=rng.seed())
    workers = readings[workers].get("value")
    if type(workers) is int and workers > 0:  # the worker's word: feedback, never points
        advise(f"make_loader(...) sets num_workers={workers}: use num_workers=0, as the exercise asks "
               "(the grader reads the batches in one process; this costs no points)")
    what = f"make_loader(the {len(images)} test digits, {batch_size}, shuffle=False)"
    expect_equal(readings[length], math.ceil(len(images) / batch_size), f"len({what})",
                 f"ceil({len(images)} / {batch_size}): the last batch keeps the digits left over")
    batches = batches_of(readings[first], what)
    expect(len(batches) == 2, f"{what} gave fewer than two batches")
    for k, (got_images, got_labels, *_) in enumerate(batches):
        part = slice(k * batch_size, (k + 1) * batch_size)
        expect_shape(got_images, (batch_size, 1, 32, 32), f"the images of batch {k + 1} of {what}")
        expect_shape(got_labels, (batch_size,), f"the labels of batch {k + 1} of {what}")
        expect(got_labels.dtype == torch.int64,
               f"the labels of {what} are {str(got_labels.dtype).removeprefix('torch.')}, expected int64")
        expect_close(got_images, images[part], f"the images of batch {k + 1} of {what}", atol=0, rtol=0,
                     hint="shuffle=False keeps the dataset's order")
        expect(torch.equal(got_labels, labels[part]), f"the labels of batch {k + 1} of {what} are not the dataset's")


@pytest.mark.points(1)
def test_make_loader_sizes(submission: Submission, rng: Draw) -> None:
    """make_loader keeps every item, in order, in batches of the size asked and a last batch of what is left"""
    big = rng.choice([32, 64])
    exact = rng.integer(3, 9)
    cases = [(big * rng.integer(2, 4) + rng.integer(1, big - 1), (1, rng.integer(2, 5), rng.integer(2, 5)), big),
             (rng.integer(2, 7), (3, 2, 2), 8), (exact * rng.integer(3, 7), (1, 3, 3), exact),
             (rng.integer(2, 5), (2,), 1)]
    s = Scenario(EXERCISE)
    steps = []
    for n, item, batch_size in cases:
        loader = s.call("data_loading.make_loader", index_dataset(n, item), batch_size, shuffle=False)
        steps.append((s.length(loader), s.iterate(loader, in_process=True)))
    readings = s.run(submission, seed=rng.seed())
    for (n, item, batch_size), (length, read) in zip(cases, steps):
        what = f"make_loader(a dataset of {n} items of shape {item}, {batch_size}, shuffle=False)"
        sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
        expect_equal(readings[length], len(sizes), f"len({what})",
                     "the last batch holds what is left: len is ceil(n / batch_size), nothing is dropped")
        batches = batches_of(readings[read], what)
        got = [tuple(b[0].shape) for b in batches]
        expect(got == [(k, *item) for k in sizes],
               f"{what} gave batches of images of shapes {got[:6]}{' ...' if len(got) > 6 else ''}, expected "
               f"{len(sizes)} batches of ({batch_size}, *item) and a last batch of the {sizes[-1]} items left")
        expect(all(tuple(b[1].shape) == (k,) for b, k in zip(batches, sizes)), f"{what} gave labels of the wrong shape")
        expect(all(len(b) > 2 and torch.equal(b[0].reshape(b[0].shape[0], -1)[:, 0].long(), b[2])
                   and torch.equal(b[1], b[2] % 10) for b in batches),
               f"{what} gave images and labels that do not belong together")
        expect(order_of(batches) == list(range(n)),
               f"{what} did not give the items in the dataset's order: shuffle=False")


@pytest.mark.points(2)
def test_make_loader_shuffle_seeded(submission: Submission, rng: Draw) -> None:
    """make_loader shuffles every item once per epoch, the same way for the same seed whatever the global
    generator does, differently for other seeds"""
    n, batch_size = rng.integer(100, 200), rng.integer(8, 24)
    seeds = rng.python.sample(range(1 << 20), 3)
    s = Scenario(EXERCISE)
    dataset = s.build(index_dataset(n, (2,)))
    loaders = {seed: (s.call("data_loading.make_loader", dataset, batch_size, shuffle=True, seed=seed),
                      s.call("data_loading.make_loader", dataset, batch_size, shuffle=True, seed=seed))
               for seed in seeds}
    s.advance_rng(rng.integer(1, 5))  # the global generator moves on between making and reading
    reads = {seed: (s.iterate(a, in_process=True), s.iterate(b, in_process=True), s.length(a))
             for seed, (a, b) in loaders.items()}
    plain = s.iterate(s.call("data_loading.make_loader", dataset, batch_size, shuffle=False, seed=seeds[0]),
                      in_process=True)
    unseeded = s.iterate(s.call("data_loading.make_loader", dataset, batch_size, shuffle=True), in_process=True)
    readings = s.run(submission, seed=rng.seed())
    what = f"make_loader(a dataset of {n} items, {batch_size}, shuffle=True, seed=s)"
    firsts = []
    for seed, (a, b, length) in reads.items():
        expect_equal(readings[length], math.ceil(n / batch_size), f"len({what.replace('seed=s', f'seed={seed}')})")
        first, second = (order_of(batches_of(readings[r], what)) for r in (a, b))
        expect(sorted(first) == list(range(n)), f"a shuffled epoch of {what} does not give each item exactly once")
        expect(first != list(range(n)), f"{what} did not shuffle: DataLoader(..., shuffle=shuffle)")
        expect(first == second, "two loaders made with the same seed before either was read gave different orders: "
               "pass generator=torch.Generator().manual_seed(seed) to the DataLoader (not torch.manual_seed)")
        firsts.append(first)
    expect(len({tuple(o) for o in firsts}) == len(seeds), f"{what} gave the same order for different seeds: "
           "seed the generator with `seed`")
    expect(order_of(batches_of(readings[plain], what)) == list(range(n)),
           f"make_loader(..., shuffle=False, seed={seeds[0]}) changed the order")
    order = order_of(batches_of(readings[unseeded], what))
    expect(sorted(order) == list(range(n)) and order != list(range(n)),
           "make_loader(..., shuffle=True) without a seed did not give a shuffled epoch of every item once")


def png_pixels(data: Any, what: str) -> torch.Tensor:
    """A PNG the student's code wrote, decoded here: its pixels as a (3, H, W) uint8 tensor."""
    import numpy as np
    from PIL import Image

    expect(isinstance(data, torch.Tensor) and data.numel() > 0,
           f"{what} wrote no file at path: torchvision.utils.save_image(grid, path)")
    raw = bytes(data.tolist())
    expect(raw[:8] == b"\x89PNG\r\n\x1a\n", f"{what} wrote a file that is not a PNG image")
    Image.MAX_IMAGE_PIXELS = 1 << 24  # a decompression bomb stops here
    try:
        with Image.open(io.BytesIO(raw)) as image:
            return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()
    except Exception as exc:  # a broken PNG is the student's problem
        raise Mismatch(f"{what} wrote a PNG that cannot be read ({type(exc).__name__})") from None


def grid_cases(rng: Draw, case: str) -> list[tuple[tuple[int, ...], int | None, bool]]:
    """(batch shape, nrow or None for the default, path given as a pathlib.Path)."""
    if case == "odd_batch_nrow3":
        side = rng.integer(8, 14)
        return [((rng.integer(5, 9), 1, side, side), 3, True),
                ((rng.integer(3, 6), 3, rng.integer(6, 12), rng.integer(6, 16)), 2, False)]
    return [((rng.integer(20, 64), 1, 32, 32), None, False), ((1, 3, rng.integer(5, 12), rng.integer(5, 12)), 4, True)]


@pytest.mark.points(1)
@pytest.mark.parametrize("case", ["odd_batch_nrow3", "batch64_default_nrow"])
def test_save_batch_grid_png(submission: Submission, rng: Draw, case: str) -> None:
    """save_batch_grid returns torchvision's grid of the un-normalised batch, saves exactly it as a PNG, and leaves
    the batch alone"""
    for shape, nrow, as_path in grid_cases(rng, case):
        images = rng.rand(*shape) * 2 - 1
        s = Scenario(EXERCISE)
        batch: Ref = s.call(s.build(kit("tuple", items=[images])).attr("__getitem__"), 0)
        path = s.build(kit("path", name=f"grid-{rng.seed()}.png", as_path=as_path))
        grid = s.call("data_loading.save_batch_grid", batch, path, *([] if nrow is None else [nrow]))
        written = s.file(path)
        after = s.call(batch.attr("clone"))
        readings = s.run(submission, seed=rng.seed())
        expected = torchvision.utils.make_grid(images / 2 + 0.5, **({} if nrow is None else {"nrow": nrow}))
        what = f"save_batch_grid(images of shape {shape}, path{'' if nrow is None else f', nrow={nrow}'})"
        expect_close(expect_tensor(readings.value(grid), what), expected, what, atol=1e-6, rtol=1e-6,
                     hint="torchvision.utils.make_grid(unnormalize(images), nrow=nrow); nrow defaults to 8")
        expect(torch.equal(expect_tensor(readings.value(after), "images"), images),
               f"{what} changed `images`: unnormalize must return a new tensor")
        pixels = png_pixels(readings[written], f"{what} (path given as a {'pathlib.Path' if as_path else 'str'})")
        expect_shape(pixels, (3, *expected.shape[1:]), f"the PNG written by {what} (as RGB)", "save the grid itself")
        want = (expected * 255 + 0.5).clamp(0, 255).floor().expand(3, *expected.shape[1:])
        expect_close(pixels.to(torch.float32), want, f"the pixels of the PNG written by {what}", atol=1.01, rtol=0,
                     hint="save the un-normalised grid (values in [0, 1]) with torchvision.utils.save_image")
