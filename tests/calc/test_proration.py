"""Proration by days: hand-computed shares, exact additivity, rounding once per currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faktur.calc.errors import FloatNotAllowed
from faktur.calc.periods import BillingInterval, Period, period_containing, periods_between
from faktur.calc.proration import prorate, prorate_money

D = Decimal
d = date


@pytest.mark.parametrize(
    ("amount", "covered", "full", "expected"),
    [
        # February 2023, 28 days; 10 days covered: 56.00 x 10 / 28 = 20.00
        (D("56.00"), (d(2023, 2, 1), d(2023, 2, 11)), (d(2023, 2, 1), d(2023, 3, 1)), D("20.00")),
        # April 2024, 30 days; Apr 11 - May 1 is 20 days: 90.00 x 20 / 30 = 60.00
        (D("90.00"), (d(2024, 4, 11), d(2024, 5, 1)), (d(2024, 4, 1), d(2024, 5, 1)), D("60.00")),
        # January 2024, 31 days; 10 days: 31.00 x 10 / 31 = 10.00
        (D("31.00"), (d(2024, 1, 1), d(2024, 1, 11)), (d(2024, 1, 1), d(2024, 2, 1)), D("10.00")),
        # January 2024, 10 of 31 days: 1000/31 = 32.258064516129032258064516129..., kept to 28
        # significant digits relative to 100.00 (25 decimals), next digit 2 rounds down
        (
            D("100.00"),
            (d(2024, 1, 1), d(2024, 1, 11)),
            (d(2024, 1, 1), d(2024, 2, 1)),
            D("32.2580645161290322580645161"),
        ),
        # leap February 2024, 29 days; Feb 15 - Mar 1 is 15 days: 29.00 x 15 / 29 = 15.00
        (D("29.00"), (d(2024, 2, 15), d(2024, 3, 1)), (d(2024, 2, 1), d(2024, 3, 1)), D("15.00")),
        # the same dates in 2023 are 14 of 28 days: 29.00 x 14 / 28 = 14.50
        (D("29.00"), (d(2023, 2, 15), d(2023, 3, 1)), (d(2023, 2, 1), d(2023, 3, 1)), D("14.50")),
        # full year 2024 is 366 days; 100 days: 366.00 x 100 / 366 = 100.00
        (D("366.00"), (d(2024, 1, 1), d(2024, 4, 10)), (d(2024, 1, 1), d(2025, 1, 1)), D("100.00")),
        # the whole period is the whole amount, trailing zeros as given
        (D("99.90"), (d(2024, 2, 1), d(2024, 3, 1)), (d(2024, 2, 1), d(2024, 3, 1)), D("99.90")),
        # nothing covered, nothing owed
        (D("99.90"), (d(2024, 2, 5), d(2024, 2, 5)), (d(2024, 2, 1), d(2024, 3, 1)), D("0.00")),
        # a credit prorates symmetrically: -62.00 x 10 / 31 = -20.00
        (D("-62.00"), (d(2024, 3, 1), d(2024, 3, 11)), (d(2024, 3, 1), d(2024, 4, 1)), D("-20.00")),
        # more decimals than money, e.g. a unit price: 0.000031 x 1 / 31 = 0.000001
        (D("0.000031"), (d(2024, 1, 5), d(2024, 1, 6)), (d(2024, 1, 1), d(2024, 2, 1)), D("0.000001")),
    ],
)
def test_prorate_is_amount_times_covered_days_over_full_days(
    amount: Decimal, covered: tuple[date, date], full: tuple[date, date], expected: Decimal
) -> None:
    result = prorate(amount, covered, full)
    assert result == expected
    assert str(result) == str(expected)


JAN_2024 = Period(d(2024, 1, 1), d(2024, 2, 1))  # 31 days
APR_2024 = Period(d(2024, 4, 1), d(2024, 5, 1))  # 30 days


def first_period(start: date, anchor: int, interval: BillingInterval) -> Period:
    return period_containing(start, anchor, interval, start)


@pytest.mark.parametrize(
    ("amount", "period", "currency", "expected"),
    [
        # anchor 31 in February 2023 is clamped to Feb 28: a contract from Feb 10 covers
        # Feb 10 - Feb 28 = 18 days of the cycle Jan 31 - Feb 28 = 28 days.
        # 100.00 x 18 / 28 = 64.2857... -> 64.29
        (D("100.00"), first_period(d(2023, 2, 10), 31, BillingInterval.MONTH), "EUR", D("64.29")),
        # partial first period from mid-month, anchor 1: Apr 16 - May 1 = 15 of 30 days.
        # 100.00 x 15 / 30 = 50.00
        (D("100.00"), first_period(d(2024, 4, 16), 1, BillingInterval.MONTH), "EUR", D("50.00")),
        # contract ending mid-period (exclusive end Mar 11): Mar 1 - Mar 11 = 10 of 31 days.
        # 100.00 x 10 / 31 = 32.258... -> 32.26
        (
            D("100.00"),
            period_containing(d(2024, 1, 1), 1, BillingInterval.MONTH, d(2024, 3, 5), d(2024, 3, 11)),
            "EUR",
            D("32.26"),
        ),
        # quarterly from Feb 10 2024, anchor 1: Feb 10 - May 1 = 20 + 31 + 30 = 81 days of
        # Feb 1 - May 1 = 29 + 31 + 30 = 90 days. 300.00 x 81 / 90 = 270.00
        (D("300.00"), first_period(d(2024, 2, 10), 1, BillingInterval.QUARTER), "EUR", D("270.00")),
        # yearly from Mar 15 2024, anchor 1: Mar 15 2024 - Mar 1 2025 = 365 - 14 = 351 days of
        # Mar 1 2024 - Mar 1 2025 = 365 days (February 2025 has 28).
        # 1200.00 x 351 / 365 = 421200 / 365 = 1153.9726... -> 1153.97
        (D("1200.00"), first_period(d(2024, 3, 15), 1, BillingInterval.YEAR), "EUR", D("1153.97")),
        # JPY has no minor unit: 10000 x 10 / 31 = 3225.806... -> 3226
        (D("10000"), Period(d(2024, 1, 1), d(2024, 1, 11), full=JAN_2024), "JPY", D("3226")),
        # JPY half up: 15 x 1 / 30 = 0.5 -> 1 (banker's rounding would give 0)
        (D("15"), Period(d(2024, 4, 1), d(2024, 4, 2), full=APR_2024), "JPY", D("1")),
        # JPY half up: 75 x 1 / 30 = 2.5 -> 3 (banker's rounding would give 2)
        (D("75"), Period(d(2024, 4, 9), d(2024, 4, 10), full=APR_2024), "JPY", D("3")),
        # KWD has 3 decimals: 10.000 x 10 / 31 = 3.2258... -> 3.226
        (D("10.000"), Period(d(2024, 1, 1), d(2024, 1, 11), full=JAN_2024), "KWD", D("3.226")),
        # KWD half up: 0.015 x 1 / 30 = 0.0005 -> 0.001
        (D("0.015"), Period(d(2024, 4, 1), d(2024, 4, 2), full=APR_2024), "KWD", D("0.001")),
        # EUR half up: 0.15 x 1 / 30 = 0.005 -> 0.01
        (D("0.15"), Period(d(2024, 4, 1), d(2024, 4, 2), full=APR_2024), "EUR", D("0.01")),
        # a credit rounds half away from zero too: -0.15 x 1 / 30 = -0.005 -> -0.01
        (D("-0.15"), Period(d(2024, 4, 1), d(2024, 4, 2), full=APR_2024), "EUR", D("-0.01")),
        # a whole period in JPY given with decimals still lands on the minor unit: 1000.00 -> 1000
        (D("1000.00"), APR_2024, "JPY", D("1000")),
    ],
)
def test_prorate_money_rounds_half_up_to_the_minor_unit(
    amount: Decimal, period: Period, currency: str, expected: Decimal
) -> None:
    result = prorate_money(amount, period, None, currency)
    assert result == expected
    assert str(result) == str(expected)


def test_partial_period_prorates_against_its_own_cycle_by_default() -> None:
    # Jan 20 - Feb 15 is 26 days of the cycle Jan 15 - Feb 15 (31 days); 31.00 x 26 / 31 = 26.00
    first = periods_between(d(2024, 1, 20), None, 15, BillingInterval.MONTH, d(2024, 2, 15))[0]
    assert prorate(D("31.00"), first) == D("26.00")
    assert prorate(D("31.00"), first, first.cycle) == D("26.00")


def test_rounding_happens_once_at_the_end() -> None:
    # 0.01 x 1/3 and 0.01 x 2/3 of a 3-day period: rounding each piece to cents first would give
    # 0.00 + 0.01; the unrounded pieces add up to exactly 0.01 and each rounds on its own.
    full = (d(2024, 4, 1), d(2024, 4, 4))
    first, rest = (d(2024, 4, 1), d(2024, 4, 2)), (d(2024, 4, 2), d(2024, 4, 4))
    assert prorate(D("0.01"), first, full) + prorate(D("0.01"), rest, full) == D("0.01")
    assert prorate_money(D("0.01"), first, full, "EUR") == D("0.00")
    assert prorate_money(D("0.01"), rest, full, "EUR") == D("0.01")


def test_float_amounts_are_refused() -> None:
    with pytest.raises(FloatNotAllowed):
        prorate(10.0, (d(2024, 1, 1), d(2024, 1, 2)), (d(2024, 1, 1), d(2024, 2, 1)))
    assert issubclass(FloatNotAllowed, TypeError)


def test_covered_days_must_lie_within_the_full_period() -> None:
    with pytest.raises(ValueError, match="not within the full period"):
        prorate(D("10"), (d(2024, 1, 20), d(2024, 2, 2)), (d(2024, 1, 1), d(2024, 2, 1)))


def test_full_period_must_have_days() -> None:
    with pytest.raises(ValueError, match="has no days"):
        prorate(D("10"), (d(2024, 1, 1), d(2024, 1, 1)), (d(2024, 1, 1), d(2024, 1, 1)))


def test_full_period_is_required_for_plain_tuples() -> None:
    with pytest.raises(TypeError, match="full period is required"):
        prorate(D("10"), (d(2024, 1, 1), d(2024, 1, 2)))


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown currency"):
        prorate_money(D("10"), (d(2024, 1, 1), d(2024, 1, 2)), (d(2024, 1, 1), d(2024, 2, 1)), "XYZ")


amounts = st.builds(
    lambda units, exponent: Decimal(units).scaleb(exponent),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.integers(min_value=-6, max_value=0),
)


@st.composite
def split_periods(draw: st.DrawFn) -> tuple[tuple[date, date], list[tuple[date, date]]]:
    """A full period of 1 to 400 days and a split of it into consecutive sub-periods."""
    start = draw(st.dates(min_value=d(2000, 1, 1), max_value=d(2090, 1, 1)))
    length = draw(st.integers(min_value=1, max_value=400))
    cuts = sorted(
        draw(st.sets(st.integers(min_value=1, max_value=length - 1), max_size=12)) if length > 1 else []
    )
    bounds = [start, *(start + timedelta(days=cut) for cut in cuts), start + timedelta(days=length)]
    return (bounds[0], bounds[-1]), list(pairwise(bounds))


@given(amounts, split_periods())
def test_unrounded_shares_of_a_split_add_up_to_the_amount_exactly(
    amount: Decimal, split: tuple[tuple[date, date], list[tuple[date, date]]]
) -> None:
    full, pieces = split
    shares = [prorate(amount, piece, full) for piece in pieces]
    # Summed in the default 28-digit context on purpose: the shares are sized to make that exact.
    assert sum(shares, Decimal(0)) == amount


@given(amounts, split_periods())
def test_each_share_is_within_one_part_in_10_to_the_27_of_the_exact_fraction(
    amount: Decimal, split: tuple[tuple[date, date], list[tuple[date, date]]]
) -> None:
    full, pieces = split
    full_days = (full[1] - full[0]).days
    for piece in pieces:
        exact = Fraction(amount) * (piece[1] - piece[0]).days / full_days
        assert abs(Fraction(prorate(amount, piece, full)) - exact) <= abs(Fraction(amount)) / 10**27


@given(amounts, split_periods(), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_prorate_money_is_the_exact_fraction_rounded_half_up(
    amount: Decimal, split: tuple[tuple[date, date], list[tuple[date, date]]], currency: str
) -> None:
    full, pieces = split
    full_days = (full[1] - full[0]).days
    quantum = {"EUR": D("0.01"), "JPY": D("1"), "KWD": D("0.001")}[currency]
    for piece in pieces:
        exact = Fraction(amount) * (piece[1] - piece[0]).days / full_days
        in_quanta = abs(exact) / Fraction(quantum)
        rounded = int(in_quanta) + (1 if in_quanta - int(in_quanta) >= Fraction(1, 2) else 0)
        expected = (rounded if exact >= 0 else -rounded) * quantum
        result = prorate_money(amount, piece, full, currency)
        assert result == expected
        assert result == prorate(amount, piece, full).quantize(quantum, rounding=ROUND_HALF_UP)
        assert result.as_tuple().exponent == quantum.as_tuple().exponent
