"""gradstack.embeddings's gradient-check table, the one ``gradstack check`` runs too."""

from __future__ import annotations

import pytest

from gradstack.autograd import compare_with_torch, run_case
from gradstack.embeddings.gradcheck_cases import GRADCHECK_CASES, TORCH_CASES
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


def test_the_lookup_and_both_positional_encodings_are_checked():
    assert sum(case.op == "embedding" for case in GRADCHECK_CASES) >= 3
    assert sum(case.component == "positional encodings" for case in GRADCHECK_CASES) >= 4
