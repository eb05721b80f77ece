"""Claim an Idempotency-Key inside the request's transaction, or replay what it already did.

The claim row is inserted in the same transaction as the request's effects and completed with
the response before commit. A concurrent request with the same key blocks on the unique key
until the first commits, then replays its stored response; if the first rolled back, the
second does the work instead. Either way the effect happens once.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from faktur.errors import IdempotencyKeyInProgress, IdempotencyKeyReused, InvalidIdempotencyKey
from faktur.idempotency import repository

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotencyClaim:
    organisation_id: uuid.UUID
    key: str


class IdempotentReplay(Exception):
    """The key's request was done before: its stored status and JSON body are the answer."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__("idempotent replay")
        self.status_code = status_code
        self.body = body


# Each new claim deletes at most this many expired keys of its organisation: more than one, so
# the table shrinks back after a busy day, few enough to keep the request's cost constant.
PURGE_PER_CLAIM = 10


def request_fingerprint(method: str, path: str, body: bytes, variant: str = "") -> str:
    """What makes two requests the same request: method, path, the `variant` (query string and
    the headers that shape the response) and the body's bytes."""
    target = path + ("?" + variant if variant else "")
    return hashlib.sha256(method.encode() + b" " + target.encode() + b"\n" + body).hexdigest()


def claim_key(
    session: Session,
    organisation_id: uuid.UUID,
    key: str,
    *,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    ttl: timedelta,
    variant: str = "",
) -> IdempotencyClaim:
    """Claim `key` for this request, or raise IdempotentReplay / Conflict.

    Expired keys are purged here, on write, a few per claim (`PURGE_PER_CLAIM`): an organisation
    that sends keys keeps its table to about one TTL's worth, with no job to schedule.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(MAX_KEY_LENGTH)
    repository.purge_expired(session, organisation_id, now - ttl, PURGE_PER_CLAIM)
    return _claim(
        session,
        organisation_id,
        key,
        request_fingerprint(method, path, body, variant),
        method,
        path,
        now,
        ttl,
    )


def _claim(
    session: Session,
    organisation_id: uuid.UUID,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    now: datetime,
    ttl: timedelta,
) -> IdempotencyClaim:
    if repository.insert_claim(session, organisation_id, key, fingerprint, method, path, now):
        return IdempotencyClaim(organisation_id, key)
    existing = repository.get(session, organisation_id, key)
    if existing is None:  # deleted between our insert and read; claim again
        return _claim(session, organisation_id, key, fingerprint, method, path, now, ttl)
    if existing.created_at < now - ttl:
        repository.delete_key(session, organisation_id, key)
        session.flush()
        return _claim(session, organisation_id, key, fingerprint, method, path, now, ttl)
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(key, existing.method, existing.path)
    if existing.status_code is None or existing.response_body is None:
        raise IdempotencyKeyInProgress(key)
    raise IdempotentReplay(existing.status_code, existing.response_body)


def record_response(session: Session, claim: IdempotencyClaim, status_code: int, body: bytes) -> None:
    repository.store_response(session, claim.organisation_id, claim.key, status_code, body)
