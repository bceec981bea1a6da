"""Probes for the from-scratch exercise (run in the sandbox).

Every call of the student's code runs under `guard`: PyTorch's own sigmoid, convolution, max
pooling, batch norm and dropout are refused while it runs, however the student reaches them:

- the public names (torch.sigmoid, F.conv2d, ...) are replaced with grader.inside.probes.forbid, the
  same set the visible checks patch, so nn layers built on them fail too;
- names in the student's module that were bound to the originals at import time
  (`from torch.nn.functional import conv2d as conv`), and such originals among the default
  values of its functions, are replaced too;
- a torch-function mode catches calls of the original functions by any other alias, and of their
  close relatives (F.conv1d, F.instance_norm, F.dropout2d, torch._C._nn.max_pool2d_with_indices, ...).

(A dispatch mode over the ATen kernels would be tighter still, but entering one imports
torch._dynamo, which costs seconds per worker.)

A refused call raises ProbeError, which the grader reports as a failed check with the message.
The probes only report what the code returned; the hidden tests judge it.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from grader.inside.probes import SCALAR, ProbeError, forbid, observe, probe

STEM = "from_scratch"

# label -> (the public functions to replace, what to do instead, related functions that are refused too
# when called by any name). The first group is the set the visible checks patch.
FORBIDDEN: dict[str, tuple[tuple[tuple[Any, str], ...], str, tuple[tuple[Any, str], ...]]] = {
    "torch.sigmoid": (
        ((torch, "sigmoid"), (torch.Tensor, "sigmoid"), (F, "sigmoid"), (torch.special, "expit")),
        "write the sigmoid as 1 / (1 + torch.exp(-z))",
        ((torch, "sigmoid_"), (torch.Tensor, "sigmoid_")),
    ),
    "F.conv2d": (
        ((F, "conv2d"), (torch, "conv2d"), (torch, "convolution")),
        "cut the windows with Tensor.unfold (or loop over them) and sum the products with torch.einsum",
        ((F, "conv1d"), (F, "conv3d"), (F, "conv_transpose1d"), (F, "conv_transpose2d"), (F, "conv_transpose3d"),
         (torch, "conv1d"), (torch, "conv3d"), (torch, "conv_transpose1d"), (torch, "conv_transpose2d"),
         (torch, "conv_transpose3d"), (torch, "conv_tbc"), (torch, "_convolution"), (torch, "mkldnn_convolution"),
         (torch._C._nn, "thnn_conv2d"), (torch._C._nn, "slow_conv_dilated2d"), (torch._C._nn, "_conv_depthwise2d")),
    ),
    "F.max_pool2d": (
        ((F, "max_pool2d"), (torch, "max_pool2d"), (F, "max_pool2d_with_indices")),
        "cut the windows with x.unfold(2, kh, sh).unfold(3, kw, sw) and take .amax(dim=(-2, -1))",
        ((F, "max_pool1d"), (F, "max_pool3d"), (F, "max_pool1d_with_indices"), (F, "max_pool3d_with_indices"),
         (torch, "max_pool1d"), (torch, "max_pool3d"), (torch, "max_pool1d_with_indices"),
         (torch, "mkldnn_max_pool2d"), (torch, "quantized_max_pool2d"), (torch._C._nn, "max_pool2d_with_indices"),
         (torch._C._nn, "max_pool3d_with_indices")),
    ),
    "F.batch_norm": (
        ((F, "batch_norm"), (torch, "batch_norm"), (torch, "native_batch_norm")),
        "compute the mean and the variance yourself with x.mean(dim=(0, 2, 3), keepdim=True)",
        ((F, "instance_norm"), (torch, "instance_norm"), (torch, "_batch_norm_impl_index"),
         (torch, "_native_batch_norm_legit")),
    ),
    "F.dropout": (
        ((F, "dropout"), (torch, "dropout"), (torch, "native_dropout")),
        "draw a mask with torch.rand_like(x) >= p and multiply",
        ((F, "dropout1d"), (F, "dropout2d"), (F, "dropout3d"), (F, "alpha_dropout"), (F, "feature_alpha_dropout"),
         (torch, "dropout_"), (torch, "feature_dropout"), (torch, "alpha_dropout"), (torch, "feature_alpha_dropout")),
    ),
}


def refusal(label: str, how: str = "") -> str:
    hint = FORBIDDEN[label][1]
    return (f"your code called {label}{how}, which this exercise does not allow: "
            f"it is about writing the operation yourself ({hint})")


# The original objects, captured when the probes are first imported (before any student module).
ORIGINALS: list[tuple[Any, str, str]] = [
    (getattr(owner, name), label, f"{getattr(owner, '__name__', owner)}.{name}")
    for label, (targets, _, related) in FORBIDDEN.items()
    for owner, name in targets + related if hasattr(owner, name)
]


BY_ID = {id(original): (label, name) for original, label, name in ORIGINALS}  # ORIGINALS keeps them alive


def original_label(value: Any) -> str | None:
    """The label of a forbidden original, if `value` is one (by identity)."""
    found = BY_ID.get(id(value))
    return found[0] if found is not None else None


def original_name(value: Any) -> str:
    found = BY_ID.get(id(value))
    return found[1] if found is not None else "?"


class Seen:
    """What the guard refused during one call (kept even if the student's code swallows the error)."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def refuse(self, message: str) -> ProbeError:
        self.refused.append(message)
        return ProbeError(message)


class FunctionGuard(TorchFunctionMode):
    """Refuses the original functions, whatever name they are called by."""

    def __init__(self, seen: Seen) -> None:
        super().__init__()
        self.seen = seen

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        label = original_label(func)
        if label is not None:
            how = "" if label.endswith(original_name(func).split(".")[-1]) else f" (through {original_name(func)})"
            raise self.seen.refuse(refusal(label, how))
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def patched_aliases(module: Any, seen: Seen) -> Iterator[None]:
    """Replace the student's module-level names and default values that hold forbidden originals."""
    restore: list[tuple[Any, str, Any]] = []

    def refuser(label: str, how: str):
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise seen.refuse(refusal(label, how))
        return refuse

    for name, value in list(vars(module).items()):
        label = original_label(value)
        if label is not None:
            restore.append((module, name, value))
            setattr(module, name, refuser(label, f" (bound in {STEM}.py as `{name}`)"))
        elif inspect.isfunction(value) and getattr(value, "__module__", None) == module.__name__:
            defaults = value.__defaults__ or ()
            if any(original_label(d) for d in defaults):
                restore.append((value, "__defaults__", defaults))
                value.__defaults__ = tuple(refuser(original_label(d), f" (a default argument of {name} in {STEM}.py)")
                                           if original_label(d) else d for d in defaults)
            kwdefaults = value.__kwdefaults__ or {}
            if any(original_label(d) for d in kwdefaults.values()):
                restore.append((value, "__kwdefaults__", kwdefaults))
                value.__kwdefaults__ = {k: refuser(original_label(d), f" (a default argument of {name} in {STEM}.py)")
                                        if original_label(d) else d
                                        for k, d in kwdefaults.items()}
    try:
        yield
    finally:
        for owner, name, value in reversed(restore):
            setattr(owner, name, value)


@contextlib.contextmanager
def guard(module: Any) -> Iterator[None]:
    """Run the block with every forbidden built-in refused (see the module docstring)."""
    seen = Seen()
    with contextlib.ExitStack() as stack:
        for label, (targets, hint, _) in FORBIDDEN.items():
            owners: dict[int, tuple[Any, list[str]]] = {}
            for owner, name in targets:
                owners.setdefault(id(owner), (owner, []))[1].append(name)
            for owner, names in owners.values():
                stack.enter_context(forbid(owner, tuple(names), refusal(label)))
        stack.enter_context(patched_aliases(module, seen))
        stack.enter_context(FunctionGuard(seen))
        yield
    if seen.refused:  # the student's code caught the refusal and went on: it still called the built-in
        raise ProbeError(seen.refused[0])


def argument(value: Any) -> Any:
    """A fresh copy of a tensor argument; (height, width) pairs arrive as lists and become tuples again,
    wrapped 0-dim tensors become 0-dim again."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict) and set(value) == {SCALAR}:
        return value[SCALAR].reshape(())
    return value


@probe
def run(sub: Any, fn: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Call from_scratch.<fn>(*args, **kwargs) under the guard for each call; report the result and
    whether the tensor arguments were left unchanged."""
    module = sub.module(STEM)
    function = getattr(module, fn)
    results = []
    for spec in calls:
        args = [argument(a) for a in spec.get("args", [])]
        kwargs = {k: argument(v) for k, v in spec.get("kwargs", {}).items()}
        before = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
        with guard(module):
            value = function(*args, **kwargs)
        unchanged = all(b is None or (a.shape == b.shape and torch.equal(a, b)) for a, b in zip(args, before))
        results.append({"value": observe(value), "type": type(value).__name__, "inputs_unchanged": unchanged})
    return results


@probe
def conv2d_grad(sub: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: Any,
                padding: Any, grad_out: torch.Tensor) -> dict[str, Any]:
    """Run conv2d under the guard on inputs that require grad, backpropagate (out * grad_out).sum()."""
    module = sub.module(STEM)
    leaves = [argument(t).requires_grad_() if t is not None else None for t in (x, weight, bias)]
    with guard(module):
        out = module.conv2d(*leaves, argument(stride), argument(padding))
    if not isinstance(out, torch.Tensor):
        raise ProbeError(f"conv2d returned {type(out).__name__}, expected a tensor")
    if out.shape != grad_out.shape:
        raise ProbeError(f"conv2d gave shape {tuple(out.shape)} for an input of shape {tuple(x.shape)} and "
                         f"weight {tuple(weight.shape)}, expected {tuple(grad_out.shape)}")
    if not out.requires_grad:
        raise ProbeError("conv2d's output does not require grad although its inputs do: "
                         "the result must stay connected to x, weight and bias (no .detach(), .numpy() or .item())")
    (out * grad_out).sum().backward()
    return {"out": observe(out), "grads": [None if t is None else observe(t.grad) for t in leaves]}
