"""Realistic mistakes applied to the reference solutions; each must lose points.

Run `python tests/mutants.py` for the kill-rate table; tests/test_mutants.py asserts it is 100 %.
Each mutant is (exercise, description, old text, new text): the old text must occur exactly once
in solutions/<module>.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import registry, sandbox  # noqa: E402
from grader.engine import grade_class  # noqa: E402
from grader.paths import SOLUTIONS  # noqa: E402
from grader.options import GradeOptions  # noqa: E402


@dataclass(frozen=True)
class Mutant:
    exercise: str
    description: str
    old: str
    new: str

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.description.lower())[:60]

    def apply(self) -> str:
        module = registry.by_id(self.exercise).module
        source = (SOLUTIONS / module).read_text(encoding="utf-8")
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.exercise}: {self.description!r}: the old text occurs {count} times")
        return source.replace(self.old, self.new)


MUTANTS = [
    Mutant("lenet", "conv1 kernel 3 instead of 5", "nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=3)"),
    Mutant("lenet", "conv2 with padding 1", "nn.Conv2d(6, 16, kernel_size=5)", "nn.Conv2d(6, 16, kernel_size=5, padding=1)"),
    Mutant("lenet", "missing ReLU after conv1", "x = self.pool(F.relu(self.conv1(x)))", "x = self.pool(self.conv1(x))"),
    Mutant("lenet", "flatten that breaks for batch > 1", "x = torch.flatten(x, 1)", "x = x.view(1, -1)"),
    Mutant("lenet", "softmax over the wrong dim", "torch.softmax(self.classifier(self.features(x)), dim=1)",
           "torch.softmax(self.classifier(self.features(x)), dim=0)"),
    Mutant("lenet", "conv2 with 12 channels", "nn.Conv2d(6, 16, kernel_size=5, bias=False),\n            nn.ReLU()",
           "nn.Conv2d(6, 12, kernel_size=5, bias=False),\n            nn.Conv2d(12, 16, kernel_size=1, bias=False),\n            nn.ReLU()"),
    Mutant("lenet", "pool stride 1", "self.pool = nn.MaxPool2d(kernel_size=2, stride=2)",
           "self.pool = nn.MaxPool2d(kernel_size=2, stride=1)"),
    Mutant("generic_net", "fc1 hard-coded for 32x32", "self.fc1 = nn.Linear(n_size, 120)", "self.fc1 = nn.Linear(16 * 5 * 5, 120)"),
    Mutant("generic_net", "ReLU after the last layer", "return self.fc3(x)", "return F.relu(self.fc3(x))"),
    Mutant("generic_net", "summary hooks every module", "for m in model.modules() if not list(m.children())]", "for m in model.modules()]"),
    Mutant("loss_backprop", "SGD update rebinds instead of updating", "                p.sub_(lr * p.grad)", "                p = p - lr * p.grad"),
    Mutant("loss_backprop", "optimizer with momentum", "return optim.SGD(net.parameters(), lr=lr)", "return optim.SGD(net.parameters(), lr=lr, momentum=0.9)"),
    Mutant("loss_backprop", "training step returns the tensor", "    optimizer.step()\n    return loss.item()", "    optimizer.step()\n    return loss"),
    Mutant("data_loading", "unnormalize in place", "    return img / 2 + 0.5", "    return img.mul_(0.5).add_(0.5)"),
    Mutant("data_loading", "constant shuffle seed", "torch.Generator().manual_seed(seed) if seed is not None else None", "torch.Generator().manual_seed(0)"),
    Mutant("data_loading", "drops the last batch", "num_workers=0, generator=generator)", "num_workers=0, generator=generator, drop_last=True)"),
    Mutant("training", "missing zero_grad", "            optimizer.zero_grad()\n            outputs = net(inputs)",
           "            outputs = net(inputs)"),
    Mutant("training", "missing optimizer step", "            loss.backward()\n            optimizer.step()\n            running_loss",
           "            loss.backward()\n            running_loss"),
    Mutant("training", "missing backward", "            loss = criterion(outputs, labels)\n            loss.backward()\n",
           "            loss = criterion(outputs, labels)\n"),
    Mutant("training", "accuracy without eval", "    net.to(device)\n    net.eval()\n    correct = 0",
           "    net.to(device)\n    correct = 0"),
    Mutant("training", "accuracy without no_grad",
           "    with torch.no_grad():\n        for inputs, labels in loader:\n            inputs, labels = inputs.to(device), labels.to(device)\n            predicted = net(inputs).argmax(dim=1)\n            correct",
           "    if True:\n        for inputs, labels in loader:\n            inputs, labels = inputs.to(device), labels.to(device)\n            predicted = net(inputs).argmax(dim=1)\n            correct"),
    Mutant("training", "argmax over the wrong dim",
           "            predicted = net(inputs).argmax(dim=1)\n            correct += (predicted == labels).sum().item()",
           "            predicted = net(inputs).argmax(dim=0)\n            correct += (predicted == labels).sum().item()"),
    Mutant("training", "running loss not reset", "                history.append(running_loss / log_every)\n                running_loss = 0.0",
           "                history.append(running_loss / log_every)"),
    Mutant("transfer", "freezes linear layers too", "        if isinstance(module, nn.Conv2d):", "        if isinstance(module, (nn.Conv2d, nn.Linear)):"),
    Mutant("transfer", "optimizer over all parameters", "torch.optim.SGD(trainable_parameters(net), lr=lr, momentum=0.9)",
           "torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)"),
    Mutant("transfer", "never freezes", "    net.train()\n    freeze_features(net)\n", "    net.train()\n"),
    Mutant("transfer", "sum instead of mean loss", "        losses.append(total / batches)", "        losses.append(total)"),
    Mutant('operations', 'conv1 padding2', 'return nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=0, bias=False)', 'return nn.Conv2d(1, 6, 5, padding=2, bias=False)'),
    Mutant('operations', 'same padding swapped', 'kernel_size=(5, 3), padding=(2, 1))', 'kernel_size=(5, 3), padding=(1, 2))'),
    Mutant('operations', 'set weights no bias', '        if bias is not None and conv.bias is not None:\n            conv.bias.copy_(bias)', '        pass'),
    Mutant('operations', 'output size padding once', 'return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1', 'return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1'),
    Mutant('operations', 'relu leaky', 'return F.relu(x)', 'return F.leaky_relu(x, 0.01)'),
    Mutant('operations', 'overlap pool zero padding', 'return nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))', 'return nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))'),
    Mutant('operations', 'min pool zero pad', 'return -F.max_pool2d(-x, kernel_size=kernel_size, stride=stride, padding=padding)', 'p = (padding, padding) * 2 if isinstance(padding, int) else (padding[1], padding[1], padding[0], padding[0])\n    return -F.max_pool2d(-F.pad(x, p), kernel_size=kernel_size, stride=stride)'),
    Mutant('operations', 'bn eps 1e-3', 'return nn.BatchNorm2d(num_features=num_features)', 'return nn.BatchNorm2d(num_features, eps=1e-3)'),
    Mutant('operations', 'skip order swapped', 'return torch.cat((x, y), dim=1)', 'return torch.cat((y, x), dim=1)'),
    Mutant('operations', 'flatten view 60', 'return torch.flatten(x, start_dim=1)', 'return x.view(-1, 60)'),
    Mutant('operations', 'count trainable only', 'return sum(p.numel() for p in module.parameters())', 'return sum(p.numel() for p in module.parameters() if p.requires_grad)'),
    Mutant('operations', 'grid maps without bias', 'maps = conv(image.unsqueeze(0))[0]', 'maps = F.conv2d(image.unsqueeze(0), conv.weight)[0]'),
    Mutant('operations', 'grid returns activated maps', 'maps = conv(image.unsqueeze(0))[0]', 'maps = F.relu(conv(image.unsqueeze(0)))[0]'),
    Mutant('operations', 'grid never saved', '    fig.savefig(path, format="png")\n    return maps', '    return maps'),
    Mutant('operations', 'dropout scale times', 'return nn.Dropout(p=p)', 'class D(nn.Module):\n        def forward(self, x):\n            if not self.training:\n                return x\n            return x * (torch.rand_like(x) >= p) * (1 - p)\n    return D()'),
    Mutant('from_scratch', 'neuron torch sigmoid', '    z = x @ w + b\n    return 1 / (1 + torch.exp(-z))', '    return torch.sigmoid(x @ w + b)'),
    Mutant('from_scratch', 'conv flipped kernel', 'torch.einsum("ncijuv,ocuv->noij", windows, weight)', 'torch.einsum("ncijuv,ocuv->noij", windows, weight.flip(-1, -2))'),
    Mutant('from_scratch', 'conv pad order wrong', 'x = F.pad(x, (pw, pw, ph, ph))', 'x = F.pad(x, (ph, ph, pw, pw))'),
    Mutant('from_scratch', 'pool default stride 1', '    if stride is None:\n        sh, sw = kh, kw', '    if stride is None:\n        sh, sw = 1, 1'),
    Mutant('from_scratch', 'bn unbiased var', '    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)', '    var = x.var(dim=dims, keepdim=True)'),
    Mutant('from_scratch', 'bn eps outside sqrt', '    y = (x - mean) / torch.sqrt(var + eps)', '    y = (x - mean) / (torch.sqrt(var) + eps)'),
    Mutant('from_scratch', 'dropout no scaling', '    return x * keep / (1 - p)', '    return x * keep'),
]


# The two long training runs are left out: a mutant that loses points without them loses them with them.
SLOW = ("test_mnist_training_reaches_95", "test_transfer_digits")


def run(mutants: list[Mutant] = MUTANTS, jobs: int = 2) -> list[tuple[Mutant, float, float]]:
    """Grade every mutant with its exercise's hidden tests; return (mutant, score, maximum)."""
    isolation = sandbox.choose("auto")
    results: list[tuple[Mutant, float, float]] = []
    by_exercise: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_exercise.setdefault(mutant.exercise, []).append(mutant)
    with tempfile.TemporaryDirectory(prefix="cnnkit-mutants-") as tmp:
        for exercise, group in by_exercise.items():
            module = registry.by_id(exercise).module
            folder = Path(tmp) / exercise
            for mutant in group:
                (folder / mutant.slug).mkdir(parents=True)
                (folder / mutant.slug / module).write_text(mutant.apply(), encoding="utf-8")
            options = GradeOptions(isolation=isolation, exercises=(exercise,), keyword=f"not ({' or '.join(SLOW)})")
            report = grade_class(folder, options, jobs=jobs)
            scores = {r.student: r for r in report.results}
            results += [(m, scores[m.slug].score, scores[m.slug].max_score) for m in group]
    return results


def main() -> None:
    results = run()
    killed = sum(score < maximum for _, score, maximum in results)
    for mutant, score, maximum in results:
        print(f"{'killed ' if score < maximum else 'SURVIVED'} {score:>5g}/{maximum:<4g} {mutant.exercise:14} {mutant.description}")
    print(f"kill rate: {killed}/{len(results)} = {100 * killed / len(results):.0f} %")


if __name__ == "__main__":
    main()
