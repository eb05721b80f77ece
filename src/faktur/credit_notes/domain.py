"""The credit notes' own vocabulary: reasons, line kinds and the frozen command every caller
builds (the HTTP endpoints map request bodies to it). No Pydantic and no I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from faktur import calc


class CreditReason(StrEnum):
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    ORDER_CHANGE = "order_change"
    PRODUCT_UNSATISFACTORY = "product_unsatisfactory"
    OTHER = "other"


class CreditLineKind(StrEnum):
    QUANTITY = "quantity"  # part of an invoice line's quantity
    AMOUNT = "amount"  # a price reduction on an invoice line
    CUSTOM = "custom"  # a line of its own, taxed as some line of the invoice
    FULL = "full"  # what was left of an invoice line when the invoice was cancelled


@dataclass(frozen=True)
class QuantityCredit:
    """Credit `quantity` of the invoice line (at most what is not credited yet)."""

    invoice_line_id: uuid.UUID
    quantity: Decimal


@dataclass(frozen=True)
class AmountCredit:
    """Reduce the invoice line's price by `amount`, in the invoice's price mode: net on a
    tax-exclusive invoice, gross on a tax-inclusive one (what its buyer was shown and paid; a net
    amount there could not be credited exactly, as its gross would be rounded)."""

    invoice_line_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class CustomCredit:
    """A line of its own; its tax (a tax rate or inline) must be a category and rate the invoice used."""

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    tax_rate_id: uuid.UUID | None = None
    tax: calc.TaxSpec | None = None
    sku: str | None = None
    unit_code: str = "C62"


CreditLine = QuantityCredit | AmountCredit | CustomCredit


@dataclass(frozen=True)
class Settlement:
    """How the part of the credit beyond the invoice's amount due is settled: refunded outside
    faktur (`refund_amount`, with method, reference and date) and/or credited to the customer's
    balance (`credit_amount`). None means not given (0)."""

    refund_amount: Decimal | None = None
    refund_method: str | None = None
    refund_reference: str | None = None
    refund_date: date | None = None
    credit_amount: Decimal | None = None


@dataclass(frozen=True)
class NewCreditNote:
    """A credit note to issue for an invoice; no `lines`: everything still creditable (a full
    cancellation)."""

    lines: tuple[CreditLine, ...] = ()
    reason: CreditReason = CreditReason.OTHER
    memo: str | None = None
    settlement: Settlement = Settlement()

    @property
    def full_cancellation(self) -> bool:
        return not self.lines
