"""Every rule of gradstack.tensor, checked by gradcheck and against PyTorch, from one table.

Each case is (op name, fn, input shapes): ``fn(lib, *inputs)`` is written once and
runs on gradstack tensors and on torch tensors alike, ``lib`` supplying the few
functions whose spelling differs. A test asserts that every differentiable op
defined in gradstack.tensor has a case, so a new op without one fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.autograd import gradcheck
from gradstack.tensor import OPS, Tensor

# -- the two libraries ----------------------------------------------------------------


class GradstackLib:
    """The module functions, as gradstack spells them."""

    cat = staticmethod(gt.cat)
    stack = staticmethod(gt.stack)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> Tensor:
        return gt.where(condition, a, b)

    @staticmethod
    def index(array: np.ndarray) -> np.ndarray:
        return array

    @staticmethod
    def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
        return x.max(dim=dim, keepdim=keepdim)

    @staticmethod
    def astype(x: Tensor, dtype: str) -> Tensor:
        return x.astype(dtype)


class TorchLib:
    """The same functions in torch (built only when torch imports)."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.cat = torch.cat
        self.stack = torch.stack

    def where(self, condition: np.ndarray, a: Any, b: Any) -> Any:
        return self.torch.where(self.torch.from_numpy(condition), a, b)

    def index(self, array: np.ndarray) -> Any:
        return self.torch.from_numpy(array)

    def amax(self, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        return x.amax(dim=tuple(range(x.ndim)) if dim is None else dim, keepdim=keepdim)

    def astype(self, x: Any, dtype: str) -> Any:
        return x.to(getattr(self.torch, dtype))


# -- the table ------------------------------------------------------------------------

ANY, POSITIVE, NONZERO = "any", "positive", "nonzero"

MASK_2x3 = np.array([[True, False, True], [False, False, True]])
MASK_1x3 = np.array([[False, True, False]])
ROWS = np.array([0, 2, 0, 0])  # repeated indices
COLS = np.array([1, 1, 3, 0])


@dataclass(frozen=True)
class Case:
    """One gradcheck of an op: ``fn(lib, *inputs)`` on inputs of ``shapes``."""

    op: str
    label: str
    fn: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[str, ...] = ()
    torch: bool = True
    tolerances: tuple[tuple[str, float], ...] = ()  # gradcheck keywords for float32 steps

    @property
    def id(self) -> str:
        return f"{self.op}-{self.label}"


def case(op: str, label: str, fn: Callable[..., Any], *shapes: tuple[int, ...], **kw) -> Case:
    """Shorthand for the table below."""
    return Case(op, label, fn, shapes, **kw)


CASES = [
    # arithmetic, with broadcasting both ways and reflected Python scalars
    case("add", "broadcast-row", lambda L, a, b: a + b, (3, 4), (4,)),
    case("add", "broadcast-both", lambda L, a, b: a + b, (2, 3, 1), (1, 4)),
    case("add", "reflected-scalar", lambda L, a: 2.5 + a, (2, 3)),
    case("sub", "broadcast-column", lambda L, a, b: a - b, (2, 3, 4), (3, 1)),
    case("sub", "reflected-scalar", lambda L, a: 1.0 - a, (2, 3)),
    case("mul", "broadcast-batch", lambda L, a, b: a * b, (2, 3), (2, 1, 3)),
    case("mul", "same-input", lambda L, a: a * a, (3, 2)),
    case("div", "broadcast", lambda L, a, b: a / b, (2, 3), (3,), domains=(ANY, NONZERO)),
    case("div", "reflected-scalar", lambda L, a: 2.0 / a, (2, 3), domains=(NONZERO,)),
    case("pow", "scalar-exponent", lambda L, a: a**3, (2, 3)),
    case("pow", "tensor-exponent", lambda L, a, b: a**b, (2, 3), (3,), domains=(POSITIVE, ANY)),
    case("pow", "scalar-base", lambda L, a: 2.0**a, (2, 3)),
    case("pow", "fractional", lambda L, a: a**0.5, (4, 2), domains=(POSITIVE,)),
    case("neg", "batch", lambda L, a: -a, (2, 3)),
    # matmul (every rank is in test_matmul_rule.py)
    case("matmul", "2d", lambda L, a, b: a @ b, (3, 4), (4, 2)),
    case("matmul", "batch-broadcast", lambda L, a, b: a @ b, (2, 1, 3, 4), (5, 4, 2)),
    case("matmul", "vector", lambda L, a, b: a @ b, (2, 3, 4), (4,)),
    # elementwise
    case("exp", "batch", lambda L, a: a.exp(), (2, 3)),
    case("log", "batch", lambda L, a: a.log(), (2, 3), domains=(POSITIVE,)),
    case("sqrt", "batch", lambda L, a: a.sqrt(), (2, 3), domains=(POSITIVE,)),
    case("tanh", "batch", lambda L, a: a.tanh(), (2, 3)),
    case("abs", "batch", lambda L, a: a.abs(), (2, 3), domains=(NONZERO,)),
    case("clip", "both", lambda L, a: a.clip(min=-0.5, max=0.7), (3, 4)),
    case("clip", "min-only", lambda L, a: a.clip(min=0.1), (3, 4)),
    case("clip", "max-only", lambda L, a: a.clip(max=-0.2), (3, 4)),
    case("astype", "same-dtype", lambda L, a: L.astype(a, "float64") * a, (2, 3)),
    case(
        "astype",
        "float32-roundtrip",
        lambda L, a: L.astype(L.astype(a, "float32") * 3.0, "float64"),
        (2, 3),
        tolerances=(("eps", 1e-2), ("atol", 1e-4)),  # float32 rounding over a linear map
    ),
    # reductions: all dims, one negative dim, several dims, keepdim both ways
    case("sum", "all", lambda L, a: a.sum(), (2, 3)),
    case("sum", "dim-neg", lambda L, a: a.sum(dim=-1), (2, 3, 4)),
    case("sum", "dims-keep", lambda L, a: a.sum(dim=(0, 2), keepdim=True), (2, 3, 4)),
    case("mean", "all", lambda L, a: a.mean(), (2, 3)),
    case("mean", "dim-neg-keep", lambda L, a: a.mean(dim=-2, keepdim=True), (2, 3, 4)),
    case("mean", "dims", lambda L, a: a.mean(dim=(0, -1)), (2, 3, 4)),
    case("max", "all", lambda L, a: L.amax(a), (2, 3)),
    case("max", "dim-neg", lambda L, a: L.amax(a, dim=-1), (2, 3, 4)),
    case("max", "dim-keep", lambda L, a: L.amax(a, dim=1, keepdim=True), (2, 3, 4)),
    case("var", "all-unbiased", lambda L, a: a.var(), (2, 3)),
    case("var", "dim-biased", lambda L, a: a.var(dim=-1, correction=0), (2, 3, 4)),
    case("var", "dims-keep", lambda L, a: a.var(dim=(0, 2), keepdim=True), (2, 3, 4)),
    # shape
    case("reshape", "flatten", lambda L, a: a.reshape(6, -1) * a.reshape(6, 4), (2, 3, 4)),
    case("reshape", "view", lambda L, a: a.view(3, 2, 2), (2, 6)),
    case("transpose", "default", lambda L, a: a.transpose(-2, -1), (2, 3, 4)),
    case("transpose", "outer", lambda L, a: a.transpose(0, 2), (2, 3, 4)),
    case("transpose", "T", lambda L, a: a.T @ a, (3, 2)),
    case("permute", "negative", lambda L, a: a.permute(-1, 0, 1), (2, 3, 4)),
    case("unsqueeze", "last", lambda L, a: a.unsqueeze(-1) * a.unsqueeze(1), (2, 3)),
    case("squeeze", "one-dim", lambda L, a: a.squeeze(1), (3, 1, 2)),
    case("squeeze", "all", lambda L, a: a.squeeze(), (1, 3, 1, 2)),
    case("expand", "new-dims", lambda L, a: a.expand(4, 2, 3), (1, 3)),
    case("expand", "keep-minus-one", lambda L, a: a.expand(2, -1, 3), (4, 1)),
    # indexing
    case("getitem", "int", lambda L, a: a[1], (3, 4)),
    case("getitem", "negative-int", lambda L, a: a[:, -1], (3, 4)),
    case("getitem", "step-slice", lambda L, a: a[::2, 1::2], (5, 4)),
    case("getitem", "negative-step", lambda L, a: a[::-1, :-1], (3, 4), torch=False),
    case("getitem", "ellipsis-none", lambda L, a: a[..., None, 1:3], (2, 3, 4)),
    case("getitem", "repeated-ints", lambda L, a: a[L.index(ROWS)], (3, 4)),
    case("getitem", "repeated-pairs", lambda L, a: a[L.index(ROWS), L.index(COLS)], (3, 4)),
    case("getitem", "repeated-cols", lambda L, a: a[:, L.index(COLS)], (3, 4)),
    case("getitem", "mask", lambda L, a: a[L.index(MASK_2x3)], (2, 3)),
    case("getitem", "row-mask", lambda L, a: a[L.index(np.array([True, False, True]))], (3, 2)),
    case("masked_fill", "same-shape", lambda L, a: a.masked_fill(L.index(MASK_2x3), 0.5), (2, 3)),
    case(
        "masked_fill",
        "broadcast-mask",
        lambda L, a: a.masked_fill(L.index(MASK_1x3), -1.0),
        (2, 4, 3),
    ),
    case("where", "broadcast", lambda L, a, b: L.where(MASK_2x3, a, b), (2, 3), (3,)),
    case("where", "broadcast-cond", lambda L, a, b: L.where(MASK_1x3, a, b), (4, 3), (4, 1)),
    # joining
    case("cat", "dim-neg", lambda L, a, b, c: L.cat([a, b, c], dim=-1), (2, 3), (2, 1), (2, 2)),
    case("cat", "dim0-reused", lambda L, a, b: L.cat([a, b, a], dim=0), (1, 3), (2, 3)),
    case("stack", "dim1", lambda L, a, b: L.stack([a, b], dim=1), (2, 3), (2, 3)),
    case("stack", "dim-neg-reused", lambda L, a: L.stack([a, a * 2], dim=-1), (2, 3)),
    case(
        "getitem",
        "split-sizes",
        lambda L, a: L.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3], dim=1))], dim=1),
        (2, 4),
    ),
    case(
        "getitem",
        "split-chunks",
        lambda L, a: L.stack(list(a.split(2, dim=-1))[:2], dim=0),
        (3, 5),
    ),
]


