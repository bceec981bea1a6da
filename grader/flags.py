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
SUSPICIOUS_ATTRIBUTES = {
    "_exit": "calls os._exit",
    "modules": "touches sys.modules",
    "kill": "sends signals",
    "fork": "forks processes",
    "system": "runs shell commands",
    "settrace": "installs a tracer",
    "setprofile": "installs a profiler",
    "_getframe": "inspects the call stack",
    "__builtins__": "touches builtins",
    "__class__": "rewrites an object's class",
    "__eq__": "overrides equality",
    "allclose": "touches torch.allclose",
    "assert_close": "touches torch.testing.assert_close",
}
SUSPICIOUS_CALLS = {"exec": "calls exec", "eval": "calls eval", "__import__": "calls __import__",
                    "compile": "compiles code at run time", "exit": "calls exit", "quit": "calls quit"}


def scan(source: str, filename: str) -> list[str]:
    """Reasons to look at `source` more closely, one line each, deduplicated."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError:
        return []
    found: dict[str, None] = {}
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
            leaf = name.rsplit(".", 1)[-1]
            if "." in name and leaf in SUSPICIOUS_ATTRIBUTES:
                found[f"{filename}: {SUSPICIOUS_ATTRIBUTES[leaf]}"] = None
        if isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
            found[f"{filename}: {SUSPICIOUS_ATTRIBUTES[node.attr]}"] = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__eq__":
            found[f"{filename}: {SUSPICIOUS_ATTRIBUTES['__eq__']}"] = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            found[f"{filename}: {SUSPICIOUS_CALLS[node.func.id]}"] = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and (
                first.value.startswith("/") or ".." in first.value
            ):
                found[f"{filename}: opens a file outside its folder ({first.value[:60]})"] = None
    return list(found)
