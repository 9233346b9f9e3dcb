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
def add(g: np.ndarray, node: Node) -> tuple:
    """d(a + b) = (g, g)."""
    # HINT: d(a + b) = (g, g): both inputs get g (the engine sums broadcast dims back).
    # BEGIN SOLUTION
    return g, g
    # END SOLUTION


@register_rule("sub")
def sub(g: np.ndarray, node: Node) -> tuple:
    """d(a - b) = (g, -g)."""
    # HINT: d(a - b) = (g, -g); compute -g only when node.needs_input_grad[1], else None.
    # BEGIN SOLUTION
    return g, (-g if node.needs_input_grad[1] else None)
    # END SOLUTION


@register_rule("mul")
def mul(g: np.ndarray, node: Node) -> tuple:
    """d(a * b) = (g b, g a)."""
    # HINT: d(a * b) = (g * b, g * a) with a, b = _inputs(node); None for an input whose
    # HINT: node.needs_input_grad entry is False.
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    return (g * b if need_a else None), (g * a if need_b else None)
    # END SOLUTION


@register_rule("div")
def div(g: np.ndarray, node: Node) -> tuple:
    """d(a / b) = (g / b, -g a / b²)."""
    # HINT: d(a / b) = (g / b, -g a / b**2), each only when that input needs its gradient.
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    ga = g / b if need_a else None
    gb = -g * a / (b * b) if need_b else None
    return ga, gb
    # END SOLUTION


@register_rule("pow")
def pow_(g: np.ndarray, node: Node) -> tuple:
    """d(a ** b) = (g b a^(b-1), g a^b log a); the log term is 0 where a <= 0."""
    # HINT: d(a ** b): for a, g b a**(b - 1); for b, g out log(a) with out = node.saved (a ** b),
    # HINT: taking log(1) = 0 where a <= 0 (np.where(a > 0, a, 1)); each only if needed.
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
def neg(g: np.ndarray, node: Node) -> tuple:
    """d(-a) = -g."""
    # HINT: d(-a) = -g, as a one-element tuple.
    # BEGIN SOLUTION
    return (-g,)
    # END SOLUTION


@register_rule("matmul")
def matmul(g: np.ndarray, node: Node) -> tuple:
    """d(a @ b) = (g @ bᵀ, aᵀ @ g) for every rank; the engine sums broadcast batch dims.

    1-D operands are promoted to matrices as np.matmul does (a row, b a column), so
    one code path serves all ranks; the promoted dim is dropped again from each
    gradient, leaving only batch dims for the engine's ``sum_to_shape``. A 2-D weight
    against a batched input, the case of every Linear layer, folds the batch into the
    rows: one large GEMM instead of a batched product followed by a sum.
    """
    # HINT: ga = g @ b^T and gb = a^T @ g over the last two dims (np.swapaxes), each only if
    # HINT: needed. Promote 1-D operands as np.matmul does, a (k,) -> (1, k), b (k,) -> (k, 1),
    # HINT: give g the matching size-1 dim, and drop it again from each gradient; leave batch
    # HINT: dims to the engine. A 2-D b against a batched a: fold a's batch dims into rows, so
    # HINT: gb is one GEMM rows^T @ g_rows (shape comments on every reshape).
    # BEGIN SOLUTION
    a, b = _inputs(node)
    need_a, need_b = node.needs_input_grad
    a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k)
    b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1)
    g2 = g[..., None] if b.ndim == 1 else g  # (..., n) -> (..., n, 1)
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)  # (..., m) -> (..., 1, m)
    folded = b2.ndim == 2 and a2.ndim > 2
    ga = gb = None
    if need_a:
        ga = np.matmul(g2, b2.T if folded else np.swapaxes(b2, -1, -2))  # (..., n, k)
        if a.ndim == 1:
            ga = ga[..., 0, :]  # (..., 1, k) -> (..., k)
    if need_b:
        if folded:
            rows = a2.reshape(-1, a2.shape[-1])  # (..., n, k) -> (N, k)
            gb = rows.T @ g2.reshape(-1, g2.shape[-1])  # (k, N) @ (N, m) -> (k, m)
        else:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)  # (..., k, m)
        if b.ndim == 1:
            gb = gb[..., 0]  # (..., k, 1) -> (..., k)
    return ga, gb
    # END SOLUTION


# -- elementwise ----------------------------------------------------------------------


