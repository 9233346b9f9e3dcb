"""gradstack.transformer's gradient-check table, the one ``gradstack check`` runs too."""

from __future__ import annotations

import pytest

from gradstack.autograd import compare_with_torch, run_case
from gradstack.tensor import GradCase, TorchCase
from gradstack.transformer.gradcheck_cases import GRADCHECK_CASES, TORCH_CASES


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


def test_layer_norm_is_checked_over_shapes_and_one_input_at_a_time():
    labels = [case.label for case in GRADCHECK_CASES if case.op == "layer_norm"]
    assert len(labels) >= 8
    assert "only gamma requires grad" in labels
