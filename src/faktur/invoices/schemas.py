"""Request and response bodies of /v1/invoices.

Amounts in responses are decimal strings with the currency's minor units ("119.00", "1000" for
JPY); requests accept JSON numbers or strings, parsed exactly.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from faktur.calc import TaxCategory
from faktur.fields import (
    Amount,
    BusinessDate,
    CountryCode,
    CurrencyCode,
    Days,
    LongText,
    Metadata,
    Percent,
    Quantity,
    ShortText,
    Text,
    UnitCode,
    UnitPrice,
)
from faktur.invoices.domain import InvoiceStatus, PaymentStatus
from faktur.payment_means import PaymentMeansIn


class TaxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: TaxCategory = Field(description="EN 16931 VAT category: S Z E AE K G O L M")
    percent: Percent
    exemption_reason: Annotated[str, Text(300)] | None = None
    exemption_reason_code: Annotated[str, Text(30)] | None = None


class AdjustmentIn(BaseModel):
    """A line allowance (discount) or charge: a fixed amount or a percentage of the line amount."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount | None = None
    percent: Percent | None = None
    reason: Annotated[str, Text(300)] | None = None
    reason_code: Annotated[str, Text(10)] | None = None

    @model_validator(mode="after")
    def _one_of_amount_or_percent(self) -> AdjustmentIn:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of amount or percent")
        return self


class DocumentAdjustmentIn(AdjustmentIn):
    """An invoice-level allowance or charge (EN 16931 BG-20/BG-21) with its own VAT."""

    kind: Literal["allowance", "charge"]
    base_amount: Amount | None = Field(None, description="Base a percentage applies to")
    tax_rate_id: uuid.UUID | None = None
    tax: TaxIn | None = None

    @model_validator(mode="after")
    def _tax_given(self) -> DocumentAdjustmentIn:
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("give exactly one of tax_rate_id or tax")
        if self.percent is not None and self.base_amount is None:
            raise ValueError("a percentage allowance or charge needs base_amount")
        return self


class InvoiceLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[str, Text(1000, 1)]
    quantity: Quantity = Field(default=Decimal(1), description="Up to 6 decimals; negative for a credit")
    unit_price: UnitPrice = Field(description="Up to 6 decimals; gross when prices include tax")
    tax_rate_id: uuid.UUID | None = None
    tax: TaxIn | None = Field(None, description="Inline tax, instead of tax_rate_id")
    sku: Annotated[str, Text(255)] | None = None
    unit_code: UnitCode = Field("C62", description="UN/ECE Recommendation 20/21 unit code, e.g. C62, HUR")
    period_start: date | None = None
    period_end: date | None = Field(None, description="Exclusive end of the service period")
    allowances: list[AdjustmentIn] = Field(default_factory=list, max_length=10)
    charges: list[AdjustmentIn] = Field(default_factory=list, max_length=10)
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _check(self) -> InvoiceLineIn:
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("give exactly one of tax_rate_id or tax")
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("give both period_start and period_end, or neither")
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start (the end is exclusive)")
        return self


