"""SQL for stored idempotent responses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
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


def delete_key(session: Session, organisation_id: uuid.UUID, key: str) -> None:
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key
        )
    )
