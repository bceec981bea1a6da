"""Spot submissions that reach for the grader's or the interpreter's internals.

A flag is not a verdict: it points a person at code worth reading. The scan is static
(ast) over the student's modules, so nothing of theirs runs in the trusted process.
"""

from __future__ import annotations

import ast

SUSPICIOUS_MODULES = {
    "_pytest": "imports pytest internals",
    "pytest": "imports pytest",
    "builtins": "touches builtins",
    "ctypes": "uses ctypes",
    "signal": "uses signals",
    "subprocess": "starts processes",
    "multiprocessing": "starts processes",
    "socket": "opens sockets",
    "importlib": "imports modules dynamically",
    "inspect": "inspects the call stack",
    "gc": "walks the garbage collector",
    "shutil": "moves or deletes files",
}
# (owner, attribute): flagged when read or written, e.g. os._exit or sys.modules.
SUSPICIOUS_ATTRIBUTES = {
    ("os", "_exit"): "calls os._exit",
    ("sys", "modules"): "touches sys.modules",
    ("os", "kill"): "sends signals",
    ("os", "killpg"): "sends signals",
    ("os", "fork"): "forks processes",
    ("os", "system"): "runs shell commands",
    ("os", "exec"): "replaces the process",
    ("sys", "settrace"): "installs a tracer",
    ("sys", "setprofile"): "installs a profiler",
    ("sys", "_getframe"): "inspects the call stack",
    ("sys", "exit"): "calls sys.exit",
}
# Attributes flagged when assigned, whatever their owner: patching the checker's tools.
PATCHED_ATTRIBUTES = {
    "allclose": "patches torch.allclose",
    "assert_close": "patches torch.testing.assert_close",
    "__eq__": "overrides equality",
    "__class__": "rewrites an object's class",
    "__builtins__": "touches builtins",
    "runtest": "patches pytest's test runner",
}
SUSPICIOUS_CALLS = {"exec": "calls exec", "eval": "calls eval", "__import__": "calls __import__",
                    "compile": "compiles code at run time", "exit": "calls exit", "quit": "calls quit"}


def outside(path: str) -> bool:
    """Whether a literal path points outside the submission's folder (its own /tmp aside)."""
    return (path.startswith("/") and not path.startswith("/tmp") and "\n" not in path and len(path) > 1) or \
        path.startswith("../") or "/../" in path


def scan(source: str, filename: str) -> list[str]:
    """Reasons to look at `source` more closely, one line each, deduplicated."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError:
        return []
    found: dict[str, None] = {}
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            if node.module in ("os", "sys"):
                names += [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = []
        for name in names:
            root = name.split(".")[0]
            if root in SUSPICIOUS_MODULES:
                found[f"{filename}: {SUSPICIOUS_MODULES[root]}"] = None
            owner, _, leaf = name.rpartition(".")
            if (owner, leaf) in SUSPICIOUS_ATTRIBUTES or (owner, leaf[:4]) == ("os", "exec"):
                found[f"{filename}: {SUSPICIOUS_ATTRIBUTES.get((owner, leaf), 'replaces the process')}"] = None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            key = (node.value.id, node.attr)
            if key in SUSPICIOUS_ATTRIBUTES or (node.value.id == "os" and node.attr.startswith("exec")):
                found[f"{filename}: {SUSPICIOUS_ATTRIBUTES.get(key, 'replaces the process')}"] = None
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in PATCHED_ATTRIBUTES:
                found[f"{filename}: {PATCHED_ATTRIBUTES[target.attr]}"] = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__eq__":
            found[f"{filename}: {PATCHED_ATTRIBUTES['__eq__']}"] = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            found[f"{filename}: {SUSPICIOUS_CALLS[node.func.id]}"] = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                and outside(node.value):
            found[f"{filename}: reaches for files outside its folder ({node.value[:60]})"] = None
    return list(found)
