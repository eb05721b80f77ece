"""The invoicing core's own vocabulary: statuses and their transitions, and the frozen commands
every caller builds (the HTTP endpoints and dialects map their request bodies to them; billing,
orders, pending items and imports build them directly). No Pydantic and no I/O here: a command
carries values that are already checked by whoever built it, and taxes as faktur.calc specs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from faktur import calc


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"


_S = InvoiceStatus

ALLOWED_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    _S.DRAFT: frozenset({_S.OPEN}),
    _S.OPEN: frozenset({_S.PAID, _S.VOID, _S.UNCOLLECTIBLE}),
    _S.UNCOLLECTIBLE: frozenset({_S.PAID, _S.VOID}),
    _S.PAID: frozenset(),
    _S.VOID: frozenset(),
}


def can_transition(current: InvoiceStatus, target: InvoiceStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def sources_of(target: InvoiceStatus) -> list[str]:
    return sorted(s.value for s, targets in ALLOWED_TRANSITIONS.items() if target in targets)


def payment_status(total_minor: int, paid_minor: int) -> PaymentStatus:
    if paid_minor > total_minor:
        return PaymentStatus.OVERPAID
    if paid_minor == total_minor:
        return PaymentStatus.PAID
    if paid_minor <= 0:
        return PaymentStatus.UNPAID
    return PaymentStatus.PARTIALLY_PAID


@dataclass(frozen=True)
class LineSource:
    """What an invoice line bills, for callers that invoice records (orders, items, contracts)."""

    kind: str
    id: uuid.UUID


@dataclass(frozen=True)
class InvoiceOrigin:
    source: str = "api"
    contract_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class LineAdjustment:
    """A line allowance (discount) or charge: exactly one of a fixed amount or a percentage."""

    amount: Decimal | None = None
    percent: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None


@dataclass(frozen=True)
class NewAdjustment:
    """An invoice-level allowance or charge (EN 16931 BG-20/BG-21) with its own VAT: a tax rate
    of the organisation (`tax_rate_id`) or an inline `tax`, exactly one of them."""

    kind: Literal["allowance", "charge"]
    amount: Decimal | None = None
    percent: Decimal | None = None
    base_amount: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    tax_rate_id: uuid.UUID | None = None
    tax: calc.TaxSpec | None = None


@dataclass(frozen=True)
class NewLine:
    """An invoice line to create: its tax is a tax rate of the organisation (`tax_rate_id`) or an
    inline `tax`, exactly one of them; `source` is the record it bills, if any."""

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    tax_rate_id: uuid.UUID | None = None
    tax: calc.TaxSpec | None = None
    sku: str | None = None
    unit_code: str = "C62"
    period_start: date | None = None
    period_end: date | None = None
    allowances: tuple[LineAdjustment, ...] = ()
    charges: tuple[LineAdjustment, ...] = ()
    metadata: Mapping[str, Any] | None = None
    source: LineSource | None = None


@dataclass(frozen=True)
class NewInvoice:
    """An invoice to create (a draft, or issued at once with `finalize`). `deliver_to` and
    `payment_means` are in their stored form."""

    customer_id: uuid.UUID
    lines: tuple[NewLine, ...] = ()
    finalize: bool = False
    currency: str | None = None
    prices_include_tax: bool | None = None
    due_date: date | None = None
    payment_terms_days: int | None = None
    memo: str | None = None
    metadata: Mapping[str, Any] | None = None
    external_reference: str | None = None
    buyer_reference: str | None = None
    adjustments: tuple[NewAdjustment, ...] = ()
    delivery_date: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    deliver_to: Mapping[str, Any] | None = None
    payment_means: Mapping[str, Any] | None = None
    origin: InvoiceOrigin = field(default_factory=InvoiceOrigin)


# The fields of a draft an edit may set as they are (the others need the engine or a check).
PLAIN_EDIT_FIELDS = (
    "due_date",
    "payment_terms_days",
    "memo",
    "external_reference",
    "buyer_reference",
    "delivery_date",
)


@dataclass(frozen=True)
class InvoiceEdit:
    """Changes to a draft: only the fields named in `given` change (to the value here, which may
    be None); `lines` and `adjustments`, when given, replace all of them."""

    given: frozenset[str]
    customer_id: uuid.UUID | None = None
    lines: tuple[NewLine, ...] | None = None
    currency: str | None = None
    prices_include_tax: bool | None = None
    due_date: date | None = None
    payment_terms_days: int | None = None
    memo: str | None = None
    metadata: Mapping[str, Any] | None = None
    external_reference: str | None = None
    buyer_reference: str | None = None
    adjustments: tuple[NewAdjustment, ...] | None = None
    delivery_date: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    deliver_to: Mapping[str, Any] | None = None
    payment_means: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class NewPayment:
    """A payment received, in the invoice's currency (on `paid_on`, or today)."""

    amount: Decimal
    paid_on: date | None = None
    method: str | None = None
    reference: str | None = None
