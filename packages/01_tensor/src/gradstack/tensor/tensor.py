"""The Tensor: an ndarray plus the provenance that a backward pass needs.

Every method calls an op from the registry through ``apply``; ``apply`` runs the
forward and, when grad mode is on and an input requires grad, records a ``Node``.
Gradient rules live in the gradstack-autograd package; ``backward`` imports it lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .checks import normalize_dim, normalize_dims, parse_shape
from .convert import is_floating, scalar_array, to_array
from .grad_mode import _GradMode
from .kernel_registry import _KernelMode
from .node import Node
from .ops import arithmetic, comparison, elementwise, indexing, reductions
from .ops import shape as shape_ops
from .registry import Op

Dim = int | Sequence[int] | None
# Operands an op accepts besides Tensors: Python and NumPy scalars, and ndarrays.
_SCALARS = (bool, int, float, np.number, np.bool_)
_OPERANDS = (*_SCALARS, np.ndarray)
_new = object.__new__


def _new_result(data: np.ndarray, grad_fn: Node | None) -> Tensor:
    """Build an op result without re-checking data the op produced itself (the hot path)."""
    tensor = _new(Tensor)
    tensor.data = data
    tensor.grad = None
    tensor.grad_fn = grad_fn
    tensor._requires_grad = grad_fn is not None
    return tensor


class Tensor:
    """An n-dimensional array that can record how it was computed, for gradients."""

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected methods

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: np.ndarray = to_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: Node | None = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    # ``Tensor._result(data, grad_fn)``: an op result, built without re-checking its data.
    _result = staticmethod(_new_result)

    # -- attributes ---------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not is_floating(self.data):
            raise RuntimeError(
                f"Tensor: only floating-point tensors can require grad, this one is "
                f"{self.data.dtype} (integer data are indices); convert with .astype('float32')"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "Tensor: cannot turn off requires_grad on a non-leaf tensor; use .detach()"
            )
        self._requires_grad = bool(value)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the data."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dims."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op that records grads."""
        return self.grad_fn is None

    def numel(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dim (PyTorch's spelling)."""
        if dim is None:
            return self.data.shape
        return self.data.shape[normalize_dim("size", dim, self.ndim, self.shape)]

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut off from the graph."""
        return Tensor._result(self.data, None)

    def astype(self, dtype: Any) -> Tensor:
        """Cast to ``dtype``; gradients flow back cast to this tensor's dtype.

        A cast to an integer or bool dtype gives a tensor without grad (as PyTorch's
        ``.long()`` does): integer data cannot require grad.
        """
        try:
            target = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(f"astype: {dtype!r} is not a dtype: {error}") from None
        if target.kind != "f":
            return Tensor._result(elementwise.astype_op.forward(self.data, dtype=target)[0], None)
        return apply(elementwise.astype_op, self, dtype=target)

    def float(self) -> Tensor:
        """Cast to float32."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """Cast to float64 (gradient checks use it)."""
        return self.astype(np.float64)

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        This is the one deliberate upward reference of the design: the engine lives in
        gradstack-autograd (module 05), which comes after this module in the course,
        so it is imported here, lazily, when a backward pass is asked for.
        """
        try:
            from gradstack.autograd import backward
        except ImportError as error:
            raise RuntimeError(
                "Tensor.backward: gradients are computed by the gradstack-autograd package "
                f"(module 05), which could not be imported ({error}); install it with "
                "`pip install gradstack-autograd` (from a checkout: "
                "`pip install -e packages/05_autograd`)"
            ) from error
        backward(self, gradient, retain_graph=retain_graph)

    # -- Python protocol ----------------------------------------------------------

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, precision=4, separator=", ", threshold=64, prefix="Tensor("
        )
        extra = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(extra)})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous"
            )
        return bool(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    # -- arithmetic ---------------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _binary(arithmetic.add_op, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(arithmetic.add_op, self, other, reflected=True)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(arithmetic.sub_op, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(arithmetic.sub_op, self, other, reflected=True)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(arithmetic.mul_op, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(arithmetic.mul_op, self, other, reflected=True)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(arithmetic.div_op, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(arithmetic.div_op, self, other, reflected=True)

    def __pow__(self, other: Any) -> Tensor:
        return _binary(arithmetic.pow_op, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(arithmetic.pow_op, self, other, reflected=True)

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(arithmetic.matmul_op, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(arithmetic.matmul_op, self, other, reflected=True)

    def __neg__(self) -> Tensor:
        return apply(arithmetic.neg_op, self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules for every rank."""
        return _binary(arithmetic.matmul_op, self, as_tensor(other, self, op="matmul"))

    # -- comparisons (bool results, no grad) --------------------------------------

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(comparison.eq_op, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(comparison.ne_op, self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _compare(comparison.lt_op, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(comparison.le_op, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(comparison.gt_op, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(comparison.ge_op, self, other)

    # -- elementwise --------------------------------------------------------------

    def exp(self) -> Tensor:
        """Elementwise ``e ** x``."""
        return apply(elementwise.exp_op, self)

    def log(self) -> Tensor:
        """Elementwise natural log."""
        return apply(elementwise.log_op, self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return apply(elementwise.sqrt_op, self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return apply(elementwise.tanh_op, self)

    def abs(self) -> Tensor:
        """Elementwise absolute value."""
        return apply(elementwise.abs_op, self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clamp into ``[min, max]`` (PyTorch's ``clamp``)."""
        _check_number("clip", "min", min, optional=True)
        _check_number("clip", "max", max, optional=True)
        return apply(elementwise.clip_op, self, min=min, max=max)

    clamp = clip

    # -- reductions ---------------------------------------------------------------

    def sum(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        """Sum over ``dim`` (an int, several ints, or None for all)."""
        return apply(reductions.sum_op, self, dim=_axes("sum", self, dim), keepdim=bool(keepdim))

    def mean(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        """Mean over ``dim``."""
        return apply(reductions.mean_op, self, dim=_axes("mean", self, dim), keepdim=bool(keepdim))

    def max(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        """Largest values over ``dim`` (values only, a Tensor)."""
        return apply(reductions.max_op, self, dim=_axes("max", self, dim), keepdim=bool(keepdim))

    def var(self, dim: Dim = None, keepdim: bool = False, correction: int = 1) -> Tensor:
        """Variance over ``dim``; ``correction=1`` is unbiased (PyTorch's default)."""
        if (
            isinstance(correction, bool)
            or not isinstance(correction, (int, np.integer))
            or correction < 0
        ):
            raise ValueError(f"var: correction must be a non-negative int, got {correction!r}")
        axes = _axes("var", self, dim)
        return apply(
            reductions.var_op, self, dim=axes, keepdim=bool(keepdim), correction=int(correction)
        )

    # -- shape --------------------------------------------------------------------

    def reshape(self, *shape: int) -> Tensor:
        """Same elements in a new shape; ``reshape(2, 3)`` or ``reshape((2, 3))``."""
        return apply(shape_ops.reshape_op, self, shape=parse_shape("reshape", shape))

    view = reshape

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two dims (the last two by default)."""
        if self.data.ndim < 2 and (dim0, dim1) == (-2, -1):
            raise ValueError(f"transpose: needs at least 2 dims, got shape {self.shape}")
        d0, d1 = _dim("transpose", self, dim0), _dim("transpose", self, dim1)
        return apply(shape_ops.transpose_op, self, dim0=d0, dim1=d1)

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's and PyTorch's name)
        """Transpose of a 2-D tensor."""
        if self.ndim != 2:
            raise ValueError(f"T: expects a 2-D tensor, got shape {self.shape}; use permute")
        return apply(shape_ops.transpose_op, self, dim0=0, dim1=1)

    def permute(self, *dims: int) -> Tensor:
        """Reorder all dims: ``permute(0, 2, 1)``."""
        dims = parse_shape("permute", dims)
        axes = tuple(normalize_dim("permute", d, self.ndim, self.shape) for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(
                f"permute: dims {dims} are not a permutation of the {self.ndim} dims of "
                f"shape {self.shape}"
            )
        return apply(shape_ops.permute_op, self, dims=axes)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dim of size 1 at ``dim`` (``-1`` appends)."""
        ndim = self.data.ndim + 1
        if type(dim) is int and -ndim <= dim < ndim:
            axis = dim % ndim
        else:
            axis = normalize_dim("unsqueeze", dim, self.ndim, self.shape, extra=1)
        return apply(shape_ops.unsqueeze_op, self, dim=axis)

    def squeeze(self, dim: Dim = None) -> Tensor:
        """Drop dims of size 1 (all of them, or those in ``dim`` that have size 1)."""
        if dim is None:
            dims = tuple(i for i, s in enumerate(self.shape) if s == 1)
        else:
            axes = normalize_dims("squeeze", dim, self.ndim, self.shape) or ()
            dims = tuple(i for i in axes if self.shape[i] == 1)
        return apply(shape_ops.squeeze_op, self, dims=dims)

    def expand(self, *sizes: int) -> Tensor:
        """Broadcast to a larger shape without copying; -1 keeps a dim's size."""
        sizes = parse_shape("expand", sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {sizes}")
        offset = len(sizes) - self.ndim
        target = tuple(
            self.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(sizes)
        )
        return apply(shape_ops.expand_op, self, shape=target)

    def split(
        self, split_size_or_sections: int | Sequence[int], dim: int = 0
    ) -> tuple[Tensor, ...]:
        """Cut into pieces along ``dim``: equal chunks of a size, or the given sizes."""
        from .functional import split

        return split(self, split_size_or_sections, dim)

    # -- indexing -----------------------------------------------------------------

    def __getitem__(self, index: Any) -> Tensor:
        return apply(indexing.getitem_op, self, index=_index_arrays(index))

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        """Replace entries where the boolean ``mask`` is True with ``value``."""
        mask_array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask_array.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask_array.dtype}")
        _check_number("masked_fill", "value", value)
        if self.dtype.kind in "iu" and not float(value).is_integer():
            raise ValueError(
                f"masked_fill: value {value!r} does not fit the integer tensor of dtype "
                f"{self.dtype} (it would be truncated)"
            )
        return apply(indexing.masked_fill_op, self, mask=mask_array, value=value)


# A callable that sees every op before it runs (gradstack.autograd.profile installs one);
# None, the default, costs apply one comparison. See set_op_hook.
OpHook = Callable[[Op, tuple[Tensor, ...], dict[str, Any]], Tensor | None]
_op_hook: OpHook | None = None


def set_op_hook(hook: OpHook | None) -> OpHook | None:
    """Install ``hook(op, inputs, attrs)`` in front of every op (None removes it); returns the old.

    ``apply`` calls the hook first: a Tensor it returns is the op's result, None lets the op
    run as usual (so a profiler's hook times ``apply`` by calling it again and answering
    None to that inner call). For tools, not models: one hook for the whole process.
    """
    global _op_hook
    previous, _op_hook = _op_hook, hook
    return previous


def get_op_hook() -> OpHook | None:
    """The hook ``set_op_hook`` installed, or None (code that skips ops checks it first)."""
    return _op_hook


def apply(op: Op, *inputs: Tensor, **attrs: Any) -> Tensor:
    """Run ``op`` on tensors; record a Node when grad mode is on and an input needs grad.

    The forward runs on the inputs' arrays (``attrs`` by keyword) and returns ``(out,
    saved)``. The result is a new Tensor (``_new_result``) around ``out`` as an ndarray;
    its ``grad_fn`` is ``Node(op, inputs, attrs, saved, needs_input_grad)`` when grad mode
    is on (``_GradMode.enabled``), the op is differentiable and some input requires grad,
    else None.
    """
    if _op_hook is not None:  # a profiler is on (set_op_hook); off, this check is all it costs
        result = _op_hook(op, inputs, attrs)
        if result is not None:
            return result
    if op.kernel is not None and _KernelMode.enabled:
        return _apply_kernel(op, inputs, attrs)
    # HINT: NumPy returns a scalar, not an array, for a 0-d result (np.exp of a 0-d array):
    # HINT: Tensor data is always an ndarray. needs_input_grad has one bool per input, in order.
    # HINT: Test: tox -e 01_tensor -- -k grad
    # BEGIN SOLUTION
    out, saved = op.forward(*[t.data for t in inputs], **attrs)
    if type(out) is not np.ndarray:  # NumPy gives scalars for 0-d results
        out = np.asarray(out)
    needs = tuple([t._requires_grad for t in inputs])  # which inputs want a gradient
    if _GradMode.enabled and op.differentiable and any(needs):
        return _new_result(out, Node(op, inputs, attrs, saved, needs))
    return _new_result(out, None)
    # END SOLUTION


def _apply_kernel(op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any]) -> Tensor:
    """``apply`` through the op's kernel: its Node names the kernel, whose backward then runs."""
    kernel = op.kernel
    out, saved = kernel.forward(*[t.data for t in inputs], **attrs)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if _GradMode.enabled and op.differentiable:
        for tensor in inputs:
            if tensor._requires_grad:
                needs = tuple([t._requires_grad for t in inputs])
                return _new_result(out, Node(op, inputs, attrs, saved, needs, kernel))
    return _new_result(out, None)


def as_tensor(value: Any, like: Tensor, op: str = "Tensor op") -> Tensor:
    """Coerce an operand (Tensor, Python scalar, ndarray) for an op with ``like``.

    Scalars take ``like``'s floating dtype, so ``x * 2.0`` stays float32; floating
    ndarrays are cast to ``like``'s floating dtype for the same reason. ``op`` names
    the caller in the error for anything else.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS):
        return _new_result(scalar_array(value, like.data), None)
    if isinstance(value, np.ndarray):
        dtype = like.dtype if value.dtype.kind == "f" and is_floating(like.data) else None
        return _new_result(to_array(value, dtype), None)
    raise TypeError(
        f"{op}: unsupported operand of type {type(value).__name__} "
        "(expected a Tensor, a number or an ndarray)"
    )


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Integer or bool mixed with floating data computes in the floating dtype.

    NumPy would turn int64 with float32 into float64; gradstack follows PyTorch and
    keeps float32. Integer tensors never require grad, so the cast records nothing.
    """
    kind_a, kind_b = a.data.dtype.kind, b.data.dtype.kind
    if kind_a == "f" and kind_b in "iub":
        return a, _new_result(b.data.astype(a.data.dtype), None)
    if kind_b == "f" and kind_a in "iub":
        return _new_result(a.data.astype(b.data.dtype), None), b
    return a, b


def _binary(op: Op, tensor: Tensor, other: Any, reflected: bool = False) -> Tensor:
    """Apply a two-input op, coercing the other operand; reflected puts it first."""
    if not isinstance(other, Tensor):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        other = as_tensor(other, tensor)
    first, second = (other, tensor) if reflected else (tensor, other)
    if first.data.dtype is not second.data.dtype:
        first, second = _promote(first, second)
    return apply(op, first, second)


def _compare(op: Op, tensor: Tensor, other: Any) -> Tensor:
    """Apply a comparison: NumPy compares mixed dtypes exactly, so nothing is cast."""
    if not isinstance(other, Tensor):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        other = as_tensor(other, tensor)
    return apply(op, tensor, other)


def _axes(op: str, tensor: Tensor, dim: Dim) -> tuple[int, ...] | None:
    """A reduction's ``dim`` as sorted non-negative axes (None: all), fast for one int."""
    if dim is None:
        return None
    ndim = tensor.data.ndim
    if type(dim) is int and -ndim <= dim < ndim:
        return (dim % ndim,)
    return normalize_dims(op, dim, ndim, tensor.data.shape)


def _dim(op: str, tensor: Tensor, dim: int) -> int:
    """One dim as a non-negative axis of ``tensor``, fast for an in-range int."""
    ndim = tensor.data.ndim
    if type(dim) is int and -ndim <= dim < ndim:
        return dim % ndim
    return normalize_dim(op, dim, ndim, tensor.data.shape)


def _check_number(op: str, name: str, value: Any, optional: bool = False) -> None:
    """``value`` must be a real number (or None when optional), never a Tensor."""
    if value is None and optional:
        return
    if not isinstance(value, _SCALARS):
        hint = " (use .item() for a one-element tensor)" if isinstance(value, Tensor) else ""
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}{hint}")


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays (index tensors carry no grad)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index
