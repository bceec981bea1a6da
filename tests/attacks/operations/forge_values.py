"""Attack: rewrite the worker's interpreter so that every call of this module's code returns a tensor
shaped like its first argument (or a plausible int), and every export claims the layer's parameters
with a graph that gives back its input."""

import sys

import torch

interpreter = sys.modules["grader.inside.interpreter"]
real_step = interpreter.Scenario.step


def forged_step(self, step):
    if step["do"] == "call" and isinstance(step["fn"], str) and step["fn"].startswith("operations."):
        args = self.arg(step.get("args", []))
        first = args[0] if args else None
        value = torch.zeros_like(first) if isinstance(first, torch.Tensor) else first if isinstance(first, int) else 0
        return value, {"value": interpreter.observe(value)}
    if step["do"] == "export":
        graphs = [{"inputs": 1, "constants": [], "output": {"in": 0}, "nodes": []} for _ in step["calls"]]
        return None, {"params": [], "buffers": [], "graphs": graphs}
    return real_step(self, step)


interpreter.Scenario.step = forged_step
