"""gradstack.attention's gradient-check table, the one ``gradstack check`` runs too."""

from __future__ import annotations

import pytest

from gradstack.attention.gradcheck_cases import GRADCHECK_CASES, TORCH_CASES
from gradstack.autograd import compare_with_torch, run_case
from gradstack.tensor import GradCase, TorchCase


def test_the_table_has_cases_with_unique_ids():
    ids = [case.id for case in GRADCHECK_CASES]
    assert len(ids) >= 2
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda case: case.id)
def test_case_passes_gradcheck(case: GradCase):
    result = run_case(case)
    assert result.passed, result.note


@pytest.mark.torch
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda case: case.label)
def test_case_matches_torch(case: TorchCase):
    torch = pytest.importorskip("torch")
    assert [c.what for c in compare_with_torch(case, torch) if not c.same] == []


def test_the_attention_op_is_checked_with_every_option():
    labels = {case.label for case in GRADCHECK_CASES if case.op == "scaled_dot_product_attention"}
    assert len(labels) >= 12
    assert {"dropout, fixed seed", "fully masked rows", "keys shared across heads"} <= labels
