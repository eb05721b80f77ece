"""What crediting gives back, on SQLite and PostgreSQL: credited quantities of an order's lines
are invoiceable again (with their share of the order discount), a pending invoice item is
attachable again once its line is fully credited, and a fully credited period invoice frees the
period, usage included, for the next billing run. On PostgreSQL, credits racing re-invoicing of
one order line never invoice more than was ordered."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import Tenant
from factories import create_customer
from faktur.db import session_scope
from faktur.models import CreditNoteLine, InvoiceLine
from recurring_factories import (
    billed,
    create_contract,
    create_metric,
    event,
    events_billed_by,
    finished_run,
    invoice_period,
    line_summary,
    send_events,
    usage,
)

TAX = {"category": "S", "percent": "19"}


def _order(client: TestClient, tenant: Tenant, quantity: str, **line: Any) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "lines": [{"name": "Widget", "quantity": quantity, "unit_price": "10.00", "tax": TAX, **line}],
    }
    response = client.post("/v1/orders", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _invoice_order(client: TestClient, tenant: Tenant, order: dict[str, Any], quantity: str | None = None):
    body: dict[str, Any] = {"finalize": True}
    if quantity is not None:
        body["lines"] = [{"order_line_id": order["lines"][0]["id"], "quantity": quantity}]
    return client.post(f"/v1/orders/{order['id']}/invoices", json=body, headers=tenant.headers)


def _credit(client: TestClient, tenant: Tenant, invoice: dict[str, Any], lines: list[dict[str, Any]] | None):
    body = {} if lines is None else {"lines": lines}
    return client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers=tenant.headers)


def _order_line(client: TestClient, tenant: Tenant, order: dict[str, Any]) -> tuple[str, str, str]:
    got = client.get(f"/v1/orders/{order['id']}", headers=tenant.headers).json()
    [line] = got["lines"]
    return got["status"], line["invoiced_quantity"], line["remaining_quantity"]


def test_credited_quantities_of_an_order_line_are_invoiceable_again(
    client: TestClient, tenant: Tenant
) -> None:
    order = _order(client, tenant, "10", discount={"amount": "1.00"})
    invoice = _invoice_order(client, tenant, order).json()
    [line] = invoice["lines"]
    assert line["allowances"][0]["amount"] == "1.00"
    assert _order_line(client, tenant, order) == ("invoiced", "10", "0")
    assert _invoice_order(client, tenant, order).status_code == 409

    # 3 of 10 credited, with 0.30 of the discount: 30.00 - 0.30 = 29.70 net
    note = _credit(client, tenant, invoice, [{"invoice_line_id": line["id"], "quantity": "3"}])
    assert note.status_code == 201, note.text
    assert note.json()["lines"][0]["net_amount"] == "29.70"
    assert _order_line(client, tenant, order) == ("partially_invoiced", "7", "3")
    # More than the credited 3 is refused; the 3 are invoiced again with their share 0.30.
    too_much = _invoice_order(client, tenant, order, "4")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "quantity_exceeds_remaining"
    again = _invoice_order(client, tenant, order)
    assert again.status_code == 201, again.text
    [again_line] = again.json()["lines"]
    assert (again_line["quantity"], again_line["allowances"][0]["amount"]) == ("3", "0.30")
    assert _order_line(client, tenant, order) == ("invoiced", "10", "0")
    assert _invoice_order(client, tenant, order).status_code == 409


def test_a_price_reduction_gives_no_quantity_back(client: TestClient, tenant: Tenant) -> None:
    order = _order(client, tenant, "5")
    invoice = _invoice_order(client, tenant, order).json()
    [line] = invoice["lines"]
    note = _credit(client, tenant, invoice, [{"invoice_line_id": line["id"], "amount": "5.00"}])
    assert note.status_code == 201, note.text
    assert _order_line(client, tenant, order) == ("invoiced", "5", "0")
    assert _invoice_order(client, tenant, order).status_code == 409


def test_the_rest_of_a_partly_credited_order_invoice_cancelled_gives_everything_back(
    client: TestClient, tenant: Tenant, session_factory
) -> None:
    order = _order(client, tenant, "4")
    invoice = _invoice_order(client, tenant, order).json()
    [line] = invoice["lines"]
    assert (
        _credit(client, tenant, invoice, [{"invoice_line_id": line["id"], "quantity": "1"}]).status_code
        == 201
    )
    assert _order_line(client, tenant, order) == ("partially_invoiced", "3", "1")
    # The full cancellation credits the remaining 3: the invoice is void, its line no longer live,
    # and the earlier credit of 1 is not subtracted a second time.
    assert _credit(client, tenant, invoice, None).status_code == 201
    assert _order_line(client, tenant, order) == ("open", "0", "4")
    again = _invoice_order(client, tenant, order)
    assert again.status_code == 201 and again.json()["lines"][0]["quantity"] == "4"
    assert _order_line(client, tenant, order) == ("invoiced", "4", "0")


def _item(client: TestClient, tenant: Tenant, customer_id: str, quantity: str) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "description": "Extra seats",
        "quantity": quantity,
        "unit_price": "15.00",
        "tax": TAX,
    }
    response = client.post("/v1/invoice-items", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _attachable(client: TestClient, tenant: Tenant) -> list[str]:
    response = client.get("/v1/invoice-items", params={"attachable": "true"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["data"])


def test_an_item_is_attachable_again_once_its_line_is_fully_credited(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    seats = _item(client, tenant, customer, "2")
    setup = _item(client, tenant, customer, "1")
    gathered = client.post("/v1/invoice-items/invoice", json={"finalize": True}, headers=tenant.headers)
    assert gathered.status_code == 201, gathered.text
    [invoice] = gathered.json()["invoices"]
    line_of = {line["source"]["id"]: line for line in invoice["lines"]}
    assert _attachable(client, tenant) == []

    seat_line = line_of[seats["id"]]["id"]
    half = [{"invoice_line_id": seat_line, "quantity": "1"}]
    assert _credit(client, tenant, invoice, half).status_code == 201
    assert _attachable(client, tenant) == []  # half of its line is still invoiced
    assert _credit(client, tenant, invoice, half).status_code == 201
    assert _attachable(client, tenant) == [seats["id"]]
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert after["status"] == "open"  # the other line is still invoiced

    again = client.post("/v1/invoice-items/invoice", json={"finalize": True}, headers=tenant.headers)
    assert again.status_code == 201, again.text
    [second] = again.json()["invoices"]
    assert [line["source"]["id"] for line in second["lines"]] == [seats["id"]]
    assert _attachable(client, tenant) == []
    # A line whose whole amount is credited as a price reduction is fully credited too.
    setup_line = line_of[setup["id"]]["id"]
    reduction = _credit(client, tenant, invoice, [{"invoice_line_id": setup_line, "amount": "15.00"}])
    assert reduction.status_code == 201, reduction.text
    assert _attachable(client, tenant) == [setup["id"]]


PER_CALL = usage("api_calls", {"model": "per_unit", "unit_price": "2"})


def test_a_fully_credited_period_invoice_frees_the_period_and_its_usage(
    client: TestClient, tenant: Tenant, session_factory
) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(
        client, tenant.headers, [PER_CALL], start_date="2024-01-01", billing_cycle_start_day=1
    )
    cid = contract["id"]
    send_events(client, tenant.headers, [event(cid, "2024-01-20T10:00:00Z") for _ in range(3)])
    first = billed(client, tenant.headers, cid, "2024-01-01", "2024-02-01", finalize=True)
    assert line_summary(first) == [("3", "2", "6.00")]
    [line] = first["lines"]

    # A partial credit leaves the period invoiced: billing it again is refused.
    assert (
        _credit(client, tenant, first, [{"invoice_line_id": line["id"], "quantity": "1"}]).status_code == 201
    )
    assert invoice_period(client, tenant.headers, cid, "2024-01-01", "2024-02-01").status_code == 409
    assert events_billed_by(session_factory) == {first["id"]: 3}

    # Crediting the rest (by quantity, not a cancellation) makes the invoice void: the period and
    # its 3 events are free, and the next billing run invoices them once.
    assert (
        _credit(client, tenant, first, [{"invoice_line_id": line["id"], "quantity": "2"}]).status_code == 201
    )
    voided = client.get(f"/v1/invoices/{first['id']}", headers=tenant.headers).json()
    assert voided["status"] == "void"
    assert events_billed_by(session_factory) == {"None": 3}
    send_events(client, tenant.headers, [event(cid, "2024-01-25T10:00:00Z")])
    response = client.post("/v1/billing-runs", json={"as_of": "2024-02-10"}, headers=tenant.headers)
    assert response.status_code == 202, response.text
    run = finished_run(client, tenant.headers, response.json()["id"])
    assert (run["status"], run["invoices_created"], run["failures_count"]) == ("completed", 1, 0)
    [again_id] = [key for key in events_billed_by(session_factory)]
    again = client.get(f"/v1/invoices/{again_id}", headers=tenant.headers).json()
    assert (again["period_start"], again["period_end"]) == ("2024-01-01", "2024-02-01")
    assert line_summary(again) == [("4", "2", "8.00")]
    assert events_billed_by(session_factory) == {again_id: 4}
    rerun = client.post("/v1/billing-runs", json={"as_of": "2024-02-10"}, headers=tenant.headers).json()
    assert finished_run(client, tenant.headers, rerun["id"])["invoices_created"] == 0
    assert events_billed_by(session_factory) == {again_id: 4}


def _net_billed(session_factory, order_line_id: str) -> Decimal:
    """Live invoice lines' quantity of the order line, less what credit notes credited of them."""
    with session_scope(session_factory) as session:
        rows = session.execute(
            select(InvoiceLine.id, InvoiceLine.quantity, InvoiceLine.source_id).where(
                InvoiceLine.source_kind == "order_line", InvoiceLine.live.is_(True)
            )
        ).all()
        lines = {line_id: quantity for line_id, quantity, source in rows if str(source) == order_line_id}
        credited = session.execute(
            select(CreditNoteLine.invoice_line_id, CreditNoteLine.credited_quantity)
        ).all()
        return sum(lines.values(), Decimal(0)) - sum(
            (quantity for line_id, quantity in credited if line_id in lines), Decimal(0)
        )


