"""Attack: wrap the channel's encoder in the worker so that every failed reply (the stub raises
NotImplementedError everywhere) says "ok", with canned readings in place of the missing ones."""

import sys

protocol = sys.modules["grader.inside.protocol"]
real_encode = protocol.encode


def forged_encode(message):
    if isinstance(message, dict) and "id" in message and not message.get("ok", True):
        canned = {"params": [], "buffers": [], "graphs": [], "value": None}
        message = {"id": message["id"], "ok": True, "results": list(message.get("results") or []) + [canned] * 16}
    return real_encode(message)


protocol.encode = forged_encode
