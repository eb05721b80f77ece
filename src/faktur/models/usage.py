"""Billable metrics and the usage events they aggregate.

An event is unique per (organisation, transaction_id): a repeat is acknowledged, never counted
twice. Which invoice billed an event is recorded in one of two ways (faktur.usage.billing_repository):

* `invoice_id`, set one by one for the few events billed out of their period (late usage) or
  billed again after their invoice was voided. An event with `invoice_id` is governed by that
  invoice alone: billed while it is live, unbilled once it is void.
* a `UsageCoverage` row per period invoice: while the invoice is live, every event of its
  contract with `invoice_id` NULL, a timestamp in its span and an ingestion sequence number
  (`seq`) up to its `max_seq` counts as billed by it. Events that arrive later get higher
  sequence numbers, so they stay unbilled and are found as late usage. One row per invoice
  instead of one UPDATE per event is what keeps a month-end run fast.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, FetchedValue, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class BillableMetric(TenantOwned, Base):
    __tablename__ = "billable_metrics"

    code: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    aggregation: Mapped[str] = mapped_column(String(20), nullable=False)  # sum, count, max, unique_count
    property: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        Index("uq_billable_metrics_org_code", "organisation_id", "code", unique=True),
        Index("ix_billable_metrics_org_created", "organisation_id", "created_at", "id"),
    )


class UsageEvent(TenantOwned, Base):
    __tablename__ = "usage_events"

    transaction_id: Mapped[str] = mapped_column(String(200), nullable=False)
    contract_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    metric_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # JSON with numbers stored as decimal strings (never binary floats).
    properties: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Ingestion order, taken after the event's contract is locked against billing: PostgreSQL
    # from the sequence usage_event_seq (the column default), SQLite from a counter row.
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=FetchedValue())

    __table_args__ = (
        tenant_reference("contracts", "contract_id", ondelete="CASCADE"),
        tenant_reference("billable_metrics", "metric_id"),
        Index("uq_usage_events_org_transaction", "organisation_id", "transaction_id", unique=True),
        Index("ix_usage_events_org_contract_time", "organisation_id", "contract_id", "timestamp"),
    )


class UsageCoverage(TenantOwned, Base):
    """What a period invoice billed implicitly: the contract's events with `invoice_id` NULL, a
    timestamp in [since, before) and `seq` <= max_seq (see the module docstring)."""

    __tablename__ = "usage_coverages"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    contract_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    since: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    before: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    max_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        tenant_reference("invoices", "invoice_id"),
        tenant_reference("contracts", "contract_id", ondelete="CASCADE"),
        Index("ix_usage_coverages_org_contract_since", "organisation_id", "contract_id", "since"),
    )
