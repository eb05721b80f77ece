"""Invoice status transitions and the payment status derived from amounts (pure)."""

from __future__ import annotations

from faktur.invoices.schemas import InvoiceStatus, PaymentStatus

S = InvoiceStatus

ALLOWED_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    S.DRAFT: frozenset({S.OPEN}),
    S.OPEN: frozenset({S.PAID, S.VOID, S.UNCOLLECTIBLE}),
    S.UNCOLLECTIBLE: frozenset({S.PAID, S.VOID}),
    S.PAID: frozenset(),
    S.VOID: frozenset(),
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
