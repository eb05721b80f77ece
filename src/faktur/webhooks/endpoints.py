"""HTTP endpoints of /v1/webhook-endpoints: thin wrappers over webhooks.service."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute
from faktur.webhooks import service
from faktur.webhooks.schemas import (
    DeliveryAttemptOut,
    RotateSecretIn,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecretOut,
)

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], route_class=TransactionalRoute)


def _policy(request: Request) -> service.EndpointPolicy:
    settings = request.app.state.settings
    return service.EndpointPolicy(
        allow_private_urls=settings.webhook_allow_private_urls,
        secret_grace=timedelta(hours=settings.webhook_secret_grace_hours),
    )


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointWithSecretOut,
    summary="Register a webhook endpoint (its signing secret is shown only in this response)",
    description=(
        "Events are POSTed to `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`). 422 `webhook_url_invalid`, `webhook_url_not_https` (http only for "
        "localhost), `webhook_url_private` (the host resolves to a private or loopback address), "
        "`unknown_event_type`."
    ),
)
def create_endpoint(
    body: WebhookEndpointCreate,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> WebhookEndpointWithSecretOut:
    data = service.NewEndpoint(
        url=body.url,
        enabled_events=body.enabled_events,
        description=body.description,
        metadata=body.metadata or {},
    )
    endpoint = service.create_endpoint(session, principal.organisation_id, data, _policy(request), now)
    return WebhookEndpointWithSecretOut.with_secret(endpoint)


@router.get("", response_model=Page[WebhookEndpointOut], summary="List webhook endpoints, newest first")
def list_endpoints(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[WebhookEndpointOut]:
    rows, has_more = service.list_endpoints(session, principal.organisation_id, limit, after(cursor))
    return page(rows, has_more, [WebhookEndpointOut.of(e) for e in rows])


@router.get("/{endpoint_id}", response_model=WebhookEndpointOut, summary="Get a webhook endpoint")
def get_endpoint(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookEndpointOut:
    return WebhookEndpointOut.of(service.get_endpoint(session, principal.organisation_id, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookEndpointOut,
    summary="Change a webhook endpoint's URL, events, description, or enable/disable it",
)
def update_endpoint(
    endpoint_id: uuid.UUID,
    body: WebhookEndpointUpdate,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> WebhookEndpointOut:
    given = body.model_fields_set
    changes = service.EndpointChanges(
        fields=frozenset(given),
        url=body.url,
        enabled_events=body.enabled_events,
        enabled=body.enabled,
        description=body.description,
        metadata=body.metadata,
    )
    endpoint = service.update_endpoint(
        session, principal.organisation_id, endpoint_id, changes, _policy(request), now
    )
    return WebhookEndpointOut.of(endpoint)


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    summary="Delete a webhook endpoint (its pending deliveries and its log go with it)",
)
def delete_endpoint(endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Response:
    service.delete_endpoint(session, principal.organisation_id, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=WebhookEndpointWithSecretOut,
    summary="Replace the signing secret; the previous one signs too during a grace period",
    description=(
        "During the grace period (`grace_period_hours`, 24 by default) every request carries two "
        "signatures in `webhook-signature`, one per secret, so receivers can switch without losing events."
    ),
)
def rotate_secret(
    endpoint_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: Annotated[RotateSecretIn | None, Body()] = None,
) -> WebhookEndpointWithSecretOut:
    hours = body.grace_period_hours if body and body.grace_period_hours is not None else None
    grace = timedelta(hours=hours) if hours is not None else _policy(request).secret_grace
    endpoint = service.rotate_secret(session, principal.organisation_id, endpoint_id, grace, now)
    return WebhookEndpointWithSecretOut.with_secret(endpoint)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=Page[DeliveryAttemptOut],
    summary="The delivery log: every attempt to this endpoint, newest first",
)
def list_deliveries(
    endpoint_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[DeliveryAttemptOut]:
    rows, has_more = service.list_attempts(
        session, principal.organisation_id, endpoint_id, limit, after(cursor)
    )
    return page(rows, has_more, [DeliveryAttemptOut.of(a) for a in rows])