@register_rule("exp")
def exp(g: np.ndarray, node: Node) -> tuple:
    """d(e^a) = g e^a (the saved output)."""
    # HINT: d(e^a) = g e^a; the forward saved e^a as node.saved.
    # BEGIN SOLUTION
    return (g * node.saved,)
    # END SOLUTION


@register_rule("log")
def log(g: np.ndarray, node: Node) -> tuple:
    """d(log a) = g / a."""
    # HINT: d(log a) = g / a, with a = node.inputs[0].data.
    # BEGIN SOLUTION
    return (g / node.inputs[0].data,)
    # END SOLUTION


@register_rule("sqrt")
def sqrt(g: np.ndarray, node: Node) -> tuple:
    """d(sqrt a) = g / (2 sqrt a)."""
    # HINT: d(sqrt a) = g / (2 sqrt(a)); sqrt(a) is node.saved.
    # BEGIN SOLUTION
    out = node.saved
    return (g / (out + out),)
    # END SOLUTION


@register_rule("tanh")
def tanh(g: np.ndarray, node: Node) -> tuple:
    """d(tanh a) = g (1 - tanh² a)."""
    # HINT: d(tanh a) = g (1 - t**2) with t = tanh(a) = node.saved.
    # BEGIN SOLUTION
    out = node.saved
    return (g * (1 - out * out),)
    # END SOLUTION


@register_rule("abs")
def abs_(g: np.ndarray, node: Node) -> tuple:
    """d|a| = g sign(a) (0 at 0)."""
    # HINT: d|a| = g sign(a) (np.sign is 0 at 0, as in PyTorch).
    # BEGIN SOLUTION
    return (g * np.sign(node.inputs[0].data),)
    # END SOLUTION


@register_rule("clip")
def clip(g: np.ndarray, node: Node) -> tuple:
    """Gradient passes where min <= a <= max (inclusive, as in PyTorch), else 0."""
    # HINT: g passes where min <= a <= max (inclusive; a bound that is None does not limit),
    # HINT: else 0: np.where(inside, g, a 0 of g's dtype); bounds are in node.attrs.
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
def astype(g: np.ndarray, node: Node) -> tuple:
    """The gradient is cast back to the input's dtype."""
    # HINT: the gradient is g cast back to the input's dtype (node.inputs[0].dtype).
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
def sum_(g: np.ndarray, node: Node) -> tuple:
    """Every element receives the gradient of its sum (a broadcast, not a copy)."""
    # HINT: each input element gets the gradient of its sum: _keep_dims(g, node) (reduced dims
    # HINT: back as size 1) broadcast to the input's shape with np.broadcast_to (no copy).
    # BEGIN SOLUTION
    return (np.broadcast_to(_keep_dims(g, node), node.inputs[0].shape),)
    # END SOLUTION


@register_rule("mean")
def mean(g: np.ndarray, node: Node) -> tuple:
    """Every element receives 1/N of the gradient of its mean."""
    # HINT: like sum, times 1 / _count(node) (the number of elements each mean averaged),
    # HINT: with the scale as an array of g's dtype.
    # BEGIN SOLUTION
    a = node.inputs[0].data
    scale = np.asarray(1.0 / _count(node), dtype=g.dtype)
    return (np.broadcast_to(_keep_dims(g, node) * scale, a.shape),)
    # END SOLUTION


@register_rule("max")
def max_(g: np.ndarray, node: Node) -> tuple:
    """The gradient goes to the maximal elements, shared equally among ties."""
    # HINT: the gradient goes to the elements equal to the max along attrs['dim'] (keepdims),
    # HINT: shared equally among ties: mask / (mask count along dim) times _keep_dims(g, node).
    # BEGIN SOLUTION
    a = node.inputs[0].data
    dim = node.attrs["dim"]
    best = np.max(a, axis=dim, keepdims=True)
    mask = a == best
    share = mask / np.sum(mask, axis=dim, keepdims=True, dtype=g.dtype)
    return (share * _keep_dims(g, node),)
    # END SOLUTION


@register_rule("var")
def var(g: np.ndarray, node: Node) -> tuple:
    """d var = g 2 (a - mean) / (N - correction)."""
    # HINT: _keep_dims(g, node) * 2 centred / (N - correction): centred = a - mean is
    # HINT: node.saved, N = _count(node), correction = node.attrs['correction'].
    # BEGIN SOLUTION
    centred = node.saved
    scale = np.asarray(2.0 / (_count(node) - node.attrs["correction"]), dtype=centred.dtype)
    return (_keep_dims(g, node) * scale * centred,)
    # END SOLUTION


