"""The trusted rebuild of exported graphs: a graph is untrusted data. It runs only whitelisted ATen
operations, within bounds of size, cost and time, and computes what the exported code computed."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.grading import graphs
from grader.grading.graphs import Graph, GraphRefused, execute
from grader.grading.layers import layers
from grader.inside.export import ExportError, trace


def graph(nodes: list[dict], output: object, inputs: int = 0, constants: tuple = ()) -> Graph:
    return Graph.from_wire({"inputs": inputs, "nodes": nodes, "constants": list(constants), "output": output}, "g")


def node(op: str, *args: object, **kwargs: object) -> dict:
    return {"op": op, "args": list(args), "kwargs": kwargs}


@pytest.mark.parametrize("fn, shapes", [
    (lambda x: F.max_pool2d(F.relu(x), 2), [(2, 3, 8, 8)]),
    (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 9, 9), (4, 3, 3, 3), (4,)]),
    (lambda x: torch.softmax(x.flatten(1) @ torch.ones(12, 5), dim=1), [(3, 3, 2, 2)]),
    (lambda x: F.batch_norm(x, None, None, training=True), [(4, 2, 3, 3)]),
    (lambda x: x.unfold(2, 2, 1).unfold(3, 2, 1).amax(dim=(-2, -1)), [(1, 2, 5, 5)]),
])
def test_a_rebuilt_graph_computes_what_the_code_computed_on_new_inputs(fn, shapes):
    exported = trace(fn, [torch.randn(s) for s in shapes])
    fresh = [torch.randn(s) for s in shapes]
    got = execute(Graph.from_wire(exported, "fn"), [t.clone() for t in fresh], "fn").output
    torch.testing.assert_close(got, fn(*fresh))


def test_a_module_traced_with_its_parameters_as_placeholders_runs_with_the_graders_weights():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    params = list(net.parameters())
    exported = Graph.from_wire(trace(lambda *flat: net(flat[-1]), [*params, torch.randn(2, 1, 6, 6)]), "net")
    weights, x = [torch.randn_like(p) for p in params], torch.randn(5, 1, 6, 6)  # another batch size is refused below
    with torch.no_grad():
        for p, w in zip(params, weights):
            p.copy_(w)
        with pytest.raises(GraphRefused):  # shapes are baked into the graph: a batch of 5 cannot go through view(2, -1)
            execute(exported, [*weights, x], "net")
        x = torch.randn(2, 1, 6, 6)
        torch.testing.assert_close(execute(exported, [*weights, x], "net").output, net(x))


def test_layers_are_read_off_the_graders_own_run():
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10))
    params = list(net.parameters())
    x = torch.randn(3, 1, 32, 32)
    exported = Graph.from_wire(trace(lambda *flat: net(flat[-1]), [*params, x]), "net")
    inputs = [p.detach() for p in params] + [x]
    run = execute(exported, inputs, "net", keep=True)
    found = [(layer.kind, layer.in_shape, layer.out_shape) for layer in layers(exported, run, inputs, len(params))]
    assert ("conv", (3, 1, 32, 32), (3, 6, 28, 28)) in found
    assert ("max_pool", (3, 6, 28, 28), (3, 6, 14, 14)) in found
    assert ("linear", (3, 6 * 14 * 14), (3, 10)) in found


class _Block(nn.Module):
    """A residual block whose parameters and buffers share shapes: conv-BN-ReLU-conv-BN plus a projection."""

    def __init__(self, shortcut_first: bool) -> None:
        super().__init__()
        self.shortcut_first = shortcut_first
        if shortcut_first:  # declared in another order too
            self.skip = nn.Sequential(nn.Conv2d(3, 4, 1, 2, bias=False), nn.BatchNorm2d(4))
        self.convs = nn.ModuleList([nn.Conv2d(3, 4, 3, 2, 1, bias=False), nn.Conv2d(4, 4, 3, 1, 1, bias=False)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(4), nn.BatchNorm2d(4)])
        if not shortcut_first:
            self.skip = nn.Sequential(nn.Conv2d(3, 4, 1, 2, bias=False), nn.BatchNorm2d(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(x) if self.shortcut_first else None
        y = self.norms[1](self.convs[1](F.relu(self.norms[0](self.convs[0](x)))))
        return F.relu(y + (skip if skip is not None else self.skip(x)))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_state_that_shares_a_shape_is_matched_by_its_role_not_by_statement_order(mode):
    from grader.exercises.common import role_order
    from grader.grading.scenario import Exported
    from grader.inside.export import export_module

    reference, student, x = _Block(shortcut_first=False), _Block(shortcut_first=True), torch.randn(5, 3, 7, 9)
    exported = Exported(export_module(student, [{"inputs": [x], "mode": mode}], True, lambda exc: {}), "block")
    weights = [torch.randn(p.shape) for p in reference.parameters()]
    stats = [torch.rand(b.shape) + 0.5 if b.is_floating_point() else b.clone() for b in reference.buffers()]
    params, buffers = role_order(reference, x, mode)
    got = exported.forward(0, exported.by_shape([weights[i] for i in params]), [x],
                           buffers=exported.buffers_by_shape([stats[i] for i in buffers])).output
    with torch.no_grad():
        for p, w in zip(reference.parameters(), weights):
            p.copy_(w)
        for b, v in zip(reference.buffers(), stats):
            b.copy_(v)
        reference.train(mode == "train")
        torch.testing.assert_close(got, reference(x))


@pytest.mark.parametrize("bad, reason", [
    (node("aten.from_file.default", "/etc/passwd"), "does not run"),
    (node("os.system", "true"), "does not run"),
    (node("aten.add.Tensor", {"node": 5}, 1), "malformed"),
    (node("aten.add.Tensor", {"in": 3}, 1), "malformed"),
    (node("aten.add.Tensor", {"const": 0}, 1), "malformed"),
    ("not a node", "malformed"),
])
def test_unknown_operations_and_bad_references_are_refused_before_anything_runs(bad, reason):
    with pytest.raises(GraphRefused, match=reason):
        graph([bad], {"node": 0}, inputs=1)


@pytest.mark.parametrize("nodes, reason", [
    ([node("aten.zeros.default", [100_000, 100_000])], "more than the grader allows"),
    ([node("aten.empty.memory_format", [1 << 20, 1 << 10])], "more than the grader allows"),
    ([node("aten.ones.default", [8000, 8000]), node("aten.mm.default", {"node": 0}, {"node": 0})], "cost"),
    ([node("aten.arange.default", 1 << 40)], "more than the grader allows"),
])
def test_a_graph_cannot_exhaust_the_graders_memory_or_time(nodes, reason):
    with pytest.raises(GraphRefused, match=reason):
        execute(graph(nodes, {"node": len(nodes) - 1}), [], "g")


def test_factories_are_sized_on_the_meta_device_whatever_device_they_name():
    big = graph([node("aten.zeros.default", [1 << 20, 1 << 10], device={"device": "cuda"})], {"node": 0})
    with pytest.raises(GraphRefused):
        execute(big, [], "g")


def test_all_graph_runs_of_a_submission_share_one_time_budget():
    slow = graph([node("aten.relu.default", {"in": 0})], {"node": 0}, inputs=1)
    with graphs.submission_budget(0.0):
        with pytest.raises(GraphRefused, match="too long"):
            execute(slow, [torch.randn(3)], "g")
    assert execute(slow, [torch.randn(3)], "g").output.shape == (3,)


def test_keyword_arguments_are_a_mapping_of_names_not_an_encoded_value():
    cloned = graph([node("aten.clone.default", {"in": 0}, memory_format={"memory_format": "contiguous_format"})],
                   {"node": 0}, inputs=1)
    x = torch.randn(4, 3).t()
    assert execute(cloned, [x], "g").output.is_contiguous()


def test_code_that_reads_tensor_values_into_python_is_told_so():
    with pytest.raises(ExportError, match="reads values out of tensors"):
        trace(lambda x: x * float(x.sum()), [torch.randn(3)])
