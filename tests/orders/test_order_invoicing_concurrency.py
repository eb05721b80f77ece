"""Exactly once under concurrency: requests racing for the same remaining quantities of one order
produce one invoice each for what remains and 409s for the rest (PostgreSQL, real threads
against a real server)."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from order_factories import create_order, order_line
from sqlalchemy import select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import InvoiceLine


def _race(live_server: str, headers: dict[str, str], path: str, bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))
    responses: list[httpx.Response | None] = [None] * len(bodies)

    def post(index: int) -> None:
        with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
            barrier.wait()
            responses[index] = http.post(path, json=bodies[index])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in responses)
    return responses


def _live_quantities(session_factory, line_ids: list[str]) -> dict[str, Decimal]:
    totals = dict.fromkeys(line_ids, Decimal(0))
    with session_scope(session_factory) as session:
        rows = session.execute(
            select(InvoiceLine.source_id, InvoiceLine.quantity).where(
                InvoiceLine.source_kind == "order_line", InvoiceLine.live.is_(True)
            )
        )
        for source_id, quantity in rows:
            totals[str(source_id)] += quantity
    return totals


@pytest.mark.postgres_only
def test_eight_concurrent_requests_for_the_remaining_quantities_make_one_invoice(
    client, tenant, live_server, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client, tenant.headers, customer["id"], [order_line(quantity="5"), order_line(quantity="2")]
    )
    responses = _race(live_server, tenant.headers, f"/v1/orders/{order['id']}/invoices", [{}] * 8)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 7}, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"order_fully_invoiced"}
    line_ids = [ln["id"] for ln in order["lines"]]
    assert _live_quantities(session_factory, line_ids) == {line_ids[0]: Decimal(5), line_ids[1]: Decimal(2)}


@pytest.mark.postgres_only
def test_concurrent_partial_requests_never_invoice_more_than_ordered(
    client, tenant, live_server, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client, tenant.headers, customer["id"], [order_line(quantity="10", discount={"amount": "1.00"})]
    )
    line_id = order["lines"][0]["id"]
    body = {"lines": [{"order_line_id": line_id, "quantity": "3"}], "finalize": True}
    responses = _race(live_server, tenant.headers, f"/v1/orders/{order['id']}/invoices", [body] * 10)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 3, 409: 7}, [r.text for r in responses]
    refused = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in refused} == {"quantity_exceeds_remaining"}
    assert all(e["details"][0]["remaining_quantity"] == "1" for e in refused)
    assert _live_quantities(session_factory, [line_id]) == {line_id: Decimal(9)}
    # Each of the three got its proportional share, in the order they were serialised.
    shares = sorted(
        r.json()["lines"][0]["allowances"][0]["amount"] for r in responses if r.status_code == 201
    )
    assert shares == ["0.30", "0.30", "0.30"]
    numbers = sorted(r.json()["number"] for r in responses if r.status_code == 201)
    assert [n[-5:] for n in numbers] == ["00001", "00002", "00003"]
