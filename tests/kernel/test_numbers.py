import math

import pytest

from kernel.numbers import is_finite_number


@pytest.mark.parametrize("value", [0, -3, 2.5, 10**300, 1e308])
def test_finite_numbers_are_numbers(value):
    assert is_finite_number(value)


@pytest.mark.parametrize(
    "value", [True, False, None, "1", math.nan, math.inf, -math.inf, 10**400, [1]]
)
def test_bools_text_nan_infinity_and_overflowing_ints_are_not(value):
    assert not is_finite_number(value)