# -- shape ----------------------------------------------------------------------------


@register_rule("reshape")
def reshape(g: np.ndarray, node: Node) -> tuple:
    """Reshape the gradient back."""
    # HINT: reshape g back to the input's shape.
    # BEGIN SOLUTION
    return (g.reshape(node.inputs[0].shape),)
    # END SOLUTION


@register_rule("transpose")
def transpose(g: np.ndarray, node: Node) -> tuple:
    """Swap the same two dims back."""
    # HINT: swap attrs dim0 and dim1 of g back (np.swapaxes).
    # BEGIN SOLUTION
    return (np.swapaxes(g, node.attrs["dim0"], node.attrs["dim1"]),)
    # END SOLUTION


@register_rule("permute")
def permute(g: np.ndarray, node: Node) -> tuple:
    """Apply the inverse permutation."""
    # HINT: apply the inverse permutation, np.argsort(attrs['dims']), to g (np.transpose).
    # BEGIN SOLUTION
    return (np.transpose(g, np.argsort(node.attrs["dims"])),)
    # END SOLUTION


@register_rule("unsqueeze")
def unsqueeze(g: np.ndarray, node: Node) -> tuple:
    """Remove the inserted dim."""
    # HINT: remove the inserted dim attrs['dim'] from g (np.squeeze).
    # BEGIN SOLUTION
    return (np.squeeze(g, axis=node.attrs["dim"]),)
    # END SOLUTION


@register_rule("squeeze")
def squeeze(g: np.ndarray, node: Node) -> tuple:
    """Restore the dropped size-1 dims."""
    # HINT: reshape g to the input's shape: the dropped size-1 dims come back.
    # BEGIN SOLUTION
    return (g.reshape(node.inputs[0].shape),)
    # END SOLUTION


@register_rule("expand")
def expand(g: np.ndarray, node: Node) -> tuple:
    """The engine's ``sum_to_shape`` sums the expanded dims back."""
    # HINT: return g as it is: the engine's sum_to_shape sums the expanded dims back.
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
def getitem(g: np.ndarray, node: Node) -> tuple:
    """Scatter the gradient back to the selected places; repeated indices add up."""
    # HINT: zeros of the input's shape in g's dtype, then put g back where the index took
    # HINT: it: out[index] = g for a basic index (_is_basic), else np.add.at(out, index, g) so
    # HINT: repeated indices add up.
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
def masked_fill(g: np.ndarray, node: Node) -> tuple:
    """Filled places get no gradient."""
    # HINT: g with 0 where attrs['mask'] is True: filled places do not depend on the input.
    # BEGIN SOLUTION
    return (np.where(node.attrs["mask"], np.zeros((), dtype=g.dtype), g),)
    # END SOLUTION


@register_rule("where")
def where(g: np.ndarray, node: Node) -> tuple:
    """The gradient goes to whichever input was chosen."""
    # HINT: (g where condition else 0, 0 where condition else g), condition =
    # HINT: attrs['condition'], each only when needed.
    # BEGIN SOLUTION
    condition = node.attrs["condition"]
    zero = np.zeros((), dtype=g.dtype)
    need_a, need_b = node.needs_input_grad
    ga = np.where(condition, g, zero) if need_a else None
    gb = np.where(condition, zero, g) if need_b else None
    return ga, gb
    # END SOLUTION


@register_rule("cat")
def cat(g: np.ndarray, node: Node) -> tuple:
    """Split the gradient at the input boundaries."""
    # HINT: split g along attrs['dim'] at the inputs' boundaries: np.split at the cumulative
    # HINT: sums of the saved sizes (all but the last); one gradient per input.
    # BEGIN SOLUTION
    sizes = node.saved
    return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=node.attrs["dim"]))
    # END SOLUTION


@register_rule("stack")
def stack(g: np.ndarray, node: Node) -> tuple:
    """Each input receives its slice of the gradient."""
    # HINT: input i gets g's slice i along attrs['dim'] (dim full slices, then i); a tuple.
    # BEGIN SOLUTION
    dim = node.attrs["dim"]
    lead = (slice(None),) * dim
    return tuple(g[lead + (i,)] for i in range(len(node.inputs)))
    # END SOLUTION
