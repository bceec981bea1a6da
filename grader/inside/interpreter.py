"""Run a check's scenario against the student's code: the only thing a worker does.

A scenario is a list of steps, plain data from the trusted grader. Steps build kit objects,
call the student's functions and classes, and read back what the grader needs to judge:
returned values, modules and functions exported as graphs (grader.inside.export), the state
of the objects the student's code was given, files it wrote. Every reading is raw material;
the trusted grader computes every verdict.

Arguments are plain values and tensors (each use gets a fresh copy), and::

    {"ref": name}           an object an earlier step bound with "as"
    {"kit": spec}           a kit object (grader.inside.kit.build)
    {"tuple": [...]}        a tuple
    {"input": tensor}       (trace only) a placeholder of the traced graph, traced with this example

Steps ("as" binds the step's object for later steps)::

    {"do": "kit", "make": spec}                         a kit object, to bind
    {"do": "call", "fn": "lenet.Net" | {"ref": n, "attr": "forward"}, "args": [...], "kwargs": {...},
     "capture": bool, "catch": bool, "optimizers_of": ref, "cuda": bool}
        -> {"value", "stdout"}, or {"raised": type} when `catch` and the call raised; with
           `optimizers_of`, "optimizers": the positions in that network's parameters() of what each
           torch.optim optimizer made during the call was given (an observation, for advice only); with
           `cuda`, torch.cuda.is_available() and device_count() answer as if a GPU were there or not
    {"do": "export", "target": ref, "calls": [{"inputs": [...], "mode": "train"|"eval"}], "values": bool}
    {"do": "trace", "fn": ..., "args": [...], "kwargs": {...}, "autograd": bool}  -> a graph, or {"error": ...}
                                                        (autograd: traced above autograd, .detach() kept)
    {"do": "state", "target": ref}                      -> parameters, gradients, modes, hooks, calls
    {"do": "optimizer", "target": ref, "net": ref}      -> class, hyper-parameters, parameter positions
    {"do": "iterate", "target": ref, "limit": k, "in_process": bool}   -> the batches (in_process: a DataLoader's
                                                        num_workers set to 0 first: the sandbox starts no workers)
    {"do": "len", "target": ref}
    {"do": "file", "path": ref}                         -> the file's bytes (uint8 tensor) or None
    {"do": "grads", "target": ref, "grads": [tensor | None, ...]}   set each parameter's .grad
    {"do": "rand", "n": k}                              draw from the global generator
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from torch.nn.modules import module as nn_module

from grader.inside import export, kit
from grader.inside.failures import KitError

MAX_ITEMS = 20_000  # elements of a returned list or tuple that are sent back
MAX_FILE = 8 << 20
MAX_STDOUT = 8_000


class StepFailed(Exception):
    """A step of the scenario failed; `cause` is what the student's code (or the kit) raised."""

    def __init__(self, step: int, cause: BaseException, results: list[Any]) -> None:
        super().__init__(step, cause)
        self.step = step
        self.cause = cause
        self.results = results


