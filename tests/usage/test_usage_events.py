"""Billable metrics and usage events: idempotent ingestion, per-event errors, exact properties."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import UsageEvent
from recurring_factories import create_contract, create_metric, event, flat, send_events, usage


def _stored(session_factory) -> list[UsageEvent]:  # type: ignore[no-untyped-def]
    with session_scope(session_factory) as session:
        return list(session.execute(select(UsageEvent).order_by(UsageEvent.transaction_id)).scalars())


@pytest.fixture
def contract(client, tenant):  # type: ignore[no-untyped-def]
    create_metric(client, tenant.headers, "api_calls", "count")
    create_metric(client, tenant.headers, "gb", "sum", "gb")
    return create_contract(
        client,
        tenant.headers,
        [usage("api_calls", {"model": "per_unit", "unit_price": "0.01"})],
        start_date="2024-01-01",
        end_date="2025-01-01",
    )


def test_metric_codes_are_unique_and_aggregations_checked(client, tenant) -> None:  # type: ignore[no-untyped-def]
    metric = create_metric(client, tenant.headers, "gb", "sum", "gb")
    assert client.get(f"/v1/metrics/{metric['id']}", headers=tenant.headers).json() == metric
    again = client.post(
        "/v1/metrics", json={"code": "gb", "name": "x", "aggregation": "count"}, headers=tenant.headers
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "metric_code_taken")
    for body in [
        {"code": "a", "name": "a", "aggregation": "sum"},
        {"code": "b", "name": "b", "aggregation": "count", "property": "x"},
        {"code": "c d", "name": "c", "aggregation": "count"},
        {"code": "e", "name": "e", "aggregation": "median", "property": "x"},
    ]:
        assert client.post("/v1/metrics", json=body, headers=tenant.headers).status_code == 422, body


def test_a_repeated_event_is_acknowledged_and_stored_once(client, tenant, contract, session_factory) -> None:  # type: ignore[no-untyped-def]
    body = event(contract["id"], "2024-03-05T10:00:00+01:00")
    first = client.post("/v1/events", json=body, headers=tenant.headers)
    again = client.post("/v1/events", json=body, headers=tenant.headers)
    assert (first.status_code, first.json()["duplicate"]) == (201, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["timestamp"] == "2024-03-05T09:00:00Z"
    batch = send_events(client, tenant.headers, [body, body, event(contract["id"], "2024-03-06T00:00:00Z")])
    assert batch["stored"] == 1
    assert [d["index"] for d in batch["duplicates"]] == [0, 1]
    assert len(_stored(session_factory)) == 2


def test_invalid_events_are_reported_by_index_and_the_valid_ones_kept(  # type: ignore[no-untyped-def]
    client, tenant, other_tenant, contract, session_factory
) -> None:
    foreign = create_contract(client, other_tenant.headers, [flat()])
    good = event(contract["id"], "2024-03-05T10:00:00Z")
    events = [
        good,
        "not an object",
        {**event(contract["id"], "2024-03-05T10:00:00"), "transaction_id": "naive"},
        event(contract["id"], "2024-03-05T10:00:00Z", metric_code="nope"),
        event(foreign["id"], "2024-03-05T10:00:00Z"),
        event(contract["id"], "2023-12-31T23:59:59Z"),
        event(contract["id"], "2025-01-01T00:00:00Z"),
        event(contract["id"], "2024-03-05T10:00:00Z", metric_code="gb", gb="-1"),
        event(contract["id"], "2024-03-05T10:00:00Z", metric_code="gb", gb="lots"),
        {**good, "transaction_id": "x" * 201},
        {**good, "transaction_id": "extra", "colour": "red"},
        {**good, "transaction_id": "both", "customer_id": contract["customer_id"]},
        {**good, "transaction_id": "nested", "properties": {"a": {"b": 1}}},
    ]
    result = send_events(client, tenant.headers, events)
    assert result["received"] == 13
    assert result["stored"] == 1
    assert [(e["index"], e["code"]) for e in result["errors"]] == [
        (1, "invalid_event"),
        (2, "invalid_event"),
        (3, "metric_not_found"),
        (4, "contract_not_found"),
        (5, "outside_contract"),
        (6, "outside_contract"),
        (7, "invalid_property"),
        (8, "invalid_property"),
        (9, "invalid_event"),
        (10, "invalid_event"),
        (11, "invalid_event"),
        (12, "invalid_event"),
    ]
    assert [e.transaction_id for e in _stored(session_factory)] == [good["transaction_id"]]


def test_numbers_are_stored_as_exact_strings(client, tenant, contract, session_factory, engine) -> None:  # type: ignore[no-untyped-def]
    raw = json.dumps({"events": [event(contract["id"], "2024-03-05T10:00:00Z", metric_code="gb")]}).replace(
        '"properties": {}', '"properties": {"gb": 0.1000000000000000055511151231257827, "n": 7, "ok": true}'
    )
    response = client.post(
        "/v1/events/batch", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.json()["stored"] == 1, response.text
    (stored,) = _stored(session_factory)
    assert stored.properties == {"gb": "0.1000000000000000055511151231257827", "n": "7", "ok": True}


def test_events_by_customer_go_to_the_contract_running_then(client, tenant, session_factory) -> None:  # type: ignore[no-untyped-def]
    create_metric(client, tenant.headers, "api_calls")
    customer = create_customer(client, tenant.headers)
    component = [usage("api_calls", {"model": "per_unit", "unit_price": "1"})]
    old = create_contract(
        client, tenant.headers, component, customer["id"], start_date="2024-01-01", end_date="2024-07-01"
    )
    new = create_contract(client, tenant.headers, component, customer["id"], start_date="2024-07-01")
    base = {"metric_code": "api_calls", "customer_id": customer["id"], "properties": {}}
    result = send_events(
        client,
        tenant.headers,
        [
            {**base, "transaction_id": "a", "timestamp": "2024-06-30T23:00:00Z"},
            {**base, "transaction_id": "b", "timestamp": "2024-07-01T00:00:00Z"},
            {**base, "transaction_id": "c", "timestamp": "2023-07-01T00:00:00Z"},
        ],
    )
    assert [e["code"] for e in result["errors"]] == ["no_contract"]
    assert {e.transaction_id: str(e.contract_id) for e in _stored(session_factory)} == {
        "a": old["id"],
        "b": new["id"],
    }


def test_batch_limits(client, tenant, contract, session_factory) -> None:  # type: ignore[no-untyped-def]
    too_many = [event(contract["id"], "2024-03-05T10:00:00Z") for _ in range(1001)]
    response = client.post("/v1/events/batch", json={"events": too_many}, headers=tenant.headers)
    assert response.status_code == 422
    assert client.post("/v1/events/batch", json={"events": []}, headers=tenant.headers).status_code == 422
    assert client.post("/v1/events/batch", json=[1, 2], headers=tenant.headers).status_code == 422
    full = send_events(client, tenant.headers, too_many[:1000])
    assert full["stored"] == 1000
    with session_scope(session_factory) as session:
        assert session.execute(select(func.count()).select_from(UsageEvent)).scalar_one() == 1000


def test_single_event_errors_are_4xx(client, tenant, contract) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (event(contract["id"], "2024-03-05T10:00:00Z", metric_code="nope"), 404, "metric_not_found"),
        (event(contract["id"], "2020-03-05T10:00:00Z"), 422, "outside_contract"),
        ({"transaction_id": "t"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = client.post("/v1/events", json=body, headers=tenant.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
