"""Probes for the data_loading exercise (run in the sandbox)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from grader.inside.probes import ProbeError, probe


def sendable(value: Any, what: str) -> torch.Tensor:
    """A returned tensor, ready for the channel (which cannot carry 0-dim tensors)."""
    if not isinstance(value, torch.Tensor):
        raise ProbeError(f"{what} returned a {type(value).__name__}, expected a tensor")
    if value.dim() == 0:
        raise ProbeError(f"{what} returned a 0-dim tensor (one number), expected a tensor of images")
    return value.detach().clone()


def kit_transform() -> Any:
    """The kit's own MNIST transform, so make_loader checks do not depend on mnist_transform."""
    from torchvision import transforms

    return transforms.Compose([transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])


def index_dataset(n: int, feature_shape: list[int]) -> Dataset:
    """n items (index as a float image of `feature_shape` filled with the index, label = index % 10)."""
    index = torch.arange(n)
    images = index.to(torch.float32).reshape(n, *([1] * len(feature_shape))).expand(n, *feature_shape).clone()
    return TensorDataset(images, index % 10, index)


def in_process(loader: Any) -> int | None:
    """The loader's num_workers as the student set it; then read it in this process (the sandbox
    cannot start worker processes, and only one check is about num_workers)."""
    workers = getattr(loader, "num_workers", None)
    if workers:
        try:
            loader.num_workers = 0
        except Exception:  # noqa: BLE001 - not a DataLoader: reading it will tell
            pass
    return workers


def loader_report(loader: Any, what: str, max_batches: int | None = None) -> dict[str, Any]:
    """len(loader), and for each batch the shapes, the label dtype and the dataset indices, in order."""
    workers = in_process(loader)
    try:
        length = len(loader)
    except TypeError:
        length = None
    batches = []
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ProbeError(f"{what} gave a batch of type {type(batch).__name__}, expected (images, labels, ...)")
        images, labels = batch[0], batch[1]
        entry = {"images": list(images.shape), "labels": list(labels.shape),
                 "label_dtype": str(labels.dtype).removeprefix("torch.")}
        if len(batch) > 2:
            entry["index"] = [int(k) for k in batch[2]]
            entry["consistent"] = bool((images.reshape(images.shape[0], -1)[:, 0].long() == batch[2]).all())
        batches.append(entry)
    return {"len": length, "batches": batches, "num_workers": workers,
            "type": type(loader).__name__}


def order(loader: Any) -> list[int]:
    in_process(loader)
    return [int(k) for batch in loader for k in batch[2]]


# -- probes -----------------------------------------------------------------------------------
@probe
def transform(sub: Any, pixels: torch.Tensor) -> dict[str, Any]:
    """mnist_transform() on grey PIL images built from uint8 arrays (H, W) or (N, H, W)."""
    from PIL import Image

    t = sub.module("data_loading").mnist_transform()
    batch = pixels if pixels.dim() == 3 else pixels[None]
    outs = []
    for i, image in enumerate(batch):
        out = t(Image.fromarray(image.numpy().astype(np.uint8)))  # a 2-d uint8 array is an "L" image
        outs.append(sendable(out, "mnist_transform()(image)"))
    return {"outs": outs, "dtypes": [str(o.dtype).removeprefix("torch.") for o in outs]}


@probe
def transform_mnist(sub: Any, train: bool, indices: list[int]) -> dict[str, Any]:
    """The kit's digits through mnist(train, transform=mnist_transform())."""
    from _kit.datasets import mnist

    dataset = mnist(train=train, transform=sub.module("data_loading").mnist_transform())
    items = [dataset[i] for i in indices]
    return {"images": [sendable(x, "mnist_transform()(digit)") for x, _ in items],
            "labels": [int(y) if isinstance(y, int) else None for _, y in items]}


@probe
def unnormalize(sub: Any, x: torch.Tensor) -> dict[str, Any]:
    """unnormalize(x): the result, and whether x was left alone."""
    before = x.clone()
    out = sub.module("data_loading").unnormalize(x)
    obs = {"out": sendable(out, "unnormalize(img)"), "input_kept": torch.equal(x, before)}
    if isinstance(out, torch.Tensor) and out.shape == x.shape:
        out.add_(1.0)  # the result must not share memory with the input either
        obs["shares_memory"] = not torch.equal(x, before)
    return obs


@probe
def make_loader(sub: Any, n: int, feature_shape: list[int], batch_size: int) -> dict[str, Any]:
    """make_loader(dataset of n index items, batch_size, shuffle=False): len, batch shapes, order."""
    loader = sub.module("data_loading").make_loader(index_dataset(n, feature_shape), batch_size, shuffle=False)
    return loader_report(loader, f"make_loader(dataset of {n}, {batch_size}, shuffle=False)")


@probe
def make_loader_mnist(sub: Any, batch_size: int) -> dict[str, Any]:
    """make_loader over the kit's 1,000 test digits (the kit's transform), unshuffled."""
    from _kit.datasets import mnist

    dataset = mnist(train=False, transform=kit_transform())
    loader = sub.module("data_loading").make_loader(dataset, batch_size, shuffle=False)
    report = loader_report(loader, f"make_loader(testset, {batch_size}, shuffle=False)", max_batches=2)
    images, labels = next(iter(loader))[:2]
    report["first_images"] = images[:3].clone()
    report["first_labels"] = [int(k) for k in labels[:3]]
    return report


@probe
def shuffled(sub: Any, n: int, batch_size: int, seeds: list[int]) -> dict[str, Any]:
    """Orders from make_loader(..., shuffle=True, seed=s): two loaders per seed, made before either is read."""
    make = sub.module("data_loading").make_loader
    data = index_dataset(n, [2])
    loaders = {s: (make(data, batch_size, shuffle=True, seed=s), make(data, batch_size, shuffle=True, seed=s))
               for s in seeds}
    torch.rand(3)  # the global generator moves on between making and reading
    orders = {str(s): [order(a), order(b)] for s, (a, b) in loaders.items()}
    lengths = {str(s): len(a) for s, (a, _) in loaders.items()}
    plain_seeded = order(make(data, batch_size, shuffle=False, seed=seeds[0]))
    unseeded = order(make(data, batch_size, shuffle=True))
    return {"orders": orders, "lengths": lengths, "plain_seeded": plain_seeded, "unseeded": unseeded}


@probe
def save_grid(sub: Any, images: torch.Tensor, nrow: int | None, name: str, as_path: bool) -> dict[str, Any]:
    """save_batch_grid(images, /tmp/<name>, nrow): the grid, and the PNG read back with PIL as uint8."""
    from PIL import Image

    save = sub.module("data_loading").save_batch_grid
    path = Path("/tmp") / f"{os.getpid()}_{Path(name).name}"
    if path.exists():
        path.unlink()
    before = images.clone()
    target: Any = path if as_path else str(path)
    grid = save(images, target) if nrow is None else save(images, target, nrow=nrow)
    obs: dict[str, Any] = {"grid": sendable(grid, "save_batch_grid(images, path)"),
                           "input_kept": torch.equal(images, before), "file": path.is_file()}
    if obs["file"]:
        try:
            with Image.open(path) as picture:
                obs["format"] = picture.format
                obs["pixels"] = torch.from_numpy(np.array(picture.convert("RGB"))).permute(2, 0, 1).contiguous()
        except Exception:  # noqa: BLE001 - not an image PIL can read: the check says so
            obs["format"] = None
        os.unlink(path)
    return obs
