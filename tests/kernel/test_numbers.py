import math

import pytest

from kernel.numbers import is_finite_number, money, signed_money


@pytest.mark.parametrize("value", [0, -3, 2.5, 10**300, 1e308])
def test_finite_numbers_are_numbers(value):
    assert is_finite_number(value)


@pytest.mark.parametrize(
    "value", [True, False, None, "1", math.nan, math.inf, -math.inf, 10**400, [1]]
)
def test_bools_text_nan_infinity_and_overflowing_ints_are_not(value):
    assert not is_finite_number(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0029, "US$0.0029"),
        (0.643834, "US$0.6438"),
        (1234.5, "US$1,234.5"),
        (0, "US$0"),
        (0.000012, "US$0.000012"),
        (1e-12, "<US$0.00000001"),
        (2_500_000.4, "US$2,500,000"),
        (-0.5, "-US$0.5"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_money_reads_as_us_dollars_never_in_scientific_notation(value, text):
    assert money(value) == text


def test_a_money_difference_has_its_sign():
    assert [signed_money(v) for v in (0.0002, -0.0002, 0.0, None)] == [
        "+US$0.0002",
        "-US$0.0002",
        "US$0",
        "—",
    ]
