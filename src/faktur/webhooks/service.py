"""Operations on webhook endpoints and on resending events (services flush, never commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from faktur.events import service as events
from faktur.events.types import EVENT_TYPES
from faktur.models import WebhookAttempt, WebhookEndpoint
from faktur.paging import Cursor
from faktur.webhooks import repository, signing
from faktur.webhooks.errors import UnknownEventType, WebhookEndpointNotFound
from faktur.webhooks.urls import check_url


@dataclass(frozen=True)
class EndpointPolicy:
    """What the deployment allows (from the settings)."""

    allow_private_urls: bool
    secret_grace: timedelta


@dataclass(frozen=True)
class NewEndpoint:
    url: str
    enabled_events: list[str] | None
    description: str | None
    metadata: dict[str, object]


@dataclass(frozen=True)
class EndpointChanges:
    """Only the fields given change (`fields` names them)."""

    fields: frozenset[str]
    url: str | None = None
    enabled_events: list[str] | None = None
    enabled: bool | None = None
    description: str | None = None
    metadata: dict[str, object] | None = None


def _checked_events(enabled_events: list[str] | None) -> list[str] | None:
    if enabled_events is None:
        return None
    unknown = [t for t in enabled_events if t not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(unknown, EVENT_TYPES)
    return sorted(set(enabled_events))


def get_endpoint(
    session: Session, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = repository.get(session, organisation_id, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise WebhookEndpointNotFound(endpoint_id)
    return endpoint


def create_endpoint(
    session: Session, organisation_id: uuid.UUID, data: NewEndpoint, policy: EndpointPolicy, now: datetime
) -> WebhookEndpoint:
    check_url(data.url, allow_private=policy.allow_private_urls)
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        updated_at=now,
        url=data.url,
        description=data.description,
        enabled_events=_checked_events(data.enabled_events),
        enabled=True,
        secret=signing.new_secret(),
        metadata_=data.metadata,
    )
    repository.add(session, endpoint)
    return endpoint


def list_endpoints(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> tuple[list[WebhookEndpoint], bool]:
    rows = repository.list_page(session, organisation_id, limit, cursor)
    return rows[:limit], len(rows) > limit


def update_endpoint(
    session: Session,
    organisation_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: EndpointChanges,
    policy: EndpointPolicy,
    now: datetime,
) -> WebhookEndpoint:
    endpoint = get_endpoint(session, organisation_id, endpoint_id, for_update=True)
    if "url" in changes.fields and changes.url is not None:
        check_url(changes.url, allow_private=policy.allow_private_urls)
        endpoint.url = changes.url
    if "enabled_events" in changes.fields:
        endpoint.enabled_events = _checked_events(changes.enabled_events)
    if "enabled" in changes.fields and changes.enabled is not None:
        endpoint.enabled = changes.enabled
        if changes.enabled:
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    if "description" in changes.fields:
        endpoint.description = changes.description
    if "metadata" in changes.fields:
        endpoint.metadata_ = changes.metadata or {}
    endpoint.updated_at = now
    session.flush()
    return endpoint


def delete_endpoint(session: Session, organisation_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    repository.delete(session, get_endpoint(session, organisation_id, endpoint_id, for_update=True))


def rotate_secret(
    session: Session,
    organisation_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    grace: timedelta,
    now: datetime,
) -> WebhookEndpoint:
    """A new secret; the previous one keeps signing too for `grace` (both signatures are sent)."""
    endpoint = get_endpoint(session, organisation_id, endpoint_id, for_update=True)
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    session.flush()
    return endpoint


def list_attempts(
    session: Session, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> tuple[list[WebhookAttempt], bool]:
    get_endpoint(session, organisation_id, endpoint_id)
    rows = repository.attempts_page(session, organisation_id, endpoint_id, limit, cursor)
    return rows[:limit], len(rows) > limit


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.enabled_events is None or event_type in endpoint.enabled_events


def resend_event(session: Session, organisation_id: uuid.UUID, event_id: uuid.UUID, now: datetime) -> int:
    """Send the event again (same webhook-id) to the endpoints that had it, and to the endpoints
    subscribed to its type that did not; how many deliveries are pending for it now (those of
    disabled endpoints wait until they are enabled)."""
    event = events.get_event(session, organisation_id, event_id)
    had = {d.endpoint_id for d in repository.deliveries_of(session, organisation_id, event.seq)}
    count = repository.redeliver(session, organisation_id, event.seq, now)
    if not event.fanned_out:
        return count  # the delivery loop has not made its deliveries yet; it will send it once
    missing = [
        e
        for e in repository.endpoints_of(session, [organisation_id])
        if e.id not in had and subscribed(e, event.type)
    ]
    repository.add_deliveries(
        session,
        [
            {
                "organisation_id": organisation_id,
                "endpoint_id": e.id,
                "event_seq": event.seq,
                "object_id": event.object_id,
                "status": repository.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for e in missing
        ],
    )
    return count + len(missing)
