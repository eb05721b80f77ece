"""Idempotency-Key on POST (DESIGN rule 5): replay, reuse with another body, concurrent duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from factories import create_customer, line
from faktur.db import session_scope
from faktur.http.deps import get_now
from faktur.idempotency.service import PURGE_PER_CLAIM
from faktur.models import IdempotencyKey, Invoice


def _invoice_count(session_factory, organisation_id) -> int:
    with session_scope(session_factory) as session:
        return session.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


def test_same_key_and_body_replays_the_stored_response(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    body = {"customer_id": customer["id"], "lines": [line()], "finalize": True}
    headers = {**tenant.headers, "Idempotency-Key": "order-42"}
    first = client.post("/v1/invoices", json=body, headers=headers)
    second = client.post("/v1/invoices", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers.get("idempotent-replayed") == "true"
    # The number is taken after the response is rendered (faktur.pending): stored and replayed
    # with the number, as the invoice has it.
    assert first.json()["number"] == f"INV-{datetime.now(UTC):%Y}-00001"
    assert client.get(f"/v1/invoices/{first.json()['id']}", headers=tenant.headers).json() == first.json()
    assert _invoice_count(session_factory, tenant.organisation_id) == 1


def test_same_key_with_another_body_is_a_conflict(client, tenant, session_factory) -> None:
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


def test_key_of_a_failed_request_is_not_kept(client, tenant, session_factory) -> None:
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


def test_keys_are_scoped_per_organisation(client, tenant, other_tenant) -> None:
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


def test_every_post_honours_the_key(client, tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "cust-1"}
    first = client.post("/v1/customers", json={"name": "Once"}, headers=headers)
    second = client.post("/v1/customers", json={"name": "Once"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    listed = client.get("/v1/customers", headers=tenant.headers).json()["data"]
    assert [c["name"] for c in listed] == ["Once"]


def test_overlong_key_is_refused(client, tenant) -> None:
    response = client.post(
        "/v1/customers", json={"name": "X"}, headers={**tenant.headers, "Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_20_concurrent_posts_with_one_key_create_one_invoice(
    live_server, client, tenant, session_factory
) -> None:
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


def test_same_key_with_another_query_string_is_a_conflict(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    headers = {**tenant.headers, "Idempotency-Key": "q-1"}
    path = "/compat/iw-erp/api/invoice/invoices"
    body = {
        "invoice": {
            "buyer": {"id": customer["id"]},
            "items": [{"name": "x", "price": 10}],
            "tax": {"value": 19},
        }
    }
    assert client.post(f"{path}?iw-build-id=1", json=body, headers=headers).status_code == 200
    other = client.post(f"{path}?iw-build-id=2", json=body, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == 409


def test_iw_erp_retry_asking_for_camel_case_is_not_answered_with_the_snake_case_response(
    client, tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    headers = {**tenant.headers, "Idempotency-Key": "camel-1"}
    path = "/compat/iw-erp/api/invoice/invoices"
    body = {
        "invoice": {
            "buyer": {"id": customer["id"]},
            "items": [{"name": "x", "price": 10}],
            "tax": {"value": 19},
        }
    }
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 200 and "netto_value" in first.json()
    camel = client.post(path, json=body, headers={**headers, "x-iw-convert-to-camel-case": "1"})
    assert camel.status_code == 409, camel.text
    # The same switch again replays; without it, the first answer is replayed as before.
    again = client.post(path, json=body, headers=headers)
    assert again.content == first.content
    assert _invoice_count(session_factory, tenant.organisation_id) == 1


def test_expired_keys_are_purged_when_the_organisation_claims_new_ones(
    app, client, tenant, session_factory
) -> None:
    def stored_keys() -> set[str]:
        with session_scope(session_factory) as session:
            return set(session.scalars(select(IdempotencyKey.key)))

    start = datetime(2026, 1, 1, tzinfo=UTC)
    app.dependency_overrides[get_now] = lambda: start
    try:
        for n in range(PURGE_PER_CLAIM + 3):
            response = client.post(
                "/v1/customers",
                json={"name": f"K{n}"},
                headers={**tenant.headers, "Idempotency-Key": f"old-{n}"},
            )
            assert response.status_code == 201
        assert len(stored_keys()) == PURGE_PER_CLAIM + 3
        # A day and a bit later (TTL 24 h) each new claim deletes up to PURGE_PER_CLAIM expired keys.
        app.dependency_overrides[get_now] = lambda: start + timedelta(hours=25)
        headers = {**tenant.headers, "Idempotency-Key": "new-1"}
        assert client.post("/v1/customers", json={"name": "N1"}, headers=headers).status_code == 201
        assert len(stored_keys()) == 3 + 1
        headers = {**tenant.headers, "Idempotency-Key": "new-2"}
        assert client.post("/v1/customers", json={"name": "N2"}, headers=headers).status_code == 201
        assert stored_keys() == {"new-1", "new-2"}
    finally:
        app.dependency_overrides.pop(get_now, None)
