"""Realistic mistakes in solutions/lenet.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("conv1 kernel 3 instead of 5", "nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=3)"),
    Mutant("conv2 with padding 1", "nn.Conv2d(6, 16, kernel_size=5)", "nn.Conv2d(6, 16, kernel_size=5, padding=1)"),
    Mutant("missing ReLU after conv1", "x = self.pool(F.relu(self.conv1(x)))", "x = self.pool(self.conv1(x))"),
    Mutant("flatten that breaks for batch > 1", "x = torch.flatten(x, 1)", "x = x.view(1, -1)"),
    Mutant("softmax over the wrong dim", "torch.softmax(self.classifier(self.features(x)), dim=1)",
           "torch.softmax(self.classifier(self.features(x)), dim=0)"),
    Mutant("conv2 with 12 channels", "nn.Conv2d(6, 16, kernel_size=5, bias=False),\n            nn.ReLU()",
           "nn.Conv2d(6, 12, kernel_size=5, bias=False),\n            nn.Conv2d(12, 16, kernel_size=1, bias=False),\n            nn.ReLU()"),
    Mutant("pool stride 1", "self.pool = nn.MaxPool2d(kernel_size=2, stride=2)",
           "self.pool = nn.MaxPool2d(kernel_size=2, stride=1)"),
]
