"""SQL for billing runs and their failures, always scoped by organisation."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from faktur.models import BillingRun, BillingRunFailure


def running_run(session: Session, organisation_id: uuid.UUID, as_of: date) -> BillingRun | None:
    """The oldest unfinished run for `as_of`: starting the same run again resumes it."""
    return session.execute(
        select(BillingRun)
        .where(
            BillingRun.organisation_id == organisation_id,
            BillingRun.as_of == as_of,
            BillingRun.status == "running",
        )
        .order_by(BillingRun.created_at)
        .limit(1)
    ).scalar_one_or_none()


def get_run(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> BillingRun | None:
    return session.execute(
        select(BillingRun).where(BillingRun.organisation_id == organisation_id, BillingRun.id == run_id)
    ).scalar_one_or_none()


def add_chunk_counts(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    contracts: int,
    invoices: int,
    failures: int,
    now: datetime,
) -> None:
    """Move the run's counters by increments, so chunks committed by several processes add up."""
    session.execute(
        update(BillingRun)
        .where(BillingRun.organisation_id == organisation_id, BillingRun.id == run_id)
        .values(
            chunks_done=BillingRun.chunks_done + 1,
            contracts_done=BillingRun.contracts_done + contracts,
            invoices_created=BillingRun.invoices_created + invoices,
            failures_count=BillingRun.failures_count + failures,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def mark_completed(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(BillingRun)
        .where(BillingRun.organisation_id == organisation_id, BillingRun.id == run_id)
        .values(status="completed", finished_at=now, updated_at=now)
    )


def run_failures(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> list[BillingRunFailure]:
    stmt = (
        select(BillingRunFailure)
        .where(BillingRunFailure.organisation_id == organisation_id, BillingRunFailure.run_id == run_id)
        .order_by(BillingRunFailure.created_at, BillingRunFailure.contract_id)
    )
    return list(session.execute(stmt).scalars())
