"""Value types of the money engine: what goes into `compute_invoice` and what comes out.

Inputs are frozen dataclasses that validate themselves when built (no float, no NaN, at most 6
decimals for quantities, prices and rates, money amounts exact in the invoice currency), so a
value that exists is a valid one and the computation never re-checks it. Results are NamedTuples:
cheap to create, immutable, and `_asdict()` feeds serializers directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from faktur.calc.currency import CurrencyInfo, currency_info
from faktur.calc.decimals import check_decimal
from faktur.calc.errors import (
    AmountXorPercent,
    BaseAmountRequired,
    InvalidInput,
    NegativeTaxRate,
    PrecisionError,
    UnknownTaxCategory,
)

_ZERO = Decimal(0)


class TaxCategory(StrEnum):
    """VAT category codes of EN 16931 (UNCL5305 subset, BT-118/BT-151)."""

    S = "S"  # standard rate
    Z = "Z"  # zero rated goods
    E = "E"  # exempt from VAT
    AE = "AE"  # VAT reverse charge
    K = "K"  # intra-community supply (VAT exempt for EEA intra-community supply of goods and services)
    G = "G"  # free export item, VAT not charged (export outside the EU)
    O = "O"  # noqa: E741 (the UNCL5305 code) -- services outside scope of tax
    L = "L"  # Canary Islands general indirect tax (IGIC)
    M = "M"  # tax for production, services and importation in Ceuta and Melilla (IPSI)


CATEGORY_NAMES: dict[TaxCategory, str] = {
    TaxCategory.S: "standard rated",
    TaxCategory.Z: "zero rated",
    TaxCategory.E: "exempt from VAT",
    TaxCategory.AE: "reverse charge",
    TaxCategory.K: "intra-community supply",
    TaxCategory.G: "export outside the EU",
    TaxCategory.O: "not subject to VAT",
    TaxCategory.L: "IGIC (Canary Islands)",
    TaxCategory.M: "IPSI (Ceuta and Melilla)",
}


# The exemption a VAT breakdown of these categories states when no item of it gives a reason: the CEF
# VATEX code and its standard text. E has no default: the exemption's legal basis varies.
DEFAULT_EXEMPTIONS: dict[TaxCategory, tuple[str, str]] = {
    TaxCategory.AE: ("Reverse charge", "VATEX-EU-AE"),
    TaxCategory.K: ("Intra-Community supply", "VATEX-EU-IC"),
    TaxCategory.G: ("Export outside the EU", "VATEX-EU-G"),
    TaxCategory.O: ("Not subject to VAT", "VATEX-EU-O"),
}


def _blank_to_none(obj: object, name: str) -> None:
    # A blank reason is no reason: EN 16931 tests existence, and "  " on an invoice helps nobody.
    value = getattr(obj, name)
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string, got {type(value).__name__}", field=name)
    if not value.strip():
        object.__setattr__(obj, name, None)


def _as_tuple(obj: object, name: str, item_type: type) -> None:
    value = getattr(obj, name)
    if type(value) is not tuple:
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            raise InvalidInput(f"{name} must be a tuple of {item_type.__name__}", field=name)
        value = tuple(value)
        object.__setattr__(obj, name, value)
    for index, item in enumerate(value):
        if not isinstance(item, item_type):
            raise InvalidInput(
                f"{name}[{index}] must be a {item_type.__name__}, got {type(item).__name__}",
                field=f"{name}[{index}]",
            )


@dataclass(frozen=True, slots=True)
class TaxSpec:
    """VAT treatment of a line or document allowance/charge: category and rate in percent.

    The exemption reason (BT-120) and its VATEX code (BT-121) belong to the category's VAT
    breakdown; lines of one category need not repeat them, but must not contradict each other."""

    category: TaxCategory
    percent: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    def __post_init__(self) -> None:
        if type(self.category) is not TaxCategory:
            try:
                object.__setattr__(self, "category", TaxCategory(self.category))
            except ValueError:
                raise UnknownTaxCategory(
                    f"Unknown VAT category {self.category!r}; use one of "
                    + ", ".join(c.value for c in TaxCategory),
                    field="tax.category",
                ) from None
        check_decimal(self.percent, "tax.percent")
        if self.percent < 0:
            raise NegativeTaxRate(f"VAT rate {self.percent} is negative", field="tax.percent")
        _blank_to_none(self, "exemption_reason")
        _blank_to_none(self, "exemption_reason_code")


def _check_amount_or_percent(amount: Decimal | None, percent: Decimal | None, what: str) -> None:
    if (amount is None) == (percent is None):
        raise AmountXorPercent(
            f"A {what} needs exactly one of amount or percent",
            field="amount",
        )
    if amount is not None:
        # Decimals are checked against the currency by InvoiceInput, which knows it.
        check_decimal(amount, "amount", max_decimals=None)
    else:
        check_decimal(percent, "percent")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """Line-level allowance (BG-27) or charge (BG-28): a fixed amount, or a percentage of the
    line amount round(quantity x unit price). A reason or reason code is expected (BR-CO-23/24)."""

    amount: Decimal | None = None
    percent: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None

    def __post_init__(self) -> None:
        _check_amount_or_percent(self.amount, self.percent, "line allowance or charge")
        _blank_to_none(self, "reason")
        _blank_to_none(self, "reason_code")


@dataclass(frozen=True, slots=True)
class LineInput:
    """One invoice line (BG-25). Negative quantities or prices make a credit line."""

    quantity: Decimal
    unit_price: Decimal
    tax: TaxSpec
    allowances: tuple[Adjustment, ...] = ()
    charges: tuple[Adjustment, ...] = ()

    def __post_init__(self) -> None:
        check_decimal(self.quantity, "quantity")
        check_decimal(self.unit_price, "unit_price")
        if not isinstance(self.tax, TaxSpec):
            raise InvalidInput("tax must be a TaxSpec", field="tax")
        _as_tuple(self, "allowances", Adjustment)
        _as_tuple(self, "charges", Adjustment)


@dataclass(frozen=True, slots=True)
class DocumentAdjustment:
    """Document-level allowance (BG-20) or charge (BG-21) with its own VAT category and rate:
    a fixed amount, or `percent` of an explicitly given `base_amount`."""

    is_charge: bool
    tax: TaxSpec
    amount: Decimal | None = None
    percent: Decimal | None = None
    base_amount: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None

    def __post_init__(self) -> None:
        if type(self.is_charge) is not bool:
            raise InvalidInput("is_charge must be a bool", field="is_charge")
        if not isinstance(self.tax, TaxSpec):
            raise InvalidInput("tax must be a TaxSpec", field="tax")
        _check_amount_or_percent(self.amount, self.percent, "document allowance or charge")
        if self.base_amount is not None:
            check_decimal(self.base_amount, "base_amount", max_decimals=None)
        elif self.percent is not None:
            raise BaseAmountRequired(
                "A percentage allowance or charge needs the base_amount it is a percentage of",
                field="base_amount",
            )
        _blank_to_none(self, "reason")
        _blank_to_none(self, "reason_code")


def _check_money(value: Decimal, info: CurrencyInfo, field: str) -> None:
    check_decimal(value, field, max_decimals=None)
    if value.quantize(info.quantum) != value:
        raise PrecisionError(
            f"{field} {value:f} has more decimals than {info.code} allows ({info.digits})",
            field=field,
        )


@dataclass(frozen=True, slots=True)
class InvoiceInput:
    """Everything `compute_invoice` needs. With `prices_include_tax` the unit prices and every
    fixed or base amount (line and document allowances and charges) are gross, VAT included."""

    currency: str
    lines: tuple[LineInput, ...]
    adjustments: tuple[DocumentAdjustment, ...] = ()
    prices_include_tax: bool = False
    paid_amount: Decimal = _ZERO
    rounding_amount: Decimal = _ZERO

    def __post_init__(self) -> None:
        info = currency_info(self.currency)
        _as_tuple(self, "lines", LineInput)
        _as_tuple(self, "adjustments", DocumentAdjustment)
        if type(self.prices_include_tax) is not bool:
            raise InvalidInput("prices_include_tax must be a bool", field="prices_include_tax")
        _check_money(self.paid_amount, info, "paid_amount")
        _check_money(self.rounding_amount, info, "rounding_amount")
        for index, line in enumerate(self.lines):
            for kind in ("allowances", "charges"):
                for position, adjustment in enumerate(getattr(line, kind)):
                    if adjustment.amount is not None:
                        _check_money(adjustment.amount, info, f"lines[{index}].{kind}[{position}].amount")
        for index, doc in enumerate(self.adjustments):
            if doc.amount is not None:
                _check_money(doc.amount, info, f"adjustments[{index}].amount")
            if doc.base_amount is not None:
                _check_money(doc.base_amount, info, f"adjustments[{index}].base_amount")


class LineResult(NamedTuple):
    """Computed line. `amount` is round(quantity x unit price); `net` is BT-131 (without VAT).

    In tax-inclusive mode `amount`, the allowance/charge figures and `gross` are VAT-inclusive (what
    the customer saw) and `net` is the line's share of its group's net; in exclusive mode `gross`
    is None (VAT is only known per group)."""

    amount: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    net: Decimal
    gross: Decimal | None
    tax: TaxSpec
    allowance_amounts: tuple[Decimal, ...]  # each line allowance, rounded, in input order (BT-136)
    charge_amounts: tuple[Decimal, ...]  # each line charge, rounded, in input order (BT-141)


class AdjustmentResult(NamedTuple):
    """Computed document allowance/charge. `amount` is without VAT (BT-92/BT-99), always as
    entered in exclusive mode; in inclusive mode `gross` is the entered amount and `amount` its
    net share."""

    is_charge: bool
    amount: Decimal
    tax: TaxSpec
    gross: Decimal | None
    base_amount: Decimal | None
    percent: Decimal | None
    reason: str | None
    reason_code: str | None


class TaxGroup(NamedTuple):
    """One VAT breakdown (BG-23) per (category, rate)."""

    category: TaxCategory
    percent: Decimal  # canonical spelling: Decimal("19.00"), Decimal("7.125")
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None  # BT-120
    exemption_reason_code: str | None  # BT-121


class Totals(NamedTuple):
    """Document totals (BG-22) in EN 16931 terms."""

    line_net_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive_total: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive_total: Decimal  # BT-112
    paid_amount: Decimal  # BT-113
    rounding_amount: Decimal  # BT-114
    amount_due: Decimal  # BT-115


class InvoiceResult(NamedTuple):
    """Everything computed for one invoice; lines and adjustments in input order."""

    currency: str
    lines: tuple[LineResult, ...]
    adjustments: tuple[AdjustmentResult, ...]
    tax_groups: tuple[TaxGroup, ...]  # sorted by category (declaration order S, Z, E, ...) then rate
    totals: Totals


@dataclass(frozen=True, slots=True)
class Parties:
    """The seller and buyer identifiers the VAT category rules depend on (blank means absent).

    `seller_country` and `buyer_country` are carried for callers; no EN 16931 category rule
    reads them. `deliver_to_country` (BT-80) and `delivery_date_or_period_given` (BT-72 or BG-14
    present) are needed for intra-community supply (BR-IC-11/12)."""

    seller_vat_id: str | None = None
    buyer_vat_id: str | None = None
    seller_tax_registration_id: str | None = None
    buyer_legal_registration_id: str | None = None
    seller_country: str | None = None
    buyer_country: str | None = None
    seller_tax_representative_vat_id: str | None = None
    deliver_to_country: str | None = None
    delivery_date_or_period_given: bool = False


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One broken EN 16931 rule, phrased so a person knows what to change.

    `field` points at the input to fix ("lines[2].tax.exemption_reason", "customer.vat_id");
    `line_index` is set when the violation is about one line."""

    rule: str
    message: str
    line_index: int | None = None
    field: str | None = None
