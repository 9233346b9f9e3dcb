"""The engine takes each node's gradient from what produced it: a kernel's own backward
for a kernel-produced node, the op's rule for a reference-produced one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from gradstack.autograd import RULES, get_rule, register_rule
from gradstack.tensor import (
    OPS,
    Node,
    Op,
    Tensor,
    apply,
    kernels_enabled,
    register_kernel,
    register_op,
    use_references,
)
from gradstack.tensor.kernel_registry import unregister_kernel


def square_reference(a: np.ndarray) -> tuple[np.ndarray, None]:
    """a**2, saving nothing (the rule recomputes from the input)."""
    return a * a, None


def square_rule(grad: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """The reference gradient: 2 a g, from the input."""
    return (2 * node.inputs[0].data * grad,)


def square_kernel(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a**2, saving 2a: something only the kernel's backward knows how to read."""
    return np.square(a), 2 * a


def square_kernel_backward(grad: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """The kernel's gradient, from what the kernel saved; marks that it ran."""
    CALLS.append("kernel")
    return (node.saved * grad,)


CALLS: list[str] = []


@pytest.fixture
def square() -> Iterator[Op]:
    """A temporary op ``test_square_05`` with a rule and a kernel; removed afterwards."""
    op = register_op("test_square_05")(square_reference)
    register_rule("test_square_05")(square_rule)
    register_kernel("test_square_05", square_kernel, square_kernel_backward)
    CALLS.clear()
    try:
        yield op
    finally:
        unregister_kernel("test_square_05")
        RULES.pop("test_square_05", None)
        OPS.pop("test_square_05", None)


def test_a_kernel_node_takes_the_kernels_backward(square: Op):
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: no node is kernel-produced")
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    out = apply(square, x)
    assert get_rule(out.grad_fn) is square_kernel_backward
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, -4.0, 6.0])
    assert CALLS == ["kernel"]


def test_a_reference_node_takes_the_rule_even_while_kernels_are_on(square: Op):
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    with use_references():
        out = apply(square, x)
    assert out.grad_fn.kernel is None
    assert get_rule(out.grad_fn) is square_rule
    out.sum().backward()  # kernels may be on again: the node decides, not the switch
    np.testing.assert_array_equal(x.grad.data, [2.0, -4.0, 6.0])
    assert CALLS == []


def test_a_graph_mixing_kernel_and_reference_nodes_gets_both_gradients(square: Op):
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: no node is kernel-produced")
    x = Tensor([1.5, -0.5], requires_grad=True)
    with use_references():
        first = apply(square, x)  # x**2 by the reference
    second = apply(square, first)  # (x**2)**2 by the kernel
    second.sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data**3, rtol=1e-6)
    assert CALLS == ["kernel"]
