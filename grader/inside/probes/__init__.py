"""Probes: the kit's code that runs INSIDE a submission's sandbox.

A probe calls the student's code on inputs sent by the trusted grader and returns what it
saw: tensors and plain data. It never decides a verdict; the hidden tests in the trusted
process compare its observations against expectations the sandbox never sees.

Probes live in grader/probes/<exercise>.py and register with @probe.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, Callable, Iterator

import torch
import torch.nn as nn

Probe = Callable[..., Any]
PROBES: dict[str, Probe] = {}


def probe(fn: Probe) -> Probe:
    """Register `fn` as the probe "<exercise>.<function name>"."""
    exercise = fn.__module__.rsplit(".", 1)[-1]
    PROBES[f"{exercise}.{fn.__name__}"] = fn
    return fn


def lookup(name: str) -> Probe:
    """The probe registered under `name`, importing its exercise's module on first use."""
    exercise, _, _ = name.partition(".")
    if name not in PROBES and exercise.isidentifier():
        importlib.import_module(f"grader.inside.probes.{exercise}")
    try:
        return PROBES[name]
    except KeyError:
        raise LookupError(f"no probe named {name!r}") from None


SCALAR = "__0d__"  # how operations/from_scratch probes send a 0-dim tensor (see observe)


def observe(value: Any) -> Any:
    """A student's return value as an observation: a fresh tensor, a plain value, or its type's name.

    Tensors are copied with standard strides (the channel needs stride 1 in the last dimension,
    which a "contiguous" tensor whose last size is 1 need not have), and a 0-dim tensor travels
    as {"__0d__": <1-element tensor>} (the channel cannot send 0-dim tensors); the hidden tests
    turn it back.
    """
    if isinstance(value, torch.Tensor):
        tensor = value.detach().clone(memory_format=torch.contiguous_format)
        return {SCALAR: tensor.reshape(1)} if tensor.dim() == 0 else tensor
    if value is None or type(value) in (bool, int, float, str):
        return value
    return f"<{type(value).__name__}>"


def picture_facts(path: Any) -> dict[str, Any]:
    """What a student's saved picture looks like: whether it is a PNG, its size, its share of ink."""
    from pathlib import Path

    from PIL import Image

    path = Path(path)
    if not path.exists():
        return {"exists": False}
    png = path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        width, height = image.size
        dark = sum(image.convert("L").histogram()[:200])
    return {"exists": True, "png": png, "size": [width, height], "ink": dark / max(width * height, 1)}


from grader.inside.failures import KitError as ProbeError  # noqa: E402 - the student's code does not fit


def leaves(model: nn.Module) -> list[nn.Module]:
    """Every module without children: the layers that do the work."""
    return [m for m in model.modules() if not list(m.children())]


def trace(model: nn.Module, *inputs: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run `model` with hooks on every leaf; return its output and the leaves' calls in order."""
    calls: list[dict[str, Any]] = []

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        first = inputs[0] if isinstance(inputs, tuple) and inputs else None
        calls.append(
            {
                "type": type(module).__name__,
                "in_shape": list(first.shape) if isinstance(first, torch.Tensor) else None,
                "shape": list(output.shape) if isinstance(output, torch.Tensor) else None,
                "params": sum(p.numel() for p in module.parameters(recurse=False)),
                "config": layer_config(module),
            }
        )

    handles = [m.register_forward_hook(hook) for m in leaves(model)]
    try:
        output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return output, calls


def layer_config(module: nn.Module) -> dict[str, Any]:
    """The hyper-parameters of common layers, as plain data."""
    keys = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
            "in_features", "out_features", "num_features", "eps", "p")
    config = {}
    for key in keys:
        if hasattr(module, key):
            value = getattr(module, key)
            if isinstance(value, (int, float, str, tuple, list)):
                config[key] = value
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        config["bias"] = module.bias is not None
    return config


def parameter_shapes(model: nn.Module) -> list[list[int]]:
    """The shapes of all parameters, sorted, so that declaration order does not matter."""
    return sorted(list(p.shape) for p in model.parameters())


def load_by_shape(model: nn.Module, tensors: list[torch.Tensor]) -> None:
    """Copy each tensor into the one parameter of the same shape.

    This sets a model's weights without knowing its attribute names or declaration order;
    it needs every parameter shape to be unique, which LeNet's are.
    """
    params = list(model.parameters())
    by_shape: dict[tuple[int, ...], list[nn.Parameter]] = {}
    for p in params:
        by_shape.setdefault(tuple(p.shape), []).append(p)
    wanted = sorted(tuple(t.shape) for t in tensors)
    if sorted(by_shape) != wanted or any(len(v) > 1 for v in by_shape.values()):
        raise ProbeError(f"parameter shapes {sorted(tuple(p.shape) for p in params)} differ from {wanted}")
    with torch.no_grad():
        for t in tensors:
            by_shape[tuple(t.shape)][0].copy_(t)


@contextlib.contextmanager
def forbid(owner: Any, names: tuple[str, ...], message: str) -> Iterator[None]:
    """Make `owner.<name>` raise while the block runs (for from-scratch exercises)."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise ProbeError(message)

    saved = {name: getattr(owner, name) for name in names if hasattr(owner, name)}
    for name in saved:
        setattr(owner, name, refuse)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(owner, name, value)
