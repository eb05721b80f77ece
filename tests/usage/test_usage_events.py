"""Billable metrics and usage events: idempotent ingestion, per-event errors, exact properties."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import UsageEvent
from recurring_factories import create_contract, create_metric, event, flat, send_events, usage


def _stored(session_factory) -> list[UsageEvent]:
    with session_scope(session_factory) as session:
        return list(session.execute(select(UsageEvent).order_by(UsageEvent.transaction_id)).scalars())


@pytest.fixture
def contract(client, tenant):
    create_metric(client, tenant.headers, "api_calls", "count")
    create_metric(client, tenant.headers, "gb", "sum", "gb")
    return create_contract(
        client,
        tenant.headers,
        [usage("api_calls", {"model": "per_unit", "unit_price": "0.01"})],
        start_date="2024-01-01",
        end_date="2025-01-01",
    )


def test_metric_codes_are_unique_and_aggregations_checked(client, tenant) -> None:
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


def test_a_repeated_event_is_acknowledged_and_stored_once(client, tenant, contract, session_factory) -> None:
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


def test_invalid_events_are_reported_by_index_and_the_valid_ones_kept(
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


def test_numbers_are_stored_as_exact_strings(client, tenant, contract, session_factory, engine) -> None:
    raw = json.dumps({"events": [event(contract["id"], "2024-03-05T10:00:00Z", metric_code="gb")]}).replace(
        '"properties": {}', '"properties": {"gb": 0.1000000000000000055511151231257827, "n": 7, "ok": true}'
    )
    response = client.post(
        "/v1/events/batch", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.json()["stored"] == 1, response.text
    (stored,) = _stored(session_factory)
    assert stored.properties == {"gb": "0.1000000000000000055511151231257827", "n": "7", "ok": True}


def test_events_by_customer_go_to_the_contract_running_then(client, tenant, session_factory) -> None:
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


def test_batch_limits(client, tenant, contract, session_factory) -> None:
    too_many = [event(contract["id"], "2024-03-05T10:00:00Z") for _ in range(1001)]
    response = client.post("/v1/events/batch", json={"events": too_many}, headers=tenant.headers)
    assert response.status_code == 422
    assert client.post("/v1/events/batch", json={"events": []}, headers=tenant.headers).status_code == 422
    assert client.post("/v1/events/batch", json=[1, 2], headers=tenant.headers).status_code == 422
    full = send_events(client, tenant.headers, too_many[:1000])
    assert full["stored"] == 1000
    with session_scope(session_factory) as session:
        assert session.execute(select(func.count()).select_from(UsageEvent)).scalar_one() == 1000


def test_single_event_errors_are_4xx(client, tenant, contract) -> None:
    cases = [
        (event(contract["id"], "2024-03-05T10:00:00Z", metric_code="nope"), 404, "metric_not_found"),
        (event(contract["id"], "2020-03-05T10:00:00Z"), 422, "outside_contract"),
        ({"transaction_id": "t"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = client.post("/v1/events", json=body, headers=tenant.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text


def test_values_billing_could_not_read_are_refused_at_ingestion(
    client, tenant, contract, session_factory
) -> None:
    # Decimal() reads all of these; billing (faktur.calc) reads ASCII digits only, so they are
    # refused here, with the event, instead of failing the contract's billing run later.
    unreadable = ["1_000", "\uff11\uff12", "\u0661\u0662", " 5", "5 ", "1e3_0"]
    single = client.post(
        "/v1/events",
        json=event(contract["id"], "2024-03-05T10:00:00Z", "gb", gb="1_000"),
        headers=tenant.headers,
    )
    assert (single.status_code, single.json()["error"]["code"]) == (422, "invalid_property"), single.text
    assert "1_000" in single.json()["error"]["message"]
    readable = ["1000", "12.", "+3", ".5", "1E2"]
    sent = [
        event(contract["id"], "2024-03-05T10:00:00Z", "gb", gb=value) for value in [*unreadable, *readable]
    ]
    result = send_events(client, tenant.headers, sent)
    assert [(e["index"], e["code"], e["field"]) for e in result["errors"]] == [
        (index, "invalid_property", "properties.gb") for index in range(len(unreadable))
    ]
    assert result["stored"] == len(readable)
    assert sorted(e.properties["gb"] for e in _stored(session_factory)) == sorted(readable)


def test_stored_rows_keep_text_and_instants_exactly(client, tenant, contract, session_factory) -> None:
    odd = 'quote " backslash \\ newline \n tab \t ümlaut € 𝄞'
    body = {
        **event(contract["id"], "2024-03-05T10:00:00.123456+05:30", note=odd, flag=False, empty=None),
        "transaction_id": f"tx {odd}",
    }
    later = event(contract["id"], "2024-03-05T23:59:59.999999-01:00")
    assert send_events(client, tenant.headers, [body, later])["stored"] == 2
    first, second = sorted(_stored(session_factory), key=lambda e: e.timestamp)
    assert first.transaction_id == f"tx {odd}"
    assert first.timestamp == datetime(2024, 3, 5, 4, 30, 0, 123456, tzinfo=UTC)
    assert second.timestamp == datetime(2024, 3, 6, 0, 59, 59, 999999, tzinfo=UTC)
    assert first.properties == {"note": odd, "flag": False, "empty": None}
    assert (first.invoice_id, first.organisation_id) == (None, tenant.organisation_id)
    assert str(first.contract_id) == contract["id"]
    assert first.id != second.id and first.id.version == second.id.version == 4


def test_an_event_with_several_errors_is_reported_once_by_its_first(client, tenant, contract) -> None:
    good = event(contract["id"], "2024-03-05T10:00:00Z")
    bad = {"transaction_id": "", "metric_code": "", "timestamp": "yesterday", "colour": "red"}
    result = send_events(client, tenant.headers, [bad, good, bad])
    assert result["stored"] == 1
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (0, "transaction_id"),
        (2, "transaction_id"),
    ]


def test_text_no_document_can_carry_refuses_the_batch_naming_each_event(
    client, tenant, contract, session_factory
) -> None:
    # Lone surrogate escapes are valid JSON but no valid UTF-8; NUL and other control characters
    # fit no XML. Like a body that is not UTF-8, such text refuses the request as a whole (the
    # events are idempotent on their transaction id, so the corrected batch is simply resent).
    template = json.dumps(event(contract["id"], "2024-03-05T10:00:00Z", placeholder="x"))
    events = [
        template.replace('"tx-', '"tx-\\ud800-'),
        template.replace('"placeholder": "x"', '"k": "\\udfff"'),
        template.replace('"placeholder": "x"', '"\\udfff": "v"'),
        template.replace('"placeholder": "x"', '"a\\u0000b": "v"'),
        template.replace('"api_calls"', '"api_\\u0007"'),
        json.dumps(event(contract["id"], "2024-03-05T10:00:00Z")),
    ]
    raw = '{"events": [' + ", ".join(events) + "]}"
    response = client.post(
        "/v1/events/batch", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert sorted(d["field"] for d in response.json()["error"]["details"]) == [
        "events[0].transaction_id",
        "events[1].properties.k",
        "events[2].properties",
        "events[3].properties",
        "events[4].metric_code",
    ]
    assert _stored(session_factory) == []


@pytest.mark.postgres_only
def test_concurrent_overlapping_batches_store_each_transaction_once(
    live_server, client, tenant, contract, session_factory
) -> None:
    events = [event(contract["id"], f"2024-03-{1 + i % 28:02d}T10:00:00Z") for i in range(600)]
    # Four clients, each sending an overlapping window of the same transaction ids at once.
    windows = [events[start : start + 300] for start in (0, 100, 200, 300)]
    barrier = threading.Barrier(len(windows))

    def send(window: list[dict[str, Any]]) -> dict[str, Any]:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as http:
            barrier.wait()
            response = http.post("/v1/events/batch", json={"events": window})
            assert response.status_code == 200, response.text
            return response.json()

    with ThreadPoolExecutor(len(windows)) as pool:
        results = list(pool.map(send, windows))
    assert sum(r["stored"] for r in results) == 600
    assert sum(r["stored"] + len(r["duplicates"]) for r in results) == 1200
    with session_scope(session_factory) as session:
        counted = session.execute(
            select(UsageEvent.transaction_id, func.count()).group_by(UsageEvent.transaction_id)
        ).all()
    assert len(counted) == 600 and {n for _, n in counted} == {1}


def test_coverage_bills_exactly_the_events_it_counted(client, tenant, contract, session_factory) -> None:
    # An event stored after billing loaded a contract's usage was not counted: the invoice's
    # coverage (up to the highest sequence number it counted) must leave it unbilled, so it goes
    # on the next invoice as late usage. Voiding the invoice makes its events unbilled again.
    from faktur.usage import billing_repository as repository

    send_events(client, tenant.headers, [event(contract["id"], "2024-01-10T08:00:00Z") for _ in range(3)])
    invoice = client.post(
        "/v1/invoices",
        json={"customer_id": contract["customer_id"], "lines": [{"description": "x", "quantity": "1",
              "unit_price": "1", "tax": {"category": "S", "percent": "19"}}], "finalize": True},
        headers=tenant.headers,
    ).json()  # fmt: skip
    contract_id, invoice_id = uuid.UUID(contract["id"]), uuid.UUID(invoice["id"])
    january = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))
    with session_scope(session_factory) as session:
        loaded = repository.contract_events(
            session, tenant.organisation_id, [contract_id], january[1], unbilled_only=True
        )
        assert [e.value for e in loaded] == [None, None, None]
    send_events(client, tenant.headers, [event(contract["id"], "2024-01-11T08:00:00Z")])
    counted = repository.BilledUsage(invoice_id, contract_id, january, max(e.seq for e in loaded), [])
    with session_scope(session_factory) as session:
        repository.mark_billed(session, tenant.organisation_id, [counted], datetime(2024, 2, 1, tzinfo=UTC))
    stored = _stored(session_factory)
    with session_scope(session_factory) as session:
        billed_by = repository.billing_invoices(session, tenant.organisation_id, [e.id for e in stored])
        unbilled = repository.contract_events(
            session, tenant.organisation_id, [contract_id], january[1], unbilled_only=True
        )
    assert sorted(str(billed_by[e.id]) for e in stored) == sorted([invoice["id"]] * 3 + ["None"])
    assert [e.timestamp for e in unbilled] == [datetime(2024, 1, 11, 8, tzinfo=UTC)]
    assert all(e.invoice_id is None for e in stored)  # coverage, not one mark per event
    assert client.post(f"/v1/invoices/{invoice['id']}/void", headers=tenant.headers).status_code == 200
    with session_scope(session_factory) as session:
        billed_by = repository.billing_invoices(session, tenant.organisation_id, [e.id for e in stored])
        unbilled = repository.contract_events(
            session, tenant.organisation_id, [contract_id], january[1], unbilled_only=True
        )
    assert set(billed_by.values()) == {None} and len(unbilled) == 4
