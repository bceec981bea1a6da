"""Shared fixtures of the hidden suites (trusted code, never shown to a sandbox)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from grader.grading import plugin
from grader.grading.secret import Draw, derive


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> Draw:
    """This test's inputs, weights and seeds: drawn from the run's secret and the test's name."""
    return Draw(plugin.secret_of(request.config), request.node.nodeid)


@pytest.fixture
def seen_labels(request: pytest.FixtureRequest) -> torch.Tensor:
    """seen_labels[d]: the label the submission's code sees on digit d (the run's secret relabelling)."""
    return torch.tensor(plugin.labels_of(request.config))


@pytest.fixture
def advise(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Leave feedback worth no points on this test's record: a habit only the worker could see."""
    return lambda message: plugin.advise(request.node, message)


@pytest.fixture(autouse=True)
def _secret_global_seed(request: pytest.FixtureRequest) -> None:
    """Whatever a test draws from torch's global generator is secret too."""
    torch.manual_seed(derive(plugin.secret_of(request.config), request.node.nodeid + "/global"))
