"""Events (the outbox of what happened) and the webhook endpoints they are delivered to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime

# A 64-bit number taken from a sequence (the column default) on PostgreSQL; on SQLite, where only
# a single-column INTEGER PRIMARY KEY numbers itself, the INSERT gives it (faktur.sql.numbered).
Serial = BigInteger().with_variant(Integer(), "sqlite")
# The event types the outbox loop checks for an e-mail (faktur.sending.service.queue_finalized_sends):
# the partial index ix_events_email_unchecked and the loop's query spell this list alike.
EMAILED_EVENT_TYPES = ("invoice.finalized", "credit_note.issued")
_EMAILED = "type IN ({})".format(", ".join(f"'{t}'" for t in EMAILED_EVENT_TYPES))


class Event(Base):
    """One change, written in the change's own transaction; `payload` is the exact JSON sent."""

    __tablename__ = "events"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # Commit order of the changes of one object: its events are delivered in `seq` order.
    seq: Mapped[int] = mapped_column(Serial, nullable=False, server_default=FetchedValue())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    type: Mapped[str] = mapped_column(String(60), nullable=False)
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    # False until the delivery loop has made its webhook deliveries.
    fanned_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # False until the outbox loop has decided whether the invoice of an invoice.finalized event, or
    # the credit note of a credit_note.issued one, is e-mailed
    # (faktur.sending.service.queue_finalized_sends); the other types are never read for it.
    email_checked: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        # Unique with the organisation, which webhook deliveries refer to their event by.
        Index("uq_events_org_seq", "organisation_id", "seq", unique=True),
        # The outbox loops' and the pruning's order across organisations; SQLite's next number.
        Index("ix_events_seq", "seq"),
        Index("ix_events_org_object", "organisation_id", "object_id"),
        Index("ix_events_created", "created_at"),
        Index(
            "ix_events_not_fanned_out",
            "seq",
            sqlite_where=text("fanned_out = 0"),
            postgresql_where=text("fanned_out = false"),
        ),
        Index(
            "ix_events_email_unchecked",
            "seq",
            sqlite_where=text(f"{_EMAILED} AND email_checked = 0"),
            postgresql_where=text(f"{_EMAILED} AND email_checked = false"),
        ),
        # invoice.overdue is emitted once per invoice, whichever worker notices it first.
        Index(
            "uq_events_overdue_object",
            "organisation_id",
            "object_id",
            unique=True,
            sqlite_where=text("type = 'invoice.overdue'"),
            postgresql_where=text("type = 'invoice.overdue'"),
        ),
    )


class WebhookEndpoint(TenantOwned, Base):
    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    # None: every event type.
    enabled_events: Mapped[list[str] | None] = mapped_column(JsonDocument)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    # After a rotation the previous secret signs too, until previous_secret_expires_at.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Since when every attempt failed (None after a success); past the limit the endpoint is disabled.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)

    __table_args__ = (Index("ix_webhook_endpoints_org_created", "organisation_id", "created_at", "id"),)


class WebhookDelivery(Base):
    """One event to one endpoint: pending until a 2xx answer, failed after the last retry."""

    __tablename__ = "webhook_deliveries"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    id: Mapped[int] = mapped_column(Serial, nullable=False, server_default=FetchedValue())
    endpoint_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    event_seq: Mapped[int] = mapped_column(Serial, nullable=False)
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # A claimed delivery is another worker's until then (a worker killed mid-send loses it then).
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        tenant_reference("webhook_endpoints", "endpoint_id", ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["organisation_id", "event_seq"], ["events.organisation_id", "events.seq"], ondelete="CASCADE"
        ),
        # The lease's order (next_attempt_at, id): a pass reads as many due deliveries as it leases.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_endpoint_object", "endpoint_id", "object_id", "event_seq"),
        # The lease's check for an older pending delivery of the object (webhooks.repository).
        Index(
            "ix_webhook_deliveries_pending_object",
            "endpoint_id",
            "object_id",
            "event_seq",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_event", "event_seq"),
    )


class WebhookAttempt(TenantOwned, Base):
    """One HTTP request of a delivery and what came back (the delivery log)."""

    __tablename__ = "webhook_attempts"

    endpoint_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    delivery_id: Mapped[int] = mapped_column(Serial, nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    event_type: Mapped[str] = mapped_column(String(60), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    # The first 1 KB of the answer, or why there was none (refused, timed out).
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (
        tenant_reference("webhook_endpoints", "endpoint_id", ondelete="CASCADE"),
        tenant_reference("webhook_deliveries", "delivery_id", ondelete="CASCADE"),
        Index("ix_webhook_attempts_endpoint_created", "organisation_id", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_attempts_delivery", "delivery_id"),
    )
