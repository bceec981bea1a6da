"""Attack: wrap the channel's encoder in the worker so that every failed reply (the stub raises
NotImplementedError everywhere) says "ok", each missing reading an export without parameters whose
graphs all return relu(input): a block that is nothing but its skip."""

import sys

protocol = sys.modules["grader.inside.protocol"]
real_encode = protocol.encode
SKIP_ONLY = {"inputs": 1, "constants": [], "output": {"node": 0},
             "nodes": [{"op": "aten.relu.default", "args": [{"in": 0}], "kwargs": {}}]}


def forged_encode(message):
    if isinstance(message, dict) and "id" in message and not message.get("ok", True):
        reading = {"params": [], "buffers": [], "graphs": [SKIP_ONLY] * 4, "value": None}
        message = {"id": message["id"], "ok": True, "results": list(message.get("results") or []) + [reading] * 8}
    return real_encode(message)


protocol.encode = forged_encode