def make_inputs(item: Case, seed: int = 0) -> list[np.ndarray]:
    """Float64 inputs in each case's domain, away from kinks and zeros."""
    rng = np.random.default_rng(seed)
    arrays = []
    for i, shape in enumerate(item.shapes):
        domain = item.domains[i] if i < len(item.domains) else ANY
        if domain == POSITIVE:
            arrays.append(rng.uniform(0.5, 2.0, shape))
        elif domain == NONZERO:
            signs = np.where(np.arange(int(np.prod(shape))) % 2 == 0, 1.0, -1.0)  # both signs
            arrays.append(rng.uniform(0.5, 2.0, shape) * rng.permutation(signs).reshape(shape))
        else:
            arrays.append(rng.uniform(-1.5, 1.5, shape))
    return arrays


def ops_in_graph(out: Tensor) -> set[str]:
    """Names of all ops recorded in the graph behind ``out``."""
    names: set[str] = set()
    stack = [out.grad_fn] if out.grad_fn is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.op.name)
        stack.extend(t.grad_fn for t in node.inputs if t.grad_fn is not None)
    return names


# -- the tests ------------------------------------------------------------------------


def test_every_differentiable_tensor_op_has_a_gradcheck_case():
    tensor_ops = {
        name
        for name, op in OPS.items()
        if op.differentiable and op.module.startswith("gradstack.tensor")
    }
    covered = {item.op for item in CASES}
    assert sorted(tensor_ops - covered) == []


