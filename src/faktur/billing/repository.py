"""SQL for billing runs, their chunks and failures, always scoped by organisation."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from faktur.models import BillingRun, BillingRunChunk, BillingRunFailure


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


def get_run(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, *, for_update: bool = False
) -> BillingRun | None:
    stmt = select(BillingRun).where(BillingRun.organisation_id == organisation_id, BillingRun.id == run_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def get_chunk(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, seq: int
) -> BillingRunChunk | None:
    return session.execute(
        select(BillingRunChunk).where(
            BillingRunChunk.organisation_id == organisation_id,
            BillingRunChunk.run_id == run_id,
            BillingRunChunk.seq == seq,
        )
    ).scalar_one_or_none()


def chunk_states(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID
) -> list[tuple[int, datetime | None]]:
    """(seq, done_at) of the run's stored chunks, in order."""
    rows = session.execute(
        select(BillingRunChunk.seq, BillingRunChunk.done_at)
        .where(BillingRunChunk.organisation_id == organisation_id, BillingRunChunk.run_id == run_id)
        .order_by(BillingRunChunk.seq)
    ).all()
    return [(seq, done_at) for seq, done_at in rows]


def pending_chunks(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID
) -> list[tuple[int, list[uuid.UUID]]]:
    """(seq, contract ids) of the run's stored chunks not done yet, in order."""
    rows = session.execute(
        select(BillingRunChunk.seq, BillingRunChunk.contract_ids)
        .where(
            BillingRunChunk.organisation_id == organisation_id,
            BillingRunChunk.run_id == run_id,
            BillingRunChunk.done_at.is_(None),
        )
        .order_by(BillingRunChunk.seq)
    ).all()
    return [(seq, [uuid.UUID(value) for value in ids]) for seq, ids in rows]


def add_chunks(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    chunks: list[list[uuid.UUID]],
    now: datetime,
) -> None:
    session.add_all(
        BillingRunChunk(
            id=uuid.uuid4(),
            organisation_id=organisation_id,
            created_at=now,
            run_id=run_id,
            seq=seq,
            contract_ids=[str(contract_id) for contract_id in contract_ids],
        )
        for seq, contract_ids in enumerate(chunks)
    )
    session.flush()


def mark_chunk_done(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, seq: int, done_at: datetime, worker: str
) -> bool:
    """Claim the chunk as done; False if another execution already had."""
    marked = session.execute(
        update(BillingRunChunk)
        .where(
            BillingRunChunk.organisation_id == organisation_id,
            BillingRunChunk.run_id == run_id,
            BillingRunChunk.seq == seq,
            BillingRunChunk.done_at.is_(None),
        )
        .values(done_at=done_at, worker=worker[:120])
        .execution_options(synchronize_session=False)
    )
    return marked.rowcount == 1  # type: ignore[attr-defined]  # DML gives a CursorResult


def complete_if_every_chunk_done(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime
) -> bool:
    """Complete the run if its last chunk is done; True when this call completed it."""
    completed = session.execute(
        update(BillingRun)
        .where(
            BillingRun.organisation_id == organisation_id,
            BillingRun.id == run_id,
            BillingRun.status == "running",
            BillingRun.chunks_done >= BillingRun.chunks_total,
        )
        .values(status="completed", finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return completed.rowcount == 1  # type: ignore[attr-defined]


def add_chunk_counts(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    chunks: int,
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
            chunks_done=BillingRun.chunks_done + chunks,
            contracts_done=BillingRun.contracts_done + contracts,
            invoices_created=BillingRun.invoices_created + invoices,
            failures_count=BillingRun.failures_count + failures,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def run_failures(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> list[BillingRunFailure]:
    stmt = (
        select(BillingRunFailure)
        .where(BillingRunFailure.organisation_id == organisation_id, BillingRunFailure.run_id == run_id)
        .order_by(BillingRunFailure.created_at, BillingRunFailure.contract_id)
    )
    return list(session.execute(stmt).scalars())


# Leases (faktur.billing.leases) -------------------------------------------------------------


def _lease_is_free(now: datetime) -> ColumnElement[bool]:
    return or_(
        BillingRun.executor.is_(None),
        BillingRun.lease_expires_at.is_(None),
        BillingRun.lease_expires_at <= now,
    )


def claim_lease(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    executor: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Make `executor` the run's executor if the run is running and its lease free or expired."""
    claimed = session.execute(
        update(BillingRun)
        .where(
            BillingRun.organisation_id == organisation_id,
            BillingRun.id == run_id,
            BillingRun.status == "running",
            _lease_is_free(now),
        )
        .values(executor=executor[:120], heartbeat_at=now, lease_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]  # DML gives a CursorResult


def renew_lease(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    executor: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Renew the lease if `executor` still holds it (an expired lease not yet taken over counts)."""
    renewed = session.execute(
        update(BillingRun)
        .where(
            BillingRun.organisation_id == organisation_id,
            BillingRun.id == run_id,
            BillingRun.executor == executor[:120],
        )
        .values(heartbeat_at=now, lease_expires_at=expires_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return renewed.rowcount == 1  # type: ignore[attr-defined]  # DML gives a CursorResult


def release_lease(
    session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, executor: str, now: datetime
) -> None:
    """Let the lease expire now, so another executor may take the run over at once."""
    session.execute(
        update(BillingRun)
        .where(
            BillingRun.organisation_id == organisation_id,
            BillingRun.id == run_id,
            BillingRun.executor == executor[:120],
            BillingRun.status == "running",
        )
        .values(lease_expires_at=now)
        .execution_options(synchronize_session=False)
    )


def runs_with_expired_lease(
    session: Session, now: datetime, limit: int = 20
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(organisation id, run id) of running runs, of every organisation, that nobody executes."""
    rows = session.execute(
        select(BillingRun.organisation_id, BillingRun.id)
        .where(BillingRun.status == "running", _lease_is_free(now))
        .order_by(BillingRun.created_at)
        .limit(limit)
    ).all()
    return [(organisation_id, run_id) for organisation_id, run_id in rows]
