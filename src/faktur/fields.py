"""Annotated field types for API schemas: exact decimals, codes and identifiers, with limits.

Each raises ValueError with a message a person can act on; Pydantic turns it into a 422 that
names the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

import pycountry
from annotated_types import GroupedMetadata, MaxLen, MinLen
from babel.core import get_global
from babel.numbers import get_territory_currencies, list_currencies
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from stdnum.eu import vat as eu_vat


def _currencies_in_use() -> frozenset[str]:
    """Codes that are legal tender somewhere today: ISO 4217 also lists retired currencies
    (ADP, ZWL), precious metals and test codes (XAU, XXX), which no invoice should carry."""
    today = date.today()
    in_use: set[str] = set()
    for territory in get_global("territory_currencies"):
        in_use.update(get_territory_currencies(territory, start_date=today, tender=True))
    return frozenset(in_use & set(list_currencies()))


_CURRENCIES = _currencies_in_use()
# python-stdnum lists member states in lower case ("de"); VAT ids carry them in upper case.
_EU_VAT_PREFIXES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES) | {"EL", "XI"}


# A decimal number as a string: ASCII digits, an optional sign, fraction and exponent. Python's
# Decimal() would also take "1_000", full-width or Arabic-Indic digits and surrounding spaces;
# none of them is how an amount is written in an API, and echoing them back normalised hides typos.
_DECIMAL_STRING = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def is_decimal_string(value: str) -> bool:
    """Whether `value` is a decimal number as an API takes one written as a string (the rule of
    every Decimal field here, and of usage values, which billing reads the same way)."""
    return _DECIMAL_STRING.fullmatch(value) is not None


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("give the number as a JSON number or a string, never a binary float")
    if isinstance(value, str) and not is_decimal_string(value):
        raise ValueError(
            f"{value[:40]!r} is not a decimal number: write ASCII digits with an optional sign "
            'and decimal point, e.g. "1000.50" (no spaces, underscores or other digits)'
        )
    return value


# What XML 1.0 cannot carry (its Char production): C0 controls other than TAB, LF and CR, the
# surrogate code points (a lone one cannot even be encoded as UTF-8) and U+FFFE/U+FFFF. Every text
# may end up in a UBL/CII document or a PDF, and a finalized invoice's snapshot is frozen, so such
# characters are refused at the input instead of breaking its documents for good. NUL is among
# them (PostgreSQL text cannot hold it either).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_illegal_character(value: str) -> str | None:
    """'U+0007' for the first character of `value` that XML 1.0 cannot carry, or None."""
    found = _XML_ILLEGAL.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def illegal_character_reason(character: str) -> str:
    return f"contains the character {character}, which invoices (XML, PDF) cannot carry; remove it"


def _xml_text(value: str) -> str:
    character = xml_illegal_character(value)
    if character is not None:
        raise ValueError(f"text {illegal_character_reason(character)}")
    return value


def _not_blank(value: str) -> str:
    if value and not value.strip():
        raise ValueError("must contain more than white space")
    return value


def _normalise_decimal(value: Decimal) -> Decimal:
    # 1E+3 is exact but surprising when echoed back; store and show it as 1000.
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        value = value.quantize(Decimal(1))
    # "-0" is zero: never stored or shown with a sign.
    return value.copy_abs() if value.is_zero() else value


# The digit limits and bounds come first, on the Decimal itself, so pydantic-core checks them (in
# Rust); placed after a validator they ran as Python functions, three times slower per field. When
# several fail (a huge number), the digit limits are reported before the bounds. Each type is spelt
# out as an Annotated alias (not built by a function) so a type checker reads it as a Decimal.
_NO_FLOAT = BeforeValidator(_no_float)
_NORMALISED = AfterValidator(_normalise_decimal)
# Magnitude cap of quantities, prices and amounts: far above any real invoice.
_CAP = Decimal("1000000000000")

# Quantities and unit prices: up to 6 decimals.
_SIGNED_6 = Field(max_digits=18, decimal_places=6, ge=-_CAP, le=_CAP)
_POSITIVE_6 = Field(max_digits=18, decimal_places=6, gt=0, le=_CAP)
Quantity = Annotated[Decimal, _SIGNED_6, _NO_FLOAT, _NORMALISED]
PositiveQuantity = Annotated[Decimal, _POSITIVE_6, _NO_FLOAT, _NORMALISED]
UnitPrice = Annotated[Decimal, _SIGNED_6, _NO_FLOAT, _NORMALISED]
NonNegativeUnitPrice = Annotated[
    Decimal, Field(max_digits=18, decimal_places=6, ge=0, le=_CAP), _NO_FLOAT, _NORMALISED
]
Percent = Annotated[
    Decimal, Field(max_digits=9, decimal_places=4, ge=0, le=Decimal("1000")), _NO_FLOAT, _NORMALISED
]
Amount = Annotated[Decimal, _SIGNED_6, _NO_FLOAT, _NORMALISED]
PositiveAmount = Annotated[Decimal, _POSITIVE_6, _NO_FLOAT, _NORMALISED]


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in _CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, JPY)")
    return code


def _country(value: str) -> str:
    code = value.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, FR, US)")
    return code


def _vat_id(value: str) -> str:
    compact = value.replace(" ", "").replace(".", "").replace("-", "").upper()
    if compact[:2] in _EU_VAT_PREFIXES and not eu_vat.is_valid(compact):
        raise ValueError(f"{value!r} is not a valid EU VAT identifier (check digits or length are wrong)")
    if not (2 <= len(compact) <= 30) or not compact.isalnum():
        raise ValueError(
            f"{value!r} is not a VAT identifier: expected a country prefix and 2-28 letters/digits"
        )
    return compact


def _locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError) as exc:
        raise ValueError(f"{value!r} is not a known locale (e.g. en, de, fr_CH)") from exc
    return value.replace("-", "_")


def _unit_codes() -> frozenset[str]:
    source = resources.files("faktur").joinpath("data/unece_rec20_rec21_units.txt").read_text("utf-8")
    return frozenset(line for line in source.split() if line and not line.startswith("#"))


_UNIT_CODES = _unit_codes()


def _unit_code(value: str) -> str:
    if value not in _UNIT_CODES:
        raise ValueError(
            f"{value!r} is not a UN/ECE Recommendation 20 or 21 unit code that EN 16931 accepts "
            "(e.g. C62 one, H87 piece, HUR hour, DAY day, KGM kilogram)"
        )
    return value


CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
CountryCode = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
VatId = Annotated[str, Field(min_length=4, max_length=40), AfterValidator(_vat_id)]
LocaleCode = Annotated[str, Field(min_length=2, max_length=10), AfterValidator(_locale)]
# The unit of a quantity (BT-130), from the code list the CEN rules check (data/ names its source).
UnitCode = Annotated[
    str,
    Field(min_length=2, max_length=3, description="UN/ECE Rec 20/21 unit, e.g. C62 (one), H87 (piece), HUR"),
    AfterValidator(_unit_code),
]


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """`Annotated[str, Text(200)]`: a string of at most 200 characters that XML can carry; with
    min_length, also more than white space. Grouped metadata (annotated-types), so the field stays
    a `str` to a type checker while pydantic expands the checks in order."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield MinLen(self.min_length)
        yield MaxLen(self.max_length)
        yield AfterValidator(_xml_text)
        if self.min_length:
            yield AfterValidator(_not_blank)


Name = Annotated[str, Text(200, 1)]
ShortText = Annotated[str, Text(200)]
LongText = Annotated[str, Text(5000)]


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 50:
        raise ValueError("metadata takes at most 50 keys")
    for key, item in value.items():
        if len(key) > 40:
            raise ValueError(f"metadata key {key[:20]!r}... is longer than 40 characters")
        if not isinstance(item, str) or len(item) > 500:
            raise ValueError(f"metadata value of {key!r} must be a string of at most 500 characters")
        _xml_text(key)
        _xml_text(item)
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]

# Strict: JSON true is not a number of days.
Days = Annotated[int, Field(strict=True, ge=0, le=3650)]


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the date and time is out of range once converted to UTC") from exc


# A point in time with its zone, normalised to UTC (a time without zone would be ambiguous).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


# Dates an invoice, order or payment may carry. Wider than any real business calendar, narrow
# enough that date arithmetic (terms, periods, UTC offsets) can never overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def _business_date(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must lie between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


BusinessDate = Annotated[date, AfterValidator(_business_date)]
BusinessDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc), AfterValidator(_business_date)]
