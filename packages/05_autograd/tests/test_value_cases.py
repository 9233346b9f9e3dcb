"""This package's value checks (``VALUE_CASES``), the rows ``gradstack check`` prints."""

from __future__ import annotations

import pytest

from gradstack.autograd.value_cases import VALUE_CASES

PLAIN = [case for case in VALUE_CASES if not case.needs_torch]


def test_the_cases_have_unique_ids():
    ids = [case.id for case in VALUE_CASES]
    assert len(PLAIN) >= 3
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", PLAIN, ids=lambda case: case.id)
def test_case_is_within_its_tolerance(case):
    assert case.run() <= case.tolerance


def test_a_wrong_expectation_is_caught():
    from gradstack.autograd import value_cases

    x = value_cases._leaf((2,), 0)
    (x * 3.0).sum().backward()
    assert value_cases._rel(x.grad.data, 2.0 * x.data**0) > 0.1
