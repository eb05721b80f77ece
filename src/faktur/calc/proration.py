"""Prorate a recurring amount over part of a billing period, by days, exactly.

The rules:

* Day count: calendar days, ends exclusive, ``(end - start).days``. The denominator is the number
  of days actually in the full period, so a full February is 28 or 29 days, a full quarter 90 to 92
  and a full year 365 or 366: one day of February is worth more than one day of March.
* ``prorate`` returns the share ``amount * covered_days / full_days`` unrounded. When that quotient
  has a finite decimal expansion within 28 significant digits (relative to ``amount``) it is
  returned exactly; otherwise (a 31-day month) it is rounded at the 28th significant digit, which
  is far below any currency's minor unit. Trailing zeros beyond ``amount``'s own exponent are
  dropped (``prorate(Decimal("100.00"), ...)`` gives ``Decimal("50.00")``, not fifty zeros).
* Additivity: the share of ``[a, b)`` is defined as ``C(b) - C(a)``, where ``C(t)`` is the
  cumulative share from the full period's start to day ``t`` (rounded half up at that fixed
  28th-digit quantum). So the unrounded shares of consecutive sub-periods that tile the full period
  always add up to ``amount`` exactly, with no lost or invented fraction of a cent, and each piece
  still fits Decimal's default 28-digit context, so summing them there is exact too.
  (Because rounding is translation-invariant, ``C(b) - C(a)`` equals the true share whenever the
  true share is itself representable at that quantum.)
* ``prorate_money`` rounds once, at the end, ROUND_HALF_UP to the currency's minor unit, from the
  exact rational share (never from an already-rounded intermediate, so no double rounding).

All arithmetic is on Python integers; no Decimal context is consulted, so the caller's context
(precision, rounding, traps) cannot change a result.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

from faktur.calc.currency import minor_units
from faktur.calc.decimals import check_decimal
from faktur.calc.periods import Period

# A half-open day range: a Period or a (start, end_exclusive) pair.
DateSpan: TypeAlias = Period | tuple[date, date]

# Significant digits kept, relative to the amount, for unrounded shares: the default Decimal
# context precision, so callers can add shares up without a special context.
_SIGNIFICANT_DIGITS = 28


def prorate(amount: Decimal, covered: DateSpan, full: DateSpan | None = None) -> Decimal:
    """The share of ``amount`` for the days of ``covered`` within ``full``, unrounded.

    ``full`` defaults to ``covered.cycle`` when ``covered`` is a ``Period`` (the full cycle of a
    partial period, or the period itself). ``covered`` must lie within ``full``; it may be empty
    (start == end), which yields zero.
    """
    amount = _check_amount(amount)
    (covered_start, covered_end), (full_start, full_end) = _spans(covered, full)
    full_days = (full_end - full_start).days
    sign, coefficient, exponent = _integer_parts(amount)
    if coefficient == 0:
        return _to_decimal(0, 0, exponent, keep_exponent=min(exponent, 0))
    quantum_exponent = min(exponent, amount.adjusted() + 1 - _SIGNIFICANT_DIGITS)
    # amount / 10**quantum_exponent as an exact integer: the amount counted in quanta.
    quanta = coefficient * 10 ** (exponent - quantum_exponent)

    def cumulative(day: date) -> int:
        return _divide_half_up(quanta * (day - full_start).days, full_days)

    share = cumulative(covered_end) - cumulative(covered_start)
    return _to_decimal(sign, share, quantum_exponent, keep_exponent=min(exponent, 0))


def prorate_money(amount: Decimal, covered: DateSpan, full: DateSpan | None, currency: str) -> Decimal:
    """The share of ``amount`` for ``covered`` within ``full``, rounded half up to the currency's minor unit.

    Rounds the exact rational share once; ``full=None`` behaves as in ``prorate``.
    """
    amount = _check_amount(amount)
    (covered_start, covered_end), (full_start, full_end) = _spans(covered, full)
    target_exponent = -minor_units(currency)
    sign, coefficient, exponent = _integer_parts(amount)
    covered_days = (covered_end - covered_start).days
    full_days = (full_end - full_start).days
    # share / 10**target_exponent = coefficient * covered * 10**(exponent - target) / full; scale
    # whichever side needs it so both numerator and denominator stay integers.
    shift = exponent - target_exponent
    numerator = coefficient * covered_days * 10 ** max(shift, 0)
    denominator = full_days * 10 ** max(-shift, 0)
    minor = _divide_half_up(numerator, denominator)
    return _to_decimal(sign, minor, target_exponent, keep_exponent=target_exponent)


def _spans(covered: DateSpan, full: DateSpan | None) -> tuple[tuple[date, date], tuple[date, date]]:
    if full is None:
        if not isinstance(covered, Period):
            raise TypeError("full period is required unless covered is a Period")
        full = covered.cycle
    covered_span = _span(covered, "covered")
    full_span = _span(full, "full")
    if covered_span[1] < covered_span[0]:
        raise ValueError(f"covered period ends ({covered_span[1]}) before it starts ({covered_span[0]})")
    if full_span[1] <= full_span[0]:
        raise ValueError(f"full period {full_span[0]}..{full_span[1]} has no days (end is exclusive)")
    if not (full_span[0] <= covered_span[0] and covered_span[1] <= full_span[1]):
        raise ValueError(
            f"covered period {covered_span[0]}..{covered_span[1]} is not within the full period "
            f"{full_span[0]}..{full_span[1]}"
        )
    return covered_span, full_span


def _span(value: DateSpan, name: str) -> tuple[date, date]:
    if isinstance(value, Period):
        return value.start, value.end
    if isinstance(value, tuple) and len(value) == 2:
        start, end = value
        for day in (start, end):
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(
                    f"{name} period bounds must be datetime.date values, got {type(day).__name__}"
                )
        return start, end
    raise TypeError(f"{name} must be a Period or a (start, end_exclusive) tuple, got {type(value).__name__}")


def _check_amount(amount: object) -> Decimal:
    # No decimals limit: a prorated unit price may carry more than money's minor unit.
    return check_decimal(amount, "amount", max_decimals=None)


def _integer_parts(amount: Decimal) -> tuple[int, int, int]:
    """(sign, coefficient, exponent) with amount == (-1)**sign * coefficient * 10**exponent."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite: checked on the way in
    return sign, int("".join(map(str, digits))), exponent


def _divide_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) with halves away from zero, for non-negative integers."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def _to_decimal(sign: int, magnitude: int, exponent: int, keep_exponent: int) -> Decimal:
    """Build ``(-1)**sign * magnitude * 10**exponent``, dropping trailing zeros down to keep_exponent."""
    while exponent < keep_exponent and magnitude % 10 == 0 and magnitude:
        magnitude //= 10
        exponent += 1
    if magnitude == 0:
        # No negative zero: a zero share of a credit is plain zero.
        sign, exponent = 0, keep_exponent
    return Decimal((sign, tuple(int(d) for d in str(magnitude)), exponent))
