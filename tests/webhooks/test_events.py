"""Events are written in the transaction of their change: exactly one per change, with the object
exactly as the API returned it, and none at all when the change rolled back."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webhook_fixtures import app  # noqa: F401 - fixtures

from factories import create_customer, create_invoice, customer_body, line
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import session_scope
from faktur.invoices.overdue import record_overdue
from faktur.models import Event
from recurring_factories import create_contract, finished_run, flat


def _events(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/events", params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        found.extend(body["data"])
        if not body["has_more"]:
            return found
        cursor = body["next_cursor"]


def _only(events: list[dict[str, Any]], type_: str, object_id: str) -> dict[str, Any]:
    matching = [e for e in events if e["type"] == type_ and e["data"]["object"]["id"] == object_id]
    assert len(matching) == 1, f"{len(matching)} {type_} events for {object_id}"
    return matching[0]["data"]["object"]


def test_every_change_emits_its_event_once_with_the_api_object(client, tenant) -> None:
    headers = tenant.headers
    customer = create_customer(client, headers)
    updated = client.patch(f"/v1/customers/{customer['id']}", json={"city": "Köln"}, headers=headers).json()
    draft = create_invoice(client, headers, customer["id"])
    finalized = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=headers).json()
    assert finalized["number"].startswith("INV-")
    partly = client.post(
        f"/v1/invoices/{draft['id']}/payments", json={"amount": "19.00"}, headers=headers
    ).json()
    paid = client.post(
        f"/v1/invoices/{draft['id']}/payments", json={"amount": "100.00"}, headers=headers
    ).json()
    assert paid["status"] == "paid"
    issued = create_invoice(client, headers, customer["id"], finalize=True)
    voided = client.post(f"/v1/invoices/{issued['id']}/void", headers=headers).json()
    doubtful = create_invoice(client, headers, customer["id"], finalize=True)
    uncollectible = client.post(f"/v1/invoices/{doubtful['id']}/mark-uncollectible", headers=headers).json()
    free = create_invoice(client, headers, customer["id"], [line(unit_price="0")], finalize=True)
    assert free["status"] == "paid"

    events = _events(client, headers)
    assert _only(events, "customer.created", customer["id"]) == customer
    assert _only(events, "customer.updated", customer["id"]) == updated
    assert _only(events, "invoice.created", draft["id"]) == draft
    # The number is taken just before COMMIT (decided last): the event carries the real one.
    assert _only(events, "invoice.finalized", draft["id"]) == finalized
    payments = [e for e in events if e["type"] == "invoice.payment_recorded"]
    assert [p["data"]["object"] for p in reversed(payments)] == [partly, paid]
    assert _only(events, "invoice.paid", draft["id"]) == paid
    assert _only(events, "invoice.created", issued["id"]) == issued
    assert _only(events, "invoice.finalized", issued["id"]) == issued
    assert _only(events, "invoice.voided", issued["id"]) == voided
    # Voiding a finalized invoice issues a credit note; its event carries it as the API returns it.
    [cancelling] = voided["credit_notes"]
    credit_note = client.get(f"/v1/credit-notes/{cancelling['id']}", headers=headers).json()
    assert _only(events, "credit_note.issued", cancelling["id"]) == credit_note
    assert _only(events, "invoice.marked_uncollectible", doubtful["id"]) == uncollectible
    assert _only(events, "invoice.paid", free["id"]) == free
    counts = Counter(e["type"] for e in events)
    assert counts == {
        "customer.created": 1,
        "customer.updated": 1,
        "invoice.created": 4,
        "invoice.finalized": 4,
        "invoice.payment_recorded": 2,
        "invoice.paid": 2,
        "invoice.voided": 1,
        "invoice.marked_uncollectible": 1,
        "credit_note.issued": 1,
    }
    # Newest first, and each object's events in the order they happened.
    mine = [e["type"] for e in reversed(events) if e["data"]["object"]["id"] == draft["id"]]
    assert mine == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_recorded",
        "invoice.payment_recorded",
        "invoice.paid",
    ]


def test_events_filter_by_type_and_object_and_page(client, tenant) -> None:
    customers_made = [create_customer(client, tenant.headers, name=f"C{n}") for n in range(5)]
    by_type = _events(client, tenant.headers, type="customer.created")
    assert sorted(e["data"]["object"]["id"] for e in by_type) == sorted(c["id"] for c in customers_made)
    page = client.get("/v1/events", params={"limit": 2}, headers=tenant.headers).json()
    assert len(page["data"]) == 2 and page["has_more"]
    one = _events(client, tenant.headers, object_id=customers_made[2]["id"])
    assert [e["data"]["object"] for e in one] == [customers_made[2]]
    got = client.get(f"/v1/events/{one[0]['id']}", headers=tenant.headers)
    assert got.json() == one[0]


def test_events_are_the_organisations_own(client, tenant, other_tenant) -> None:
    create_customer(client, tenant.headers)
    event = _events(client, tenant.headers)[0]
    assert _events(client, other_tenant.headers) == []
    response = client.get(f"/v1/events/{event['id']}", headers=other_tenant.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "event_not_found"
    resend = client.post(f"/v1/events/{event['id']}/resend", headers=other_tenant.headers)
    assert resend.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"type": "invoice.exploded"},
        {"object_id": "not-a-uuid"},
        {"limit": "0"},
        {"limit": "101"},
        {"cursor": "garbage"},
        {"cursor": "x" * 300},
    ],
)
def test_garbage_queries_are_4xx(client, tenant, params) -> None:
    response = client.get("/v1/events", params=params, headers=tenant.headers)
    assert 400 <= response.status_code < 500, response.text
    assert "code" in response.json()["error"]


def test_unknown_event_is_404(client, tenant) -> None:
    assert client.get(f"/v1/events/{uuid.uuid4()}", headers=tenant.headers).status_code == 404
    assert client.get("/v1/events/nope", headers=tenant.headers).status_code == 422


def test_a_rolled_back_change_emits_nothing(client, tenant, session_factory) -> None:
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        customers.create_customer(session, tenant.organisation_id, CustomerCreate(**customer_body()), now)
        assert session.execute(select(func.count()).select_from(Event)).scalar_one() == 1
        raise RuntimeError("the request failed after the change")
    # A request refused half-way (finalizing a draft without lines) leaves no event either.
    customer = create_customer(client, tenant.headers)
    draft = client.post(
        "/v1/invoices", json={"customer_id": customer["id"], "lines": []}, headers=tenant.headers
    )
    before = _events(client, tenant.headers)
    if draft.status_code == 201:
        refused = client.post(f"/v1/invoices/{draft.json()['id']}/finalize", headers=tenant.headers)
        assert refused.status_code == 422
        assert _events(client, tenant.headers) == before
    with session_scope(session_factory) as session:
        types = list(session.execute(select(Event.type)).scalars())
    assert sorted(types) == sorted(
        ["customer.created"] + (["invoice.created"] if draft.status_code == 201 else [])
    )


def test_order_fully_invoiced_once(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "currency": "EUR",
        "lines": [
            {
                "name": "Widget",
                "quantity": "3",
                "unit_price": "10.00",
                "tax": {"category": "S", "percent": "19"},
            }
        ],
    }
    order = client.post("/v1/orders", json=body, headers=tenant.headers)
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    line_id = order.json()["lines"][0]["id"]
    part = {"lines": [{"order_line_id": line_id, "quantity": "1"}]}
    assert (
        client.post(f"/v1/orders/{order_id}/invoices", json=part, headers=tenant.headers).status_code == 201
    )
    assert _events(client, tenant.headers, type="order.fully_invoiced") == []
    assert client.post(f"/v1/orders/{order_id}/invoices", json={}, headers=tenant.headers).status_code == 201
    whole = client.get(f"/v1/orders/{order_id}", headers=tenant.headers).json()
    assert _only(_events(client, tenant.headers), "order.fully_invoiced", order_id) == whole


def test_billing_run_completed_once(client, tenant) -> None:
    create_contract(client, tenant.headers, [flat("30.00")])
    started = client.post("/v1/billing-runs", json={"as_of": "2024-03-15"}, headers=tenant.headers)
    assert started.status_code == 202, started.text
    run = finished_run(client, tenant.headers, started.json()["id"])
    event = _only(_events(client, tenant.headers), "billing_run.completed", run["id"])
    assert event == run
    assert Counter(e["type"] for e in _events(client, tenant.headers))["invoice.created"] == 2


def test_invoice_overdue_once_when_the_due_date_passed(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    due = create_invoice(client, tenant.headers, customer["id"], finalize=True, payment_terms_days=0)
    paid = create_invoice(client, tenant.headers, customer["id"], finalize=True, payment_terms_days=0)
    client.post(f"/v1/invoices/{paid['id']}/payments", json={"amount": "119.00"}, headers=tenant.headers)
    later = datetime.now(UTC) + timedelta(days=2)
    with session_scope(session_factory) as session:
        assert record_overdue(session, datetime.now(UTC)) == 0  # due today: not overdue yet
    with session_scope(session_factory) as session:
        assert record_overdue(session, later) == 1
    with session_scope(session_factory) as session:
        assert record_overdue(session, later) == 0
    current = client.get(f"/v1/invoices/{due['id']}", headers=tenant.headers).json()
    event = _only(_events(client, tenant.headers), "invoice.overdue", due["id"])
    # Noticed outside any request: its hosted link is under the process's base URL
    # (http://FAKTUR_HOST:FAKTUR_PORT without FAKTUR_PUBLIC_URL), not the test client's host.
    path = current.pop("hosted_url").removeprefix("http://testserver")
    settings = client.app.state.settings
    assert event.pop("hosted_url") == f"http://{settings.host}:{settings.port}{path}"
    assert event == current
