"""Realistic mistakes in solutions/transfer.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("freezes linear layers too", "        if isinstance(module, nn.Conv2d):", "        if isinstance(module, (nn.Conv2d, nn.Linear)):"),
    Mutant("optimizer over all parameters", "torch.optim.SGD(trainable_parameters(net), lr=lr, momentum=0.9)",
           "torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)", advisory=True),
    Mutant("never freezes", "    net.train()\n    freeze_features(net)\n", "    net.train()\n"),
    Mutant("sum instead of mean loss", "        losses.append(total / batches)", "        losses.append(total)"),
    Mutant("retrains without net.train()", "    net.to(device)\n    net.train()\n    freeze_features(net)\n",
           "    net.to(device)\n    freeze_features(net)\n"),
]
