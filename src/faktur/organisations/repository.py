"""SQL for organisations and API keys."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from faktur.models import ApiKey, Organisation


def get(session: Session, organisation_id: uuid.UUID) -> Organisation | None:
    return session.get(Organisation, organisation_id)


# Built once: on every request, building the statement and its cache key cost more than running it.
_ACTIVE_KEY = (
    select(ApiKey, Organisation)
    .join(Organisation, Organisation.id == ApiKey.organisation_id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


def get_active_key(session: Session, key_hash: str) -> tuple[ApiKey, Organisation] | None:
    row = session.execute(_ACTIVE_KEY, {"key_hash": key_hash}).first()
    return (row[0], row[1]) if row else None


def get_key(session: Session, organisation_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return session.execute(
        select(ApiKey).where(ApiKey.organisation_id == organisation_id, ApiKey.id == key_id)
    ).scalar_one_or_none()


def find_key_by_prefix(session: Session, prefix: str) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalars())


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.execute(select(Organisation).order_by(Organisation.created_at)).scalars())


def organisation_ids(session: Session, only: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Every organisation's id in creation order (or just `only`, if it exists)."""
    stmt = select(Organisation.id).order_by(Organisation.created_at, Organisation.id)
    if only is not None:
        stmt = stmt.where(Organisation.id == only)
    return list(session.execute(stmt).scalars())


def add(session: Session, row: Organisation | ApiKey) -> None:
    session.add(row)
    session.flush()
