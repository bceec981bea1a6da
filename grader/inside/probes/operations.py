"""Probes for the basic-operations exercise (run in the sandbox).

They build the student's layers, feed them the inputs the grader sent and report what came
back: outputs, parameter shapes and values, gradients. The verdicts are made in
grader/hidden/test_operations.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from grader.inside.probes import SCALAR, ProbeError, layer_config, leaves, observe, picture_facts, probe

def type_name(value: Any) -> str:
    return type(value).__name__


def make_module(sub: Any, fn: str, args: list[Any]) -> nn.Module:
    made = getattr(sub.module("operations"), fn)(*args)
    if not isinstance(made, nn.Module):
        shown = ", ".join(repr(a) for a in args)
        raise ProbeError(f"{fn}({shown}) returned {type_name(made)}, expected an nn.Module (a layer)")
    return made


def load_matching(module: nn.Module, tensors: list[torch.Tensor]) -> list[list[int]]:
    """Copy each tensor into the one parameter of its shape; return the shapes that found none.

    Parameters whose shape no tensor has keep their values (the probe reports them), so a
    layer with an extra bias still runs and its output can be checked against its own bias.
    """
    by_shape: dict[tuple[int, ...], list[nn.Parameter]] = {}
    for p in module.parameters():
        by_shape.setdefault(tuple(p.shape), []).append(p)
    missing = []
    with torch.no_grad():
        for t in tensors:
            found = by_shape.get(tuple(t.shape), [])
            if len(found) == 1:
                found[0].copy_(t)
            else:
                missing.append(list(t.shape))
    return missing


def grads_used(module: nn.Module) -> list[bool]:
    return [p.grad is not None and bool(torch.isfinite(p.grad).all()) and bool(p.grad.abs().sum() > 0)
            for p in module.parameters()]


@probe
def layer(sub: Any, fn: str, args: list[Any] | None = None, inputs: list[torch.Tensor] | None = None,
          weights: list[torch.Tensor] | None = None, modes: list[str] | None = None,
          backward: bool = False) -> dict[str, Any]:
    """Build operations.<fn>(*args), optionally load weights by shape, and run each input through it.

    `modes` (one per input, "train" or "eval") switches the layer's mode before each call.
    With `backward`, backpropagate (layer(inputs[0]) * r).sum() for a random r and report
    which parameters received a finite, non-zero gradient. `configs` holds the
    hyper-parameters of the leaf layers (kernel size, stride, padding, ...).
    """
    module = make_module(sub, fn, [argument(a) for a in args or []])
    obs: dict[str, Any] = {
        "type": type_name(module),
        "param_shapes": [list(p.shape) for p in module.parameters()],
        "n_params": sum(p.numel() for p in module.parameters()),
    }
    obs["missing"] = load_matching(module, weights) if weights is not None else []
    obs["params"] = [observe(p) for p in module.parameters()]
    outs = []
    for i, x in enumerate(inputs or []):
        if modes:
            module.train(modes[i] == "train")
        with torch.no_grad():
            outs.append(observe(module(x.clone())))
    obs["outs"] = outs
    obs["configs"] = [{"type": type_name(m), **layer_config(m)} for m in leaves(module)]
    if backward and inputs:
        module.zero_grad(set_to_none=True)
        out = module(inputs[0].clone())
        if not isinstance(out, torch.Tensor) or not out.is_floating_point():
            raise ProbeError(f"{fn}(...)(x) returned {type_name(out)}, expected a tensor")
        (out * torch.randn_like(out)).sum().backward()
        obs["grads_used"] = grads_used(module)
    return obs


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
def call(sub: Any, fn: str, calls: list[list[Any]]) -> list[dict[str, Any]]:
    """Call operations.<fn>(*args) for each argument list; report each result and its type."""
    function = getattr(sub.module("operations"), fn)
    results = []
    for args in calls:
        value = function(*[argument(a) for a in args])
        results.append({"value": observe(value), "type": type_name(value)})
    return results


@probe
def set_conv(sub: Any, conv: dict[str, Any], weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor,
             grad_out: torch.Tensor | None = None, lr: float = 0.0) -> dict[str, Any]:
    """Build nn.Conv2d(**conv), let set_conv_weights fill it, then run, backpropagate and take one SGD step."""
    layer_ = nn.Conv2d(**{k: argument(v) for k, v in conv.items()})
    returned = sub.module("operations").set_conv_weights(layer_, weight.clone(), bias.clone())
    obs: dict[str, Any] = {"returned_self": returned is layer_, "returned_type": type_name(returned)}
    with torch.no_grad():
        obs["out"] = observe(layer_(x.clone()))
    params = list(layer_.parameters())
    obs["n_params"] = sum(p.numel() for p in params)
    obs["params"] = [{"shape": list(p.shape), "parameter": isinstance(p, nn.Parameter),
                      "requires_grad": bool(p.requires_grad)} for p in params]
    weight_p, bias_p = layer_.weight, layer_.bias
    obs["weight_is_parameter"] = isinstance(weight_p, nn.Parameter) and any(weight_p is p for p in params)
    obs["bias_is_parameter"] = isinstance(bias_p, nn.Parameter) and any(bias_p is p for p in params)
    if grad_out is None:
        return obs
    layer_.zero_grad(set_to_none=True)
    out = layer_(x.clone())
    if out.requires_grad:
        (out * grad_out).sum().backward()
    obs["grad_weight"] = observe(getattr(weight_p, "grad", None))
    obs["grad_bias"] = observe(getattr(bias_p, "grad", None))
    with torch.no_grad():  # one plain SGD step over what .parameters() yields, as an optimizer would do
        for p in params:
            if p.requires_grad and p.grad is not None:
                p -= lr * p.grad
    with torch.no_grad():
        obs["out_after_step"] = observe(layer_(x.clone()))
    return obs


# --- modules to count, built the same way on both sides ---------------------------------

LAYERS = {"Conv2d": nn.Conv2d, "Linear": nn.Linear, "BatchNorm2d": nn.BatchNorm2d, "ReLU": nn.ReLU,
          "MaxPool2d": nn.MaxPool2d, "Flatten": nn.Flatten, "Dropout": nn.Dropout}


def build_counted(spec: dict[str, Any]) -> nn.Module:
    """A module from plain data: layers in a Sequential, optional shared layer, extra raw parameters, frozen ones.

    spec = {"layers": [[name, args, kwargs], ...], "repeat": [i, ...] (layers used again),
            "nested": bool (wrap in a container module), "raw": [shape, ...] (bare nn.Parameters),
            "freeze": [i, ...] (indices in .parameters() order to set requires_grad=False)}
    """
    layers = [LAYERS[name](*args, **kwargs) for name, args, kwargs in spec["layers"]]
    layers += [layers[i] for i in spec.get("repeat", [])]
    model: nn.Module = nn.Sequential(*layers)
    if spec.get("nested"):
        outer = nn.Module()
        outer.body = model
        outer.head = nn.Sequential(nn.Linear(3, 2))
        model = outer
    for i, shape in enumerate(spec.get("raw", [])):
        model.register_parameter(f"extra{i}", nn.Parameter(torch.zeros(*shape)))
    params = list(model.parameters())
    for i in spec.get("freeze", []):
        params[i].requires_grad_(False)
    return model


@probe
def count(sub: Any, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """count_parameters on modules built from `specs`."""
    function = sub.module("operations").count_parameters
    results = []
    for spec in specs:
        value = function(build_counted(spec))
        results.append({"value": observe(value), "type": type_name(value)})
    return results


# --- batch normalisation ---------------------------------------------------------------


@probe
def batch_norm(sub: Any, channels: int, inputs: list[torch.Tensor], modes: list[str],
               gamma: torch.Tensor | None = None, beta: torch.Tensor | None = None) -> dict[str, Any]:
    """Build batch_norm(channels), optionally set gamma and beta, run the inputs in the given modes.

    gamma and beta have the same shape, so they are told apart by their initial values
    (gamma starts at ones, beta at zeros), falling back to declaration order.
    """
    module = make_module(sub, "batch_norm", [channels])
    params = list(module.parameters())
    obs: dict[str, Any] = {
        "type": type_name(module),
        "param_shapes": [list(p.shape) for p in params],
        "n_params": sum(p.numel() for p in params),
        "initial": [observe(p) for p in params],
    }
    if gamma is not None:
        if len(params) != 2 or any(tuple(p.shape) != (channels,) for p in params):
            raise ProbeError(f"batch_norm({channels}) has parameters of shapes {obs['param_shapes']}, "
                             f"expected a gamma and a beta of shape ({channels},)")
        first, second = params
        if bool((first == 0).all()) and bool((second == 1).all()):
            first, second = second, first
        with torch.no_grad():
            first.copy_(gamma)
            second.copy_(beta)
    outs = []
    for x, mode in zip(inputs, modes):
        module.train(mode == "train")
        with torch.no_grad():
            outs.append(observe(module(x.clone())))
    obs["outs"] = outs
    return obs


@probe
def conv1_grid(sub: Any, weight: torch.Tensor, bias: torch.Tensor, image: torch.Tensor) -> dict[str, Any]:
    """Call save_conv1_grid on a convolution holding `weight` and `bias`; report the maps and the picture."""
    conv = nn.Conv2d(1, weight.shape[0], tuple(weight.shape[2:]))
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    path = Path("/tmp") / f"conv1-grid-{weight.shape[0]}.png"
    path.unlink(missing_ok=True)
    maps = sub.module("operations").save_conv1_grid(conv, image.clone(), path)
    return {"maps": observe(maps), "picture": picture_facts(path),
            "weight_kept": bool(torch.equal(conv.weight.detach(), weight)), "trainable": conv.weight.requires_grad}
