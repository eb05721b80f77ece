"""Payments received on issued invoices; services flush, never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from faktur import calc
from faktur.context import Actor
from faktur.invoices import events as invoice_events
from faktur.invoices.domain import InvoiceStatus, NewPayment
from faktur.invoices.errors import InvoiceNotPayable, PaymentAmountNotPositive, PaymentAmountTooPrecise
from faktur.invoices.lifecycle import transition
from faktur.invoices.service import get_invoice
from faktur.models import Invoice, Payment

_PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value, InvoiceStatus.PAID.value)


def record_payment(
    session: Session, actor: Actor, invoice_id: uuid.UUID, data: NewPayment, now: datetime
) -> Invoice:
    """Record a payment (partial and over-payments allowed); paid in full makes the invoice paid."""
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    if invoice.status not in _PAYABLE:
        raise InvoiceNotPayable(invoice)
    if data.amount <= 0:
        raise PaymentAmountNotPositive()
    if calc.quantize_money(data.amount, invoice.currency) != data.amount:
        raise PaymentAmountTooPrecise(data.amount, invoice.currency, calc.minor_units(invoice.currency))
    amount_minor = calc.to_minor(data.amount, invoice.currency)
    paid_before = invoice.status == InvoiceStatus.PAID.value
    payment = Payment(
        id=uuid.uuid4(),
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        amount_minor=amount_minor,
        paid_on=data.paid_on or now.date(),
        method=data.method,
        reference=data.reference,
    )
    session.add(payment)
    invoice.payments.append(payment)
    invoice.amount_paid_minor += amount_minor
    invoice.updated_at = now
    if invoice.status != InvoiceStatus.PAID.value and invoice.amount_due_minor <= 0:
        transition(invoice, InvoiceStatus.PAID, actor.name, now, "paid in full")
    session.flush()
    invoice_events.record(session, invoice, now, *invoice_events.on_payment(invoice, paid_before))
    return invoice
