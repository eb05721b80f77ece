"""On PostgreSQL, with real threads: concurrent adjustments and concurrent finalizations of one
customer's invoices queue on the customer's balance row, so no credit is spent twice and the
balance never goes below zero."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from conftest import Tenant
from faktur.balance import service as balance
from faktur.context import Actor
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import session_scope
from faktur.invoices import commands
from faktur.invoices import service as invoices
from faktur.invoices.schemas import InvoiceCreate, InvoiceLineIn, TaxIn
from faktur.models import CustomerBalance, CustomerBalanceTransaction, Invoice, Organisation

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.postgres_only


def _ledger_is_consistent(session_factory, customer_id: uuid.UUID) -> int:
    """The ledger is one chain from 0: each transaction's balance_after is the one before plus its
    amount, and the last is the stored balance; returns that balance (minor units)."""
    with session_scope(session_factory) as session:
        rows = session.execute(
            select(
                CustomerBalanceTransaction.amount_minor, CustomerBalanceTransaction.balance_after_minor
            ).where(CustomerBalanceTransaction.customer_id == customer_id)
        ).all()
        stored = session.execute(
            select(CustomerBalance.balance_minor).where(CustomerBalance.customer_id == customer_id)
        ).scalar_one()
    remaining = [(amount, after) for amount, after in rows]
    current = 0
    while remaining:
        following = next((row for row in remaining if row[1] - row[0] == current), None)
        assert following is not None, f"no transaction continues the balance {current}: {remaining}"
        remaining.remove(following)
        current = following[1]
        assert current >= 0
    assert current == stored
    return stored


def test_concurrent_debits_never_overdraw(live_server: str, tenant: Tenant, session_factory) -> None:
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as client:
        customer = client.post("/v1/customers", json={"name": "Buyer"}).json()["id"]
        url = f"/v1/customers/{customer}/balance-transactions"
        assert client.post(url, json={"amount": "100.00", "description": "Prepayment"}).status_code == 201

    def debit(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as own:
            return own.post(url, json={"amount": "-10.00", "description": "Used"})

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(debit, range(24)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 14
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"insufficient_balance"}
    # Each success saw the balance its predecessors left: 90.00, 80.00, ... 0.00, each once.
    afters = sorted(Decimal(r.json()["balance_after"]) for r in responses if r.status_code == 201)
    assert afters == [Decimal(n * 10) for n in range(10)]
    assert _ledger_is_consistent(session_factory, uuid.UUID(customer)) == 0


def _drafts(session_factory, organisation_id: uuid.UUID, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, organisation_id)
        actor = Actor(organisation, "test")
        customer = customers.create_customer(session, organisation_id, CustomerCreate(name="Buyer"), NOW)
        # 10.00 + 19 % = 11.90 each
        line = InvoiceLineIn(
            description="x",
            quantity=Decimal(1),
            unit_price=Decimal("10.00"),
            tax=TaxIn(category="S", percent=Decimal(19)),
        )
        command = commands.new_invoice(InvoiceCreate(customer_id=customer.id, lines=[line]))
        ids = [invoices.create_invoice(session, actor, command, NOW).id for _ in range(count)]
        balance.adjust_balance(
            session,
            organisation,
            balance.BalanceAdjustment(customer.id, Decimal("50.00"), None, "Prepaid"),
            NOW,
        )
        return customer.id, ids


def _finalize(session_factory, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> None:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, organisation_id)
        invoices.finalize_invoice(session, Actor(organisation, "test"), invoice_id, NOW)


def test_concurrent_finalizations_never_apply_the_same_balance_twice(session_factory, tenant: Tenant) -> None:
    customer_id, ids = _drafts(session_factory, tenant.organisation_id, 24)
    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(lambda i: _finalize(session_factory, tenant.organisation_id, i), ids))
    with session_scope(session_factory) as session:
        rows = session.execute(
            select(
                Invoice.prepaid_minor, Invoice.amount_paid_minor, Invoice.total_minor, Invoice.status
            ).where(Invoice.id.in_(ids))
        ).all()
        applied = session.execute(
            select(func.sum(CustomerBalanceTransaction.amount_minor)).where(
                CustomerBalanceTransaction.customer_id == customer_id,
                CustomerBalanceTransaction.kind == "applied_to_invoice",
            )
        ).scalar_one()
    # 50.00 covers four invoices of 11.90 (47.60) and 2.40 of a fifth; the rest get nothing.
    assert sum(prepaid for prepaid, *_ in rows) == 5000 == -applied
    assert sorted(prepaid for prepaid, *_ in rows) == [0] * 19 + [240] + [1190] * 4
    assert all(prepaid == paid <= total for prepaid, paid, total, _ in rows)
    assert sorted(status for *_, status in rows) == ["open"] * 20 + ["paid"] * 4
    assert _ledger_is_consistent(session_factory, customer_id) == 0


def test_concurrent_finalizations_by_every_path_never_apply_the_same_balance_twice(
    live_server: str, tenant: Tenant, session_factory
) -> None:
    """24 requests at once for one customer with 50.00 of credit, six by each path that finalizes:
    POST /finalize of a draft, create with finalize, the pending-items gather, invoicing an order.
    Each invoice is 11.90: the credit pays four in full and 2.40 of a fifth, whichever they are."""
    tax = {"category": "S", "percent": "19"}
    invoice_line = {"description": "x", "quantity": "1", "unit_price": "10.00", "tax": tax}
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=60) as client:
        customer = client.post("/v1/customers", json={"name": "Buyer"}).json()["id"]
        requests: list[tuple[str, dict[str, object] | None]] = []
        for _ in range(6):
            draft = client.post("/v1/invoices", json={"customer_id": customer, "lines": [invoice_line]})
            requests.append((f"/v1/invoices/{draft.json()['id']}/finalize", None))
            requests.append(
                ("/v1/invoices", {"customer_id": customer, "lines": [invoice_line], "finalize": True})
            )
            item = client.post(
                "/v1/invoice-items",
                json={"customer_id": customer, "description": "x", "unit_price": "10.00", "tax": tax},
            ).json()
            requests.append(("/v1/invoice-items/invoice", {"item_ids": [item["id"]], "finalize": True}))
            order_line = {"name": "x", "quantity": "1", "unit_price": "10.00", "tax": tax}
            order = client.post("/v1/orders", json={"customer_id": customer, "lines": [order_line]}).json()
            requests.append((f"/v1/orders/{order['id']}/invoices", {"finalize": True}))
        credited = client.post(
            f"/v1/customers/{customer}/balance-transactions",
            json={"amount": "50.00", "description": "Prepaid"},
        )
        assert credited.status_code == 201, credited.text

    def post(request: tuple[str, dict[str, object] | None]) -> httpx.Response:
        url, body = request
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as own:
            return own.post(url, json=body) if body is not None else own.post(url)

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(post, requests))
    assert [r.status_code for r in responses] == [200, 201, 201, 201] * 6, [r.text for r in responses]

    with session_scope(session_factory) as session:
        rows = session.execute(
            select(
                Invoice.prepaid_minor, Invoice.amount_paid_minor, Invoice.total_minor, Invoice.status
            ).where(Invoice.customer_id == uuid.UUID(customer))
        ).all()
        applied = session.execute(
            select(func.sum(CustomerBalanceTransaction.amount_minor)).where(
                CustomerBalanceTransaction.customer_id == uuid.UUID(customer),
                CustomerBalanceTransaction.kind == "applied_to_invoice",
            )
        ).scalar_one()
    assert len(rows) == 24 and {total for *_, total, _ in rows} == {1190}
    assert sum(prepaid for prepaid, *_ in rows) == 5000 == -applied
    assert sorted(prepaid for prepaid, *_ in rows) == [0] * 19 + [240] + [1190] * 4
    assert all(prepaid == paid <= total for prepaid, paid, total, _ in rows)
    assert sorted(status for *_, status in rows) == ["open"] * 20 + ["paid"] * 4
    assert _ledger_is_consistent(session_factory, uuid.UUID(customer)) == 0
