"""Admission checks and the arithmetic context for every number entering faktur.calc.

A float, NaN, a non-Decimal or a value with more decimals than we honour is refused here, at the
door, so the computation itself never has to wonder about its inputs.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from faktur.calc.errors import (
    FloatNotAllowed,
    NonFiniteNumber,
    NotADecimal,
    NumberOutOfRange,
    PrecisionError,
)

# Quantities, unit prices and percentages: 1.5 hours, 0.125 kg, 0.000125 per API call.
MAX_DECIMALS = 6

# |value| < 10**15. With 6 decimals on both factors a product needs at most 42 significant
# digits, so MONEY_CONTEXT's 60 keeps every multiplication and sum exact: the only rounding in the
# engine is the explicit quantize to the minor unit, where EN 16931 puts it.
MAX_ADJUSTED_EXPONENT = 14
MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

HUNDRED = Decimal(100)
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(MAX_DECIMALS + 1)}
_CENT = Decimal("0.01")


def check_decimal(value: object, field: str, max_decimals: int | None = MAX_DECIMALS) -> Decimal:
    """Return `value` if it is a finite, in-range Decimal with at most `max_decimals` decimals.

    Trailing zeros do not count: Decimal("1.5000000") is accepted as 1.5, because the question is
    whether the value can be honoured exactly, not how it was spelled.
    """
    if type(value) is not Decimal:
        if isinstance(value, float):
            raise FloatNotAllowed(
                f"{field} is the float {value!r}; money values must be decimal.Decimal "
                f"(e.g. Decimal('{value}')) so no binary rounding creeps in",
                field=field,
            )
        if not isinstance(value, Decimal):
            raise NotADecimal(
                f"{field} must be a decimal.Decimal, got {type(value).__name__} {value!r}",
                field=field,
            )
    if not value.is_finite():
        raise NonFiniteNumber(f"{field} is {value}; only finite numbers are allowed", field=field)
    if value and value.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise NumberOutOfRange(f"{field} {value:f} is too large (limit 10^15)", field=field)
    if max_decimals is not None:
        quantum = _QUANTA[max_decimals]
        if value.quantize(quantum) != value:
            raise PrecisionError(f"{field} {value:f} has more than {max_decimals} decimals", field=field)
    return value


def canonical_percent(percent: Decimal) -> Decimal:
    """One spelling per rate, so 19, 19.0 and 19.00 print the same: two decimals, or as many as
    the rate really has (7.125)."""
    as_cents = percent.quantize(_CENT)
    if as_cents == percent:
        return as_cents
    return percent.normalize(MONEY_CONTEXT)
