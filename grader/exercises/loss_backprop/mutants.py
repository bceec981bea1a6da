"""Realistic mistakes in solutions/loss_backprop.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("MSE loss detached from the graph", "    return criterion(output, target)",
           "    return criterion(output, target).detach()"),
    Mutant("MSE loss under no_grad", "    criterion = nn.MSELoss()\n    return criterion(output, target)",
           "    criterion = nn.MSELoss()\n    with torch.no_grad():\n        return criterion(output, target)"),
    Mutant("MSE loss summed instead of averaged", "criterion = nn.MSELoss()", "criterion = nn.MSELoss(reduction=\"sum\")"),
    Mutant("cross-entropy as log(softmax) by hand", "    criterion = nn.CrossEntropyLoss()\n    return criterion(logits, labels)",
           "    return nn.NLLLoss()(torch.log(torch.softmax(logits, dim=1)), labels)"),
    Mutant("compute_gradients keeps the old gradients",
           "    net.zero_grad()\n    loss = criterion(net(inputs), targets)\n    loss.backward()\n    return loss",
           "    loss = criterion(net(inputs), targets)\n    loss.backward()\n    return loss"),
    Mutant("accumulate_gradients clears before every backward",
           "    net.zero_grad()\n    for _ in range(times):\n        loss",
           "    for _ in range(times):\n        net.zero_grad()\n        loss"),
    Mutant("SGD update rebinds instead of updating", "                p.sub_(lr * p.grad)", "                p = p - lr * p.grad"),
    Mutant("optimizer with momentum", "return optim.SGD(net.parameters(), lr=lr)", "return optim.SGD(net.parameters(), lr=lr, momentum=0.9)"),
    Mutant("training step without zero_grad", "    optimizer.zero_grad()\n    loss = criterion(net(inputs), targets)",
           "    loss = criterion(net(inputs), targets)"),
    Mutant("training step returns the tensor", "    optimizer.step()\n    return loss.item()", "    optimizer.step()\n    return loss"),
    Mutant("Adagrad: eps inside the square root", "p -= lr * p.grad / (state[i].sqrt() + eps)",
           "p -= lr * p.grad / (state[i] + eps).sqrt()"),
    Mutant("Adagrad: no square root", "p -= lr * p.grad / (state[i].sqrt() + eps)", "p -= lr * p.grad / (state[i] + eps)"),
    Mutant("Adagrad: no accumulation", "state[i] += p.grad * p.grad", "state[i] = p.grad * p.grad"),
    Mutant("Adagrad: accumulates the gradient, not its square", "state[i] += p.grad * p.grad", "state[i] += p.grad.abs()"),
    Mutant("Adagrad: state restarts at every call", "            if i not in state:\n", "            if True:\n"),
    Mutant("Adagrad optimizer ignores lr", "return optim.Adagrad(net.parameters(), lr=lr)", "return optim.Adagrad(net.parameters())"),
    Mutant("Adagrad optimizer with lr decay", "return optim.Adagrad(net.parameters(), lr=lr)",
           "return optim.Adagrad(net.parameters(), lr=lr, lr_decay=0.1)"),
]
