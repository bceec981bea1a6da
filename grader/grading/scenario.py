"""How a hidden check talks to the student's code: it writes a scenario and judges the readings.

A scenario is a list of steps for grader.inside.interpreter (build kit objects, call the
student's code, export modules and functions as graphs, read states back). The check builds
it here, runs it with `submission.run`, and gets one reading per step. Readings are raw
material: modules and functions come back as Exported graphs that the check runs itself
(grader.grading.graphs), with its own weights and inputs.

    s = Scenario("lenet")
    net = s.call("lenet.Net")
    shapes = s.export(net, [x], values=False)
    readings = s.run(submission)
    exported = readings.exported(shapes, "Net()")
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from grader.grading.checks import Mismatch, expect
from grader.grading.graphs import Graph, Run, execute


class Submission(Protocol):
    """What a hidden check receives as `submission`: the student's code behind the channel."""

    def run(self, exercise: str, steps: list[dict[str, Any]], seed: int = 0,
            timeout: float | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class Ref:
    """An object bound in the worker by an earlier step, and that step's position."""

    name: str
    index: int

    def attr(self, path: str) -> dict[str, str]:
        """A method or attribute of the bound object, as a callable target."""
        return {"ref": self.name, "attr": path}


@dataclass(frozen=True)
class Step:
    """The position of a step's reading."""

    index: int


def kit(kind: str, **spec: Any) -> dict[str, Any]:
    """A kit object for an argument (grader.inside.kit.build)."""
    return {"kit": {"kind": kind, **spec}}


def placeholder(example: torch.Tensor) -> dict[str, torch.Tensor]:
    """A traced function's tensor argument: a placeholder of the graph, traced with this example."""
    return {"input": example}


def wire(value: Any) -> Any:
    """An argument as the interpreter reads it: Refs as {"ref": ...}, tuples as {"tuple": ...}."""
    if isinstance(value, Ref):
        return {"ref": value.name}
    if isinstance(value, tuple):
        return {"tuple": [wire(v) for v in value]}
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, dict) and not ({"kit", "input", "ref", "tuple"} & set(value)):
        return {k: wire(v) for k, v in value.items()}
    return value