def test_every_differentiable_tensor_op_has_a_torch_case():
    tensor_ops = {
        name
        for name, op in OPS.items()
        if op.differentiable and op.module.startswith("gradstack.tensor")
    }
    assert sorted(tensor_ops - {item.op for item in CASES if item.torch}) == []


def test_case_ids_are_unique():
    ids = [item.id for item in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("item", CASES, ids=lambda item: item.id)
def test_rule_passes_gradcheck(item: Case):
    inputs = [Tensor(a, dtype="float64", requires_grad=True) for a in make_inputs(item)]
    out = item.fn(GradstackLib, *inputs)
    assert item.op in ops_in_graph(out), f"case {item.id} does not use op {item.op!r}"
    assert gradcheck(lambda *xs: item.fn(GradstackLib, *xs), inputs, **dict(item.tolerances))


@pytest.mark.parametrize("item", CASES, ids=lambda item: item.id)
def test_gradients_have_the_inputs_shapes_and_dtypes(item: Case):
    inputs = [Tensor(a, dtype="float64", requires_grad=True) for a in make_inputs(item)]
    out = item.fn(GradstackLib, *inputs)
    out.backward(np.ones(out.shape))
    for x in inputs:
        assert x.grad.shape == x.shape
        assert x.grad.dtype == np.float64


@pytest.mark.torch
@pytest.mark.parametrize("item", [c for c in CASES if c.torch], ids=lambda item: item.id)
def test_forward_and_gradients_match_torch(item: Case):
    torch = pytest.importorskip("torch")
    arrays = make_inputs(item)
    ours = [Tensor(a.copy(), dtype="float64", requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = item.fn(GradstackLib, *ours)
    expected = item.fn(TorchLib(torch), *theirs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64
    weights = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(weights)
    expected.backward(torch.from_numpy(weights))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-10, atol=1e-12)
