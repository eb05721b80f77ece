"""The errors of invoices: lookup, lifecycle, finalization, payments, imports and computation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from faktur.errors import (
    AmountTooPrecise,
    Conflict,
    NotFound,
    TaxRulesBroken,
    Unprocessable,
    status_details,
)

if TYPE_CHECKING:
    from faktur.models import Invoice


class InvoiceNotFound(NotFound):
    """No invoice with this id in the caller's organisation."""

    code = "invoice_not_found"

    def __init__(self, invoice_id: uuid.UUID | str, *, in_organisation: bool = True) -> None:
        where = " in this organisation" if in_organisation else ""
        super().__init__(f"No invoice {invoice_id}{where}.")


class InvalidStatusTransition(Conflict):
    """The invoice's status cannot change to the one asked for (e.g. voiding a draft)."""

    code = "invalid_status_transition"

    def __init__(self, label: str, current: str, target: str, sources: Sequence[str]) -> None:
        super().__init__(
            f"Invoice {label} is {current}; it cannot become {target} "
            f"(only {' or '.join(sources) or 'no'} invoices can).",
            details=status_details(current),
        )


class InvoiceNotDraft(Conflict):
    """Only a draft can be edited; a finalized invoice is corrected by a credit note."""

    code = "invoice_not_draft"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}; only drafts can be edited. "
            "Correct a finalized invoice with a credit note.",
            details=status_details(invoice.status),
        )


class InvoiceLinesLocked(Conflict):
    """The draft's lines bill records (order lines, items, usage) and cannot be replaced."""

    code = "invoice_lines_locked"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(
            f"The lines of draft {invoice.id} bill {invoice.source} records and cannot be replaced; "
            "void it and invoice the records again, or edit the other fields.",
            details=[{"field": "lines", "reason": "lines come from records"}],
        )


class InvoicePeriodLocked(Conflict):
    """A contract's period invoice keeps the period it bills."""

    code = "invoice_period_locked"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(
            f"Draft {invoice.id} bills contract {invoice.contract_id} for its period "
            f"{invoice.period_start} to {invoice.period_end}; that period cannot be changed.",
            details=[{"field": "period_start", "reason": "set by the contract"}],
        )


class InvoiceHasNoLines(Unprocessable):
    """An invoice needs at least one line to be finalized (or imported)."""

    code = "invoice_has_no_lines"

    def __init__(self, *, imported: bool = False) -> None:
        super().__init__(
            "An imported invoice needs at least one line."
            if imported
            else "An invoice needs at least one line to be finalized.",
            details=[{"field": "lines", "reason": "empty"}],
        )


class InvoiceTotalNegative(Unprocessable):
    """An invoice's total is negative; that is a credit note, not an invoice."""

    code = "negative_total"

    def __init__(self, *, imported: bool = False) -> None:
        super().__init__(
            "The invoice total is negative; import the credit note as such, not as an invoice."
            if imported
            else "The invoice total is negative; issue a credit note for the original invoice instead."
        )


class DueDateBeforeIssueDate(Unprocessable):
    """The invoice's due date is before its issue date."""

    code = "due_date_before_issue_date"

    def __init__(self, due_date: date, issue_date: date) -> None:
        super().__init__(
            f"The due date {due_date} is before the issue date {issue_date}.",
            details=[{"field": "due_date", "reason": "before the issue date"}],
        )


class SepaCreditorIdMissing(Unprocessable):
    """A SEPA direct debit invoice needs the organisation's SEPA creditor identifier (BT-90)."""

    code = "sepa_creditor_id_missing"

    def __init__(self) -> None:
        super().__init__(
            "The invoice is to be paid by SEPA direct debit, but the organisation has no SEPA creditor "
            "identifier (EN 16931 BT-90); set sepa_creditor_id with PATCH /v1/organisation.",
            details=[{"field": "organisation.sepa_creditor_id", "reason": "needed for direct debit"}],
        )


class DirectDebitNotInEur(Unprocessable):
    """A SEPA direct debit is collected in EUR only."""

    code = "direct_debit_currency"

    def __init__(self, currency: str, field: str) -> None:
        super().__init__(
            f"A SEPA direct debit is collected in EUR; this invoice is in {currency}. "
            "Choose another payment means or invoice in EUR.",
            details=[{"field": field, "reason": "SEPA direct debit needs EUR"}],
        )


class InvoiceHasPayments(Conflict):
    """An invoice with payments recorded cannot be voided (nor imported as void)."""

    code = "invoice_has_payments"

    def __init__(self, number: str | None) -> None:
        super().__init__(
            f"Invoice {number} has payments recorded; refund them or issue a credit note instead of voiding."
        )


class ImportedVoidInvoiceHasPayments(InvoiceHasPayments):
    """An imported void invoice states an amount paid."""

    def __init__(self) -> None:
        Conflict.__init__(
            self,
            "A void invoice cannot have payments; import it unpaid or not void.",
            details=[{"field": "amount_paid", "reason": "must be 0 for a void invoice"}],
        )


