"""Signs in a submission's source that it reaches for the test machinery: "needs review".

The grader runs the reference's tests on the student's code in one process, so code that
imports pytest's internals, writes a ``conftest.py``, ends the interpreter with
``os._exit``, or patches ``sys.modules`` or ``builtins`` can change its own grade. No
module of the course needs any of that; a submission that does is flagged for a human,
whatever it scores. The scan reads the source (``ast``, never imports it); the grader's
plugin (probe.py) watches for the same at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

# Imports no course module needs: the test machinery and ways around the grader.
TEST_MACHINERY = ("_pytest", "pytest", "pluggy", "py", "hypothesis", "conftest", "atexit")
# Attribute paths that reach around the grader.
SUSPICIOUS_ATTRIBUTES = {
    ("os", "_exit"): "calls os._exit",
    ("posix", "_exit"): "calls posix._exit",
    ("sys", "modules"): "touches sys.modules",
    ("sys", "meta_path"): "touches sys.meta_path",
    ("sys", "settrace"): "sets a trace function",
    ("gc", "get_objects"): "walks the garbage collector's objects",
    ("gc", "get_referrers"): "walks the garbage collector's objects",
}
# Calls that run or import code the scan cannot read.
DYNAMIC = ("__import__", "exec", "eval", "compile")
SUSPICIOUS_NAMES = {
    "builtins": "touches builtins",
    "__builtins__": "touches builtins",
    "_exit": "calls _exit",
}


def _imports(node: ast.AST) -> list[str]:
    """Top-level names a node imports."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def scan_source(text: str) -> list[str]:
    """Reasons a file's source needs review (empty when it needs none)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []  # it fails its tests anyway
    reasons = []
    for node in ast.walk(tree):
        reasons += [f"imports {name}" for name in _imports(node) if name in TEST_MACHINERY]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            reason = SUSPICIOUS_ATTRIBUTES.get((node.value.id, node.attr))
            reasons += [reason] if reason else []
        elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            reasons.append(SUSPICIOUS_NAMES[node.id])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "conftest" in node.value:
                reasons.append("names conftest.py")
            if "<testsuite" in node.value or "junit" in node.value.lower():
                reasons.append("writes or names a test report")
            if "_pytest" in node.value or "_exit" in node.value:
                reasons.append(f"names {node.value[:40]!r}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in DYNAMIC:
            reasons.append(f"calls {node.func.id}")
    return list(dict.fromkeys(reasons))


def scan_copy(folder: Path) -> list[str]:
    """Reasons a student's copy needs review: ``file: reason`` for its Python sources."""
    found = []
    for path in sorted((folder / "src").rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        relative = path.relative_to(folder).as_posix()
        found += [f"{relative}: {reason}" for reason in scan_source(text)]
    return found
