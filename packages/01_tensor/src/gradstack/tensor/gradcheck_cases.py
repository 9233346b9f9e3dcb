"""The gradient checks of gradstack.tensor's ops, once, for every runner.

Each entry of the op table is (op name, fn, input shapes): ``fn(lib, *inputs)`` is
written once and runs on gradstack tensors and on torch tensors alike, ``lib``
supplying the few functions whose spelling differs. ``GRADCHECK_CASES`` and
``TORCH_CASES`` are built from it (see ``gradstack.tensor.gradcheck_table``); the
tests of gradstack.autograd (where the rules live) and ``gradstack check`` run them.
Inputs are small but not trivial: batches, broadcasting both ways, repeated indices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .functional import cat, stack, where
from .gradcheck_table import Built, GradCase, Side, TorchCase
from .tensor import Tensor

# -- the two libraries ----------------------------------------------------------------


class GradstackLib:
    """The module functions, as gradstack spells them."""

    cat = staticmethod(cat)
    stack = staticmethod(stack)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> Tensor:
        return where(condition, a, b)

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
class OpCase:
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


def case(op: str, label: str, fn: Callable[..., Any], *shapes: tuple[int, ...], **kw) -> OpCase:
    """Shorthand for the table below."""
    return OpCase(op, label, fn, shapes, **kw)


OP_CASES = [
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


def make_inputs(item: OpCase, seed: int = 0) -> list[np.ndarray]:
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


#: The row of ``gradstack check`` each op counts towards.
FAMILIES = {
    **dict.fromkeys(("add", "sub", "mul", "div", "pow", "neg"), "arithmetic (+ - * / **)"),
    "matmul": "matmul",
    **dict.fromkeys(("exp", "log", "sqrt", "tanh", "abs", "clip", "astype"), "elementwise"),
    **dict.fromkeys(("sum", "mean", "max", "var"), "reductions"),
    **dict.fromkeys(
        ("reshape", "transpose", "permute", "unsqueeze", "squeeze", "expand"), "shape ops"
    ),
    **dict.fromkeys(("getitem", "masked_fill", "where"), "indexing, masked_fill, where"),
    **dict.fromkeys(("cat", "stack"), "cat stack split"),
}


def _built(item: OpCase) -> Callable[[], Built]:
    """The case's gradstack function and fresh float64 inputs that require grad."""

    def build() -> Built:
        inputs = [Tensor(a, dtype="float64", requires_grad=True) for a in make_inputs(item)]
        return (lambda *xs: item.fn(GradstackLib, *xs)), inputs

    return build


def _ours(item: OpCase) -> Callable[[], Side]:
    """The gradstack side of the case's PyTorch comparison."""

    def ours() -> Side:
        fn, inputs = _built(item)()
        return fn(*inputs), inputs

    return ours


def _theirs(item: OpCase) -> Callable[[ModuleType], Side]:
    """The same expression on torch tensors holding the same values."""

    def theirs(torch: ModuleType) -> Side:
        inputs = [
            torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in make_inputs(item)
        ]
        return item.fn(TorchLib(torch), *inputs), inputs

    return theirs


GRADCHECK_CASES = [
    GradCase(FAMILIES[item.op], item.id, _built(item), item.op, dict(item.tolerances))
    for item in OP_CASES
]
TORCH_CASES = [TorchCase(item.id, _ours(item), _theirs(item)) for item in OP_CASES if item.torch]
