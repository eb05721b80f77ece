"""Opaque cursors for newest-first lists ordered by (created_at, id)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from faktur.errors import InvalidCursor

T = TypeVar("T")


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


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None
