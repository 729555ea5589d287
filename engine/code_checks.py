"""Diagram code checked when a diagram is deployed, for what the sandbox would find only when
the step runs: a call to a function it does not have."""

import ast

from .expressions import to_python
from .sandbox import BUILTINS, HELPERS


def unknown_calls(source: str, mode="eval") -> list[str]:
    """What diagram code calls that it does not have, for the deploy checks: a function by a name
    neither a built-in, a helper nor one the code defines (FEEL's `count()`, JUEL's `dateTime()`),
    or a method text has not (`"a".toUpperCase()`). Each would fail when the step runs."""
    tree = ast.parse(to_python(source) if mode == "eval" else source, mode=mode)
    defined = set(_defined(tree)) | {"print"}  # print() writes to `printed` (RestrictedPython)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Name) and called.id not in BUILTINS and called.id not in HELPERS | defined:
            found.append(f"{called.id}()")
        elif (
            isinstance(called, ast.Attribute)
            and isinstance(called.value, ast.Constant)
            and isinstance(called.value.value, str)
            and not hasattr(str, called.attr)
        ):
            found.append(f"text.{called.attr}()")
    return found


def _defined(tree):
    """The names the code binds: assigned, defined (`def`), and every function's parameters."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
