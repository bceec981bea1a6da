"""Attack: wrap the channel's encoder in the worker, so that every failed reply says the scenario
succeeded, its missing readings filled with canned ones (a blank image tensor). Nothing is
implemented."""

import sys

import torch

protocol = sys.modules["grader.inside.protocol"]
real_encode = protocol.encode


def encode(message):
    if isinstance(message, dict) and "id" in message and not message.get("ok", True):
        results = list(message.get("results") or [])
        results += [{"value": -torch.ones(1, 32, 32), "stdout": ""}] * 64
        message = {"id": message["id"], "ok": True, "results": results}
    return real_encode(message)


protocol.encode = encode
