"""Realistic mistakes in solutions/training.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("missing zero_grad", "            optimizer.zero_grad()\n            outputs = net(inputs)",
           "            outputs = net(inputs)"),
    Mutant("missing optimizer step", "            loss.backward()\n            optimizer.step()\n            running_loss",
           "            loss.backward()\n            running_loss"),
    Mutant("missing backward", "            loss = criterion(outputs, labels)\n            loss.backward()\n",
           "            loss = criterion(outputs, labels)\n"),
    Mutant("accuracy without eval", "    net.to(device)\n    net.eval()\n    correct = 0",
           "    net.to(device)\n    correct = 0"),
    Mutant("accuracy without no_grad",
           "    with torch.no_grad():\n        for inputs, labels in loader:\n            inputs, labels = inputs.to(device), labels.to(device)\n            predicted = net(inputs).argmax(dim=1)\n            correct",
           "    if True:\n        for inputs, labels in loader:\n            inputs, labels = inputs.to(device), labels.to(device)\n            predicted = net(inputs).argmax(dim=1)\n            correct"),
    Mutant("argmax over the wrong dim",
           "            predicted = net(inputs).argmax(dim=1)\n            correct += (predicted == labels).sum().item()",
           "            predicted = net(inputs).argmax(dim=0)\n            correct += (predicted == labels).sum().item()"),
    Mutant("running loss not reset", "                history.append(running_loss / log_every)\n                running_loss = 0.0",
           "                history.append(running_loss / log_every)"),
]
