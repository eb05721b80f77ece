"""Request and response bodies of /v1/invoice-items.

An item is `pending` until a live invoice line bills it, then `invoiced`; voiding that invoice, or
crediting that line in full, makes it pending (attachable) again.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faktur.fields import (
    CurrencyCode,
    Days,
    LongText,
    Metadata,
    PositiveQuantity,
    Text,
    UnitCode,
    UnitPrice,
)
from faktur.invoices.schemas import InvoiceOut, TaxIn

MAX_ITEM_IDS = 1000


class PaymentMode(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class InvoiceItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    contract_id: uuid.UUID | None = Field(
        None,
        description="The contract the charge belongs to; items of different contracts never share an invoice",
    )
    description: Annotated[str, Text(1000, 1)] = Field(description="Becomes the invoice line description")
    sku: Annotated[str, Text(100)] | None = None
    quantity: PositiveQuantity = Field(default=Decimal(1), description="Up to 6 decimals, above 0; default 1")
    unit_code: UnitCode = "C62"
    unit_price: UnitPrice = Field(
        description="Up to 6 decimals, at least 0; gross if the tax rate is inclusive"
    )
    tax_rate_id: uuid.UUID | None = Field(None, description="A tax rate of the organisation")
    tax: TaxIn | None = Field(None, description="Inline tax, instead of tax_rate_id (prices exclude tax)")
    currency: CurrencyCode | None = Field(
        None, description="Defaults to the customer's, then the organisation's currency"
    )
    payment_mode: PaymentMode = Field(
        PaymentMode.AUTOMATIC,
        description="automatic (charged by a payment method on file) or manual (paid by transfer); "
        "the two never share an invoice",
    )
    period_start: date | None = Field(None, description="Service period start")
    period_end: date | None = Field(None, description="Exclusive end of the service period")
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _check(self) -> InvoiceItemCreate:
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("give exactly one of tax_rate_id or tax")
        if self.unit_price < 0:
            raise ValueError("unit_price must be at least 0 (correct an invoice with a credit note)")
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("give both period_start and period_end, or neither")
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start (the end is exclusive)")
        return self


class InvoiceItemOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    contract_id: uuid.UUID | None
    status: str = Field(description="pending (attachable) or invoiced (on a live invoice)")
    invoice_id: uuid.UUID | None = Field(description="The live invoice billing the item, if any")
    currency: str
    payment_mode: PaymentMode
    description: str
    sku: str | None
    quantity: str
    unit_code: str
    unit_price: str
    amount: str = Field(description="quantity x unit price, rounded to the currency")
    tax_rate_id: uuid.UUID | None
    tax: dict[str, Any] | None = Field(description="The inline tax, when no tax_rate_id is used")
    prices_include_tax: bool
    period_start: date | None
    period_end: date | None
    metadata: dict[str, Any]
    created_at: datetime


class InvoiceItemsInvoice(BaseModel):
    """Gather attachable items into invoices: one per (customer, contract, currency, payment mode)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID | None = Field(None, description="Only this customer's items")
    contract_id: uuid.UUID | None = Field(None, description="Only this contract's items")
    item_ids: list[uuid.UUID] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ITEM_IDS,
        description="Only these items; unknown ids are a 404, already invoiced ones are skipped and reported",
    )
    finalize: bool = Field(False, strict=True, description="Number and issue the invoices at once")
    due_date: date | None = None
    payment_terms_days: Days | None = Field(None, description="Days until due; default: the organisation's")
    memo: LongText | None = None

    @model_validator(mode="after")
    def _distinct(self) -> InvoiceItemsInvoice:
        if self.item_ids is not None and len(self.item_ids) != len(set(self.item_ids)):
            raise ValueError("each item id may appear once")
        return self


class SkippedItemOut(BaseModel):
    item_id: uuid.UUID
    reason: str = Field(description="already_invoiced")
    invoice_id: uuid.UUID | None = Field(description="The live invoice that already bills the item")


class InvoiceItemsInvoiced(BaseModel):
    invoices: list[InvoiceOut] = Field(description="The invoices created, one per group of items")
    skipped: list[SkippedItemOut] = Field(description="Requested items that were not attachable")
