"""Request and response bodies of credit notes (/v1/invoices/{id}/credit-notes, /v1/credit-notes).

Amounts in responses are decimal strings with the currency's minor units; requests accept JSON
numbers or strings, parsed exactly.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faktur.credit_notes.domain import CreditLineKind, CreditReason
from faktur.fields import BusinessDate, LongText, PositiveAmount, PositiveQuantity, Text, UnitCode, UnitPrice
from faktur.invoices.schemas import AdjustmentOut, DocumentAdjustmentOut, TaxBreakdownOut, TaxIn, TaxOut


class CreditLineIn(BaseModel):
    """One of three forms: `invoice_line_id` + `quantity` (part of the line's quantity),
    `invoice_line_id` + `amount` (a price reduction on the line), or a custom line with
    `description`, `unit_price`, `quantity` and its tax (`tax_rate_id` or `tax`)."""

    model_config = ConfigDict(extra="forbid")

    invoice_line_id: uuid.UUID | None = Field(
        None, description="The invoice line credited (its id in the invoice)"
    )
    quantity: PositiveQuantity | None = Field(
        None, description="Quantity credited: of the invoice line, or of a custom line (default 1)"
    )
    amount: PositiveAmount | None = Field(
        None,
        description=(
            "Price reduction on the invoice line, in the invoice's price mode like unit prices: net "
            "on a tax-exclusive invoice, gross (VAT included) on a tax-inclusive one; at most what is "
            "left of the line's net (gross) amount"
        ),
    )
    description: Annotated[str, Text(1000, 1)] | None = Field(None, description="A custom line's description")
    unit_price: UnitPrice | None = Field(
        None, description="A custom line's unit price (gross on tax-inclusive invoices)"
    )
    tax_rate_id: uuid.UUID | None = Field(
        None, description="A custom line's tax rate (a category and rate of the invoice)"
    )
    tax: TaxIn | None = Field(
        None, description="A custom line's inline tax (a category and rate of the invoice)"
    )
    sku: Annotated[str, Text(255)] | None = Field(None, description="A custom line's SKU")
    unit_code: UnitCode | None = Field(None, description="A custom line's UN/ECE unit code (default C62)")

    @model_validator(mode="after")
    def _one_form(self) -> CreditLineIn:
        custom = (self.description, self.unit_price, self.tax_rate_id, self.tax, self.sku, self.unit_code)
        if self.invoice_line_id is not None:
            if any(v is not None for v in custom):
                raise ValueError("a line with invoice_line_id takes quantity or amount only")
            if (self.quantity is None) == (self.amount is None):
                raise ValueError("give exactly one of quantity or amount with invoice_line_id")
            return self
        if self.amount is not None:
            raise ValueError("amount is a price reduction on an invoice line: give invoice_line_id")
        if self.description is None or self.unit_price is None:
            raise ValueError("give invoice_line_id, or description and unit_price for a custom line")
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("a custom line needs exactly one of tax_rate_id or tax")
        return self


class SettlementIn(BaseModel):
    """How the part of the credit beyond the invoice's amount due is settled."""

    model_config = ConfigDict(extra="forbid")

    refund_amount: PositiveAmount | None = Field(
        None, description="Refunded to the customer outside faktur (recorded, not paid out)"
    )
    refund_method: Annotated[str, Text(50)] | None = Field(
        None, description="How it was refunded, e.g. bank_transfer"
    )
    refund_reference: Annotated[str, Text(200)] | None = Field(None, description="The refund's reference")
    refund_date: BusinessDate | None = Field(
        None, description="When it was refunded; defaults to the issue date"
    )
    credit_amount: PositiveAmount | None = Field(
        None, description="Credited to the customer's balance in the invoice's currency"
    )


class CreditNoteCreate(SettlementIn):
    lines: list[CreditLineIn] = Field(
        default_factory=list,
        max_length=2000,
        description="What to credit; none: everything still creditable (a full cancellation)",
    )
    reason: CreditReason = Field(CreditReason.OTHER, description="Why the invoice is credited")
    memo: LongText | None = Field(None, description="A note shown on the credit note")


class VoidIn(SettlementIn):
    """Voiding a finalized invoice issues a credit note for all of it; a paid part is refunded or
    credited to the balance as this body says."""

    reason: Annotated[str, Text(500)] | None = Field(
        None, description="Why, recorded in the history (and the credit note's memo)"
    )
    credit_note_reason: CreditReason = Field(
        CreditReason.OTHER, description="The reason of the cancelling credit note"
    )


class CreditNoteLineOut(BaseModel):
    id: uuid.UUID | None = Field(description="null in a preview")
    position: int = Field(description="1, 2, ... in the credit note")
    kind: CreditLineKind = Field(description="quantity, amount (price reduction), custom or full")
    invoice_line_id: uuid.UUID | None = Field(
        description="The invoice line it credits; null for a custom line"
    )
    credited_quantity: str = Field(description="Quantity taken off the invoice line (0 for price reductions)")
    description: str = Field(description="Line text")
    sku: str | None = Field(description="Seller's item id")
    quantity: str = Field(description="Quantity on the credit note")
    unit_code: str = Field(description="UN/ECE unit code")
    unit_price: str = Field(description="Unit price (gross on tax-inclusive credit notes)")
    tax: TaxOut = Field(description="VAT category and rate")
    allowances: list[AdjustmentOut] = Field(description="Line allowances")
    charges: list[AdjustmentOut] = Field(description="Line charges")
    amount: str = Field(description="quantity x unit price, rounded")
    allowance_total: str = Field(description="Sum of line allowances")
    charge_total: str = Field(description="Sum of line charges")
    net_amount: str = Field(description="Net amount credited (BT-131)")
    gross_amount: str | None = Field(description="Including tax, on tax-inclusive credit notes")
    period_start: date | None = Field(description="Service period start, as on the invoice line")
    period_end: date | None = Field(description="Exclusive service period end, as on the invoice line")


class SettlementOut(BaseModel):
    amount_due_reduction: str = Field(description="Taken off the invoice's amount due")
    refund_amount: str = Field(description="Refunded outside faktur")
    refund_method: str | None = Field(description="How it was refunded")
    refund_reference: str | None = Field(description="The refund's reference")
    refund_date: date | None = Field(description="When it was refunded")
    credit_amount: str = Field(description="Credited to the customer's balance")


class CreditNoteFields(BaseModel):
    invoice_id: uuid.UUID = Field(description="The invoice it corrects")
    invoice_number: str | None = Field(description="The corrected invoice's number (BT-25)")
    invoice_issue_date: date | None = Field(description="The corrected invoice's issue date (BT-26)")
    customer_id: uuid.UUID = Field(description="The invoice's customer")
    reason: CreditReason = Field(description="Why the invoice was credited")
    memo: str | None = Field(description="Note on the credit note")
    currency: str = Field(description="The invoice's currency")
    prices_include_tax: bool = Field(description="As the invoice: unit prices are gross")
    full_cancellation: bool = Field(description="Credits everything that was left of the invoice")
    issue_date: date = Field(description="Issue date")
    lines: list[CreditNoteLineOut] = Field(description="Credited lines")
    adjustments: list[DocumentAdjustmentOut] = Field(
        description=(
            "The invoice's document allowances and charges, credited with its last lines; on that credit "
            "note also one allowance per VAT rate taking off what earlier custom lines credited"
        )
    )
    tax_breakdown: list[TaxBreakdownOut] = Field(description="VAT per category and rate")
    subtotal: str = Field(description="Sum of line net amounts (BT-106)")
    allowance_total: str = Field(description="Document allowances (BT-107)")
    charge_total: str = Field(description="Document charges (BT-108)")
    total_excluding_tax: str = Field(description="BT-109")
    tax_total: str = Field(description="BT-110")
    total: str = Field(description="Credited in all, with tax (BT-112)")
    settlement: SettlementOut = Field(description="How the total is settled")
    customer: dict[str, Any] = Field(description="Buyer details at issue")
    seller: dict[str, Any] = Field(description="Seller details at issue")


class CreditNoteOut(CreditNoteFields):
    id: uuid.UUID = Field(description="Credit note id")
    number: str | None = Field(description="From the organisation's credit-note series")
    created_at: datetime = Field(description="When it was issued")
    created_by: str = Field(description="Who issued it")


class CreditNotePreviewOut(CreditNoteFields):
    unsettled_amount: str = Field(
        description="Beyond the amount due and not yet given as refund_amount or credit_amount; "
        "issuing needs it to be 0"
    )
