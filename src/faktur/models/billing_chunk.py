"""The chunks of a billing run handed to worker processes (PostgreSQL task queue)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class BillingRunChunk(TenantOwned, Base):
    """One chunk of a queued run: its contracts, and when (and by which worker) it committed.

    `done_at` is set in the chunk's own transaction, so a chunk is counted in the run exactly once
    even when its task runs again (a worker died after the commit, before the queue heard of it).
    """

    __tablename__ = "billing_run_chunks"

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    contract_ids: Mapped[list[Any]] = mapped_column(JsonDocument, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    worker: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        tenant_reference("billing_runs", "run_id", ondelete="CASCADE"),
        Index("uq_billing_run_chunks_org_run_seq", "organisation_id", "run_id", "seq", unique=True),
    )