@pytest.mark.postgres_only
@pytest.mark.slow
def test_credits_racing_reinvoicing_never_invoice_more_than_ordered(
    client: TestClient, tenant: Tenant, live_server: str, session_factory
) -> None:
    order = _order(client, tenant, "10", discount={"amount": "1.00"})
    order_line_id = order["lines"][0]["id"]
    invoice = _invoice_order(client, tenant, order).json()
    [line] = invoice["lines"]
    credit = (
        "credit",
        f"/v1/invoices/{invoice['id']}/credit-notes",
        {"lines": [{"invoice_line_id": line["id"], "quantity": "1"}]},
    )
    reinvoice = (
        "invoice",
        f"/v1/orders/{order['id']}/invoices",
        {"lines": [{"order_line_id": order_line_id, "quantity": "1"}], "finalize": True},
    )
    requests = [credit] * 6 + [reinvoice] * 10
    barrier = threading.Barrier(len(requests))
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def post(kind: str, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as http:
            barrier.wait()
            status = http.post(path, json=body).status_code
        with lock:
            results.append((kind, status))

    threads = [threading.Thread(target=post, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(results)
    assert counts[("credit", 201)] == 6, counts
    assert set(counts) <= {("credit", 201), ("invoice", 201), ("invoice", 409)}, counts
    invoiced_again = counts[("invoice", 201)]
    assert invoiced_again <= 6
    net = _net_billed(session_factory, order_line_id)
    assert net == 10 - 6 + invoiced_again <= 10
    _status, invoiced, remaining = _order_line(client, tenant, order)
    assert (Decimal(invoiced), Decimal(remaining)) == (net, 10 - net)
    # What is left is invoiced exactly once more, and nothing after.
    if net < 10:
        assert _invoice_order(client, tenant, order).status_code == 201
    assert _invoice_order(client, tenant, order).status_code == 409
    assert _net_billed(session_factory, order_line_id) == 10
