"""Typed dependencies: the request's session and the clock.

Both are async because they do no I/O: FastAPI then calls them on the event loop instead of
sending each to the thread pool.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


async def get_session(request: Request) -> Session:
    return request.state.session


async def get_now() -> datetime:
    return datetime.now(UTC)


SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
