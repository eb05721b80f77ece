"""SQL for organisations and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import Session

from faktur.models import ApiKey, InvoiceEvent, Organisation

# A change made with an API key is recorded with this actor, followed by the key's prefix.
KEY_ACTOR_PREFIX = "api_key:"


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


def get_key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    return session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash)).scalar_one_or_none()


def list_keys(
    session: Session, organisation_id: uuid.UUID | None = None
) -> list[tuple[ApiKey, datetime | None]]:
    """Keys in creation order, each with the last time an invoice's status was changed with it.

    Requests are not logged, so the invoice history (whose actor names the key's prefix) is the
    only record of a key's use.
    """
    used = (
        select(
            InvoiceEvent.organisation_id,
            InvoiceEvent.actor,
            func.max(InvoiceEvent.created_at).label("last_used"),
        )
        .where(InvoiceEvent.actor.startswith(KEY_ACTOR_PREFIX))
        .group_by(InvoiceEvent.organisation_id, InvoiceEvent.actor)
        .subquery()
    )
    stmt = (
        select(ApiKey, used.c.last_used)
        .outerjoin(
            used,
            (used.c.organisation_id == ApiKey.organisation_id)
            & (used.c.actor == literal(KEY_ACTOR_PREFIX) + ApiKey.prefix),
        )
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    if organisation_id is not None:
        stmt = stmt.where(ApiKey.organisation_id == organisation_id)
    return [(row[0], row[1]) for row in session.execute(stmt)]


def count_active_keys(session: Session) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(ApiKey.organisation_id, func.count())
        .where(ApiKey.revoked_at.is_(None))
        .group_by(ApiKey.organisation_id)
    )
    return {organisation_id: count for organisation_id, count in rows}


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
