"""E-mails of invoices and credit notes: one row per send, written in the transaction that asked
for it. A send is of exactly one document: `invoice_id` or `credit_note_id` is set, never both.

The delivery loop (faktur.sending.delivery) picks up rows that are due, sends them over SMTP and
records the outcome; a rolled-back request leaves no row, so nothing is sent for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class InvoiceSend(TenantOwned, Base):
    __tablename__ = "invoice_sends"

    # The document e-mailed: an invoice or a credit note (exactly one of the two).
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    credit_note_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # queued (waiting, or retried after a temporary refusal), sent, failed.
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    to_addresses: Mapped[list[str]] = mapped_column(JsonDocument, nullable=False)
    cc_addresses: Mapped[list[str]] = mapped_column(JsonDocument, nullable=False, default=list)
    # Why it was sent: "request" (POST .../send) or "finalized" (the e-mail on finalization setting).
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    # The Message-ID header: the same on every attempt, so a receiver can drop a duplicate.
    message_id: Mapped[str] = mapped_column(String(255), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(1000))
    # What the message carried, as [{"kind", "profile", "filename", "sha256"}], once built.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # When the loop may (re)try it: after a temporary refusal, or after a sender's lease ran out.
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The SMTP server's last answer ("250 2.0.0 Ok: queued", "550 5.1.1 No such user") or the error.
    server_answer: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        tenant_reference("credit_notes", "credit_note_id", ondelete="CASCADE"),
        CheckConstraint("(invoice_id IS NULL) <> (credit_note_id IS NULL)", name="one_document"),
        Index("ix_invoice_sends_org_invoice", "organisation_id", "invoice_id", "created_at"),
        Index("ix_invoice_sends_org_credit_note", "organisation_id", "credit_note_id", "created_at"),
        # The delivery loop looks across organisations for queued sends that are due.
        Index("ix_invoice_sends_status_next_attempt", "status", "next_attempt_at"),
    )
