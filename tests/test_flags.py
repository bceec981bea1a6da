"""Static flags point at code that reaches for the grader's or interpreter's internals."""

from __future__ import annotations

import pytest

from grader import registry
from grader.grading import static_flags as flags
from grader.paths import SOLUTIONS


@pytest.mark.parametrize("source, reason", [
    ("import _pytest.python\n", "imports pytest internals"),
    ("import sys\nsys.modules['torch'] = None\n", "touches sys.modules"),
    ("import os\nos._exit(0)\n", "calls os._exit"),
    ("from os import _exit\n", "calls os._exit"),
    ("import signal\n", "uses signals"),
    ("import builtins\n", "touches builtins"),
    ("import torch\ntorch.allclose = lambda *a, **k: True\n", "patches torch.allclose"),
    ("class T:\n    def __eq__(self, other):\n        return True\n", "overrides equality"),
    ("open('/work/main/solutions/lenet.py').read()\n", "reaches for files outside its folder"),
    ("open('../other/lenet.py')\n", "reaches for files outside its folder"),
    ("import glob\nglob.glob('/work/*/solutions/*.py')\n", "reaches for files outside its folder"),
    ("exec('print(1)')\n", "calls exec"),
    ("import os\nos.execv('/bin/sh', ['sh'])\n", "replaces the process"),
])
def test_suspicious_code_is_flagged(source, reason):
    assert any(reason in flag for flag in flags.scan(source, "lenet.py"))


@pytest.mark.parametrize("module", registry.student_modules())
def test_reference_solutions_raise_no_flag(module):
    assert flags.scan((SOLUTIONS / module).read_text(), module) == []


def test_ordinary_torch_code_is_not_flagged():
    source = "import torch.nn as nn\nnet = nn.Sequential()\nfor m in net.modules():\n    m.eval()\n"
    assert flags.scan(source, "lenet.py") == []


def test_syntax_errors_are_not_flags():
    assert flags.scan("def (:\n", "lenet.py") == []