class DeliverToIn(BaseModel):
    """The deliver-to party (EN 16931 BG-13): its name (BT-70) and address (BG-15)."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = Field(None, description="Deliver-to party name (BT-70)")
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    city: Annotated[str, Text(100)] | None = None
    postal_code: Annotated[str, Text(20)] | None = None
    country: CountryCode | None = Field(
        None, description="Deliver-to country (BT-80); required with an address"
    )

    @model_validator(mode="after")
    def _check(self) -> DeliverToIn:
        address = (self.address_line1, self.address_line2, self.city, self.postal_code)
        if any(address) and not self.country:
            raise ValueError("a deliver-to address needs its country (EN 16931 BR-57)")
        if not (self.name or self.country):
            raise ValueError("give the deliver-to name, address or both")
        return self


class InvoiceFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: CurrencyCode | None = Field(
        None, description="Defaults to the customer's, then the organisation's"
    )
    prices_include_tax: bool | None = Field(None, description="Unit prices are gross (B2C); default false")
    due_date: date | None = None
    payment_terms_days: Days | None = None
    memo: LongText | None = None
    metadata: Metadata | None = None
    external_reference: Annotated[str, Text(255)] | None = None
    buyer_reference: ShortText | None = Field(None, description="EN 16931 BT-10; defaults to the customer's")
    adjustments: list[DocumentAdjustmentIn] | None = Field(None, max_length=20)
    delivery_date: date | None = Field(None, description="Actual delivery date (EN 16931 BT-72)")
    period_start: date | None = Field(
        None, description="Invoicing period start (BG-14, BT-73); set by contracts for period invoices"
    )
    period_end: date | None = Field(
        None,
        validate_default=True,
        description="Exclusive end of the invoicing period (the day after its last day, as for lines); "
        "documents show the last day (BT-74)",
    )
    deliver_to: DeliverToIn | None = Field(None, description="Deliver-to party and address (BG-13, BG-15)")
    payment_means: PaymentMeansIn | None = Field(
        None,
        description="How this invoice is paid, overriding the customer's default; none: credit transfer "
        "to the organisation's IBAN",
    )

    @field_validator("period_end")
    @classmethod
    def _period(cls, end: date | None, info: ValidationInfo) -> date | None:
        # Runs for every body (validate_default), so a lone period_start is caught here too.
        start = info.data.get("period_start")
        if (start is None) != (end is None):
            raise ValueError("give both period_start and period_end, or neither")
        if start and end and end <= start:
            raise ValueError("period_end must be after period_start (the end is exclusive)")
        return end


class InvoiceCreate(InvoiceFields):
    customer_id: uuid.UUID
    lines: list[InvoiceLineIn] = Field(default_factory=list, max_length=2000)
    finalize: bool = Field(False, description="Finalize (number and issue) at once")


class InvoiceUpdate(InvoiceFields):
    customer_id: uuid.UUID | None = None
    lines: list[InvoiceLineIn] | None = Field(None, max_length=2000, description="Replaces all lines")


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount = Field(description="In the invoice currency; more than the amount due is an overpayment")
    paid_on: BusinessDate | None = Field(None, description="Defaults to today; 1900-01-01 to 2199-12-31")
    method: Annotated[str, Text(50)] | None = None
    reference: Annotated[str, Text(200)] | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Text(500)] | None = None


class TaxOut(BaseModel):
    category: TaxCategory
    percent: str
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class AdjustmentOut(BaseModel):
    amount: str | None = None
    percent: str | None = None
    reason: str | None = None
    reason_code: str | None = None


class DocumentAdjustmentOut(AdjustmentOut):
    kind: Literal["allowance", "charge"]
    base_amount: str | None = None
    tax_rate_id: uuid.UUID | None = None
    tax: TaxOut
    computed_amount: str


class LineSourceOut(BaseModel):
    kind: str = Field(description="order_line, invoice_item, contract_component, ...")
    id: uuid.UUID


class InvoiceLineOut(BaseModel):
    id: uuid.UUID | None
    position: int
    description: str
    sku: str | None
    quantity: str
    unit_code: str
    unit_price: str
    tax_rate_id: uuid.UUID | None
    tax: TaxOut
    allowances: list[AdjustmentOut]
    charges: list[AdjustmentOut]
    amount: str = Field(description="quantity x unit price, rounded")
    allowance_total: str
    charge_total: str
    net_amount: str = Field(description="EN 16931 BT-131, excluding tax")
    gross_amount: str | None = Field(description="Including tax, for tax-inclusive invoices")
    period_start: date | None
    period_end: date | None
    metadata: dict[str, Any]
    source: LineSourceOut | None = Field(None, description="The record this line bills, if any")


class TaxBreakdownOut(BaseModel):
    category: TaxCategory
    percent: str
    taxable_amount: str
    tax_amount: str
    exemption_reason: str | None
    exemption_reason_code: str | None


class StatusChangeOut(BaseModel):
    from_status: InvoiceStatus | None
    to_status: InvoiceStatus
    actor: str
    reason: str | None
    at: datetime


class PaymentOut(BaseModel):
    id: uuid.UUID
    amount: str
    paid_on: date
    method: str | None
    reference: str | None
    created_at: datetime


class CreditNoteRefOut(BaseModel):
    id: uuid.UUID = Field(description="The credit note's id (GET /v1/credit-notes/{id})")
    number: str | None = Field(description="The credit note's number")


class TotalsOut(BaseModel):
    currency: str
    prices_include_tax: bool
    lines: list[InvoiceLineOut]
    adjustments: list[DocumentAdjustmentOut]
    tax_breakdown: list[TaxBreakdownOut]
    subtotal: str = Field(description="Sum of line net amounts (BT-106)")
    allowance_total: str = Field(description="Document allowances (BT-107)")
    charge_total: str = Field(description="Document charges (BT-108)")
    total_excluding_tax: str = Field(description="BT-109")
    tax_total: str = Field(description="BT-110")
    total: str = Field(description="Total with tax (BT-112)")


class InvoicePreviewOut(TotalsOut):
    customer: dict[str, Any]
    amount_due: str


class InvoiceOut(TotalsOut):
    id: uuid.UUID
    number: str | None
    status: InvoiceStatus
    payment_status: PaymentStatus
    customer_id: uuid.UUID
    customer: dict[str, Any] = Field(description="Buyer details, frozen at finalization")
    seller: dict[str, Any] | None = Field(description="Seller details, frozen at finalization")
    amount_paid: str
    amount_due: str = Field(
        description="Total less amount paid and less what credit notes took off the amount due"
    )
    credited_amount: str = Field(
        description="Credited by credit notes in all (with tax); the total once fully credited, give "
        "or take a few units in currencies without decimals (EN 16931's VAT rounding tolerance)"
    )
    credit_notes: list[CreditNoteRefOut] = Field(description="The invoice's credit notes, oldest first")
    issue_date: date | None
    due_date: date | None
    payment_terms_days: int | None
    memo: str | None
    metadata: dict[str, Any]
    external_reference: str | None
    buyer_reference: str | None
    source: str = Field(description="api, order, invoice_items, contract or import")
    contract_id: uuid.UUID | None
    period_start: date | None = Field(description="Invoicing period start (BG-14)")
    period_end: date | None = Field(description="Exclusive end of the invoicing period")
    delivery_date: date | None = Field(description="Actual delivery date (BT-72)")
    deliver_to: dict[str, Any] | None = Field(description="Deliver-to party and address (BG-13)")
    payment_means: dict[str, Any] | None = Field(
        description="This invoice's own payment means; null: the customer's default (see the customer)"
    )
    prepaid_amount: str = Field(
        description="Paid before issue, e.g. an imported invoice's amount paid (BT-113); documents "
        "deduct it from the amount due (BT-115)"
    )
    status_history: list[StatusChangeOut]
    payments: list[PaymentOut]
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None
    hosted_url: str | None = Field(
        None,
        description="The invoice's page for the customer (no API key needed: the link is the secret), "
        "in the customer's language, with the PDF, the e-invoice XML and a SEPA payment QR code; "
        "null for drafts. POST .../hosted-link/rotate replaces it.",
    )
