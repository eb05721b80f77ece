"""Keyset paging for newest-first lists ordered by (created_at, id): the opaque cursor.

Below every domain: repositories take a Cursor; the HTTP layer decodes it from the query string
and wraps a page of results in its response shape (faktur.http.pagination.Page).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from faktur.errors import InvalidCursor


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created, ident = json.loads(raw)
            created_at = datetime.fromisoformat(created)
            if created_at.tzinfo is None:
                # Every cursor this API issues carries a zone; a naive one was made by hand.
                raise ValueError("cursor timestamp without a time zone")
            return cls(created_at.astimezone(UTC), uuid.UUID(ident))
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidCursor() from exc
