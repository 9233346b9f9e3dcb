"""Gradient rules for the ops of module 01 (gradstack.tensor).

Each rule receives the upstream gradient ``g`` (an ndarray shaped like the op's
output) and the node, and returns one gradient per input. Broadcast dims may be left
in: the engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Node

from ..registry import register_rule


def _inputs(node: Node) -> list[np.ndarray]:
    """The input arrays of a node."""
    return [t.data for t in node.inputs]


# -- arithmetic -----------------------------------------------------------------------


@register_rule("add")
def add_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a + b) = (g, g)."""
    # HINT: broadcasting is not your concern here: the engine sums each gradient back to its input's
    # HINT: shape.
    # BEGIN SOLUTION
    return g, g
    # END SOLUTION


@register_rule("sub")
def sub_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a - b) = (g, -g)."""
    # HINT: skip work nobody needs: node.needs_input_grad says which inputs want a gradient (None
    # HINT: for the others).
    # BEGIN SOLUTION
    return g, (-g if node.needs_input_grad[1] else None)
    # END SOLUTION


@register_rule("mul")
def mul_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a * b) = (g b, g a)."""
    # HINT: each input's gradient uses the other input's value; return None for an input whose
    # HINT: node.needs_input_grad entry is False.
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    return (g * b if need_a else None), (g * a if need_b else None)
    # END SOLUTION


@register_rule("div")
def div_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a / b) = (g / b, -g a / b²)."""
    # HINT: derive d/db of a / b = a b**-1 with the power rule; compute each gradient only when
    # HINT: needed.
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    ga = g / b if need_a else None
    gb = -g * a / (b * b) if need_b else None
    return ga, gb
    # END SOLUTION


@register_rule("pow")
def pow_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a ** b) = (g b a^(b-1), g a^b log a); the log term is 0 where a <= 0."""
    # HINT: d/db of a**b is a**b log(a), undefined for a <= 0: take that term as 0 there (PyTorch's
    # HINT: choice), without a log warning. The forward saved a**b.
    # BEGIN SOLUTION
    a, b = _inputs(node)
    out = node.saved
    need_a, need_b = node.needs_input_grad
    ga = g * b * np.power(a, b - 1) if need_a else None
    gb = None
    if need_b:
        gb = g * out * np.log(np.where(a > 0, a, np.ones_like(a)))
    return ga, gb
    # END SOLUTION


@register_rule("neg")
def neg_backward(g: np.ndarray, node: Node) -> tuple:
    """d(-a) = -g."""
    # HINT: a rule returns a tuple with one gradient per input, also when there is one input.
    # BEGIN SOLUTION
    return (-g,)
    # END SOLUTION


@register_rule("matmul")
def matmul_backward(g: np.ndarray, node: Node) -> tuple:
    """d(a @ b) = (g @ bᵀ, aᵀ @ g), transposing the last two dims, for every rank.

    1-D operands are promoted to matrices as np.matmul does (a to a row, b to a column) and
    the promoted dim is dropped again from each gradient; broadcast batch dims are left to
    the engine's ``sum_to_shape``.
    """
    # HINT: check the shapes: for a (n, k), b (k, m), g (n, m), ga must be (n, k) and gb (k, m).
    # HINT: A 1-D operand has no last-two dims to swap: promote it first, as np.matmul does,
    # HINT: and give g the same size-1 dim. Test: tox -e 05_autograd -- -k matmul
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k)
    b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1)
    g2 = g[..., None] if b.ndim == 1 else g  # (..., n) -> (..., n, 1)
    if a.ndim == 1:
        g2 = g2[..., None, :]  # (..., m) -> (..., 1, m)
    ga = gb = None
    if need_a:
        ga = g2 @ np.swapaxes(b2, -1, -2)  # (..., n, m) @ (..., m, k) -> (..., n, k)
        if a.ndim == 1:
            ga = ga[..., 0, :]  # (..., 1, k) -> (..., k)
    if need_b:
        gb = np.swapaxes(a2, -1, -2) @ g2  # (..., k, n) @ (..., n, m) -> (..., k, m)
        if b.ndim == 1:
            gb = gb[..., 0]  # (..., k, 1) -> (..., k)
    return ga, gb
    # END SOLUTION


# -- elementwise ----------------------------------------------------------------------


@register_rule("exp")
def exp_backward(g: np.ndarray, node: Node) -> tuple:
    """d(e^a) = g e^a (the saved output)."""
    # HINT: the derivative of e**a is e**a itself, which the forward saved: do not recompute it.
    # BEGIN SOLUTION
    return (g * node.saved,)
    # END SOLUTION


@register_rule("log")
def log_backward(g: np.ndarray, node: Node) -> tuple:
    """d(log a) = g / a."""
    # HINT: no value was saved: the derivative needs only the input.
    # BEGIN SOLUTION
    return (g / node.inputs[0].data,)
    # END SOLUTION


