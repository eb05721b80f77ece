"""Request and response bodies of /v1/orders.

Quantities and prices are exact decimal strings; amounts are strings in the currency's minor
units. An order line's invoiced quantity is derived from the live invoices that bill it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faktur.fields import (
    BusinessDatetime,
    CurrencyCode,
    Days,
    LongText,
    Metadata,
    Percent,
    PositiveAmount,
    PositiveQuantity,
    ShortText,
    Text,
    UnitCode,
    UnitPrice,
)
from faktur.invoices.schemas import TaxIn


class OrderLineDiscountIn(BaseModel):
    """A discount on one order line: a fixed amount for the whole ordered quantity, or a percent."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveAmount | None = Field(
        None, description="For the whole line, in the order currency (at most its minor units)"
    )
    percent: Percent | None = Field(None, description='Of quantity x unit price, e.g. "10"')
    reason: Annotated[str, Text(300)] | None = Field(
        None, description='Shown on the invoices, e.g. "Volume discount"'
    )

    @model_validator(mode="after")
    def _one_of(self) -> OrderLineDiscountIn:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of amount or percent")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise ValueError("a discount percent must be above 0 and at most 100")
        return self


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(1000, 1)] = Field(
        description="What was ordered; becomes the invoice line description"
    )
    sku: Annotated[str, Text(100)] | None = Field(None, description="Article number")
    quantity: PositiveQuantity = Field(description="Ordered quantity, up to 6 decimals, above 0")
    unit_code: UnitCode = "C62"
    unit_price: UnitPrice = Field(description="Up to 6 decimals; at least 0; gross when prices include tax")
    tax_rate_id: uuid.UUID | None = Field(None, description="A tax rate of the organisation")
    tax: TaxIn | None = Field(None, description="Inline tax, instead of tax_rate_id")
    discount: OrderLineDiscountIn | None = Field(
        None, description="Shared among the line's invoices in proportion to the quantities invoiced"
    )
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _check(self) -> OrderLineIn:
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("give exactly one of tax_rate_id or tax")
        if self.unit_price < 0:
            raise ValueError("unit_price must be at least 0 (correct an invoice with a credit note)")
        return self


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    currency: CurrencyCode | None = Field(
        None, description="Defaults to the customer's, then the organisation's currency"
    )
    prices_include_tax: bool | None = Field(
        None, description="Unit prices are gross; default: what the tax rates say, else false"
    )
    created_at: BusinessDatetime | None = Field(
        None, description="When the order was placed (ISO 8601 with zone); defaults to now"
    )
    external_reference: ShortText | None = Field(
        None, description="Your order number; unique in the organisation when given"
    )
    metadata: Metadata | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class OrderInvoiceLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: uuid.UUID = Field(description="A line of this order")
    quantity: PositiveQuantity = Field(description="How much of it to invoice now; at most what remains")


class OrderInvoiceCreate(BaseModel):
    """Invoice an order: the given quantities, or without `lines` everything that remains."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderInvoiceLineIn] | None = Field(
        None, min_length=1, max_length=500, description="Omit to invoice every remaining quantity"
    )
    finalize: bool = Field(False, strict=True, description="Number and issue the invoice at once")
    due_date: date | None = None
    payment_terms_days: Days | None = Field(None, description="Days until due; default: the organisation's")
    memo: LongText | None = None
    external_reference: ShortText | None = Field(None, description="Your reference for this invoice")
    metadata: Metadata | None = Field(
        None, description='Copied to the invoice; faktur adds "order_id" (and "order_reference")'
    )

    @model_validator(mode="after")
    def _distinct_lines(self) -> OrderInvoiceCreate:
        ids = [line.order_line_id for line in self.lines or []]
        if len(ids) != len(set(ids)):
            raise ValueError("each order_line_id may appear once")
        if self.metadata and {"order_id", "order_reference"} & self.metadata.keys():
            raise ValueError("metadata keys order_id and order_reference are set by faktur")
        if self.metadata and len(self.metadata) > 48:
            raise ValueError("metadata takes at most 48 keys here (faktur adds two)")
        return self


class OrderLineOut(BaseModel):
    id: uuid.UUID
    position: int
    name: str
    sku: str | None
    unit_code: str
    unit_price: str
    tax_rate_id: uuid.UUID | None
    tax: dict[str, Any] | None = Field(description="The inline tax, when no tax_rate_id is used")
    discount_percent: str | None
    discount_amount: str = Field(description="Discount on the whole ordered quantity")
    discount_reason: str | None
    quantity: str = Field(description="Ordered")
    invoiced_quantity: str = Field(description="On live (not void) invoices")
    remaining_quantity: str = Field(description="Ordered minus invoiced")
    metadata: dict[str, Any]


class OrderOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    currency: str
    prices_include_tax: bool | None
    external_reference: str | None
    metadata: dict[str, Any]
    status: str = Field(description="open (nothing invoiced), partially_invoiced or invoiced")
    subtotal: str = Field(description="Sum of line net amounts of the whole order")
    tax_total: str
    total: str
    lines: list[OrderLineOut]
    invoice_ids: list[uuid.UUID] = Field(description="Invoices that bill this order, void ones included")
    created_at: datetime
    updated_at: datetime
