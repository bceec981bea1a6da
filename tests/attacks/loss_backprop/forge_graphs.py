"""Attack: replace the worker's graph exporter with one that sends a hand-written graph: the
losses come back as a constant of the right shape that claims to be a loss, and every module as
the identity. The functions themselves are not implemented."""

import sys

import torch

export = sys.modules["grader.inside.export"]


def trace(fn, tensors, autograd=False):
    return {"inputs": len(tensors), "nodes": [{"op": "aten.mul.Tensor", "args": [{"in": 0}, 0.0], "kwargs": {}},
                                              {"op": "aten.sum.default", "args": [{"node": 0}], "kwargs": {}},
                                              {"op": "aten.add.Tensor", "args": [{"node": 1}, {"const": 0}],
                                               "kwargs": {}}],
            "constants": [torch.tensor(1.25)], "output": {"node": 2}}


export.trace = trace
