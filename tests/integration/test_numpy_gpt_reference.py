"""The benchmark's hand-written NumPy GPT (bench/numpy_gpt.py) computes exactly what
gradstack computes: same loss, same gradient for every parameter, same AdamW step.

This keeps the speed comparison in bench/gpt_step.py honest (both sides do the same
work), and it is a second, independent derivation of every gradient of the GPT.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from gradstack.losses import cross_entropy
from gradstack.optim import AdamW
from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import GPT

BENCH = Path(__file__).resolve().parents[2] / "bench" / "numpy_gpt.py"


@pytest.fixture(scope="module")
def numpy_gpt():
    spec = importlib.util.spec_from_file_location("gradstack_bench_numpy_gpt", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _setup(numpy_gpt, batch=3, context=8):
    manual_seed(3)
    model = GPT(vocab_size=11, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=context)
    cfg = numpy_gpt.Config(11, context, 2, 4, 16, batch)
    params = {name: p.data.copy() for name, p in model.named_parameters()}
    rng = np.random.default_rng(0)
    data = rng.integers(0, 11, size=(batch, context + 1))
    return model, cfg, params, data[:, :-1], data[:, 1:]


def test_same_parameter_names(numpy_gpt):
    model, cfg, params, _, _ = _setup(numpy_gpt)
    assert sorted(numpy_gpt.init_params(cfg)) == sorted(params)


def test_same_loss_and_gradients(numpy_gpt):
    model, cfg, params, x, y = _setup(numpy_gpt)
    loss = cross_entropy(model(Tensor(x)), Tensor(y))
    loss.backward()
    ref_loss, ref_grads = numpy_gpt.loss_and_grads(params, x, y, cfg)
    assert loss.item() == pytest.approx(ref_loss, rel=1e-5)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, ref_grads[name], rtol=2e-3, atol=2e-6, err_msg=name)


def test_same_adamw_step(numpy_gpt):
    model, cfg, params, x, y = _setup(numpy_gpt)
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    ref_opt = numpy_gpt.AdamW(params, lr=1e-2, weight_decay=0.01)
    for _ in range(3):
        loss = cross_entropy(model(Tensor(x)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        # Same gradients on both sides: Adam divides by sqrt(v), so float32 noise in a
        # near-zero gradient would flip the sign of an update and hide the arithmetic.
        grads = {name: p.grad.data.copy() for name, p in model.named_parameters()}
        opt.step()
        ref_opt.step(grads)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, params[name], rtol=1e-4, atol=1e-5, err_msg=name)