@register_rule("sqrt")
def sqrt_backward(g: np.ndarray, node: Node) -> tuple:
    """d(sqrt a) = g / (2 sqrt a)."""
    # HINT: reuse the saved output rather than calling sqrt again.
    # BEGIN SOLUTION
    out = node.saved
    return (g / (out + out),)
    # END SOLUTION


@register_rule("tanh")
def tanh_backward(g: np.ndarray, node: Node) -> tuple:
    """d(tanh a) = g (1 - tanh² a)."""
    # HINT: reuse the saved output: the derivative is written in tanh(a) itself.
    # BEGIN SOLUTION
    out = node.saved
    return (g * (1 - out * out),)
    # END SOLUTION


@register_rule("abs")
def abs_backward(g: np.ndarray, node: Node) -> tuple:
    """d|a| = g sign(a) (0 at 0)."""
    # HINT: |a| has no derivative at 0; PyTorch uses 0 there, and so must you.
    # BEGIN SOLUTION
    return (g * np.sign(node.inputs[0].data),)
    # END SOLUTION


@register_rule("clip")
def clip_backward(g: np.ndarray, node: Node) -> tuple:
    """Gradient passes where min <= a <= max (inclusive, as in PyTorch), else 0."""
    # HINT: the bounds are inclusive (a value equal to a bound gets the gradient, as in PyTorch),
    # HINT: and a bound that is None limits nothing. Keep g's dtype.
    # BEGIN SOLUTION
    a = node.inputs[0].data
    inside = np.ones(a.shape, dtype=bool)
    if node.attrs["min"] is not None:
        inside &= a >= node.attrs["min"]
    if node.attrs["max"] is not None:
        inside &= a <= node.attrs["max"]
    return (np.where(inside, g, np.zeros((), dtype=g.dtype)),)
    # END SOLUTION


@register_rule("astype")
def astype_backward(g: np.ndarray, node: Node) -> tuple:
    """The gradient is cast back to the input's dtype."""
    # HINT: the gradient flows back in the dtype of the input, not of the output.
    # BEGIN SOLUTION
    return (g.astype(node.inputs[0].dtype),)
    # END SOLUTION


# -- reductions -----------------------------------------------------------------------


def _keep_dims(g: np.ndarray, node: Node) -> np.ndarray:
    """Reinsert the reduced dims as size 1 so ``g`` broadcasts against the input."""
    a = node.inputs[0].data
    dim = node.attrs["dim"]
    if node.attrs["keepdim"]:
        return g
    if dim is None:
        return g.reshape((1,) * a.ndim)
    return np.expand_dims(g, dim)


def _count(node: Node) -> int:
    """How many elements each output element reduced."""
    a = node.inputs[0].data
    dim = node.attrs["dim"]
    return a.size if dim is None else int(np.prod([a.shape[d] for d in dim]))


@register_rule("sum")
def sum_backward(g: np.ndarray, node: Node) -> tuple:
    """Every element receives the gradient of its sum (a broadcast, not a copy)."""
    # HINT: g has the reduced shape: put the reduced dims back as size 1 (_keep_dims) so it
    # HINT: broadcasts; a read-only broadcast view is enough, no copy.
    # BEGIN SOLUTION
    return (np.broadcast_to(_keep_dims(g, node), node.inputs[0].shape),)
    # END SOLUTION


@register_rule("mean")
def mean_backward(g: np.ndarray, node: Node) -> tuple:
    """Every element receives 1/N of the gradient of its mean."""
    # HINT: a mean is a sum divided by the number of elements averaged (_count); keep g's dtype (a
    # HINT: Python float scale would not change it, a float64 array would).
    # BEGIN SOLUTION
    a = node.inputs[0].data
    scale = np.asarray(1.0 / _count(node), dtype=g.dtype)
    return (np.broadcast_to(_keep_dims(g, node) * scale, a.shape),)
    # END SOLUTION


@register_rule("max")
def max_backward(g: np.ndarray, node: Node) -> tuple:
    """The gradient goes to the maximal elements, shared equally among ties."""
    # HINT: only the maximal elements get the gradient, and several may tie: split it equally among
    # HINT: them, as PyTorch's amax does.
    # BEGIN SOLUTION
    a = node.inputs[0].data
    dim = node.attrs["dim"]
    best = np.max(a, axis=dim, keepdims=True)
    mask = a == best
    share = mask / np.sum(mask, axis=dim, keepdims=True, dtype=g.dtype)
    return (share * _keep_dims(g, node),)
    # END SOLUTION


@register_rule("var")
def var_backward(g: np.ndarray, node: Node) -> tuple:
    """d var = g 2 (a - mean) / (N - correction)."""
    # HINT: the forward saved the centred input a - mean; the mean's own dependence on a drops out,
    # HINT: since the centred values sum to 0.
    # BEGIN SOLUTION
    centred = node.saved
    scale = np.asarray(2.0 / (_count(node) - node.attrs["correction"]), dtype=centred.dtype)
    return (_keep_dims(g, node) * scale * centred,)
    # END SOLUTION


