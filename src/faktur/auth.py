"""Authentication: an API key -> the request's Principal, and the CurrentPrincipal dependency.

`authenticate` is the one place every key is checked, the native bearer header's and the
dialects' vendor headers alike; it records the principal on the request, where the route's
idempotency dependency (faktur.http.idempotency) finds the organisation to scope the key by.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from faktur.context import Principal
from faktur.errors import InvalidApiKey, MissingApiKey
from faktur.http.deps import SessionDep
from faktur.http.reads import adopt, before_writing
from faktur.models import ApiKey, Organisation
from faktur.organisations import repository as organisations
from faktur.organisations.api_keys import hash_api_key


def authenticate(request: Request, session: Session, token: str | None) -> Principal:
    """The principal of an API key; recorded as the request's."""
    if not token:
        raise MissingApiKey()
    found = _active_key(request, session, hash_api_key(token.strip()))
    if found is None:
        raise InvalidApiKey()
    key, organisation = found
    actor = organisations.KEY_ACTOR_PREFIX + key.prefix
    principal = Principal(organisation=organisation, api_key_id=key.id, actor=actor)
    request.state.principal = principal
    return principal


def _active_key(request: Request, session: Session, key_hash: str) -> tuple[ApiKey, Organisation] | None:
    """The key and its organisation, read before the request writes (faktur.http.reads): a wrong
    key is refused without queueing for SQLite's write lock."""
    with before_writing(request, session) as reads:
        found = organisations.get_active_key(reads, key_hash)
    if found is None:
        return None
    key, organisation = found
    return key, adopt(session, organisation)


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer fk_...`")


def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate(request, session, credentials.credentials if credentials else None)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
