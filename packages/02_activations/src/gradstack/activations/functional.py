"""The activation functions on Tensors: check the arguments, then apply one op each."""

from __future__ import annotations

from gradstack.tensor import Tensor, apply, normalize_dim

from . import ops


def check_tensor(op: str, x: object, allow_integer: bool = False) -> Tensor:
    """``x`` must be a Tensor of floating dtype (or integer, where ``allow_integer``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expects a Tensor, got {type(x).__name__}")
    kind = x.dtype.kind
    if kind == "f" or (allow_integer and kind in "iu"):
        return x
    wanted = "a floating-point or integer" if allow_integer else "a floating-point"
    raise TypeError(
        f"{op}: expects {wanted} tensor, got dtype {x.dtype} (shape {x.shape}); "
        "convert with .float()"
    )


def check_dim(op: str, x: Tensor, dim: int) -> int:
    """Normalize the dim an op works along; IndexError naming the op and the shape."""
    if x.ndim == 0:
        raise IndexError(f"{op}: needs a tensor with at least 1 dim, got a 0-d tensor (shape ())")
    return normalize_dim(op, dim, x.ndim, x.shape)


def check_approximate(approximate: object) -> str:
    """GELU's ``approximate`` must be ``"tanh"`` or ``"none"`` (PyTorch's names)."""
    if approximate not in ops.GELU_APPROXIMATIONS:
        raise ValueError(
            f"gelu: approximate must be one of {ops.GELU_APPROXIMATIONS}, got {approximate!r}"
        )
    return str(approximate)


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise; the gradient at 0 is 0, as in PyTorch."""
    return apply(ops.relu_op, check_tensor("relu", x, allow_integer=True))


def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` elementwise, stable at any magnitude."""
    return apply(ops.sigmoid_op, check_tensor("sigmoid", x))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent elementwise (module 01's ``tanh`` op)."""
    return check_tensor("tanh", x).tanh()


def gelu(x: Tensor, approximate: str = "tanh") -> Tensor:
    """Gaussian error linear unit ``x Phi(x)``; ``approximate="tanh"`` (default) or ``"none"``."""
    approximate = check_approximate(approximate)
    return apply(ops.gelu_op, check_tensor("gelu", x), approximate=approximate)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Probabilities along ``dim``: ``exp(x) / sum(exp(x))``, overflow-free."""
    x = check_tensor("softmax", x)
    return apply(ops.softmax_op, x, dim=check_dim("softmax", x, dim))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log-probabilities along ``dim``: ``x - logsumexp(x)``, overflow-free."""
    x = check_tensor("log_softmax", x)
    return apply(ops.log_softmax_op, x, dim=check_dim("log_softmax", x, dim))