def observe(value: Any, depth: int = 0) -> Any:
    """A value the student's code returned, as plain data for the channel.

    Tensors become fresh tensors; tuples {"tuple": [...]} (so the grader can tell them from lists);
    other objects {"object": type name} (with "number" for numeric scalars such as numpy's).
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone(memory_format=torch.contiguous_format)
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, float):  # numpy's float64 is a float too
        return float(value)
    if isinstance(value, (list, tuple)) and depth < 8:
        if len(value) > MAX_ITEMS:
            return {"object": type(value).__name__, "length": len(value)}
        items = [observe(v, depth + 1) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, torch.device):
        return {"object": "device", "device": str(value)}
    found: dict[str, Any] = {"object": type(value).__name__}
    if type(value).__name__ in ("float16", "float32", "int8", "int16", "int32", "int64", "uint8"):  # numpy scalars
        found["number"] = float(value)
    return found


class Scenario:
    """One scenario's run: its bound objects and its results."""

    def __init__(self, submission: Any, on_error: Callable[[BaseException], dict[str, Any]]) -> None:
        self.submission = submission
        self.on_error = on_error
        self.refs: dict[str, Any] = {}

    def run(self, steps: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        for index, step in enumerate(steps):
            try:
                obj, result = self.step(step)
            except BaseException as exc:  # every failure of the student's code is an observation
                raise StepFailed(index, exc, results) from exc
            if step.get("as"):
                self.refs[step["as"]] = obj
            results.append(result)
        return results

    # -- arguments ------------------------------------------------------------------------------
    def arg(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return value.clone()
        if isinstance(value, list):
            return [self.arg(v) for v in value]
        if isinstance(value, dict):
            if "ref" in value:
                return self.refs[value["ref"]]
            if "kit" in value:
                return kit.build(value["kit"], self.refs)
            if "tuple" in value:
                return tuple(self.arg(v) for v in value["tuple"])
            if "input" in value:
                raise KitError("a graph input outside a trace step")
            return {k: self.arg(v) for k, v in value.items()}
        return value

    def target(self, spec: Any) -> Any:
        """A callable: "module.attr.path" of the student's code, or {"ref": n, "attr": "a.b"}."""
        if isinstance(spec, str):
            stem, _, path = spec.partition(".")
            found: Any = self.submission.module(stem)
        else:
            found, path = self.refs[spec["ref"]], spec.get("attr", "")
        for part in filter(None, path.split(".")):
            try:
                found = getattr(found, part)
            except AttributeError:
                raise KitError(f"{spec if isinstance(spec, str) else type(found).__name__ + '.' + path} "
                               f"is missing: {type(found).__name__} has no attribute {part!r}") from None
        return found

    # -- steps ----------------------------------------------------------------------------------
    def step(self, step: dict[str, Any]) -> tuple[Any, Any]:
        do = step["do"]
        if do == "call":
            fn = self.target(step["fn"])
            args, kwargs = self.arg(step.get("args", [])), self.arg(step.get("kwargs", {}))
            printed = io.StringIO()
            given: list[list[int]] = []
            watched = self.arg(step["optimizers_of"]) if step.get("optimizers_of") else None
            try:
                with contextlib.ExitStack() as stack:
                    if step.get("capture"):
                        stack.enter_context(contextlib.redirect_stdout(printed))
                    if watched is not None:
                        stack.enter_context(recording_optimizers(watched, given))
                    if "cuda" in step:
                        stack.enter_context(pretend_cuda(bool(step["cuda"])))
                    value = fn(*args, **kwargs)
            except Exception as exc:
                if not step.get("catch"):
                    raise
                return None, {"raised": type(exc).__name__}
            reading: dict[str, Any] = {"value": observe(value)}
            if step.get("capture"):
                reading["stdout"] = printed.getvalue()[:MAX_STDOUT]
            if watched is not None:
                reading["optimizers"] = given
            return value, reading
        if do == "kit":
            made = kit.build(step["make"], self.refs)
            return made, None
        if do == "export":
            target = self.arg(step["target"])
            if not isinstance(target, nn.Module):
                raise KitError(f"expected an nn.Module (a layer or a network), got a {type(target).__name__}")
            calls = [{"inputs": self.arg(c["inputs"]), "mode": c.get("mode")} for c in step["calls"]]
            return target, export.export_module(target, calls, bool(step.get("values", True)), self.on_error)
        if do == "trace":
            return None, self.trace(step)
        if do == "state":
            return None, state_of(self.arg(step["target"]))
        if do == "optimizer":
            return None, describe_optimizer(self.arg(step["target"]), self.arg(step["net"]))
        if do == "iterate":
            batches = []
            iterable = self.arg(step["target"])
            if step.get("in_process") and isinstance(iterable, torch.utils.data.DataLoader) and iterable.num_workers:
                iterable.num_workers = 0
            for i, batch in enumerate(iterable):
                if i >= step.get("limit", 1 << 30):
                    break
                batches.append(observe(batch))
            return None, batches
        if do == "len":
            return None, len(self.arg(step["target"]))
        if do == "file":
            path = Path(self.arg(step["path"]))
            if not path.is_file():
                return None, None
            data = path.read_bytes()[:MAX_FILE]
            return None, (torch.frombuffer(bytearray(data), dtype=torch.uint8).clone() if data
                          else torch.zeros(0, dtype=torch.uint8))
        if do == "grads":
            net = self.arg(step["target"])
            for p, g in zip(net.parameters(), step["grads"]):
                p.grad = None if g is None else g.clone()
            return None, None
        if do == "rand":
            torch.rand(int(step["n"]))
            return None, None
        raise KitError(f"unknown step {do!r}")

    def trace(self, step: dict[str, Any]) -> dict[str, Any]:
        """The graph of one call of the student's function, its {"input": ...} arguments as placeholders."""
        fn = self.target(step["fn"])
        examples: list[torch.Tensor] = []

        def mark(value: Any) -> Any:
            if isinstance(value, dict) and set(value) == {"input"}:
                examples.append(value["input"].clone())
                return ("__input__", len(examples) - 1)
            if isinstance(value, list):
                return [mark(v) for v in value]
            if isinstance(value, dict) and "tuple" in value:
                return {"tuple": [mark(v) for v in value["tuple"]]}
            return value

        args, kwargs = mark(step.get("args", [])), {k: mark(v) for k, v in step.get("kwargs", {}).items()}

        def fill(value: Any, tensors: tuple[torch.Tensor, ...]) -> Any:
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "__input__":
                return tensors[value[1]]
            if isinstance(value, list):
                return [fill(v, tensors) for v in value]
            if isinstance(value, dict) and "tuple" in value:
                return tuple(fill(v, tensors) for v in value["tuple"])
            return self.arg(value)

        def call(*tensors: torch.Tensor) -> Any:
            return fn(*fill(args, tensors), **{k: fill(v, tensors) for k, v in kwargs.items()})

        try:
            return export.trace(call, examples, autograd=bool(step.get("autograd")))
        except export.ExportError as exc:
            return {"error": {"type": "ExportError", "message": str(exc), "not_started": False}}


@contextlib.contextmanager
def recording_optimizers(net: nn.Module, given: list[list[int]]) -> Iterator[None]:
    """Note, for every torch.optim optimizer made while the block runs, the positions in
    net.parameters() of the parameters it was given."""
    original = torch.optim.Optimizer.__init__
    index = {id(p): i for i, p in enumerate(net.parameters())}

    def recording_init(self: Any, params: Any, *args: Any, **kwargs: Any) -> None:
        params = list(params)
        flat = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
        given.append(sorted(index.get(id(p), -1) for p in flat))
        original(self, params, *args, **kwargs)

    torch.optim.Optimizer.__init__ = recording_init  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.optim.Optimizer.__init__ = original  # type: ignore[method-assign]


@contextlib.contextmanager
def pretend_cuda(available: bool) -> Iterator[None]:
    """Make torch.cuda.is_available() and torch.cuda.device_count() answer as if a GPU were there (or not)."""
    saved = torch.cuda.is_available, torch.cuda.device_count
    torch.cuda.is_available = lambda: available
    torch.cuda.device_count = lambda: int(available)
    try:
        yield
    finally:
        torch.cuda.is_available, torch.cuda.device_count = saved


def state_of(target: Any) -> dict[str, Any]:
    """What a module holds after the student's code ran: parameters (values, gradients, flags), the
    train/eval flag of every submodule, its hooks, and the calls a kit network recorded."""
    if not isinstance(target, nn.Module):
        raise KitError(f"expected an nn.Module, got a {type(target).__name__}")
    params = [{"name": name, "value": p.detach().cpu().clone(), "shape": list(p.shape),
               "grad": None if p.grad is None else p.grad.detach().cpu().clone(),
               "requires_grad": bool(p.requires_grad), "leaf": bool(p.is_leaf),
               "parameter": isinstance(p, nn.Parameter),
               "device": p.device.type}
              for name, p in target.named_parameters()]
    return {
        "params": params,
        "modes": [m.training for m in target.modules()],
        "hooks": [[len(m._forward_hooks), len(m._forward_pre_hooks)] for m in target.modules()],
        "global_hooks": len(nn_module._global_forward_hooks) + len(nn_module._global_forward_pre_hooks),
        "calls": list(getattr(target, "calls", [])),
    }


def describe_optimizer(opt: Any, net: nn.Module) -> dict[str, Any]:
    """An optimizer as plain data: its class, and each group's options and parameter positions in net."""
    if not isinstance(opt, torch.optim.Optimizer):
        return {"class": type(opt).__name__, "is_optimizer": False, "groups": []}
    index = {id(p): i for i, p in enumerate(net.parameters())}
    groups = []
    for group in opt.param_groups:
        options = {k: v for k, v in group.items() if k != "params" and type(v) in (bool, int, float, str)}
        groups.append({"params": [index.get(id(p), -1) for p in group["params"]], "options": options})
    return {"class": type(opt).__name__, "is_optimizer": True, "groups": groups}
