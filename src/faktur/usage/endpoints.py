"""HTTP endpoints of /v1/metrics and /v1/events."""

from __future__ import annotations

import uuid

import pydantic_core
from fastapi import APIRouter, Response

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute
from faktur.usage import repository, service
from faktur.usage.schemas import (
    EventBatchIn,
    EventBatchOut,
    EventError,
    EventIn,
    EventOut,
    EventRef,
    MetricCreate,
    MetricOut,
)

metrics_router = APIRouter(prefix="/v1/metrics", tags=["usage"], route_class=TransactionalRoute)
events_router = APIRouter(prefix="/v1/events", tags=["usage"], route_class=TransactionalRoute)


@metrics_router.post("", status_code=201, response_model=MetricOut, summary="Create a billable metric")
def create_metric(
    body: MetricCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> MetricOut:
    return MetricOut.of(service.create_metric(session, principal.organisation_id, body, now))


@metrics_router.get("", response_model=Page[MetricOut], summary="List billable metrics, newest first")
def list_metrics(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[MetricOut]:
    rows, has_more = service.list_metrics(session, principal.organisation_id, limit, after(cursor))
    return page(rows, has_more, [MetricOut.of(m) for m in rows])


@metrics_router.get("/{metric_id}", response_model=MetricOut, summary="Get a billable metric")
def get_metric(metric_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> MetricOut:
    return MetricOut.of(service.get_metric(session, principal.organisation_id, metric_id))


@events_router.post(
    "",
    status_code=201,
    response_model=EventOut,
    summary="Record one usage event (201 when new, 200 when the transaction id was already recorded)",
)
def create_event(body: EventIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep) -> Response:
    event, duplicate = service.ingest_event(session, principal.organisation_id, body, now)
    metric = repository.get_metric(session, principal.organisation_id, event.metric_id)
    out = EventOut(
        id=event.id,
        transaction_id=event.transaction_id,
        metric_code=metric.code if metric else body.metric_code,
        contract_id=event.contract_id,
        timestamp=event.timestamp,
        properties=event.properties,
        invoice_id=service.billing_invoice(session, principal.organisation_id, event.id),
        duplicate=duplicate,
    )
    # A repeat is acknowledged with 200, a new event 201; the unit of work commits either.
    return Response(
        pydantic_core.to_json(out), status_code=200 if duplicate else 201, media_type="application/json"
    )


@events_router.post(
    "/batch",
    response_model=EventBatchOut,
    summary="Record up to 1,000 usage events; invalid ones are reported by index, the rest kept",
)
def create_events(
    body: EventBatchIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> EventBatchOut:
    result = service.ingest_events(session, principal.organisation_id, body.events, now)
    return EventBatchOut(
        received=result.received,
        stored=len(result.stored),
        duplicates=[EventRef(index=i, transaction_id=t) for i, t in result.duplicates],
        errors=[EventError(**vars(problem)) for problem in result.errors],
    )
