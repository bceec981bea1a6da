"""Realistic mistakes in solutions/residual.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

CONV1 = "self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)"
CONV2 = "self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)"
FINAL = "return F.relu(out + self.shortcut(x))"
BN1 = "        self.bn1 = nn.BatchNorm2d(out_channels)"
HEAD = "return self.fc(torch.flatten(self.pool(x), 1))"

MUTANTS = [
    Mutant("no skip connection", FINAL, "return F.relu(out)"),
    Mutant("shortcut added after the last ReLU", FINAL, "return F.relu(out) + self.shortcut(x)"),
    Mutant("no ReLU after the addition", FINAL, "return out + self.shortcut(x)"),
    Mutant("batch norm after the ReLU (seed 003 read literally)", "out = F.relu(self.bn1(self.conv1(x)))",
           "out = self.bn1(F.relu(self.conv1(x)))"),
    Mutant("stride in the second convolution", f"{CONV1}\n{BN1}\n        {CONV2}",
           f"{CONV1.replace('stride=stride', 'stride=1')}\n{BN1}\n"
           f"        {CONV2.replace('stride=1', 'stride=stride')}"),
    Mutant("convolutions with a bias", CONV1, CONV1.replace("bias=False", "bias=True")),
    Mutant("projection without batch norm",
           "nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),\n"
           "                nn.BatchNorm2d(out_channels),",
           "nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),"),
    Mutant("projection only when the channels change", "if stride != 1 or in_channels != out_channels:",
           "if in_channels != out_channels:"),
    Mutant("always a projection", "if stride != 1 or in_channels != out_channels:", "if True:"),
    Mutant("3x3 projection", "kernel_size=1, stride=stride, bias=False", "kernel_size=3, stride=stride, padding=1, "
           "bias=False"),
    Mutant("running statistics with momentum 0.01", "self.bn2 = nn.BatchNorm2d(out_channels)",
           "self.bn2 = nn.BatchNorm2d(out_channels, momentum=0.01)"),
    Mutant("no running statistics", "self.bn1 = nn.BatchNorm2d(out_channels)",
           "self.bn1 = nn.BatchNorm2d(out_channels, track_running_stats=False)"),
    Mutant("stem without batch norm", "nn.BatchNorm2d(16),\n", ""),
    Mutant("second stage without stride", "    ResidualBlock(16, 32, stride=2),\n", "    ResidualBlock(16, 32),\n"),
    Mutant("stem conv 5x5", "nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False)",
           "nn.Conv2d(in_channels, 16, kernel_size=5, padding=2, bias=False)"),
    Mutant("global max pooling", "self.pool = nn.AdaptiveAvgPool2d(1)", "self.pool = nn.AdaptiveMaxPool2d(1)"),
    Mutant("a hidden fully-connected layer", "self.fc = nn.Linear(64, num_classes)",
           "self.fc = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, num_classes))"),
    Mutant("softmax on the scores", HEAD, "return torch.softmax(self.fc(torch.flatten(self.pool(x), 1)), dim=1)"),
]
