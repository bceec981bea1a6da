"""Rebuild and run, in the trusted process, the graphs a worker exported (grader.inside.export).

A graph is untrusted data. It is rebuilt only from whitelisted ATen operations (grader.grading.
aten_ops) on plain arguments; each operation is first run on the meta device, so no tensor
beyond MAX_NUMEL elements and no more than MAX_LIVE_BYTES at once is ever allocated, and no
matrix product or convolution beyond MAX_NODE_FLOPS runs. Each run has a deadline, and all runs
for one submission share a time budget (submission_budget). Whatever a graph computes here, it
computes with the grader's own weights and inputs: every fact a check reads (an output, a
layer's shape, a gradient, which kernels ran) comes from this run, never from the worker's word.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch

from grader.grading import aten_ops
from grader.grading.checks import Mismatch

MAX_NODES = 100_000
MAX_NUMEL = 1 << 26  # elements of one tensor (256 MiB of float32)
MAX_LIVE_BYTES = 4 << 30
MAX_NODE_FLOPS = 5e10  # one matrix product or convolution (a LeNet on a 3x512x512 image needs about 3e8)
DEADLINE_S = 120.0
HEAVY = {"mm", "bmm", "addmm", "baddbmm", "addbmm", "addmv", "mv", "matmul", "linear", "einsum", "tensordot",
         "convolution", "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "cudnn_convolution", "mkldnn_convolution", "_slow_conv2d_forward", "thnn_conv2d", "slow_conv_dilated2d",
         "_conv_depthwise2d", "convolution_overrideable", "conv_tbc"}
_budget: list[float] = []  # when the current submission's time for graph runs ends (submission_budget)
DTYPES = {name: getattr(torch, name) for name in
          ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")}
MEMORY_FORMATS = {name: getattr(torch, name) for name in ("contiguous_format", "preserve_format", "channels_last")}


class GraphRefused(Mismatch):
    """A graph the grader will not run (an operation it does not allow, too large, too slow)."""


@dataclass(frozen=True)
class Graph:
    """A validated exported graph: placeholders 0..inputs-1, then nodes in order."""

    inputs: int
    nodes: tuple[tuple[str, Any, dict[str, Any]], ...]
    constants: tuple[torch.Tensor, ...]
    output: Any

    @classmethod
    def from_wire(cls, data: Any, what: str) -> Graph:
        """Check an exported graph's structure and operations; raise GraphRefused with a reason."""
        try:
            inputs = int(data["inputs"])
            raw_nodes = list(data["nodes"])
            constants = tuple(data["constants"])
            output = data["output"]
        except (KeyError, TypeError, ValueError):
            raise GraphRefused(f"{what}: the exported graph is malformed") from None
        if len(raw_nodes) > MAX_NODES:
            raise GraphRefused(f"{what} runs {len(raw_nodes):,} tensor operations for one call, more than "
                               f"{MAX_NODES:,}: work on whole tensors rather than element by element")
        if not all(isinstance(c, torch.Tensor) and c.numel() <= MAX_NUMEL for c in constants):
            raise GraphRefused(f"{what}: the exported graph holds a constant the grader refuses")
        nodes = []
        for index, node in enumerate(raw_nodes):
            if not isinstance(node, dict) or not isinstance(node.get("op"), str):
                raise GraphRefused(f"{what}: the exported graph is malformed")
            op = node["op"]
            if op != "getitem" and aten_ops.resolve(op) is None:
                raise GraphRefused(f"{what} uses the operation {op}, which the grader does not run")
            args, kwargs = node.get("args", []), node.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise GraphRefused(f"{what}: the exported graph is malformed")
            _check_refs(args, index, inputs, len(constants), what)
            for value in kwargs.values():  # keyword arguments: a mapping of names, not an encoded value
                _check_refs(value, index, inputs, len(constants), what)
            nodes.append((op, args, kwargs))
        _check_refs(output, len(raw_nodes), inputs, len(constants), what)
        return cls(inputs, tuple(nodes), constants, output)

    def ops(self) -> list[str]:
        """The operations of the graph, in order (e.g. "aten.convolution.default")."""
        return [op for op, _, _ in self.nodes]


