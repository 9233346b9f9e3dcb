"""Every rule of gradstack.tensor, checked by gradcheck and against PyTorch, from one table.

The table is gradstack.tensor's own (``gradstack.tensor.gradcheck_cases``), the same one
``gradstack check`` runs. A test asserts that every differentiable op defined in
gradstack.tensor has a case, so a new op without one fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.autograd.gradcheck_runner import run_case
from gradstack.tensor import OPS, GradCase, TorchCase
from gradstack.tensor.gradcheck_cases import GRADCHECK_CASES, OP_CASES, TORCH_CASES


def _tensor_ops() -> set[str]:
    """Names of the differentiable ops that gradstack.tensor defines."""
    return {
        name
        for name, op in OPS.items()
        if op.differentiable and op.module.startswith("gradstack.tensor")
    }


def test_every_differentiable_tensor_op_has_a_gradcheck_case():
    assert sorted(_tensor_ops() - {case.op for case in GRADCHECK_CASES}) == []


def test_every_differentiable_tensor_op_has_a_torch_case():
    assert sorted(_tensor_ops() - {item.op for item in OP_CASES if item.torch}) == []


def test_case_ids_are_unique():
    ids = [case.id for case in GRADCHECK_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda case: case.label)
def test_rule_passes_gradcheck(case: GradCase):
    result = run_case(case)
    assert result.passed, result.note


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda case: case.label)
def test_gradients_have_the_inputs_shapes_and_dtypes(case: GradCase):
    fn, inputs = case.build()
    out = fn(*inputs)
    out.backward(np.ones(out.shape))
    for x in inputs:
        assert x.grad.shape == x.shape
        assert x.grad.dtype == np.float64


@pytest.mark.torch
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda case: case.label)
def test_forward_and_gradients_match_torch(case: TorchCase):
    torch = pytest.importorskip("torch")
    out, ours = case.ours()
    expected, theirs = case.theirs(torch)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64
    weights = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(weights)
    expected.backward(torch.from_numpy(weights))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-10, atol=1e-12)
