"""A billing run as the API presents it (GET /v1/billing-runs/{id} and billing_run.* events)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.billing import repository
from faktur.billing.errors import BillingRunNotFound
from faktur.billing.schemas import BillingRunOut, RunFailureOut
from faktur.events.service import record_event
from faktur.events.types import EventType


def present_run(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> BillingRunOut:
    run = repository.get_run(session, organisation_id, run_id)
    if run is None:
        raise BillingRunNotFound(run_id)
    failures = repository.run_failures(session, organisation_id, run_id)
    return BillingRunOut(
        id=run.id,
        as_of=run.as_of,
        status=run.status,
        contracts_total=run.contracts_total,
        contracts_done=run.contracts_done,
        chunks_total=run.chunks_total,
        chunks_done=run.chunks_done,
        invoices_created=run.invoices_created,
        failures_count=run.failures_count,
        failures=[RunFailureOut(contract_id=f.contract_id, code=f.code, reason=f.reason) for f in failures],
        created_at=run.created_at,
        updated_at=run.updated_at,
        finished_at=run.finished_at,
        executor=run.executor,
        heartbeat_at=run.heartbeat_at,
        lease_expires_at=run.lease_expires_at,
    )


def record_run_completed(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime
) -> None:
    """billing_run.completed, in the transaction that completed the run."""
    session.expire_all()  # the run row was completed by an UPDATE the session did not see
    record_event(
        session,
        organisation_id,
        EventType.BILLING_RUN_COMPLETED,
        present_run(session, organisation_id, run_id),
        now=now,
    )
