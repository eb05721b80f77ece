"""Exceptions raised by faktur.calc: one base class with a stable snake_case code per failure.

The HTTP layer maps `CalcError.code` and `.message` straight into its JSON error shape, so codes
never change once published and messages name the offending value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faktur.calc.model import RuleViolation


class CalcError(Exception):
    """Base of every error from the money engine; `code` is stable, `message` is for people."""

    code: str = "calc_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class FloatNotAllowed(CalcError, TypeError):
    """A float reached the money path, where its binary rounding would corrupt amounts."""

    code = "float_not_allowed"


class NotADecimal(CalcError, TypeError):
    """A number was given as something other than `decimal.Decimal` (int, str, ...)."""

    code = "not_a_decimal"


class PrecisionError(CalcError, ValueError):
    """A value has more decimals than allowed (6 for quantities, prices and rates; the currency's
    minor unit for money amounts)."""

    code = "too_many_decimals"


class NonFiniteNumber(CalcError, ValueError):
    """NaN or Infinity: never a price, quantity or amount."""

    code = "not_finite"


class NumberOutOfRange(CalcError, ValueError):
    """A magnitude far beyond any invoice; refused so the exact arithmetic stays exact."""

    code = "out_of_range"


class UnknownCurrency(CalcError, ValueError):
    """Not an ISO 4217 code that Babel knows (codes must be exact upper case, e.g. "EUR")."""

    code = "unknown_currency"


class InvalidInput(CalcError, ValueError):
    """Structurally invalid input (e.g. an allowance with both an amount and a percentage); the
    specific reason is in `code`."""

    code = "invalid_input"


class UnknownTaxCategory(InvalidInput):
    """A VAT category that is not one of EN 16931's (UNCL5305 subset)."""

    code = "unknown_tax_category"


class NegativeTaxRate(InvalidInput):
    """A VAT rate below zero."""

    code = "negative_tax_rate"


class AmountXorPercent(InvalidInput):
    """An allowance or charge gives both an amount and a percentage, or neither."""

    code = "amount_xor_percent"


class BaseAmountRequired(InvalidInput):
    """A percentage allowance or charge lacks the base amount it is a percentage of."""

    code = "base_amount_required"


class ConflictingExemptionReasons(InvalidInput):
    """Lines of one VAT category state different exemption reasons; an invoice states one per category."""

    code = "conflicting_exemption_reasons"


class TaxRuleError(CalcError):
    """The invoice breaks EN 16931 VAT rules and must not be issued; `violations` lists them all."""

    code = "tax_rule_violation"

    def __init__(self, violations: tuple[RuleViolation, ...]) -> None:
        listed = "; ".join(f"{v.rule}: {v.message}" for v in violations)
        super().__init__(f"The invoice breaks {len(violations)} VAT rule(s): {listed}")
        self.violations = violations
