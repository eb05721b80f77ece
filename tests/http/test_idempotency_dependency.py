"""The Idempotency-Key claim is a route dependency the route class adds to every POST route:
a route that never mentions it (a new endpoint, a dialect with its own key header) honours it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from faktur.auth import CurrentPrincipal, authenticate
from faktur.context import Principal
from faktur.http.deps import SessionDep
from faktur.http.idempotency import claim_idempotency_key
from faktur.http.routing import ComputingRoute, TransactionalRoute


def _dependencies(route: object) -> list[object]:
    return [dependency.call for dependency in route.dependant.dependencies]


def test_every_post_route_claims_its_key_after_its_own_dependencies(app: FastAPI) -> None:
    posts = previews = 0
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        calls = _dependencies(route)
        if isinstance(route.original_route, ComputingRoute):
            # A preview stores nothing, so it claims no key (the key stays free for the request
            # that stores).
            previews += 1
            assert claim_idempotency_key not in calls, route.path
        elif "POST" in (route.methods or ()):
            posts += 1
            # Last: after authentication, which records the principal the key is scoped by.
            assert calls[-1] is claim_idempotency_key, route.path
            assert calls.count(claim_idempotency_key) == 1, route.path
        else:
            assert claim_idempotency_key not in calls, route.path
    assert posts >= 20  # the native API's and the dialects' POST routes
    assert previews == 2  # of invoices and of credit notes


class Note(BaseModel):
    text: str


def vendor_principal(
    request: Request, session: SessionDep, key: Annotated[str | None, Header(alias="x-vendor-key")] = None
) -> Principal:
    """A dialect's way in: the API key in a header of its own."""
    return authenticate(request, session, key)


def _router_with_counted_posts(calls: list[str]) -> APIRouter:
    router = APIRouter(prefix="/test-only", route_class=TransactionalRoute)

    @router.post("/native", status_code=201)
    def native(body: Note, principal: CurrentPrincipal) -> dict[str, object]:
        calls.append(body.text)
        return {"text": body.text, "call": len(calls)}

    @router.post("/vendor", status_code=201)
    def vendor(body: Note, principal: Annotated[Principal, Depends(vendor_principal)]) -> dict[str, object]:
        calls.append(body.text)
        return {"text": body.text, "call": len(calls)}

    return router


def test_a_post_route_that_never_mentions_the_key_honours_it(app: FastAPI, tenant) -> None:
    calls: list[str] = []
    app.include_router(_router_with_counted_posts(calls))
    headers = {**tenant.headers, "Idempotency-Key": "note-1"}
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/test-only/native", json={"text": "a"}, headers=headers)
        again = client.post("/test-only/native", json={"text": "a"}, headers=headers)
        other = client.post("/test-only/native", json={"text": "b"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json() == {"text": "a", "call": 1}
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert calls == ["a"]


def test_a_route_with_its_own_key_header_honours_the_key_too(app: FastAPI, tenant) -> None:
    calls: list[str] = []
    app.include_router(_router_with_counted_posts(calls))
    headers = {"x-vendor-key": tenant.api_key, "Idempotency-Key": "vendor-1"}
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/test-only/vendor", json={"text": "a"}, headers=headers)
        again = client.post("/test-only/vendor", json={"text": "a"}, headers=headers)
        keyless = {"Idempotency-Key": "vendor-1"}
        refused = client.post("/test-only/vendor", json={"text": "a"}, headers=keyless)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json() == {"text": "a", "call": 1}
    assert refused.status_code == 401  # authentication runs before the claim
    assert calls == ["a"]
