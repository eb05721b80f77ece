"""On PostgreSQL, with real threads over HTTP: concurrent credit notes of one invoice queue on the
invoice's row, so together they never credit more than its total; credit notes of many invoices
issued at once take gapless numbers from the organisation's credit-note series."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from conftest import Tenant
from faktur.db import session_scope
from faktur.models import CreditNote, Invoice

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def _issued_invoice(client: httpx.Client, customer: str, quantity: str = "10") -> dict:
    body = {
        "customer_id": customer,
        "finalize": True,
        "lines": [
            {
                "description": "Widget",
                "quantity": quantity,
                "unit_price": "10.00",
                "tax": {"category": "S", "percent": "19"},
            }
        ],
    }
    response = client.post("/v1/invoices", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_sixteen_concurrent_credits_of_30_percent_three_succeed(
    live_server: str, tenant: Tenant, session_factory
) -> None:
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as client:
        customer = client.post("/v1/customers", json={"name": "Buyer"}).json()["id"]
        invoice = _issued_invoice(client, customer)  # 100.00 + 19.00 = 119.00
    [widget] = invoice["lines"]
    url = f"/v1/invoices/{invoice['id']}/credit-notes"
    # 30 % of the invoice: 3 of 10 widgets, 35.70
    body = {"lines": [{"invoice_line_id": widget["id"], "quantity": "3"}]}

    def credit(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as own:
            return own.post(url, json=body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(credit, range(16)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 13, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "credit_exceeds_remaining"
    }
    assert {r.json()["total"] for r in responses if r.status_code == 201} == {"35.70"}
    with session_scope(session_factory) as session:
        stored = session.execute(
            select(func.count(), func.sum(CreditNote.total_minor)).where(
                CreditNote.invoice_id == invoice["id"]
            )
        ).one()
        row = session.execute(select(Invoice).where(Invoice.id == invoice["id"])).scalar_one()
        assert stored == (3, 3 * 3570)
        assert row.credited_minor == 3 * 3570 <= row.total_minor
        assert row.amount_due_minor == 11900 - 3 * 3570


def test_thirty_two_threads_take_gapless_credit_note_numbers(live_server: str, tenant: Tenant) -> None:
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as client:
        customer = client.post("/v1/customers", json={"name": "Buyer"}).json()["id"]
        invoices = [_issued_invoice(client, customer, "1") for _ in range(32)]

    def credit(invoice: dict) -> httpx.Response:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as own:
            return own.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "duplicate"})

    with ThreadPoolExecutor(max_workers=32) as pool:
        responses = list(pool.map(credit, invoices))
    assert [r.status_code for r in responses] == [201] * 32, [
        r.text for r in responses if r.status_code != 201
    ]
    numbers = [r.json()["number"] for r in responses]
    parsed = sorted(int(re.fullmatch(r"CN-\d{4}-(\d{5})", n).group(1)) for n in numbers)  # type: ignore[union-attr]
    assert parsed == list(range(1, 33))
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as client:
        statuses = {client.get(f"/v1/invoices/{i['id']}").json()["status"] for i in invoices}
    assert statuses == {"void"}
    assert sum(Decimal(r.json()["total"]) for r in responses) == Decimal("11.90") * 32
