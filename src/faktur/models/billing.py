"""Billing runs: one pass that invoices every due contract of an organisation, and its failures."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class BillingRun(TenantOwned, Base):
    __tablename__ = "billing_runs"

    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # running, completed
    # Counters are updated in each chunk's transaction, so they survive a crash exactly.
    contracts_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    contracts_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    invoices_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failures_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The lease of the run's one executor (faktur.billing.leases): who drives the run, when it
    # last showed it is alive, and until when nobody else may take the run over. `queue` stands
    # for the `faktur worker` processes of a queued run.
    executor: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_billing_runs_org_created", "organisation_id", "created_at", "id"),
        # Recovery looks across organisations for running runs whose lease expired.
        Index("ix_billing_runs_status_lease", "status", "lease_expires_at"),
        # One unfinished run per (organisation, as_of): concurrent starts resume the same run.
        Index(
            "uq_billing_runs_org_as_of_running",
            "organisation_id",
            "as_of",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )


class BillingRunFailure(TenantOwned, Base):
    """A contract the run could not invoice, and why; the run went on without it."""

    __tablename__ = "billing_run_failures"

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    contract_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    reason: Mapped[str] = mapped_column(String(2000), nullable=False)

    __table_args__ = (
        tenant_reference("billing_runs", "run_id", ondelete="CASCADE"),
        Index("ix_billing_run_failures_org_run", "organisation_id", "run_id"),
    )
