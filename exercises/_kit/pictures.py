"""`python exercises/kit.py train`: train your MNIST classifier and draw pictures of your own run.

Part of the kit: no need to edit. It calls your training.mnist_classifier(), then draws with your
own functions: the training curves of that run (training.save_training_curves) and, since it
costs nothing once the network is trained, the kernels of its first convolution and what they
make of one test digit (operations.save_conv1_grid). The pictures land in exercises/pictures/.
"""

from __future__ import annotations

import time

from _kit.catalog import PICTURES_DIR
from _kit.checks import CheckFailed, StudentModuleError, student
from _kit.explain import explain

CURVES = "mnist_training_curves.png"
KERNELS = "mnist_conv1_after_training.png"


def _failure(what: str, exc: BaseException) -> str:
    if isinstance(exc, StudentModuleError):
        return str(exc)
    return f"{what}: {explain(exc).text}"


def _first_conv(net):
    import torch.nn as nn

    return next((m for m in net.modules() if isinstance(m, nn.Conv2d) and m.in_channels == 1), None)


def _digit():
    """The first test digit, padded to 1x32x32 as LeNet reads it."""
    from torchvision import transforms

    from _kit.datasets import mnist

    return mnist(train=False, transform=transforms.Compose([transforms.Pad(2), transforms.ToTensor()]))[0][0]


def train_and_draw(epochs: int = 5) -> list[str]:
    """Train with the student's code, draw the pictures; return what to tell the student."""
    try:
        training = student("training")
        started = time.monotonic()
        net, history, accuracy = training.mnist_classifier(epochs=epochs)
    except (Exception, CheckFailed) as exc:
        return [_failure("training.mnist_classifier() did not finish", exc)]
    lines = [f"Your LeNet reached {accuracy:.1f} % on the 500 test digits after {epochs} epochs "
             f"({time.monotonic() - started:.0f} s, {len(history)} logged losses)."]
    PICTURES_DIR.mkdir(exist_ok=True)
    curves = PICTURES_DIR / CURVES
    try:
        training.save_training_curves(history, None, curves)
        lines.append(f"Its training curves: exercises/pictures/{CURVES}")
    except Exception as exc:
        lines.append(_failure("training.save_training_curves() could not draw them", exc))
    conv = _first_conv(net)
    if conv is None:
        return lines + ["(No convolution with one input channel in your network: no picture of conv1's kernels.)"]
    try:
        student("operations").save_conv1_grid(conv.cpu(), _digit(), PICTURES_DIR / KERNELS)
        lines.append(f"Its conv1 kernels after training, and what they make of a test digit: exercises/pictures/{KERNELS}")
    except Exception as exc:
        lines.append(_failure("operations.save_conv1_grid() could not draw conv1", exc))
    return lines
