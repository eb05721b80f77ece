"""The errors of events, one class per code."""

from __future__ import annotations

import uuid

from faktur.errors import NotFound


class EventNotFound(NotFound):
    """No event with this id in the caller's organisation (or it has expired)."""

    code = "event_not_found"

    def __init__(self, event_id: uuid.UUID) -> None:
        super().__init__(f"No event {event_id} in this organisation (events are kept 30 days).")
