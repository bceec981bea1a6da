"""Hidden checks for lenet.py: shapes, parameters, exact forward values, any batch size."""

from __future__ import annotations

import pytest
import torch

from grader.checks import expect, expect_close, expect_equal, expect_shape
from grader.reference import solution

# Per-image (input, output) shapes of the conv and linear layers: pooling may be a module or F.max_pool2d,
# so its 6x14x14 and 16x5x5 outputs are read from what the next layer receives.
NET_SHAPES = [((1, 32, 32), (6, 28, 28)), ((6, 14, 14), (16, 10, 10)), ((400,), (120,)), ((120,), (84,)),
              ((84,), (10,))]


def random_weights(cls: str, seed: int) -> list[torch.Tensor]:
    """Fresh weights in the reference network's shapes."""
    torch.manual_seed(seed)
    return [torch.randn_like(p) * 0.2 for p in getattr(solution("lenet"), cls)().parameters()]


def reference_output(cls: str, weights: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    net = getattr(solution("lenet"), cls)()
    with torch.no_grad():
        for p, w in zip(net.parameters(), weights):
            p.copy_(w)
        return net(x)


def feature_shapes(calls: list[dict]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per-sample (input, output) shapes of the conv and linear layers that ran, in order."""
    return [(tuple(c["in_shape"][1:]), tuple(c["shape"][1:])) for c in calls
            if c["type"] in ("Conv2d", "Linear") and c["shape"] and c["in_shape"]]


@pytest.mark.points(2)
def test_net_parameters(submission):
    obs = submission.call("lenet.net_forward", cls="Net", x=torch.randn(2, 1, 32, 32), grad_out=torch.randn(2, 10))
    expect_all_used(obs, "Net")
    expect_equal(obs["n_params"], 61_706, "Net's parameter count")
    expect_equal(obs["param_shapes"], sorted(list(p.shape) for p in solution("lenet").Net().parameters()),
                 "Net's parameter shapes (sorted)")


@pytest.mark.points(2)
def test_net_output_shape(submission):
    obs = submission.call("lenet.net_forward", cls="Net", x=torch.randn(1, 1, 32, 32), grad_out=torch.randn(1, 10))
    expect_shape(obs["out"], (1, 10), "Net on one 1x32x32 image")
    expect_all_used(obs, "Net")


def expect_all_used(obs: dict, cls: str) -> None:
    """Every parameter must receive a finite, non-zero gradient: the network really computes."""
    used = obs["grads_used"]
    expect(bool(used) and all(used), f"{cls} has parameters that get no gradient from its output "
           f"({used.count(False) if used else 'all'} of {len(used or [])}): is every layer used in forward, "
           "and is nothing detached?")


@pytest.mark.points(3)
def test_net_intermediate_shapes(submission):
    obs = submission.call("lenet.net_forward", cls="Net", x=torch.randn(7, 1, 32, 32), grad_out=torch.randn(7, 10))
    expect_all_used(obs, "Net")
    got = feature_shapes(obs["calls"])
    expect(got[:1] == NET_SHAPES[:1], f"the first convolution mapped {got[0] if got else 'nothing'}, expected "
           "(1, 32, 32) -> (6, 28, 28) per image: a 5x5 kernel with padding=0 trims 2 pixels from each side")
    expect_equal(got, NET_SHAPES, "the per-image (input, output) shapes of each conv and linear layer",
                 "conv1 28x28, pool to 14x14, conv2 10x10, pool to 5x5, then 400 -> 120 -> 84 -> 10")


@pytest.mark.points(3)
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_net_any_batch_size(submission, batch):
    weights = random_weights("Net", seed=batch)
    x = torch.randn(batch, 1, 32, 32)
    obs = submission.call("lenet.net_forward", cls="Net", x=x, weights=weights)
    expect_close(obs["out"], reference_output("Net", weights, x), f"Net's scores for a batch of {batch}",
                 hint="check the layer order, the ReLUs and a flatten that keeps the batch dimension")


@pytest.mark.points(2)
def test_lenet_softmax(submission):
    weights = random_weights("LeNet", seed=5)
    x = torch.randn(5, 1, 32, 32)
    obs = submission.call("lenet.net_forward", cls="LeNet", x=x, weights=weights, args=[1, 10])
    expect_close(obs["out"].sum(dim=1), torch.ones(5), "the row sums of LeNet's output", hint="softmax over dim=1")
    expect_close(obs["out"], reference_output("LeNet", weights, x), "LeNet's probabilities")


@pytest.mark.points(2)
def test_lenet_parameters(submission):
    obs = submission.call("lenet.net_forward", cls="LeNet", x=torch.randn(2, 3, 32, 32), args=[3, 4],
                          grad_out=torch.randn(2, 4))
    expect_all_used(obs, "LeNet(3, 4)")
    expect_equal(obs["n_params"], 61_684 + 2 * 150 - 6 * 84 - 6, "LeNet(3, 4)'s parameter count")
    obs = submission.call("lenet.net_forward", cls="LeNet", x=torch.randn(2, 1, 32, 32), args=[1, 10])
    expect_equal(obs["n_params"], 61_684, "LeNet(1, 10)'s parameter count")
