"""The gradient-rule table, keyed by op name (the forward ops live in modules 01–04).

A rule is ``rule(grad, node) -> tuple`` with one entry per input of the op: the
gradient with respect to that input as an ndarray, or ``None`` when
``node.needs_input_grad[i]`` is False (or the input takes no gradient). Rules work
on ndarrays, never Tensors, so a backward pass builds no graph and costs one or
two NumPy calls per op. A rule may return a gradient that still has broadcast
dims: the engine sums it back to the input's shape in one place
(``engine.sum_to_shape``). A rule may return views of ``grad``; it must not return
arrays it keeps elsewhere (the engine accumulates into what it is given).

A node produced by a kernel (``node.kernel``, see gradstack.tensor's kernel registry)
takes the kernel's own gradient instead of the rule: the kernel may save different
things than the reference does, so only its own backward can read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradstack.tensor import OPS, Node

Rule = Callable[[np.ndarray, Node], tuple[Any, ...]]

RULES: dict[str, Rule] = {}

# Ops that are differentiable in principle but whose gradient gradstack leaves out
# on purpose, with the reason; the completeness test accepts these.
NOT_DIFFERENTIATED: dict[str, str] = {}


def register_rule(op_name: str) -> Callable[[Rule], Rule]:
    """Decorator: make ``rule`` the gradient of the op called ``op_name``."""

    def register(rule: Rule) -> Rule:
        if op_name in RULES and RULES[op_name].__module__ != rule.__module__:
            raise ValueError(
                f"register_rule: op {op_name!r} already has a rule in {RULES[op_name].__module__}"
            )
        RULES[op_name] = rule
        return rule

    return register


def get_rule(node: Node) -> Rule:
    """The gradient for a node: its kernel's when a kernel produced it, else the op's rule."""
    if node.kernel is not None:
        return node.kernel.backward
    rule = RULES.get(node.op.name)
    if rule is not None:
        return rule
    defined_in = node.op.module
    package = defined_in.split(".")[1] if defined_in.startswith("gradstack.") else defined_in
    raise RuntimeError(
        f"backward: op {node.op.name!r} (defined in {defined_in}) has no gradient rule; "
        f"its rule belongs in gradstack/autograd/rules/{package}.py, or beside the op for "
        "packages that come after autograd"
    )


def missing_rules() -> list[str]:
    """Registered differentiable ops without a rule (the completeness test wants none)."""
    return sorted(
        name
        for name, op in OPS.items()
        if op.differentiable and name not in RULES and name not in NOT_DIFFERENTIATED
    )
