"""A whole GPT training step gives the same loss and gradients with kernels on and with
every kernel switched off (``use_references()``).

The step is the plain user loop up to the optimizer: forward, ``cross_entropy``,
``backward`` (an optimizer's kernel is tested in its own package). Same weights, same
batch, same seed (dropout draws the same numbers in the same order on both paths).
Tolerances, stated: in float64 the two paths agree to 1e-9 (relative, plus 1e-9 of the
model's largest gradient entry; they differ only in the order of additions); in float32
the loss agrees to 1e-5 relative and every gradient to 1e-3 relative plus 1e-3 of the
model's largest gradient entry (float32 rounding of ~1e-7 grows through two blocks and
the softmax backward). The per-op equality tests (``tests/test_kernels*.py`` in each
package) are much tighter.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.losses import cross_entropy
from gradstack.tensor import KERNELS, Tensor, kernels_enabled, manual_seed, use_references
from gradstack.transformer import GPT

TOLERANCE = {  # (loss rtol, gradient rtol, gradient atol as a fraction of the largest entry)
    np.float32: (1e-5, 1e-3, 1e-3),
    np.float64: (1e-9, 1e-9, 1e-9),
}


def train_step(dtype: type, dropout: float) -> tuple[float, dict]:
    """Loss and gradients of one step of a freshly built GPT."""
    manual_seed(0)
    model = GPT(vocab_size=23, embed_dim=32, num_layers=2, num_heads=4, max_seq_len=16,
                dropout=dropout)  # fmt: skip
    if dtype is np.float64:
        model.double()
    data = np.random.default_rng(1).integers(0, 23, size=(4, 17))
    manual_seed(5)  # dropout draws
    loss = cross_entropy(model(Tensor(data[:, :-1])), Tensor(data[:, 1:]))
    loss.backward()
    grads = {name: p.grad.data.copy() for name, p in model.named_parameters()}
    return loss.item(), grads


@pytest.mark.parametrize("dropout", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_training_step_is_the_same_with_kernels_on_and_off(dtype, dropout):
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: there is nothing to compare with")
    # a student's copy of a module has no kernels; the other modules' kernels still run
    installed = [name for name in ("scaled_dot_product_attention", "layer_norm") if name in KERNELS]
    if not installed:
        pytest.skip("neither attention nor layer norm has a kernel installed (student copies)")
    loss, grads = train_step(dtype, dropout)
    with use_references():
        ref_loss, ref_grads = train_step(dtype, dropout)
    loss_rtol, rtol, atol = TOLERANCE[dtype]
    assert np.isfinite(loss) and loss == pytest.approx(ref_loss, rel=loss_rtol)
    assert sorted(grads) == sorted(ref_grads) and len(grads) == 37
    # atol relative to the largest gradient of the model: some gradients are 0 in exact
    # arithmetic (k_proj.bias: a softmax ignores a shift shared by all of a query's scores)
    # and only rounding noise of ~1e-12 on either path
    scale = max(float(np.abs(g).max()) for g in ref_grads.values())
    for name, reference in ref_grads.items():
        assert grads[name].dtype == dtype
        np.testing.assert_allclose(grads[name], reference, rtol=rtol, atol=atol * scale,
                                   err_msg=name)  # fmt: skip