def _check_refs(value: Any, before: int, inputs: int, constants: int, what: str) -> None:
    """References must point backwards, to existing placeholders, nodes and constants."""
    if isinstance(value, list):
        for v in value:
            _check_refs(v, before, inputs, constants, what)
    elif isinstance(value, dict):
        limits = {"in": inputs, "node": before, "const": constants}
        if len(value) == 1 and next(iter(value)) in limits:
            (key, index), = value.items()
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < limits[key]:
                raise GraphRefused(f"{what}: the exported graph is malformed")
        elif len(value) == 1 and next(iter(value)) in ("dtype", "device", "layout", "memory_format"):
            return
        else:
            for v in value.values():
                _check_refs(v, before, inputs, constants, what)
    elif not (value is None or isinstance(value, (bool, int, float, str))):
        raise GraphRefused(f"{what}: the exported graph is malformed")


@dataclass
class Run:
    """One execution: the output, and each node's value when kept."""

    output: Any
    values: list[Any] = field(default_factory=list)

    def shape(self, ref: Any) -> tuple[int, ...] | None:
        value = self.values[ref["node"]] if isinstance(ref, dict) and "node" in ref else None
        return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def execute(graph: Graph, inputs: Sequence[torch.Tensor], what: str, keep: bool = False,
            device: str = "cpu", deadline_s: float = DEADLINE_S) -> Run:
    """Run `graph` on `inputs` (placeholders in order), each operation checked on meta first.

    In-place operations change the tensors given (a batch norm's running statistics): pass copies
    where that matters. With `keep`, every node's value is kept for reading shapes afterwards."""
    if len(inputs) != graph.inputs:
        raise GraphRefused(f"{what}: the exported graph takes {graph.inputs} tensors, the grader has {len(inputs)}")
    target = torch.device(device)
    ends = min([time.monotonic() + deadline_s, *_budget])
    last_use = _last_uses(graph)
    values: list[Any] = [None] * len(graph.nodes)
    metas: list[Any] = [None] * len(graph.nodes)
    constants = [c.to(target) for c in graph.constants]
    meta_inputs, meta_constants = [_meta(x) for x in inputs], [_meta(c) for c in constants]
    live = 0

    def real(value: Any) -> Any:
        return _decode(value, inputs, values, constants, target, what)

    def meta(value: Any) -> Any:
        return _decode(value, meta_inputs, metas, meta_constants, torch.device("meta"), what)

    for index, (op, args, kwargs) in enumerate(graph.nodes):
        if time.monotonic() > ends:
            raise GraphRefused(f"{what} took too long to run on the grader's inputs (over {deadline_s:.0f} s, or past the "
                               "time the grader gives one submission's graphs)")
        if op == "getitem":
            container, position = real(args[0]), args[1]
            if not isinstance(container, (list, tuple)) or not isinstance(position, int) \
                    or not -len(container) <= position < len(container):
                raise GraphRefused(f"{what}: the exported graph is malformed")
            values[index] = container[position]
            metas[index] = _meta(values[index])
            continue
        fn = aten_ops.resolve(op)
        assert fn is not None  # checked by Graph.from_wire
        meta_kwargs = {k: meta(v) for k, v in kwargs.items()}
        if aten_ops.makes_tensors(op):  # a factory allocates where its device says, or on the CPU: on meta here
            meta_kwargs["device"] = torch.device("meta")
        try:
            if op.split(".")[1] in HEAVY:
                _expect_affordable(fn, meta(args), meta_kwargs, op, what)
            predicted = _nbytes(fn(*meta(args), **meta_kwargs), what)
        except GraphRefused:
            raise
        except Exception:  # noqa: BLE001 - no meta kernel (a data-dependent size): only bounded ops may go on
            if not aten_ops.bounded_by_inputs(op):
                raise GraphRefused(f"{what} uses {op} in a way the grader cannot check in advance") from None
            predicted = 0
        if live + predicted > MAX_LIVE_BYTES:
            raise GraphRefused(f"{what} needs more than {MAX_LIVE_BYTES >> 30} GiB of tensors at once")
        try:
            values[index] = fn(*real(args), **{k: real(v) for k, v in kwargs.items()})
        except GraphRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - a graph that fails on the grader's inputs
            raise GraphRefused(f"{what} fails on the grader's inputs: {op} raised {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
        live += _nbytes(values[index], what)
        metas[index] = _meta(values[index])
        if not keep:
            for dead in last_use.get(index, ()):
                live -= _nbytes(values[dead], what)
                values[dead] = metas[dead] = None
    return Run(real(graph.output), values if keep else [])


@contextlib.contextmanager
def submission_budget(seconds: float) -> Iterator[None]:
    """All graph runs inside the block, together, may take at most `seconds`."""
    _budget.append(time.monotonic() + seconds)
    try:
        yield
    finally:
        _budget.pop()


def _expect_affordable(fn: Any, args: list[Any], kwargs: dict[str, Any], op: str, what: str) -> None:
    """A matrix product or convolution must cost at most MAX_NODE_FLOPS (counted on meta tensors)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    if counter.get_total_flops() > MAX_NODE_FLOPS:
        raise GraphRefused(f"{what} runs {op} at a cost of {counter.get_total_flops():.2g} operations, more than the "
                           "grader runs for one step")


def references(value: Any) -> Iterator[dict[str, int]]:
    """Every reference ({"in": i}, {"node": j} or {"const": k}) inside an encoded argument."""
    if isinstance(value, list):
        for v in value:
            yield from references(v)
    elif isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("in", "node", "const"):
            yield value
        elif not (len(value) == 1 and next(iter(value)) in ("dtype", "device", "layout", "memory_format")):
            for v in value.values():
                yield from references(v)


def _last_uses(graph: Graph) -> dict[int, list[int]]:
    """For each node index, the earlier nodes whose last reader it is (they can be freed after it)."""
    last: dict[int, int] = {}
    for index, (_, args, kwargs) in enumerate(graph.nodes):
        for ref in references([args, list(kwargs.values())]):
            if "node" in ref:
                last[ref["node"]] = index
    for ref in references(graph.output):
        if "node" in ref:
            last[ref["node"]] = len(graph.nodes)
    freed: dict[int, list[int]] = {}
    for node, reader in last.items():
        if reader < len(graph.nodes):
            freed.setdefault(reader, []).append(node)
    return freed


def _meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if isinstance(value, (list, tuple)):
        return type(value)(_meta(v) for v in value)
    return value


def _nbytes(value: Any, what: str) -> int:
    if isinstance(value, torch.Tensor):
        if value.numel() > MAX_NUMEL:
            raise GraphRefused(f"{what} makes a tensor of {value.numel():,} elements, more than the grader allows")
        return value.numel() * value.element_size()
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v, what) for v in value)
    return 0


def _decode(value: Any, inputs: Sequence[Any], nodes: list[Any], constants: list[Any], device: torch.device,
            what: str) -> Any:
    if isinstance(value, list):
        return [_decode(v, inputs, nodes, constants, device, what) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, item), = value.items()
            if key == "in":
                return inputs[item]
            if key == "node":
                if nodes[item] is None:
                    raise GraphRefused(f"{what}: the exported graph is malformed")
                return nodes[item]
            if key == "const":
                return constants[item]
            if key == "dtype":
                if item not in DTYPES:
                    raise GraphRefused(f"{what} uses the dtype {item}, which the grader does not run")
                return DTYPES[item]
            if key == "device":
                return device
            if key == "layout":
                if item != "strided":
                    raise GraphRefused(f"{what} uses a {item} layout, which the grader does not run")
                return torch.strided
            if key == "memory_format":
                if item not in MEMORY_FORMATS:
                    raise GraphRefused(f"{what} uses the memory format {item}, which the grader does not run")
                return MEMORY_FORMATS[item]
        return {k: _decode(v, inputs, nodes, constants, device, what) for k, v in value.items()}
    return value