# -- shape ----------------------------------------------------------------------------


@register_rule("reshape")
def reshape_backward(g: np.ndarray, node: Node) -> tuple:
    """Reshape the gradient back."""
    # HINT: a view op moves elements without changing them: its gradient moves them back.
    # BEGIN SOLUTION
    return (g.reshape(node.inputs[0].shape),)
    # END SOLUTION


@register_rule("transpose")
def transpose_backward(g: np.ndarray, node: Node) -> tuple:
    """Swap the same two dims back."""
    # HINT: swapping two dims is its own inverse.
    # BEGIN SOLUTION
    return (np.swapaxes(g, node.attrs["dim0"], node.attrs["dim1"]),)
    # END SOLUTION


@register_rule("permute")
def permute_backward(g: np.ndarray, node: Node) -> tuple:
    """Apply the inverse permutation."""
    # HINT: undo the permutation with its inverse (np.argsort of a permutation is its inverse), not
    # HINT: with the permutation itself.
    # BEGIN SOLUTION
    return (np.transpose(g, np.argsort(node.attrs["dims"])),)
    # END SOLUTION


@register_rule("unsqueeze")
def unsqueeze_backward(g: np.ndarray, node: Node) -> tuple:
    """Remove the inserted dim."""
    # HINT: undo it: the gradient has the extra size-1 dim at attrs['dim'].
    # BEGIN SOLUTION
    return (np.squeeze(g, axis=node.attrs["dim"]),)
    # END SOLUTION


@register_rule("squeeze")
def squeeze_backward(g: np.ndarray, node: Node) -> tuple:
    """Restore the dropped size-1 dims."""
    # HINT: undo it: the input's shape still holds the dropped size-1 dims.
    # BEGIN SOLUTION
    return (g.reshape(node.inputs[0].shape),)
    # END SOLUTION


@register_rule("expand")
def expand_backward(g: np.ndarray, node: Node) -> tuple:
    """The engine's ``sum_to_shape`` sums the expanded dims back."""
    # HINT: an expanded dim's gradient is a sum over it, which the engine's sum_to_shape already
    # HINT: does for every input.
    # BEGIN SOLUTION
    return (g,)
    # END SOLUTION


# -- indexing and joining -------------------------------------------------------------


def _is_basic(index: object) -> bool:
    """True for indices that select each element at most once (no integer arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype != np.bool_:
            return False
        if isinstance(part, (list, tuple)):
            return False
    return True


@register_rule("getitem")
def getitem_backward(g: np.ndarray, node: Node) -> tuple:
    """Scatter the gradient back to the selected places; repeated indices add up."""
    # HINT: an integer array index may repeat an element (a[[0, 0]]): its gradients must add up, and
    # HINT: plain assignment out[index] = g would keep only one (np.add.at does not).
    # BEGIN SOLUTION
    a = node.inputs[0].data
    index = node.attrs["index"]
    out = np.zeros(a.shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return (out,)
    # END SOLUTION


@register_rule("masked_fill")
def masked_fill_backward(g: np.ndarray, node: Node) -> tuple:
    """Filled places get no gradient."""
    # HINT: the filled places no longer depend on the input, so their gradient is 0; keep g's dtype.
    # BEGIN SOLUTION
    return (np.where(node.attrs["mask"], np.zeros((), dtype=g.dtype), g),)
    # END SOLUTION


@register_rule("where")
def where_backward(g: np.ndarray, node: Node) -> tuple:
    """The gradient goes to whichever input was chosen."""
    # HINT: each input gets the gradient only where it was chosen; compute each only when needed.
    # BEGIN SOLUTION
    condition = node.attrs["condition"]
    zero = np.zeros((), dtype=g.dtype)
    need_a, need_b = node.needs_input_grad
    ga = np.where(condition, g, zero) if need_a else None
    gb = np.where(condition, zero, g) if need_b else None
    return ga, gb
    # END SOLUTION


@register_rule("cat")
def cat_backward(g: np.ndarray, node: Node) -> tuple:
    """Split the gradient at the input boundaries."""
    # HINT: the forward saved each input's size along dim: split g at the running totals of those
    # HINT: sizes.
    # BEGIN SOLUTION
    sizes = node.saved
    return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=node.attrs["dim"]))
    # END SOLUTION


@register_rule("stack")
def stack_backward(g: np.ndarray, node: Node) -> tuple:
    """Each input receives its slice of the gradient."""
    # HINT: stack added a new dim at attrs['dim']: input i is slice i along it; return a tuple.
    # BEGIN SOLUTION
    dim = node.attrs["dim"]
    lead = (slice(None),) * dim
    return tuple(g[lead + (i,)] for i in range(len(node.inputs)))
    # END SOLUTION
