"""Idempotency-Key on POST (DESIGN rule 5): replay, reuse with another body, concurrent duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from factories import create_customer, line
from faktur.db import session_scope
from faktur.models import Invoice


def _invoice_count(session_factory, organisation_id) -> int:  # type: ignore[no-untyped-def]
    with session_scope(session_factory) as session:
        return session.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


def test_same_key_and_body_replays_the_stored_response(client, tenant, session_factory) -> None:  # type: ignore[no-untyped-def]
    customer = create_customer(client, tenant.headers)
    body = {"customer_id": customer["id"], "lines": [line()], "finalize": True}
    headers = {**tenant.headers, "Idempotency-Key": "order-42"}
    first = client.post("/v1/invoices", json=body, headers=headers)
    second = client.post("/v1/invoices", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers.get("idempotent-replayed") == "true"
    assert _invoice_count(session_factory, tenant.organisation_id) == 1


def test_same_key_with_another_body_is_a_conflict(client, tenant, session_factory) -> None:  # type: ignore[no-untyped-def]
    customer = create_customer(client, tenant.headers)
    headers = {**tenant.headers, "Idempotency-Key": "k-1"}
    assert (
        client.post(
            "/v1/invoices", json={"customer_id": customer["id"], "lines": [line()]}, headers=headers
        ).status_code
        == 201
    )
    other = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line(unit_price="5.00")]},
        headers=headers,
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _invoice_count(session_factory, tenant.organisation_id) == 1


def test_key_of_a_failed_request_is_not_kept(client, tenant, session_factory) -> None:  # type: ignore[no-untyped-def]
    customer = create_customer(client, tenant.headers)
    headers = {**tenant.headers, "Idempotency-Key": "retry-me"}
    bad = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line(category="E", percent="0")]},
        headers=headers,
    )
    assert bad.status_code == 422
    good = client.post(
        "/v1/invoices", json={"customer_id": customer["id"], "lines": [line()]}, headers=headers
    )
    assert good.status_code == 201
    assert _invoice_count(session_factory, tenant.organisation_id) == 1


def test_keys_are_scoped_per_organisation(client, tenant, other_tenant) -> None:  # type: ignore[no-untyped-def]
    mine = create_customer(client, tenant.headers)
    theirs = create_customer(client, other_tenant.headers)
    key = {"Idempotency-Key": "shared-key"}
    first = client.post(
        "/v1/invoices", json={"customer_id": mine["id"], "lines": [line()]}, headers={**tenant.headers, **key}
    )
    second = client.post(
        "/v1/invoices",
        json={"customer_id": theirs["id"], "lines": [line()]},
        headers={**other_tenant.headers, **key},
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_every_post_honours_the_key(client, tenant) -> None:  # type: ignore[no-untyped-def]
    headers = {**tenant.headers, "Idempotency-Key": "cust-1"}
    first = client.post("/v1/customers", json={"name": "Once"}, headers=headers)
    second = client.post("/v1/customers", json={"name": "Once"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    listed = client.get("/v1/customers", headers=tenant.headers).json()["data"]
    assert [c["name"] for c in listed] == ["Once"]


def test_overlong_key_is_refused(client, tenant) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/v1/customers", json={"name": "X"}, headers={**tenant.headers, "Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_20_concurrent_posts_with_one_key_create_one_invoice(
    live_server, client, tenant, session_factory
) -> None:  # type: ignore[no-untyped-def]
    customer = create_customer(client, tenant.headers)
    body = {"customer_id": customer["id"], "lines": [line(), line(percent="7")], "finalize": True}
    headers = {**tenant.headers, "Idempotency-Key": "concurrent-1"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            return http.post("/v1/invoices", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert _invoice_count(session_factory, tenant.organisation_id) == 1
    assert responses[0].json()["number"] == "INV-" + responses[0].json()["issue_date"][:4] + "-00001"