class Scenario:
    """The steps of one request for one exercise."""

    _names = itertools.count()

    def __init__(self, exercise: str) -> None:
        self.exercise = exercise
        self.steps: list[dict[str, Any]] = []

    def _add(self, step: dict[str, Any]) -> Step:
        self.steps.append(step)
        return Step(len(self.steps) - 1)

    def _bind(self, step: dict[str, Any]) -> Ref:
        ref = Ref(f"v{next(self._names)}", len(self.steps))
        self.steps.append({**step, "as": ref.name})
        return ref

    def call(self, fn: str | dict[str, str] | Ref, *args: Any, capture: bool = False, catch: bool = False,
             optimizers_of: Ref | None = None, cuda: bool | None = None, **kwargs: Any) -> Ref:
        """Call `fn` ("module.name" of the student's code, a bound object, or a Ref's attr); bind its
        result. The step's reading is {"value": ..., "stdout": ...} (stdout when `capture`); with
        `catch`, a call that raises reads {"raised": type name} and the scenario goes on; with
        `optimizers_of`, "optimizers" lists what each optimizer made during the call was given (as
        positions in that network's parameters): the worker's word, good for advice only; with
        `cuda`, the call sees torch.cuda report a GPU there (True) or not (False)."""
        target = {"ref": fn.name} if isinstance(fn, Ref) else fn
        step = {"do": "call", "fn": target, "args": wire(list(args)), "kwargs": wire(kwargs),
                "capture": capture, "catch": catch}
        if optimizers_of is not None:
            step["optimizers_of"] = wire(optimizers_of)
        if cuda is not None:
            step["cuda"] = cuda
        return self._bind(step)

    def build(self, spec: dict[str, Any]) -> Ref:
        """Bind a kit object (`kit(...)`), to hand the same one to several steps."""
        return self._bind({"do": "kit", "make": spec["kit"]})

    def export(self, module: Ref, inputs: Sequence[Sequence[torch.Tensor]], modes: Sequence[str | None] | None = None,
               values: bool = True) -> Step:
        """Export `module`: its parameters, and its graph for each list of example inputs."""
        modes = list(modes) if modes is not None else [None] * len(inputs)
        calls = [{"inputs": list(x), "mode": m} for x, m in zip(inputs, modes)]
        return self._add({"do": "export", "target": wire(module), "calls": calls, "values": values})

    def trace(self, fn: str | dict[str, str] | Ref, *args: Any, **kwargs: Any) -> Step:
        """Export one call of `fn`; its placeholder() arguments become the graph's inputs."""
        target = {"ref": fn.name} if isinstance(fn, Ref) else fn
        return self._add({"do": "trace", "fn": target, "args": wire(list(args)), "kwargs": wire(kwargs)})

    def trace_autograd(self, fn: str | dict[str, str] | Ref, *args: Any, **kwargs: Any) -> Step:
        """Like trace, but traced above autograd: a .detach() stays in the graph (the grader's run of it
        then gives no gradient there), and torch.no_grad() in the function fails the trace."""
        target = {"ref": fn.name} if isinstance(fn, Ref) else fn
        return self._add({"do": "trace", "fn": target, "args": wire(list(args)), "kwargs": wire(kwargs),
                          "autograd": True})

    def state(self, module: Ref) -> Step:
        """Read back a module's parameters, gradients, modes, hooks and recorded calls."""
        return self._add({"do": "state", "target": wire(module)})

    def optimizer(self, optimizer: Ref, net: Ref) -> Step:
        """Read back an optimizer's class, options and parameters (as positions in net.parameters())."""
        return self._add({"do": "optimizer", "target": wire(optimizer), "net": wire(net)})

    def iterate(self, loader: Ref, limit: int | None = None, in_process: bool = False) -> Step:
        """Read back the batches an iterable gives (in_process: a DataLoader's num_workers set to 0 first)."""
        step: dict[str, Any] = {"do": "iterate", "target": wire(loader)}
        if in_process:
            step["in_process"] = True
        if limit is not None:
            step["limit"] = limit
        return self._add(step)

    def length(self, value: Ref) -> Step:
        return self._add({"do": "len", "target": wire(value)})

    def file(self, path: Ref) -> Step:
        """Read back the bytes of a file the student's code wrote (None if there is none)."""
        return self._add({"do": "file", "path": wire(path)})

    def set_grads(self, module: Ref, grads: Sequence[torch.Tensor | None]) -> None:
        self._add({"do": "grads", "target": wire(module), "grads": list(grads)})

    def advance_rng(self, n: int) -> None:
        """Draw n numbers from the worker's global generator."""
        self._add({"do": "rand", "n": n})

    def run(self, submission: Submission, seed: int = 0, timeout: float | None = None) -> Readings:
        return Readings(submission.run(self.exercise, self.steps, seed=seed, timeout=timeout))


class Readings:
    """The readings of a scenario, one per step."""

    def __init__(self, results: list[Any]) -> None:
        self.results = results

    def __getitem__(self, step: Step | Ref) -> Any:
        return self.results[step.index]

    def value(self, call: Ref) -> Any:
        """What a call returned, decoded (tuples, opaque objects)."""
        return decode(self.results[call.index]["value"])

    def stdout(self, call: Ref) -> str:
        return str(self.results[call.index].get("stdout", ""))

    def exported(self, step: Step, what: str) -> Exported:
        return Exported(self.results[step.index], what)

    def graph(self, step: Step, what: str) -> Graph:
        return graph_of(self.results[step.index], what)


@dataclass(frozen=True)
class Opaque:
    """An object the student's code returned that is not plain data: its type name, and its value when
    it is a number (numpy's) or a torch.device (`text`)."""

    type_name: str
    number: float | None = None
    text: str | None = None


