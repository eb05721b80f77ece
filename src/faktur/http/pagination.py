"""One page of a newest-first list over HTTP: its query parameters (`LimitQuery`, `CursorQuery`),
the cursor read from the query string (`after`) and the response shape (`Page`, answered by
`page`), and the created-at range most lists filter by (`CreatedFromQuery`, `CreatedBeforeQuery`).
The cursor itself is faktur.paging's, which repositories take."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Query
from pydantic import BaseModel

from faktur.fields import UtcDatetime
from faktur.paging import Cursor

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
CreatedFromQuery = Annotated[
    UtcDatetime | None, Query(description="Created at or after (ISO 8601 with zone)")
]
CreatedBeforeQuery = Annotated[UtcDatetime | None, Query(description="Created before (ISO 8601 with zone)")]


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


class Listed(Protocol):
    """A row of a newest-first list: ordered by (created_at, id)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


def after(cursor: str | None) -> Cursor | None:
    """The cursor of a list request's `cursor` parameter (InvalidCursor, a 4xx, if it is not one)."""
    return Cursor.decode(cursor) if cursor else None


def page(rows: Sequence[Listed], has_more: bool, data: list[T]) -> Page[T]:
    """The page answered for `rows` (what the repository listed) presented as `data`: the next
    page's cursor points after the last row when there is more."""
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode() if has_more else None
    return Page(data=data, has_more=has_more, next_cursor=next_cursor)