class InvoiceNotPayable(Conflict):
    """Payments are recorded only on open, uncollectible or paid invoices."""

    code = "invoice_not_payable"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}; payments can be recorded only on "
            "open, uncollectible or paid invoices.",
            details=status_details(invoice.status),
        )


class PaymentAmountNotPositive(Unprocessable):
    """A payment's amount is zero or negative."""

    def __init__(self) -> None:
        super().__init__(
            "A payment amount must be positive.", details=[{"field": "amount", "reason": "must be > 0"}]
        )


class PaymentAmountTooPrecise(AmountTooPrecise):
    """A payment's amount has more decimals than the invoice's currency."""

    def __init__(self, amount: Decimal, currency: str, minor_units: int) -> None:
        super().__init__(
            f"{amount} has more decimals than {currency} allows ({minor_units}).",
            details=[{"field": "amount", "reason": "too many decimals for the currency"}],
        )


class MixedTaxInclusivity(Unprocessable):
    """The invoice mixes tax-inclusive and tax-exclusive rates, or prices_include_tax contradicts them."""

    code = "mixed_tax_inclusivity"

    def __init__(self) -> None:
        super().__init__(
            "The invoice mixes tax rates that include tax with rates that do not; use one kind per invoice.",
            details=[{"field": "lines", "reason": "tax rates disagree on inclusive"}],
        )


class PricesIncludeTaxContradicted(MixedTaxInclusivity):
    """prices_include_tax says the opposite of the tax rates used."""

    def __init__(self, explicit: bool, derived: bool) -> None:
        Unprocessable.__init__(
            self,
            f"prices_include_tax is {str(explicit).lower()} but the tax rates used are "
            f"{'inclusive' if derived else 'exclusive'}.",
            details=[{"field": "prices_include_tax", "reason": "contradicts the tax rates used"}],
        )


class InvoiceBreaksTaxRules(TaxRulesBroken):
    """The invoice breaks EN 16931 VAT rules and is not issued."""

    def __init__(self, what: str, messages: Sequence[str], details: list[dict[str, Any]]) -> None:
        super().__init__(f"The {what} breaks EN 16931 VAT rules: " + "; ".join(messages[:3]), details=details)


# --- imports (invoices issued by another system) -------------------------------------------------


class InvalidInvoiceNumber(Unprocessable):
    """An imported invoice's number is empty or too long."""

    code = "invalid_invoice_number"

    def __init__(self, max_length: int) -> None:
        super().__init__(
            f"An invoice number needs 1 to {max_length} characters.",
            details=[{"field": "number", "reason": f"1 to {max_length} characters"}],
        )


class InvoiceNumberTaken(Conflict):
    """An imported invoice's number is already used in the organisation."""

    code = "invoice_number_taken"

    def __init__(self, number: str) -> None:
        super().__init__(
            f"Invoice number {number} is already used in this organisation.",
            details=[{"field": "number", "reason": "already used"}],
        )


class InvoiceNumberInAutomaticSeries(Conflict):
    """An imported invoice's number belongs to the organisation's automatic series."""

    code = "invoice_number_in_automatic_series"

    def __init__(self, number: str, number_format: str) -> None:
        super().__init__(
            f"Invoice number {number} belongs to this organisation's automatic series "
            f"({number_format}); import it with another prefix.",
            details=[{"field": "number", "reason": "reserved for automatic numbering"}],
        )


class ImportedAmountTooPrecise(AmountTooPrecise):
    """An imported amount has more decimals than its currency (it is refused, never rounded)."""

    def __init__(self, value: Decimal, currency: str, minor_units: int, field: str) -> None:
        super().__init__(
            f"The amount {value} has more than {minor_units} decimals ({currency}).",
            details=[{"field": field, "reason": f"at most {minor_units} decimals in {currency}"}],
        )


class AmountPaidInvalid(AmountTooPrecise):
    """An imported invoice's amount paid is negative or has more decimals than its currency."""

    def __init__(self, amount_paid: Decimal, currency: str, minor_units: int) -> None:
        super().__init__(
            f"The amount paid {amount_paid} must be at least 0 with at most "
            f"{minor_units} decimals ({currency}).",
            details=[{"field": "amount_paid", "reason": "negative or too many decimals for the currency"}],
        )


class TotalMismatch(Unprocessable):
    """An imported invoice's stated total differs from the total of its lines."""

    code = "total_mismatch"

    def __init__(self, expected: Decimal, total_text: str, currency: str) -> None:
        super().__init__(
            f"The total {expected} differs from the total of the lines, {total_text} {currency}.",
            details=[{"field": "total", "reason": f"the lines add up to {total_text}"}],
        )


class PaymentStatusMismatch(Unprocessable):
    """An imported invoice's stated payment status contradicts its amounts."""

    code = "payment_status_mismatch"

    def __init__(self, expected: str, amount_paid: Decimal, total_text: str, derived: str) -> None:
        super().__init__(
            f"The status {expected} contradicts the amounts: "
            f"{amount_paid} paid of {total_text} is {derived}.",
            details=[{"field": "payment_status", "reason": f"the amounts make it {derived}"}],
        )
