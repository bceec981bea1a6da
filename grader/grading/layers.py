"""Read a network's layers off a graph that the grader ran itself (grader.grading.graphs).

A layer is an operation that does a CNN's work: a convolution, a linear map (a matrix product
with a 2-d parameter), a pooling, a batch norm, an activation, a dropout. Each comes with the
shapes it saw and gave in the grader's run, the parameters it used (as placeholder positions,
followed through views and transposes) and its settings. Names and declaration order play no
part: nn.Conv2d or F.conv2d, nn.Sequential or attributes give the same layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.grading.graphs import Graph, Run, references

VIEWS = {"alias", "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "clone", "contiguous",
         "detach", "_to_copy", "to", "lift_fresh_copy", "unsqueeze", "squeeze", "_reshape_alias", "flatten"}
MATMULS = {"addmm", "mm", "bmm", "baddbmm", "linear", "matmul", "mv", "addmv"}
KINDS = {"convolution": "conv", "_convolution": "conv", "max_pool2d_with_indices": "max_pool", "max_pool2d": "max_pool",
         "avg_pool2d": "avg_pool", "adaptive_avg_pool2d": "avg_pool", "_adaptive_avg_pool2d": "avg_pool",
         "native_batch_norm": "batch_norm", "_native_batch_norm_legit": "batch_norm",
         "_native_batch_norm_legit_no_training": "batch_norm", "_native_batch_norm_legit_functional": "batch_norm",
         "relu": "relu", "relu_": "relu", "threshold": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
         "native_dropout": "dropout", "bernoulli": "dropout", "bernoulli_": "dropout", "_softmax": "softmax",
         "softmax": "softmax", "_log_softmax": "log_softmax"}


@dataclass(frozen=True)
class Layer:
    """One working operation of a run."""

    kind: str  # conv, linear, max_pool, avg_pool, batch_norm, relu, sigmoid, tanh, dropout, softmax, log_softmax
    node: int
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    params: tuple[int, ...] = ()  # the placeholders it uses (weight first)
    options: dict[str, Any] = field(default_factory=dict)


def packet(op: str) -> str:
    """ "aten.convolution.default" -> "convolution"."""
    return op.split(".")[1] if op.count(".") == 2 else op


def sources(graph: Graph) -> dict[int, int]:
    """For each node that is a view, transpose or copy of a placeholder, that placeholder."""
    found: dict[int, int] = {}
    for index, (op, args, _) in enumerate(graph.nodes):
        if packet(op) in VIEWS and args and isinstance(args[0], dict):
            first = args[0]
            if "in" in first:
                found[index] = first["in"]
            elif "node" in first and first["node"] in found:
                found[index] = found[first["node"]]
    return found


def roles(graph: Graph, shapes: Sequence[tuple[int, ...]]) -> list[int]:
    """The placeholders 0..len(shapes)-1 (a module's parameters and buffers, of these shapes) in the order of
    their roles in the network, an order that does not depend on the order its statements ran in.

    Each placeholder is keyed by the operation that works with it (views followed): first the number of such
    operations on the longest path from the inputs to it (a residual block's shortcut and main branch run side
    by side whichever is written first), then the shapes of the state the operations feeding it use (the batch
    norm after a 1x1 shortcut conv apart from the one after a 3x3 conv), then its position among the
    operation's arguments (a batch norm's weight before its bias, its running mean before its variance).
    Placeholders that no operation uses come last, in their own order."""
    count = len(shapes)
    found = sources(graph)
    depth: list[int] = []
    feeds: list[frozenset[tuple[int, ...]]] = []  # the shapes of the state the nearest stateful operations upstream use
    keys: dict[int, tuple[Any, ...]] = {}
    for op, args, kwargs in graph.nodes:
        refs = list(references([args, list(kwargs.values())]))
        upstream = [ref["node"] for ref in refs if "node" in ref and ref["node"] not in found]
        before = max((depth[n] for n in upstream), default=0)
        fed: frozenset[tuple[int, ...]] = frozenset().union(*(feeds[n] for n in upstream))
        state = [(position, src) for position, ref in enumerate(refs)
                 if (src := _source(ref, found)) is not None and src < count]
        if packet(op) in VIEWS or not state:
            depth.append(before)
            feeds.append(fed)
            continue
        depth.append(before + 1)
        feeds.append(frozenset(tuple(shapes[src]) for _, src in state))
        for position, src in state:
            key = (before + 1, tuple(sorted(fed)), position)
            if src not in keys or key < keys[src]:
                keys[src] = key
    return sorted(range(count), key=lambda i: (i not in keys, keys.get(i, ()), i))


def _source(value: Any, found: dict[int, int]) -> int | None:
    if isinstance(value, dict):
        if "in" in value:
            return int(value["in"])
        if "node" in value:
            return found.get(value["node"])
    return None


def _shape(value: Any, run: Run, inputs: list[torch.Tensor]) -> tuple[int, ...] | None:
    if isinstance(value, dict) and "in" in value:
        return tuple(inputs[value["in"]].shape)
    found = run.values[value["node"]] if isinstance(value, dict) and "node" in value else None
    if isinstance(found, (list, tuple)) and found:
        found = found[0]
    return tuple(found.shape) if isinstance(found, torch.Tensor) else None


def layers(graph: Graph, run: Run, inputs: list[torch.Tensor], params: int) -> list[Layer]:
    """The working operations of a run made with keep=True, in order. Placeholders below `params`
    are parameters; `inputs` are the tensors the graph was run on."""
    found = sources(graph)
    out: list[Layer] = []
    for index, (op, args, _) in enumerate(graph.nodes):
        name = packet(op)
        out_shape = _shape({"node": index}, run, inputs)
        if name in MATMULS:
            operands = [(position, _source(a, found)) for position, a in enumerate(args)]
            weights = [(pos, src) for pos, src in operands
                       if src is not None and src < params and inputs[src].dim() == 2]
            if not weights:
                continue
            position, weight = weights[0]
            others = [a for pos, a in enumerate(args) if pos != position and isinstance(a, dict)
                      and _source(a, found) is None]
            bias = [src for pos, src in operands if src is not None and src < params and inputs[src].dim() == 1]
            in_shape = _shape(others[0], run, inputs) if others else None
            out.append(Layer("linear", index, in_shape, out_shape, (weight, *bias),
                             {"features": tuple(inputs[weight].shape)}))
        elif name in KINDS:
            kind = KINDS[name]
            used = tuple(src for a in args if (src := _source(a, found)) is not None and src < params)
            in_shape = _shape(args[0], run, inputs) if args else None
            out.append(Layer(kind, index, in_shape, out_shape, used, _options(kind, args, inputs, found)))
    return out


def _options(kind: str, args: list[Any], inputs: list[torch.Tensor], found: dict[int, int]) -> dict[str, Any]:
    def arg(i: int, default: Any) -> Any:
        return args[i] if len(args) > i else default

    if kind == "conv":
        weight = _source(arg(1, None), found)
        kernel = tuple(inputs[weight].shape[2:]) if weight is not None else None
        return {"kernel": kernel, "stride": tuple(arg(3, [1, 1])), "padding": tuple(arg(4, [0, 0])),
                "dilation": tuple(arg(5, [1, 1])), "groups": arg(8, 1), "bias": arg(2, None) is not None}
    if kind == "max_pool":
        kernel = tuple(arg(1, []))
        return {"kernel": kernel, "stride": tuple(arg(2, []) or kernel), "padding": tuple(arg(3, [0, 0])),
                "dilation": tuple(arg(4, [1, 1])), "ceil_mode": bool(arg(5, False))}
    return {}


def per_sample(shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A shape without its batch dimension."""
    return None if shape is None else tuple(shape[1:])
