"""SQL for webhook endpoints, deliveries and attempts (scoped by organisation, except the
delivery loop's queries, which work across organisations)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from faktur.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from faktur.models.base import table_of
from faktur.paging import Cursor
from faktur.sql import newest_first, numbered

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def add(session: Session, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)
    session.flush()


def get(
    session: Session, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.organisation_id == organisation_id, WebhookEndpoint.id == endpoint_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def list_page(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> list[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
    return list(session.execute(newest_first(stmt, WebhookEndpoint, cursor, limit)).scalars())


def delete(session: Session, endpoint: WebhookEndpoint) -> None:
    session.delete(endpoint)
    session.flush()


def attempts_page(
    session: Session, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> list[WebhookAttempt]:
    stmt = select(WebhookAttempt).where(
        WebhookAttempt.organisation_id == organisation_id, WebhookAttempt.endpoint_id == endpoint_id
    )
    return list(session.execute(newest_first(stmt, WebhookAttempt, cursor, limit)).scalars())


def endpoints_of(session: Session, organisation_ids: Iterable[uuid.UUID]) -> list[WebhookEndpoint]:
    """Every endpoint of these organisations, enabled or not (a disabled one's deliveries wait)."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id.in_(sorted(set(organisation_ids))))
    return list(session.execute(stmt).scalars())


def any_endpoint(session: Session) -> bool:
    return session.execute(select(WebhookEndpoint.id).limit(1)).first() is not None


def events_to_fan_out(session: Session, limit: int) -> list[Event]:
    """The oldest events without deliveries yet, locked: fan-outs run one at a time, so the
    deliveries of one object are made in the order of its events."""
    # `= false`, the predicate of the partial index ix_events_not_fanned_out: PostgreSQL does not
    # match `IS FALSE` to it and read every event of the last 30 days instead.
    stmt = select(Event).where(Event.fanned_out == false()).order_by(Event.seq).limit(limit).with_for_update()
    return list(session.execute(stmt).scalars())


def add_deliveries(session: Session, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        session.execute(insert(table_of(WebhookDelivery)), numbered(session, WebhookDelivery.id, rows))


def mark_fanned_out(session: Session, seqs: Sequence[int]) -> None:
    if seqs:
        session.execute(
            update(Event)
            .where(Event.seq.in_(list(seqs)))
            .values(fanned_out=True)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Claimed:
    """A delivery taken by one worker until `leased_until`, with what sending it needs."""

    delivery_id: int
    organisation_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempts: int
    leased_until: datetime
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    event_id: uuid.UUID
    event_type: str
    payload: str


def due_deliveries(
    session: Session, now: datetime, limit: int, *, skip_endpoints: Collection[uuid.UUID] = ()
) -> list[tuple[int, uuid.UUID]]:
    """Up to `limit` due deliveries, oldest first, as (id, endpoint id), locked for this
    transaction: pending, due, not leased by a live worker, of an enabled endpoint not in
    `skip_endpoints`, and the oldest pending one of their (endpoint, object) so each object's
    events arrive in order. Other workers skip the rows this one locks (PostgreSQL)."""
    # The first pending event of the delivery's object to its endpoint: one look-up in
    # ix_webhook_deliveries_pending_object per candidate. (Asked as NOT EXISTS an earlier one,
    # PostgreSQL without statistics made it a join comparing every pair of pending deliveries.)
    earlier = aliased(WebhookDelivery)
    first_pending = (
        select(func.min(earlier.event_seq))
        .where(
            earlier.endpoint_id == WebhookDelivery.endpoint_id,
            earlier.object_id == WebhookDelivery.object_id,
            earlier.status == PENDING,
        )
        .scalar_subquery()
    )
    due = (
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
        .join(
            WebhookEndpoint,
            (WebhookEndpoint.organisation_id == WebhookDelivery.organisation_id)
            & (WebhookEndpoint.id == WebhookDelivery.endpoint_id),
        )
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.leased_until.is_(None)) | (WebhookDelivery.leased_until < now),
            WebhookEndpoint.enabled.is_(True),
            WebhookDelivery.event_seq == first_pending,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    if skip_endpoints:
        due = due.where(WebhookDelivery.endpoint_id.not_in(sorted(skip_endpoints)))
    return [(row.id, row.endpoint_id) for row in session.execute(due)]


def lease(session: Session, ids: Sequence[int], leased_until: datetime) -> list[Claimed]:
    """Lease the deliveries `ids` (locked by `due_deliveries` in this transaction) until
    `leased_until`; what sending each needs."""
    if not ids:
        return []
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(leased_until=leased_until)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(WebhookDelivery, WebhookEndpoint, Event)
        .join(
            WebhookEndpoint,
            (WebhookEndpoint.organisation_id == WebhookDelivery.organisation_id)
            & (WebhookEndpoint.id == WebhookDelivery.endpoint_id),
        )
        .join(
            Event,
            (Event.organisation_id == WebhookDelivery.organisation_id)
            & (Event.seq == WebhookDelivery.event_seq),
        )
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
    ).all()
    return [
        Claimed(
            delivery_id=delivery.id,
            organisation_id=delivery.organisation_id,
            endpoint_id=endpoint.id,
            attempts=delivery.attempts,
            leased_until=leased_until,
            url=endpoint.url,
            secret=endpoint.secret,
            previous_secret=endpoint.previous_secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
            event_id=event.id,
            event_type=event.type,
            payload=event.payload,
        )
        for delivery, endpoint, event in rows
    ]


def settle_delivery(
    session: Session, claimed: Claimed, *, status: str, attempts: int, next_attempt_at: datetime | None
) -> bool:
    """Write the outcome of an attempt if the lease is still this worker's; False if another
    worker took the delivery over meanwhile (then its outcome counts)."""
    values: dict[str, object] = {"status": status, "attempts": attempts, "leased_until": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.organisation_id == claimed.organisation_id,
            WebhookDelivery.id == claimed.delivery_id,
            WebhookDelivery.leased_until == claimed.leased_until,
            WebhookDelivery.status == PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def add_attempt(session: Session, attempt: WebhookAttempt) -> None:
    session.add(attempt)


def endpoints_for_update(session: Session, endpoint_ids: set[uuid.UUID]) -> dict[uuid.UUID, WebhookEndpoint]:
    """The endpoints that still exist of `endpoint_ids`, locked in the order of their ids (every
    worker locks in this order). FOR NO KEY UPDATE: attempts and deliveries referencing the rows
    (key-share locks) go on."""
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_(sorted(endpoint_ids)))
        .order_by(WebhookEndpoint.id)
        .with_for_update(key_share=True)
    )
    return {endpoint.id: endpoint for endpoint in session.execute(stmt).scalars()}


def redeliver(session: Session, organisation_id: uuid.UUID, event_seq: int, now: datetime) -> int:
    """Make the event's deliveries pending again, due now; how many."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.organisation_id == organisation_id, WebhookDelivery.event_seq == event_seq)
        .values(status=PENDING, next_attempt_at=now, attempts=0, leased_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def deliveries_of(session: Session, organisation_id: uuid.UUID, event_seq: int) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.organisation_id == organisation_id, WebhookDelivery.event_seq == event_seq
    )
    return list(session.execute(stmt).scalars())
