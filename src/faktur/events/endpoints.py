"""HTTP endpoints of /v1/events: what happened in the last 30 days, and resending an event."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from faktur.auth import CurrentPrincipal
from faktur.events import service
from faktur.events.schemas import ChangeEventOut, ResendOut
from faktur.events.types import EventType
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute
from faktur.webhooks.service import resend_event

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=TransactionalRoute)


@router.get(
    "",
    response_model=Page[ChangeEventOut],
    summary="List the events of the last 30 days, newest first (to reconcile with what webhooks sent)",
)
def list_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    type: Annotated[EventType | None, Query(description="Only events of this type")] = None,
    object_id: Annotated[uuid.UUID | None, Query(description="Only events about this object")] = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[ChangeEventOut]:
    rows, has_more = service.list_events(
        session,
        principal.organisation_id,
        limit,
        after(cursor),
        now,
        type_=type.value if type else None,
        object_id=object_id,
    )
    return page(rows, has_more, [ChangeEventOut.of(e) for e in rows])


@router.get("/{event_id}", response_model=ChangeEventOut, summary="Get an event")
def get_event(event_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> ChangeEventOut:
    return ChangeEventOut.of(service.get_event(session, principal.organisation_id, event_id))


@router.post(
    "/{event_id}/resend",
    status_code=202,
    response_model=ResendOut,
    summary="Send an event to its webhook endpoints again (same webhook-id)",
)
def resend(event_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, now: NowDep) -> ResendOut:
    return ResendOut(
        event_id=event_id, deliveries=resend_event(session, principal.organisation_id, event_id, now)
    )
