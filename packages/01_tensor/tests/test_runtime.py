"""Process-level speed settings: explicit, reversible, harmless where unsupported."""

from __future__ import annotations

import pytest

from gradstack.tensor.runtime import blas_threads, get_blas_threads, tune_malloc


def test_blas_threads_is_restored():
    before = get_blas_threads()
    with blas_threads(1) as applied:
        if before is not None:
            assert applied
            assert get_blas_threads() == 1
    assert get_blas_threads() == before


def test_blas_threads_rejects_zero():
    with pytest.raises(ValueError, match="count must be >= 1"), blas_threads(0):
        pass


def test_tune_malloc_reports_a_bool():
    assert isinstance(tune_malloc(), bool)
