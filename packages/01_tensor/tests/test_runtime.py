"""Process-level speed settings: explicit, reversible, harmless where unsupported."""

from __future__ import annotations

import sys

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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_tune_malloc_applies_on_glibc():
    assert tune_malloc() is True


def test_tune_malloc_is_a_no_op_elsewhere(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert tune_malloc() is False
