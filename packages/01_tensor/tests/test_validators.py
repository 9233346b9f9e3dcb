"""The shared validators every package uses for sizes and drop probabilities."""

import numpy as np
import pytest

from gradstack.tensor import check_positive_int, check_probability


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_a_positive_int_is_returned_as_an_int(value):
    result = check_positive_int("Owner", "size", value)
    assert result == int(value) and type(result) is int


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, ValueError, "Owner: size must be a positive int, got 0"),
        (-3, ValueError, "Owner: size must be a positive int, got -3"),
        (2.0, TypeError, "Owner: size must be an int, got float"),
        (True, TypeError, "Owner: size must be an int, got bool"),
        ("4", TypeError, "Owner: size must be an int, got str"),
    ],
)
def test_a_bad_size_names_the_owner_and_the_value(value, error, message):
    with pytest.raises(error) as info:
        check_positive_int("Owner", "size", value)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [0, 0.0, 0.5, np.float32(0.25), 0.999])
def test_a_probability_below_one_is_returned_as_a_float(value):
    result = check_probability("Dropout", "p", value)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1.0, ValueError, "Dropout: p must be in [0, 1), got 1.0"),
        (-0.1, ValueError, "Dropout: p must be in [0, 1), got -0.1"),
        (float("nan"), ValueError, "Dropout: p must be in [0, 1), got nan"),
        (False, TypeError, "Dropout: p must be a number, got bool"),
        (None, TypeError, "Dropout: p must be a number, got NoneType"),
    ],
)
def test_a_bad_probability_names_the_owner_and_the_value(value, error, message):
    with pytest.raises(error) as info:
        check_probability("Dropout", "p", value)
    assert str(info.value) == message
