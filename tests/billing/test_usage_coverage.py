"""What a period invoice bills of a contract's usage: coverage, marks, voids and concurrent ingestion.

A period invoice records its usage as coverage (span and highest sequence number counted);
late events and events of voided invoices billed again are marked one by one
(faktur.models.usage). These tests check that every event is billed exactly once through voids
and re-billing, and, on PostgreSQL, while events arrive concurrently with billing.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from faktur.db import session_scope
from faktur.models import Contract
from recurring_factories import (
    billed,
    create_contract,
    create_metric,
    event,
    events_billed_by,
    line_summary,
    send_events,
    usage,
)

PER_CALL = usage("api_calls", {"model": "per_unit", "unit_price": "1"})


def _late_units(invoice: dict[str, Any]) -> int:
    """Units added by the invoice's late-usage adjustment lines."""
    return sum(
        int(line["metadata"]["units_after"]) - int(line["metadata"]["units_before"])
        for line in invoice["lines"]
        if line["metadata"].get("late_usage") == "true"
    )


def _void(client, headers, invoice: dict[str, Any]) -> None:
    response = client.post(f"/v1/invoices/{invoice['id']}/void", headers=headers)
    assert response.status_code == 200, response.text


def test_voids_and_rebilling_bill_every_event_once(client, tenant, session_factory) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(client, tenant.headers, [PER_CALL])
    cid, headers = contract["id"], tenant.headers
    send_events(client, headers, [event(cid, "2024-01-10T10:00:00Z") for _ in range(8)])
    january = billed(client, headers, cid, "2024-01-01", "2024-02-01", finalize=True)
    assert line_summary(january) == [("8", "1", "8.00")]
    send_events(client, headers, [event(cid, "2024-01-20T10:00:00Z") for _ in range(5)])  # late
    february = billed(client, headers, cid, "2024-02-01", "2024-03-01", finalize=True)
    assert _late_units(february) == 5
    assert events_billed_by(session_factory) == {january["id"]: 8, february["id"]: 5}

    # Voiding January frees its 8 events, not the 5 that February billed as late usage.
    _void(client, headers, january)
    assert events_billed_by(session_factory) == {"None": 8, february["id"]: 5}
    send_events(client, headers, [event(cid, "2024-01-25T10:00:00Z") for _ in range(2)])
    january_again = billed(client, headers, cid, "2024-01-01", "2024-02-01", finalize=True)
    assert line_summary(january_again) == [("10", "1", "10.00")]
    assert events_billed_by(session_factory) == {january_again["id"]: 10, february["id"]: 5}

    # Voiding February frees the 5 late events (marked by it), although January's new coverage
    # reaches past their sequence numbers: a marked event follows its own invoice only.
    _void(client, headers, february)
    assert events_billed_by(session_factory) == {january_again["id"]: 10, "None": 5}
    february_again = billed(client, headers, cid, "2024-02-01", "2024-03-01", finalize=True)
    late = [line for line in february_again["lines"] if line["metadata"].get("late_usage") == "true"]
    assert [(line["metadata"]["units_before"], line["metadata"]["units_after"]) for line in late] == [
        ("10", "15")
    ]
    assert events_billed_by(session_factory) == {january_again["id"]: 10, february_again["id"]: 5}
    march = billed(client, headers, cid, "2024-03-01", "2024-04-01")
    assert _late_units(march) == 0 and line_summary(march) == [("0", "1", "0.00")]


def _lock_waiters(session_factory) -> int:
    with session_scope(session_factory) as session:
        return session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()


def _wait_for_lock_waiters(session_factory, count: int) -> None:
    deadline = time.monotonic() + 20
    while _lock_waiters(session_factory) < count:
        assert time.monotonic() < deadline, "no request waited for the contract lock"
        time.sleep(0.01)


