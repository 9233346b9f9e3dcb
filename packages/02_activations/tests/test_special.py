"""erf, erfc and the normal CDF/PDF against the standard library, in float64 and float32."""

import math

import numpy as np
import pytest

from gradstack.activations.special import erf, erfc, normal_cdf, normal_pdf

GRID = np.linspace(-8.0, 8.0, 160_001)


def test_erf_within_1e_6_of_math_erf_over_a_fine_grid():
    reference = np.array([math.erf(v) for v in GRID])
    error = np.max(np.abs(erf(GRID) - reference))
    assert error <= 1e-6
    assert error < 2e-7  # the fit is good to about 1e-7


def test_erf_is_odd_exact_at_zero_and_saturates():
    x = np.linspace(0.0, 6.0, 1001)
    np.testing.assert_array_equal(erf(-x), -erf(x))
    assert abs(erf(np.array(0.0))) < 1e-7
    np.testing.assert_allclose(erf(np.array([-50.0, 50.0, -1e300, 1e300])), [-1, 1, -1, 1])


def test_erfc_is_relatively_accurate_in_the_upper_tail():
    x = np.linspace(0.0, 25.0, 2501)
    reference = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(erfc(x) - reference) / reference) < 2e-7
    np.testing.assert_allclose(erfc(-x), [math.erfc(-v) for v in x], rtol=0, atol=2e-7)


def test_normal_cdf_is_relatively_accurate_in_the_lower_tail():
    x = np.linspace(-30.0, 8.0, 3801)
    reference = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    assert np.max(np.abs(normal_cdf(x) - reference) / reference) < 2e-7


def test_normal_pdf_matches_the_formula():
    x = np.linspace(-40.0, 40.0, 801)
    reference = np.array([math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in x])
    np.testing.assert_allclose(normal_pdf(x), reference, rtol=1e-14, atol=0)


@pytest.mark.parametrize("fn", [erf, erfc, normal_cdf, normal_pdf])
def test_float32_stays_float32_and_extremes_raise_no_warning(fn):
    x = np.array([-3e38, -1e20, -1e4, -1.0, 0.0, 1.0, 1e4, 1e20, 3e38], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = fn(x)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))


def test_integer_input_is_computed_in_float64():
    out = erf(np.array([0, 1, 2]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.0, math.erf(1), math.erf(2)], atol=2e-7)
