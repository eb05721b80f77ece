"""API keys: how they are made and checked, and the CurrentPrincipal dependency.

A key is shown once at creation; only its SHA-256 is stored. Every authenticated POST also
claims its Idempotency-Key here, because the claim is scoped by the caller's organisation.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from faktur.errors import InvalidApiKey, MissingApiKey
from faktur.http.deps import NowDep, SessionDep
from faktur.idempotency.service import claim_key
from faktur.models import Organisation
from faktur.organisations import repository as organisations

KEY_PREFIX = "fk_"


@dataclass(frozen=True)
class NewApiKey:
    plaintext: str
    prefix: str
    key_hash: str


@dataclass(frozen=True)
class Principal:
    organisation: Organisation
    api_key_id: uuid.UUID | None
    actor: str

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(plaintext=plaintext, prefix=plaintext[:10], key_hash=hash_api_key(plaintext))


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise MissingApiKey()
    found = organisations.get_active_key(session, hash_api_key(token.strip()))
    if found is None:
        raise InvalidApiKey()
    key, organisation = found
    actor = organisations.KEY_ACTOR_PREFIX + key.prefix
    return Principal(organisation=organisation, api_key_id=key.id, actor=actor)


def claim_idempotency(request: Request, session: Session, organisation_id: uuid.UUID, now: datetime) -> None:
    """Claim the request's Idempotency-Key (POST only); raises a replay or a conflict."""
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or key is None:
        return
    ttl = timedelta(hours=request.app.state.settings.idempotency_key_ttl_hours)
    request.state.idempotency_claim = claim_key(
        session,
        organisation_id,
        key,
        method=request.method,
        path=request.url.path,
        body=request.state.raw_body,
        now=now,
        ttl=ttl,
        variant=request_variant(request),
    )


# Headers that change what a request answers (iw-erp's camel-case switch): a retry with another
# value is another request. A header added to this list must change a response.
RESPONSE_SHAPING_HEADERS = ("x-iw-convert-to-camel-case",)


def request_variant(request: Request) -> str:
    """The query string and the response-shaping headers, for the Idempotency-Key fingerprint."""
    shaping = [
        f"{name}:{request.headers[name]}" for name in RESPONSE_SHAPING_HEADERS if name in request.headers
    ]
    return "\n".join([request.url.query, *shaping]) if request.url.query or shaping else ""


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer fk_...`")


def current_principal(
    request: Request,
    session: SessionDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = authenticate(session, credentials.credentials if credentials else None)
    claim_idempotency(request, session, principal.organisation_id, now)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
