"""Currencies: ISO 4217 codes, their minor units (from Babel's CLDR data) and exact conversion
between Decimal amounts, integer minor units and plain strings.

Codes must be exact upper case ("EUR"); the API layer normalises user input with `.upper()`
before it gets here, so calc never guesses what "eur" or "Eur" meant.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import NamedTuple

from babel.numbers import get_currency_precision, list_currencies

from faktur.calc.decimals import MONEY_CONTEXT, check_decimal
from faktur.calc.errors import FloatNotAllowed, NotADecimal, NumberOutOfRange, PrecisionError, UnknownCurrency


class CurrencyInfo(NamedTuple):
    """What the engine needs to know about one currency, computed once per code."""

    code: str
    digits: int  # minor units: JPY 0, EUR 2, KWD 3
    quantum: Decimal  # Decimal("0.01") for EUR: the exponent every amount is quantized to
    zero: Decimal  # Decimal("0.00") for EUR: the canonical zero, never "-0.00"


@cache
def _known_codes() -> frozenset[str]:
    return frozenset(list_currencies())


_INFO: dict[str, CurrencyInfo] = {}


def currency_info(currency: str) -> CurrencyInfo:
    """Minor units, quantum and zero for an ISO 4217 code; raises UnknownCurrency naming the code."""
    info = _INFO.get(currency)
    if info is not None:
        return info
    if type(currency) is not str or currency not in _known_codes():
        hint = ""
        if isinstance(currency, str) and currency.upper() in _known_codes():
            hint = f"; currency codes are upper case, did you mean {currency.upper()!r}?"
        raise UnknownCurrency(f"Unknown currency {currency!r}: not an ISO 4217 code{hint}", field="currency")
    digits = get_currency_precision(currency)
    info = CurrencyInfo(currency, digits, Decimal(1).scaleb(-digits), Decimal(0).scaleb(-digits))
    _INFO[currency] = info
    return info


def minor_units(currency: str) -> int:
    """Number of decimals of the currency's minor unit: JPY 0, EUR 2, KWD 3."""
    return currency_info(currency).digits


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round ROUND_HALF_UP to the currency's minor unit; zero is always the positive "0.00"."""
    info = currency_info(currency)
    check_decimal(amount, "amount", max_decimals=None)
    rounded = amount.quantize(info.quantum, rounding=ROUND_HALF_UP, context=MONEY_CONTEXT)
    # -0.004 rounds to -0.00, which would print as "-0.00" on an invoice.
    return rounded if rounded else info.zero


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units (119.00 EUR -> 11900); the amount must already be exact in the currency."""
    info = currency_info(currency)
    check_decimal(amount, "amount", max_decimals=None)
    if amount.quantize(info.quantum, context=MONEY_CONTEXT) != amount:
        raise PrecisionError(
            f"amount {amount:f} has more decimals than {currency} allows ({info.digits}); "
            "round it with quantize_money first",
            field="amount",
        )
    return int(amount.scaleb(info.digits, context=MONEY_CONTEXT))


def from_minor(minor: int, currency: str) -> Decimal:
    """Decimal with the currency's exponent from integer minor units (11900 EUR -> Decimal("119.00"))."""
    info = currency_info(currency)
    if type(minor) is not int:
        if isinstance(minor, float):
            raise FloatNotAllowed(f"minor units must be an int, got the float {minor!r}", field="minor")
        raise NotADecimal(f"minor units must be an int, got {type(minor).__name__} {minor!r}", field="minor")
    try:
        amount = Decimal(minor).scaleb(-info.digits, context=MONEY_CONTEXT)
    except InvalidOperation as exc:
        raise NumberOutOfRange(f"{minor} minor units is too large", field="minor") from exc
    return amount


def format_amount(amount: Decimal, currency: str) -> str:
    """Plain machine form rounded to the minor unit: "119.00", "1000" (JPY), "1.234" (KWD).

    No symbols or grouping: locale-aware formatting is the PDF renderer's job (Babel)."""
    return str(quantize_money(amount, currency))
