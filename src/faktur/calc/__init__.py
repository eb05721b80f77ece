"""Pure money, tax and billing-calendar engine: values in, values out; no I/O, no ORM, no clock.

This package exports the money and VAT engine (currencies, rounding, invoice lines, VAT
breakdown, totals, EN 16931 category rules). Billing-calendar helpers live in their own modules
(`faktur.calc.periods`, `faktur.calc.proration`, `faktur.calc.charge_models`) and are imported
from there.
"""

from faktur.calc.currency import (
    CurrencyInfo,
    currency_info,
    format_amount,
    from_minor,
    minor_units,
    quantize_money,
    to_minor,
)
from faktur.calc.errors import (
    CalcError,
    FloatNotAllowed,
    InvalidInput,
    NonFiniteNumber,
    NotADecimal,
    NumberOutOfRange,
    PrecisionError,
    TaxRuleError,
    UnknownCurrency,
)
from faktur.calc.model import (
    DEFAULT_EXEMPTIONS,
    Adjustment,
    AdjustmentResult,
    DocumentAdjustment,
    InvoiceInput,
    InvoiceResult,
    LineInput,
    LineResult,
    Parties,
    RuleViolation,
    TaxCategory,
    TaxGroup,
    TaxSpec,
    Totals,
)
from faktur.calc.tax_rules import ensure_issuable, line_rule_violations, party_rule_violations
from faktur.calc.totals import compute_invoice

__all__ = [
    "DEFAULT_EXEMPTIONS",
    "Adjustment",
    "AdjustmentResult",
    "CalcError",
    "CurrencyInfo",
    "DocumentAdjustment",
    "FloatNotAllowed",
    "InvalidInput",
    "InvoiceInput",
    "InvoiceResult",
    "LineInput",
    "LineResult",
    "NonFiniteNumber",
    "NotADecimal",
    "NumberOutOfRange",
    "Parties",
    "PrecisionError",
    "RuleViolation",
    "TaxCategory",
    "TaxGroup",
    "TaxRuleError",
    "TaxSpec",
    "Totals",
    "UnknownCurrency",
    "compute_invoice",
    "currency_info",
    "ensure_issuable",
    "format_amount",
    "from_minor",
    "line_rule_violations",
    "minor_units",
    "party_rule_violations",
    "quantize_money",
    "to_minor",
]
