"""Realistic mistakes in solutions/loss_backprop.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("SGD update rebinds instead of updating", "                p.sub_(lr * p.grad)", "                p = p - lr * p.grad"),
    Mutant("optimizer with momentum", "return optim.SGD(net.parameters(), lr=lr)", "return optim.SGD(net.parameters(), lr=lr, momentum=0.9)"),
    Mutant("training step returns the tensor", "    optimizer.step()\n    return loss.item()", "    optimizer.step()\n    return loss"),
]
