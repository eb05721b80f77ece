"""Request and response bodies of /v1/webhook-endpoints and the delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from faktur.fields import Metadata, Text

Url = Annotated[str, Text(2000, 1)]
EventTypeName = Annotated[str, Text(60, 1)]
Description = Annotated[str, Text(500)]

_EVENTS_DESCRIPTION = (
    "The event types sent to this endpoint (see GET /v1/events for the catalogue in the README); "
    "null or omitted: every type"
)


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url = Field(description="Where events are POSTed: https (http only for localhost)")
    enabled_events: list[EventTypeName] | None = Field(None, description=_EVENTS_DESCRIPTION, max_length=50)
    description: Description | None = Field(None, description="What this endpoint is for, for people")
    metadata: Metadata | None = None


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = Field(None, description="A new URL (checked as on creation)")
    enabled_events: list[EventTypeName] | None = Field(None, description=_EVENTS_DESCRIPTION, max_length=50)
    enabled: bool | None = Field(
        None, description="false stops deliveries (they wait); true resumes them and clears disabled_reason"
    )
    description: Description | None = Field(None, description="What this endpoint is for, for people")
    metadata: Metadata | None = None


class RotateSecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_period_hours: int | None = Field(
        None,
        ge=0,
        le=168,
        description="How long the previous secret keeps signing too (default 24; 0: stop at once)",
    )


class WebhookEndpointOut(BaseModel):
    id: uuid.UUID
    url: str = Field(description="Where events are POSTed")
    description: str | None
    enabled_events: list[str] | None = Field(description="Event types sent; null: every type")
    enabled: bool = Field(
        description="false: nothing is sent (disabled by a user or after 5 days of failures)"
    )
    disabled_reason: str | None = Field(description="Why faktur disabled the endpoint, if it did")
    failing_since: datetime | None = Field(
        description="Since when every attempt failed; null after a success"
    )
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: Any) -> WebhookEndpointOut:
        values = {name: getattr(endpoint, name) for name in cls.model_fields if name != "metadata"}
        return cls(**values, metadata=endpoint.metadata_)


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (whsec_...); shown only now, store it")
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation: until when the previous secret signs too"
    )

    @classmethod
    def with_secret(cls, endpoint: Any) -> WebhookEndpointWithSecretOut:
        out = WebhookEndpointOut.of(endpoint)
        return cls(
            **out.model_dump(),
            secret=endpoint.secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )


class DeliveryAttemptOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="The event sent (its id is the request's webhook-id)")
    event_type: str = Field(description="The event's type, e.g. invoice.paid")
    attempt: int = Field(description="1 for the first try of this delivery, 2 for the first retry...")
    created_at: datetime = Field(description="When the request was sent")
    status_code: int | None = Field(description="The receiver's HTTP status; null when it did not answer")
    response_ms: int = Field(description="Milliseconds until the answer (or the failure)")
    response_body: str | None = Field(description="The first 1 KB of the answer")
    error: str | None = Field(description="Why there was no answer: refused, timed out, refused address...")
    succeeded: bool = Field(description="A 2xx answer")

    @classmethod
    def of(cls, attempt: Any) -> DeliveryAttemptOut:
        return cls(**{name: getattr(attempt, name) for name in cls.model_fields})
