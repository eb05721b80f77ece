"""Billable metrics and the usage events they aggregate.

An event is unique per (organisation, transaction_id): a repeat is acknowledged, never counted
twice. `invoice_id` records which invoice billed the event; an event whose invoice is void (or
that has none) is unbilled, which is how late events are found exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned
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
    contract_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False
    )
    metric_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("billable_metrics.id"), nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # JSON with numbers stored as decimal strings (never binary floats).
    properties: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("uq_usage_events_org_transaction", "organisation_id", "transaction_id", unique=True),
        Index("ix_usage_events_org_contract_time", "organisation_id", "contract_id", "timestamp"),
    )
