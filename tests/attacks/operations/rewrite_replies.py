"""Attack: wrap the channel's encoder in the worker so that every failed reply says "ok", each missing
reading replaced by a zero tensor."""

import sys

import torch

protocol = sys.modules["grader.inside.protocol"]
real_encode = protocol.encode


def forged_encode(message):
    if isinstance(message, dict) and "id" in message and not message.get("ok", True):
        results = list(message.get("results") or []) + [{"value": torch.zeros(1, 6, 28, 28)}] * 64
        message = {"id": message["id"], "ok": True, "results": results}
    return real_encode(message)


protocol.encode = forged_encode
