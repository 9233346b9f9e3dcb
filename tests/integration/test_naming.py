"""One name for one thing: op objects are ``<op>_op``, gradient rules ``<op>_backward`` (with a
leading underscore when private), and a
trailing underscore marks a function that changes its argument in place (PyTorch's
``zeros_``), never a name that would shadow a builtin (``sum_``)."""

import ast
from pathlib import Path

import pytest

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("packages/*/src/**/*.py"))

# The functions that change their argument in place, the only names with a trailing underscore.
IN_PLACE = {"clip_grad_norm_", "normal_", "zeros_"}


def _registered(tree: ast.Module) -> list[tuple[str, str, str]]:
    """(decorator, op name, function name) of each ``@register_op``/``@register_rule`` def."""
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name)):
                continue
            if deco.func.id in ("register_op", "register_rule") and deco.args:
                arg = deco.args[0]
                name = arg.value if isinstance(arg, ast.Constant) else constants.get(arg.id)
                found.append((deco.func.id, name, node.name))
    return found


def test_op_objects_and_rules_are_named_after_their_op():
    wrong, seen = [], 0
    for path in SOURCES:
        for decorator, op, function in _registered(ast.parse(path.read_text())):
            seen += 1
            expected = f"{op}_op" if decorator == "register_op" else f"{op}_backward"
            if function.removeprefix("_") != expected:  # a private one keeps its underscore
                wrong.append(f"{path.relative_to(ROOT)}: {function} should be {expected}")
    assert seen > 60  # every package's ops and rules were found
    assert wrong == []


def test_a_trailing_underscore_means_in_place():
    found = {
        node.name
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and node.name.endswith("_")
        and not node.name.endswith("__")
    }
    assert found == IN_PLACE
