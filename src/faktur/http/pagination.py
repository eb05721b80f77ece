"""Opaque cursors for newest-first lists ordered by (created_at, id)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from faktur.errors import FakturError

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
            return cls(datetime.fromisoformat(created), uuid.UUID(ident))
        except (ValueError, TypeError) as exc:
            raise FakturError(
                "The cursor is not one this API returned; pass next_cursor from the previous page.",
                code="invalid_cursor",
                details=[{"field": "cursor", "reason": "not a valid cursor"}],
            ) from exc


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None
