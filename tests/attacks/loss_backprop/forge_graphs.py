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


def dummy_target():
    raise NotImplementedError("not started yet")


def mse_loss(output, target):
    raise NotImplementedError("not started yet")


def cross_entropy(logits, labels):
    raise NotImplementedError("not started yet")


def compute_gradients(net, criterion, inputs, targets):
    raise NotImplementedError("not started yet")


def accumulate_gradients(net, criterion, inputs, targets, times):
    raise NotImplementedError("not started yet")


def sgd_update(parameters, lr):
    raise NotImplementedError("not started yet")


def make_optimizer(net, lr=0.01):
    raise NotImplementedError("not started yet")


def training_step(net, optimizer, criterion, inputs, targets):
    raise NotImplementedError("not started yet")


def adagrad_update(parameters, state, lr, eps=1e-10):
    raise NotImplementedError("not started yet")


def make_adagrad(net, lr=0.01):
    raise NotImplementedError("not started yet")
