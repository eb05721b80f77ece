"""The catalogue of event types (webhook endpoints subscribe to these)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    INVOICE_CREATED = "invoice.created"
    INVOICE_FINALIZED = "invoice.finalized"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_RECORDED = "invoice.payment_recorded"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_MARKED_UNCOLLECTIBLE = "invoice.marked_uncollectible"
    INVOICE_OVERDUE = "invoice.overdue"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    BILLING_RUN_COMPLETED = "billing_run.completed"
    ORDER_FULLY_INVOICED = "order.fully_invoiced"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"


EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
