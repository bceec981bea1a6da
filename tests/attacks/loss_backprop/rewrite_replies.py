"""Attack: wrap the channel's encoder in the worker, so that every reply says the scenario
succeeded: failures become "ok", and every missing reading is filled with a canned one (a loss of
0, None returned, an unchanged state). Nothing is implemented."""

import sys

import torch

protocol = sys.modules["grader.inside.protocol"]
real_encode = protocol.encode


def encode(message):
    if isinstance(message, dict) and "id" in message and not message.get("ok", True):
        results = list(message.get("results") or [])
        results += [{"value": torch.tensor(0.0), "stdout": ""}] * 64
        message = {"id": message["id"], "ok": True, "results": results}
    return real_encode(message)


protocol.encode = encode
