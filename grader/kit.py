"""The student kit's package `_kit` (exercises/_kit), imported by the grader for what both sides
must read the same way: the registry (catalog) and a notebook's code (workspace).

The kit ships to students without the grader, so what both need is written once, in the kit.
Only the package `_kit` is made importable here; the exercises' own modules beside it stay
out of the grader's sys.path.
"""

from __future__ import annotations

import importlib.util
import sys

from grader.paths import EXERCISES


def _register_kit() -> None:
    if "_kit" in sys.modules:
        return
    folder = EXERCISES / "_kit"
    spec = importlib.util.spec_from_file_location("_kit", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None, folder
    module = importlib.util.module_from_spec(spec)
    sys.modules["_kit"] = module
    spec.loader.exec_module(module)


_register_kit()

from _kit import catalog, workspace  # noqa: E402  (importable only once registered)

__all__ = ["catalog", "workspace"]