def decode(value: Any) -> Any:
    """A reading back into Python values: {"tuple": [...]} to tuples, objects to Opaque."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(decode(v) for v in value["tuple"])
        if "object" in value:
            return Opaque(str(value["object"]), value.get("number"), value.get("device"))
        return {k: decode(v) for k, v in value.items()}
    return value


def graph_of(reading: Any, what: str) -> Graph:
    """A traced graph, or the failure its tracing reported as a failed check."""
    if isinstance(reading, dict) and "error" in reading:
        raise traced_failure(reading["error"], what)
    return Graph.from_wire(reading, what)


def traced_failure(error: dict[str, Any], what: str) -> Exception:
    """The exception a failed trace stands for: not started, or a check that failed with its message."""
    from grader.isolation.remote import StudentError

    if error.get("not_started") or error.get("type") != "ExportError":
        return StudentError(error)
    return Mismatch(f"{what}: {error.get('message')}")


@dataclass(frozen=True)
class Param:
    """A parameter (or buffer) of an exported module, as the worker described it."""

    index: int  # its placeholder
    name: str
    shape: tuple[int, ...]
    requires_grad: bool
    value: torch.Tensor | None


def shape_difference(have: list[tuple[int, ...]], wanted: list[tuple[int, ...]]) -> str:
    """What is extra and what is missing between two lists of shapes, for people (with a likely cause)."""
    extra, missing = Counter(have) - Counter(wanted), Counter(wanted) - Counter(have)

    def listed(shapes: Counter[tuple[int, ...]]) -> str:
        return ", ".join(f"{n} of shape {tuple(shape)}" if n > 1 else f"one of shape {tuple(shape)}"
                         for shape, n in sorted(shapes.items()))

    parts = [f"{sum(extra.values())} extra ({listed(extra)})"] if extra else []
    parts += [f"{sum(missing.values())} missing ({listed(missing)})"] if missing else []
    if extra and not missing and all(len(shape) == 1 for shape in extra):
        parts.append("a bias where none is asked for (bias=False)?")
    return "; ".join(parts)


class Exported:
    """An exported module: parameters and buffers, and one graph per call, run here."""

    def __init__(self, reading: dict[str, Any], what: str) -> None:
        self.what = what
        try:
            params = reading["params"]
            buffers = reading["buffers"]
            self._graphs = reading["graphs"]
            self.params = [Param(i, str(p["name"]), tuple(int(d) for d in p["shape"]), bool(p["requires_grad"]),
                                 p["value"] if isinstance(p.get("value"), torch.Tensor) else None)
                           for i, p in enumerate(params)]
            self.buffers = [Param(len(params) + i, str(b["name"]), tuple(int(d) for d in b["shape"]), False,
                                  b["value"] if isinstance(b.get("value"), torch.Tensor) else None)
                            for i, b in enumerate(buffers)]
            self.leaves = [bool(p.get("parameter")) and bool(p.get("leaf")) for p in params]
        except (KeyError, TypeError, ValueError):
            raise Mismatch(f"{what}: the export is malformed") from None

    @property
    def n_params(self) -> int:
        return sum(int(torch.Size(p.shape).numel()) for p in self.params)

    @property
    def param_shapes(self) -> list[tuple[int, ...]]:
        """The parameter shapes, sorted (declaration order does not matter)."""
        return sorted(p.shape for p in self.params)

    def graph(self, call: int) -> Graph:
        return graph_of(self._graphs[call], self.what)

    def error(self, call: int) -> dict[str, Any] | None:
        """The failure the call's forward reported, if it failed."""
        reading = self._graphs[call]
        return reading["error"] if isinstance(reading, dict) and "error" in reading else None

    def state(self) -> list[torch.Tensor]:
        """The parameters' and buffers' exported values (a fresh copy)."""
        missing = [p.name for p in self.params + self.buffers if p.value is None]
        expect(not missing, f"{self.what}: the export lacks the values of {', '.join(missing)}")
        return [p.value.clone() for p in self.params + self.buffers]  # type: ignore[union-attr]

    def by_shape(self, weights: Sequence[torch.Tensor], hint: str = "", call: int = 0) -> list[torch.Tensor]:
        """Parameter values in the module's order, each given weight going to the parameter of its shape.

        This loads the grader's weights without knowing attribute names or declaration order. The
        weights come in the order of their roles in the reference (for a chain of layers, the order its
        forward uses them; grader.exercises.common.role_order gives it for any network); parameters that
        share a shape (a bias of 6 in conv1 and in fc3, the batch norms of a residual block) are matched in
        the order of their roles in the student's graph (grader.grading.layers.roles), whatever order its
        statements run in."""
        return self._match(self.params, weights, "parameters", hint, call)

    def buffers_by_shape(self, values: Sequence[torch.Tensor], hint: str = "", call: int = 0) -> list[torch.Tensor]:
        """Buffer values (a batch norm's running statistics) in the module's order, matched as by_shape matches
        parameters."""
        return self._match(self.buffers, values, "buffers", hint, call)

    def _match(self, infos: list[Param], given: Sequence[torch.Tensor], kind: str, hint: str,
               call: int) -> list[torch.Tensor]:
        have, wanted = sorted(p.shape for p in infos), sorted(tuple(w.shape) for w in given)
        if have != wanted:
            raise Mismatch(f"{self.what}'s {kind} differ from what was asked for: {shape_difference(have, wanted)}"
                           f"{': ' + hint if hint else ''}")
        pool: dict[tuple[int, ...], list[torch.Tensor]] = {}
        for w in given:
            pool.setdefault(tuple(w.shape), []).append(w)
        order = [p.index for p in infos]
        if any(len(v) > 1 for v in pool.values()) and self.error(call) is None:
            from grader.grading.layers import roles

            rank = {i: r for r, i in enumerate(roles(self.graph(call), [p.shape for p in self.params + self.buffers]))}
            order.sort(key=rank.__getitem__)
        first = infos[0].index if infos else 0
        values: list[torch.Tensor | None] = [None] * len(infos)
        for i in order:
            values[i - first] = pool[infos[i - first].shape].pop(0).clone()
        return values  # type: ignore[return-value]

    def buffer_values(self) -> list[torch.Tensor]:
        missing = [b.name for b in self.buffers if b.value is None]
        expect(not missing, f"{self.what}: the export lacks its buffers")
        return [b.value.clone() for b in self.buffers]  # type: ignore[union-attr]

    def forward(self, call: int, params: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor],
                buffers: Sequence[torch.Tensor] | None = None, keep: bool = False) -> Run:
        """Run call `call`'s graph here on these parameters and inputs (buffers: the exported ones).

        The graph runs on copies of the parameters and inputs, so that an in-place operation in it cannot
        change what the grader computes its reference from afterwards; only `buffers` (running
        statistics) are changed in place, as a module's own buffers would be."""
        return self._execute(call, [p.clone() for p in params], inputs, buffers, keep)

    def _execute(self, call: int, params: list[torch.Tensor], inputs: Sequence[torch.Tensor],
                 buffers: Sequence[torch.Tensor] | None = None, keep: bool = False) -> Run:
        """forward's run on `params` themselves: only for copies the caller made and owns."""
        state = list(buffers) if buffers is not None else self.buffer_values()
        return execute(self.graph(call), [*params, *state, *(x.clone() for x in inputs)], self.what, keep=keep)

    def gradients(self, call: int, params: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor],
                  grad_out: torch.Tensor | None = None) -> list[torch.Tensor | None]:
        """d(output . grad_out)/d(parameter) for every parameter, computed here (grad_out: random when None)."""
        leaves = [p.detach().clone().requires_grad_(p.is_floating_point()) for p in params]
        output = self._execute(call, leaves, inputs).output  # the leaves are already this call's own copies
        expect(isinstance(output, torch.Tensor) and output.is_floating_point(),
               f"{self.what} did not return a floating-point tensor")
        weight = torch.randn_like(output) if grad_out is None else grad_out
        expect(output.requires_grad, f"{self.what}'s output does not depend on its parameters: "
               "is every layer used in forward, and is nothing detached?")
        used = [p for p in leaves if p.requires_grad]
        grads = iter(torch.autograd.grad((output * weight).sum(), used, allow_unused=True))
        return [next(grads) if p.requires_grad else None for p in leaves]


def not_connected(grads: Sequence[torch.Tensor | None]) -> list[int]:
    """Positions of parameters that got no finite, non-zero gradient."""
    return [i for i, g in enumerate(grads)
            if g is None or not bool(torch.isfinite(g).all()) or not bool(g.abs().sum() > 0)]

