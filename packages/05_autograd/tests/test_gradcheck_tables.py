"""The gradient-check tables of the packages whose rules live here (tensor's has its own file).

gradstack.activations, gradstack.layers and gradstack.losses each export their cases in
``gradcheck_cases``; ``gradstack check`` runs the same tables.
"""

from __future__ import annotations

import pytest

import gradstack.activations.gradcheck_cases as activations
import gradstack.layers.gradcheck_cases as layers
import gradstack.losses.gradcheck_cases as losses
from gradstack.autograd.gradcheck_runner import compare_with_torch, run_case
from gradstack.tensor import GradCase, TorchCase, f64

TABLES = {"activations": activations, "layers": layers, "losses": losses}
CASES = [(name, case) for name, table in TABLES.items() for case in table.GRADCHECK_CASES]
TORCH = [(name, case) for name, table in TABLES.items() for case in table.TORCH_CASES]


@pytest.mark.parametrize("name", TABLES)
def test_every_table_has_cases_with_unique_ids(name: str):
    ids = [case.id for case in TABLES[name].GRADCHECK_CASES]
    assert len(ids) >= 3
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("name", "case"), CASES, ids=lambda item: getattr(item, "id", item))
def test_case_passes_gradcheck(name: str, case: GradCase):
    result = run_case(case)
    assert result.passed, f"{name}: {result.note}"


def test_a_case_with_a_wrong_gradient_fails():
    wrong = GradCase("broken", "detached", lambda: (lambda x: x.detach() * x, [f64((2, 3), 0)]))
    result = run_case(wrong)
    assert not result.passed
    assert result.max_rel_error > 0.1


@pytest.mark.torch
@pytest.mark.parametrize(("name", "case"), TORCH, ids=lambda item: getattr(item, "label", item))
def test_case_matches_torch(name: str, case: TorchCase):
    torch = pytest.importorskip("torch")
    differing = [c.what for c in compare_with_torch(case, torch) if not c.same]
    assert differing == [], f"{name} {case.label}"
