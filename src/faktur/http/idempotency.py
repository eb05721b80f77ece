"""The Idempotency-Key of a POST, claimed by a route dependency of its own.

The route class (faktur.http.routing) gives every POST route this dependency after the route's
own ones, so no endpoint or dialect has to remember it. It runs after authentication because a
key is scoped by the caller's organisation: authentication records the request's principal
(faktur.auth.authenticate), whichever header the key came in.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from faktur.context import Principal
from faktur.http.deps import NowDep, SessionDep
from faktur.idempotency.service import claim_key

# Headers that change what a request answers (iw-erp's camel-case switch): a retry with another
# value is another request. A header added to this list must change a response.
RESPONSE_SHAPING_HEADERS = ("x-iw-convert-to-camel-case",)


def request_variant(request: Request) -> str:
    """The query string and the response-shaping headers, for the Idempotency-Key fingerprint."""
    shaping = [
        f"{name}:{request.headers[name]}" for name in RESPONSE_SHAPING_HEADERS if name in request.headers
    ]
    return "\n".join([request.url.query, *shaping]) if request.url.query or shaping else ""


async def claim_idempotency_key(request: Request, session: SessionDep, now: NowDep) -> None:
    """Claim the request's Idempotency-Key (POST only); raises a replay or a conflict.

    The claim is kept on the request; the unit of work stores the response for it before commit.
    Async so that a request without a key costs nothing here; a claim runs in the thread pool,
    like every use of the session.
    """
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or key is None:
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        # A POST route without authentication: keys could not be scoped. A bug, not bad input.
        raise RuntimeError(f"POST {request.url.path} has no authenticated principal to scope its key by")
    ttl = timedelta(hours=request.app.state.settings.idempotency_key_ttl_hours)
    request.state.idempotency_claim = await run_in_threadpool(
        functools.partial(
            claim_key,
            session,
            principal.organisation_id,
            key,
            method=request.method,
            path=request.url.path,
            body=request.state.raw_body,
            now=now,
            ttl=ttl,
            variant=request_variant(request),
        )
    )
