"""Export the student's modules and functions as plain data: the ATen operations they run.

A module is exported as its parameters and buffers (names, shapes, dtypes, optionally their
values) and, for each input the grader asked about, the graph of ATen operations that its
forward runs on it, with the parameters, buffers and inputs as placeholders. A function is
exported the same way, its tensor arguments as placeholders. The trusted grader rebuilds each
graph from a whitelist of operations, loads its own weights, runs it on its own inputs and reads
every fact (shapes, parameter counts, gradients, which kernels ran) from its own run: a forged
graph that passes is a correct implementation. Nothing here is pickled.

Graph layout::

    {"inputs": n,                          # placeholders: parameters, buffers, then inputs
     "nodes": [{"op": "aten.convolution.default", "args": [...], "kwargs": {...}}, ...],
     "constants": [tensor, ...],            # tensors the code made from numbers
     "output": value}                       # the returned structure

In args, kwargs and output, {"in": i} is placeholder i, {"node": j} node j's result,
{"const": k} a constant; dtypes, devices, layouts and memory formats are {"dtype": "float32"},
... and numbers, booleans, strings, None and lists stand for themselves.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn as nn

MAX_NODES = 100_000  # more operations than this for one call: a Python loop over every element


class ExportError(Exception):
    """The code cannot be exported as a graph of tensor operations (the message says why)."""


def _make_fx() -> Callable[..., Any]:
    from torch.fx.experimental.proxy_tensor import make_fx

    return make_fx


def warm_up() -> None:
    """Trace a tiny computation once, so that forks start with the tracer's imports and caches ready."""
    trace(lambda x: torch.relu(x) + 1, [torch.zeros(2)])


def trace(fn: Callable[..., Any], tensors: list[torch.Tensor], autograd: bool = False) -> dict[str, Any]:
    """The graph of `fn(*tensors)`, its arguments as placeholders 0..n-1.

    With `autograd`, the graph is traced above autograd (make_fx's pre-dispatch mode): a .detach()
    stays in it as aten.detach, so the grader's run of the graph gives no gradient through it,
    and switching autograd off (torch.no_grad) fails the trace. Below autograd (the default) both
    are invisible: a .detach() is traced as aten.alias."""
    try:
        module = _make_fx()(fn, tracing_mode="real", pre_dispatch=autograd)(*tensors)
    except RuntimeError as exc:
        if "_local_scalar_dense" in str(exc) or "data-dependent" in str(exc) or "aten.item" in str(exc):
            raise ExportError("it reads values out of tensors into Python (.item(), .tolist(), float(t), or `if` "
                              "on a tensor): write it with tensor operations only (torch.where, clamp, max, "
                              "...)") from None
        raise
    return encode_graph(module, len(tensors))


def encode_graph(module: torch.fx.GraphModule, n_inputs: int) -> dict[str, Any]:
    """An fx graph of ATen operations as plain data (see the module docstring)."""
    refs: dict[torch.fx.Node, dict[str, int]] = {}
    nodes: list[dict[str, Any]] = []
    constants: list[torch.Tensor] = []
    placeholders = 0
    output: Any = None
    for node in module.graph.nodes:
        if node.op == "placeholder":
            refs[node] = {"in": placeholders}
            placeholders += 1
        elif node.op == "get_attr":
            value = getattr(module, str(node.target))
            if not isinstance(value, torch.Tensor):
                raise ExportError(f"it uses a {type(value).__name__} the grader cannot rebuild")
            refs[node] = {"const": len(constants)}
            constants.append(value.detach().cpu().clone())
        elif node.op == "call_function":
            if node.target is operator.getitem:
                name = "getitem"
            elif isinstance(node.target, torch._ops.OpOverload):
                name = str(node.target)
            elif node.target is torch._C._set_grad_enabled:  # seen only above autograd (trace's `autograd`)
                if not node.args or node.args[0] is not True:
                    raise ExportError("it switches autograd off (torch.no_grad() or set_grad_enabled(False)), so what "
                                      "it returns cannot be differentiated: leave autograd on")
                continue  # turning autograd on: the grader's run has it on anyway
            else:
                raise ExportError(f"it calls {node.target!r}, which is not a tensor operation")
            nodes.append({"op": name, "args": _encode(node.args, refs), "kwargs": _encode(dict(node.kwargs), refs)})
            refs[node] = {"node": len(nodes) - 1}
            if len(nodes) > MAX_NODES:
                raise ExportError(f"one call runs more than {MAX_NODES:,} tensor operations (a Python loop over "
                                  "every element?): work on whole tensors instead")
        elif node.op == "output":
            output = _encode(node.args[0], refs)
    if placeholders != n_inputs:
        raise ExportError(f"the traced graph has {placeholders} inputs, expected {n_inputs}")
    return {"inputs": n_inputs, "nodes": nodes, "constants": constants, "output": output}


def _encode(value: Any, refs: dict[torch.fx.Node, dict[str, int]]) -> Any:
    if isinstance(value, torch.fx.Node):
        return refs[value]
    if isinstance(value, (list, tuple)):
        return [_encode(v, refs) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, refs) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"device": value.type}
    if isinstance(value, torch.layout):
        return {"layout": str(value).removeprefix("torch.")}
    if isinstance(value, torch.memory_format):
        return {"memory_format": str(value).removeprefix("torch.")}
    raise ExportError(f"an operation takes a {type(value).__name__}, which the grader cannot rebuild")


def describe_tensors(named: Sequence[tuple[str, torch.Tensor]], values: bool) -> list[dict[str, Any]]:
    """Parameters or buffers as plain data: name, shape, dtype, requires_grad, and the values if asked."""
    return [{"name": name, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
             "requires_grad": bool(t.requires_grad), "leaf": bool(t.is_leaf),
             "parameter": isinstance(t, nn.Parameter), "device": t.device.type,
             "value": t.detach().cpu().clone() if values else None} for name, t in named]


def export_module(module: nn.Module, calls: list[dict[str, Any]], values: bool,
                  on_error: Callable[[BaseException], dict[str, Any]]) -> dict[str, Any]:
    """A module's parameters and buffers, and one graph per call {"inputs": [tensors], "mode": ...}.

    The parameters, buffers and inputs are the graph's placeholders, in that order. A call whose
    forward fails gets {"error": on_error(exc)} instead of a graph, so that the grader still sees
    the parameters (and can say what fc1 was given)."""
    params = list(module.named_parameters())
    buffers = list(module.named_buffers())
    state = [t for _, t in params] + [t for _, t in buffers]
    device = state[0].device if state else torch.device("cpu")
    exported: dict[str, Any] = {"params": describe_tensors(params, values), "buffers": describe_tensors(buffers, True),
                                "graphs": []}
    for call in calls:
        if call.get("mode") is not None:
            module.train(call["mode"] == "train")
        inputs = [x.to(device) for x in call["inputs"]]
        try:
            graph = trace(lambda *flat: module(*flat[len(state):]), state + inputs)
        except Exception as exc:  # the student's forward failed: say so beside the parameters
            graph = {"error": on_error(exc)}
        exported["graphs"].append(graph)
    return exported
