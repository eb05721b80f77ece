"""Credit notes seen through the dialects (SQLite and PostgreSQL): Zenskar's amount_due and status
and WizCommerce's derived status follow the invoice's amount due, which credit notes reduce, not
total minus paid."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from test_dialect_wizcommerce import URL as WIZ_URL
from test_dialect_wizcommerce import create_order, invoice_body, wiz
from test_dialect_zenskar import URL as ZENSKAR_URL
from test_dialect_zenskar import body_for, contract_of, zk

from faktur.db import session_scope
from faktur.dialects import repository, wizcommerce
from faktur.invoices import service as invoices
from recurring_factories import flat


def _credit_amount(client: TestClient, tenant: Any, invoice: dict[str, Any], amount: str) -> dict[str, Any]:
    [line] = invoice["lines"]
    body = {"lines": [{"invoice_line_id": line["id"], "amount": amount}]}
    response = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_zenskar_amount_due_is_the_invoices_amount_due(client: TestClient, tenant: Any) -> None:
    contract = contract_of(client, tenant, flat("100.00"))
    draft = client.post(ZENSKAR_URL, json=body_for(contract), headers=zk(tenant)).json()
    approved = client.patch(f"/compat/zenskar/invoices/{draft['id']}/approve", headers=zk(tenant))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["total_amount"], approved.json()["amount_due"]) == (119, 119)
    native = client.get(f"/v1/invoices/{draft['id']}", headers=tenant.headers).json()

    # 20.00 net + 3.80 VAT credited against the amount due: 95.20 left, nothing paid.
    _credit_amount(client, tenant, native, "20.00")
    got = client.get(f"/compat/zenskar/invoices/{draft['id']}", headers=zk(tenant))
    assert got.status_code == 200, got.text
    assert (got.json()["status"], got.json()["amount_paid"], got.json()["amount_due"]) == (
        "approved",
        0,
        95.2,
    )
    assert b'"amount_due":95.20' in got.content

    paid = client.post(
        f"/v1/invoices/{draft['id']}/payments", json={"amount": "50.00"}, headers=tenant.headers
    )
    assert paid.status_code == 201, paid.text
    got = client.get(f"/compat/zenskar/invoices/{draft['id']}", headers=zk(tenant)).json()
    assert (got["status"], got["amount_paid"], got["amount_due"]) == ("partially_paid", 50, 45.2)

    rest = client.post(
        f"/v1/invoices/{draft['id']}/payments", json={"amount": "45.20"}, headers=tenant.headers
    )
    assert rest.status_code == 201, rest.text
    got = client.get(f"/compat/zenskar/invoices/{draft['id']}", headers=zk(tenant)).json()
    assert (got["status"], got["total_amount"], got["amount_paid"], got["amount_due"]) == (
        "paid",
        119,
        95.2,
        0,
    )


def test_wizcommerce_status_is_derived_from_what_is_left_to_pay(
    client: TestClient, tenant: Any, session_factory
) -> None:
    create_order(client, tenant.headers)
    body = invoice_body(
        paid_amount=100,
        items=[{"reference_id": "ITEM-1", "sku": "SKU-1", "quantity": 1, "amount": 269.96, "name": "Boots"}],
    )
    del body["status"]
    response = client.post(WIZ_URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == "PARTIALLY_PAID"
    invoice_id = uuid.UUID(response.json()["data"]["id"])
    native = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()
    assert native["total"] == "269.96"

    def answered() -> dict[str, Any]:
        with session_scope(session_factory) as session:
            invoice = invoices.get_invoice(session, tenant.organisation_id, invoice_id)
            row = repository.get_by_invoice(session, tenant.organisation_id, "wizcommerce", invoice_id)
            assert row is not None
            return wizcommerce.present(invoice, row)

    # A price reduction of 69.96 (untaxed line) takes 69.96 off the 169.96 due: 100.00 left.
    _credit_amount(client, tenant, native, "69.96")
    data = answered()
    assert (str(data["total_amount"]), data["paid_amount"], data["status"]) == (
        "269.96",
        100,
        "PARTIALLY_PAID",
    )
    # Crediting the other 100.00 leaves nothing to pay: paid, though 100 of 269.96 were paid.
    _credit_amount(client, tenant, native, "100.00")
    after = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()
    assert (after["status"], after["amount_due"]) == ("paid", "0.00")
    assert answered()["status"] == "PAID"