@pytest.mark.postgres_only
@pytest.mark.parametrize("held_first", [True, False], ids=["held-contract-first", "billed-contract-first"])
def test_an_event_numbered_before_an_invoice_read_the_usage_is_counted_or_late(
    live_server, client, tenant, session_factory, held_first
) -> None:
    # The race the ingestion lock closes, step by step with real transactions. A batch with events
    # for contracts H and C waits for H, which another transaction holds. Meanwhile a second batch
    # stores an event for C and C's January is invoiced. Had the first batch's C event taken its
    # sequence number before waiting (it did, when the lock was only the foreign key's check at
    # the end of the INSERT), the invoice would cover it - its number is below the invoice's
    # highest - without having counted it. With the lock taken first, it is either counted by the
    # invoice or numbered after it and billed as late usage on February's invoice.
    create_metric(client, tenant.headers, "api_calls")
    a, b = sorted(
        (create_contract(client, tenant.headers, [PER_CALL])["id"] for _ in range(2)), key=uuid.UUID
    )
    held, cid = (a, b) if held_first else (b, a)
    holder = session_factory()
    holder.execute(select(Contract).where(Contract.id == uuid.UUID(held)).with_for_update()).scalar_one()

    def post(path: str, body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as http:
            return http.post(path, json=body)

    january = {"period_start": "2024-01-01", "period_end": "2024-02-01", "finalize": True}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(
            post,
            "/v1/events/batch",
            {"events": [event(held, "2024-01-05T10:00:00Z"), event(cid, "2024-01-05T10:00:00Z")]},
        )
        _wait_for_lock_waiters(session_factory, 1)
        second = post("/v1/events/batch", {"events": [event(cid, "2024-01-06T10:00:00Z")]})
        assert second.json()["stored"] == 1, second.text
        invoicing = pool.submit(post, f"/v1/contracts/{cid}/invoices", january)
        time.sleep(0.3)  # let the invoice go as far as it can while the first batch waits
        holder.rollback()
        holder.close()
        assert first.result().json()["stored"] == 2
        invoice = invoicing.result()
    assert invoice.status_code == 201, invoice.text
    february = billed(client, tenant.headers, cid, "2024-02-01", "2024-03-01")
    assert int(invoice.json()["lines"][0]["quantity"]) + _late_units(february) == 2
    # Billed: C's two events; unbilled: only H's, whose January nobody invoiced.
    by_invoice = events_billed_by(session_factory)
    assert by_invoice.pop("None") == 1 and sum(by_invoice.values()) == 2


@pytest.mark.postgres_only
def test_events_arriving_while_their_period_is_billed_are_billed_once(
    live_server, client, tenant, session_factory
) -> None:
    # Four clients send January events for 40 contracts while two more invoice January for each
    # of them. Every event must end up billed exactly once: counted by the January invoice, or,
    # if it arrived after that invoice read the usage, as late usage on February's. A load test
    # of the whole path; the one interleaving that needs the ingestion lock is forced step by
    # step in the test above (this one rarely hits it by chance).
    create_metric(client, tenant.headers, "api_calls")
    contracts = [create_contract(client, tenant.headers, [PER_CALL])["id"] for _ in range(40)]
    rng = random.Random(5)
    batches = [
        [event(cid, f"2024-01-{1 + (n % 28):02d}T10:00:00Z") for cid in rng.sample(contracts, 3)]
        for n in range(400)
    ]
    sent: Counter[str] = Counter(e["contract_id"] for batch in batches for e in batch)
    start = threading.Barrier(6)

    def ingest(own: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as http:
            start.wait()
            for batch in own:
                response = http.post("/v1/events/batch", json={"events": batch})
                assert response.status_code == 200 and response.json()["stored"] == len(batch), response.text

    def bill_january(own: list[str]) -> dict[str, dict[str, Any]]:
        invoices = {}
        body = {"period_start": "2024-01-01", "period_end": "2024-02-01", "finalize": True}
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as http:
            start.wait()
            for cid in own:
                response = http.post(f"/v1/contracts/{cid}/invoices", json=body)
                assert response.status_code == 201, response.text
                invoices[cid] = response.json()
                time.sleep(0.02)  # spread the invoices over the ingestion
        return invoices

    with ThreadPoolExecutor(6) as pool:
        ingesting = [pool.submit(ingest, batches[i::4]) for i in range(4)]
        billing = [pool.submit(bill_january, contracts[i::2]) for i in range(2)]
        january = {cid: invoice for future in billing for cid, invoice in future.result().items()}
        for future in ingesting:
            future.result()

    counted = {}
    for cid in contracts:
        february = billed(client, tenant.headers, cid, "2024-02-01", "2024-03-01")
        counted[cid] = int(january[cid]["lines"][0]["quantity"]) + _late_units(february)
    assert counted == dict(sent)
    assert "None" not in events_billed_by(session_factory)


def test_a_repeated_event_names_the_live_invoice_that_billed_it(client, tenant) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(client, tenant.headers, [PER_CALL])
    on_time = event(contract["id"], "2024-01-10T10:00:00Z")
    assert client.post("/v1/events", json=on_time, headers=tenant.headers).json()["invoice_id"] is None
    january = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01", finalize=True)
    late = event(contract["id"], "2024-01-20T10:00:00Z")
    assert client.post("/v1/events", json=late, headers=tenant.headers).status_code == 201
    february = billed(client, tenant.headers, contract["id"], "2024-02-01", "2024-03-01", finalize=True)

    def billed_by(body: dict[str, Any]) -> str | None:
        response = client.post("/v1/events", json=body, headers=tenant.headers)
        assert response.status_code == 200 and response.json()["duplicate"] is True, response.text
        return response.json()["invoice_id"]

    assert (billed_by(on_time), billed_by(late)) == (january["id"], february["id"])  # coverage, mark
    _void(client, tenant.headers, january)
    assert (billed_by(on_time), billed_by(late)) == (None, february["id"])
