"""Response bodies of /v1/events."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from faktur.models import Event


class ChangeEventOut(BaseModel):
    id: uuid.UUID
    type: str = Field(description="e.g. invoice.finalized; the catalogue is in the README")
    created_at: datetime
    data: dict[str, Any] = Field(description="{object}: the object as the API returned it at that moment")

    @classmethod
    def of(cls, event: Event) -> ChangeEventOut:
        # The payload is exactly what webhook endpoints receive.
        stored = json.loads(event.payload)
        return cls(id=event.id, type=event.type, created_at=event.created_at, data=stored["data"])


class ResendOut(BaseModel):
    event_id: uuid.UUID = Field(description="The event sent again, with this id as its webhook-id")
    deliveries: int = Field(description="How many endpoints the event is being sent to again")
