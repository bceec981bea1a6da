"""Realistic mistakes in solutions/generic_net.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("fc1 hard-coded for 32x32", "self.fc1 = nn.Linear(n_size, 120)", "self.fc1 = nn.Linear(16 * 5 * 5, 120)"),
    Mutant("ReLU after the last layer", "return self.fc3(x)", "return F.relu(self.fc3(x))"),
    Mutant("summary hooks every module", "for m in model.modules() if not list(m.children())]", "for m in model.modules()]"),
    Mutant("summary leaves its hooks behind", "            handle.remove()", "            pass"),
    Mutant("summary restores modes with model.train()", "        for m, training in modes.items():\n            m.training = training",
           "        model.train()"),
]
