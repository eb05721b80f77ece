"""Recording events in the transaction of the change they describe, and reading them back.

`record_event` is the one call the domains make: it adds an `events` row to the caller's session,
so the event commits with the change or not at all. The payload is the JSON sent to webhook
endpoints, `{id, type, created_at, data: {object}}`, with the object as the API presents it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic_core
from pydantic import BaseModel
from sqlalchemy.orm import Session

from faktur.events import repository
from faktur.events.errors import EventNotFound
from faktur.events.types import EventType
from faktur.models import Event
from faktur.paging import Cursor

# GET /v1/events lists this far back; older events are deleted by the delivery loop.
RETENTION = timedelta(days=30)


def record_event(
    session: Session,
    organisation_id: uuid.UUID,
    type_: EventType | str,
    object_payload: BaseModel | dict[str, Any],
    *,
    now: datetime | None = None,
) -> uuid.UUID:
    """Write an event in the caller's transaction; `object_payload` is the API's object (its `id`
    names the object whose events are delivered in order). Returns the event's id."""
    (event_id,) = record_events(session, organisation_id, [type_], object_payload, now=now)
    return event_id


def record_events(
    session: Session,
    organisation_id: uuid.UUID,
    types: Sequence[EventType | str],
    object_payload: BaseModel | dict[str, Any],
    *,
    now: datetime | None = None,
) -> list[uuid.UUID]:
    """Several events about one object at once (e.g. invoice.created and invoice.finalized),
    the object serialised once; in this order."""
    rows = render_events(organisation_id, types, object_payload, now=now)
    repository.insert_rows(session, rows)
    return [row["id"] for row in rows]


def render_events(
    organisation_id: uuid.UUID,
    types: Sequence[EventType | str],
    object_payload: BaseModel | dict[str, Any],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The `events` rows of `record_events`, not written yet (`repository.insert_rows` writes
    them): a caller that decides part of the payload later fills it in first
    (faktur.invoices.events, faktur.pending)."""
    created_at = now or datetime.now(UTC)
    if isinstance(object_payload, BaseModel):
        object_id = getattr(object_payload, "id")  # noqa: B009 - every API object has one
    else:
        object_id = object_payload["id"]
    # Serialised as the endpoint serialises its response (faktur.http.routing), so the object
    # is byte for byte what the API returns.
    data = b',"data":{"object":' + pydantic_core.to_json(object_payload) + b"}}"
    stamp = created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    rows: list[dict[str, Any]] = []
    for type_ in types:
        event_id = uuid.uuid4()
        head = {"id": str(event_id), "type": str(type_), "created_at": stamp}
        rows.append(
            {
                "id": event_id,
                "organisation_id": organisation_id,
                "created_at": created_at,
                "type": str(type_),
                "object_id": uuid.UUID(str(object_id)),
                "payload": (pydantic_core.to_json(head)[:-1] + data).decode(),
                "fanned_out": False,
            }
        )
    return rows


def get_event(session: Session, organisation_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    event = repository.get(session, organisation_id, event_id)
    if event is None:
        raise EventNotFound(event_id)
    return event


def list_events(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    now: datetime,
    *,
    type_: str | None = None,
    object_id: uuid.UUID | None = None,
) -> tuple[list[Event], bool]:
    rows = repository.list_page(
        session, organisation_id, limit, cursor, since=now - RETENTION, type_=type_, object_id=object_id
    )
    return rows[:limit], len(rows) > limit


def purge_expired(session: Session, now: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` events older than the retention period; how many were deleted."""
    return repository.delete_older_than(session, now - RETENTION, limit)
