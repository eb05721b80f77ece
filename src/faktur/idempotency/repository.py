"""SQL for stored idempotent responses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from faktur.models import IdempotencyKey
from faktur.sql import insert_ignoring_conflicts


def insert_claim(
    session: Session,
    organisation_id: uuid.UUID,
    key: str,
    request_hash: str,
    method: str,
    path: str,
    now: datetime,
) -> bool:
    return insert_ignoring_conflicts(
        session,
        IdempotencyKey,
        {
            "organisation_id": organisation_id,
            "key": key,
            "request_hash": request_hash,
            "method": method,
            "path": path,
            "created_at": now,
        },
    )


def get(session: Session, organisation_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.execute(
        select(IdempotencyKey)
        .where(IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


_STORE_RESPONSE = (
    update(IdempotencyKey)
    .where(
        IdempotencyKey.organisation_id == bindparam("b_organisation_id"),
        IdempotencyKey.key == bindparam("b_key"),
    )
    .values(status_code=bindparam("b_status_code"), response_body=bindparam("b_response_body"))
    .execution_options(synchronize_session=False)
)


def store_response(
    session: Session, organisation_id: uuid.UUID, key: str, status_code: int, body: bytes
) -> None:
    """One UPDATE: on PostgreSQL it runs while the invoice-number counter may be locked."""
    params = {"b_organisation_id": organisation_id, "b_key": key, "b_status_code": status_code}
    session.execute(_STORE_RESPONSE, {**params, "b_response_body": body})


def delete_key(session: Session, organisation_id: uuid.UUID, key: str) -> None:
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key
        )
    )


def purge_expired(session: Session, organisation_id: uuid.UUID, cutoff: datetime, limit: int) -> None:
    """Delete up to `limit` of the organisation's keys created before `cutoff`, oldest first.

    Rows another transaction is deleting are skipped (PostgreSQL SKIP LOCKED), so concurrent
    requests of one organisation never wait on each other here. Two statements: PostgreSQL may
    rescan a LIMIT ... FOR UPDATE subquery inside a DELETE and so delete more than `limit`.
    """
    expired = list(
        session.scalars(
            select(IdempotencyKey.key)
            .where(IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.created_at < cutoff)
            .order_by(IdempotencyKey.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if expired:
        session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key.in_(expired))
            .execution_options(synchronize_session=False)
        )
