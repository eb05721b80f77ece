"""Currencies: minor units from Babel, rounding, minor-unit conversion and plain formatting."""

from decimal import Decimal

import pytest

from faktur.calc import (
    CalcError,
    PrecisionError,
    UnknownCurrency,
    format_amount,
    from_minor,
    minor_units,
    quantize_money,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3), ("TND", 3)],
)
def test_minor_units_come_from_babel(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits


@pytest.mark.parametrize("code", ["XYZ", "EURO", "", "E"])
def test_unknown_currency_is_an_error_naming_the_code(code: str) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        minor_units(code)
    assert caught.value.code == "unknown_currency"
    assert repr(code) in caught.value.message


def test_lower_case_code_is_refused_with_a_hint() -> None:
    # calc requires exact upper case; the API layer normalises with .upper() before calling.
    with pytest.raises(UnknownCurrency, match="did you mean 'EUR'"):
        minor_units("eur")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "EUR", "2.68"),  # the classic float trap: 2.675 is 2.67499999... as a float
        ("-2.675", "EUR", "-2.68"),  # half up means away from zero, so credits mirror invoices
        ("2.665", "EUR", "2.67"),  # not banker's rounding
        ("-0.004", "EUR", "0.00"),  # never "-0.00"
        ("0.5", "JPY", "1"),
        ("1499.5", "KRW", "1500"),
        ("1.2345", "KWD", "1.235"),
        ("7", "EUR", "7.00"),
    ],
)
def test_quantize_money_rounds_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert str(quantize_money(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("119.00", "EUR", 11900),
        ("119", "EUR", 11900),
        ("-0.05", "EUR", -5),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
    ],
)
def test_to_minor_and_back(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_to_minor_refuses_amounts_that_are_not_exact_in_the_currency() -> None:
    with pytest.raises(PrecisionError, match=r"1\.005"):
        to_minor(Decimal("1.005"), "EUR")
    with pytest.raises(PrecisionError):
        to_minor(Decimal("0.5"), "JPY")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (11900, "EUR", "119.00"),
        (0, "EUR", "0.00"),
        (1000, "JPY", "1000"),
        (1234, "KWD", "1.234"),
        (-5, "EUR", "-0.05"),
    ],
)
def test_from_minor_has_the_currency_exponent(minor: int, currency: str, text: str) -> None:
    assert str(from_minor(minor, currency)) == text


def test_from_minor_refuses_non_integers() -> None:
    with pytest.raises(CalcError):
        from_minor("100", "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("119", "EUR", "119.00"),
        ("1000", "JPY", "1000"),
        ("1.234", "KWD", "1.234"),
        ("1E+3", "USD", "1000.00"),
    ],
)
def test_format_amount_is_plain(amount: str, currency: str, text: str) -> None:
    assert format_amount(Decimal(amount), currency) == text
