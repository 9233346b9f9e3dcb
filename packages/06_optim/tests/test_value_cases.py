"""This package's value checks (``VALUE_CASES``), the rows ``gradstack check`` prints."""

from __future__ import annotations

import pytest

from gradstack.optim.value_cases import VALUE_CASES

PLAIN = [case for case in VALUE_CASES if not case.needs_torch]
TORCH = [case for case in VALUE_CASES if case.needs_torch]


def test_the_cases_have_unique_ids():
    ids = [case.id for case in VALUE_CASES]
    assert len(PLAIN) >= 3
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", PLAIN, ids=lambda case: case.id)
def test_case_is_within_its_tolerance(case):
    assert case.run() <= case.tolerance


@pytest.mark.torch
@pytest.mark.parametrize("case", TORCH, ids=lambda case: case.id)
def test_step_matches_torch(case):
    torch = pytest.importorskip("torch")
    assert case.run(torch) <= case.tolerance
