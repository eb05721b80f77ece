"""A price reduction (`amount` on an invoice line) is in the invoice's price mode, on SQLite and
PostgreSQL: net on a tax-exclusive invoice, gross (VAT included) on a tax-inclusive one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line


def _issued(client: TestClient, tenant: Tenant, inclusive: bool) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)["id"]
    lines = [line("Ticket", "2", "11.90", "19")]
    return create_invoice(
        client, tenant.headers, customer, lines, finalize=True, prices_include_tax=inclusive
    )


def _reduce(client: TestClient, tenant: Tenant, invoice: dict[str, Any], amount: str) -> Any:
    [ticket] = invoice["lines"]
    body = {"lines": [{"invoice_line_id": ticket["id"], "amount": amount}]}
    return client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers=tenant.headers)


def test_on_a_tax_exclusive_invoice_the_amount_is_net(client: TestClient, tenant: Tenant) -> None:
    invoice = _issued(client, tenant, inclusive=False)  # 23.80 net + 4.52 VAT = 28.32
    note = _reduce(client, tenant, invoice, "5.00").json()
    [credited] = note["lines"]
    assert (credited["kind"], credited["net_amount"]) == ("amount", "5.00")
    assert (note["subtotal"], note["tax_total"], note["total"]) == ("5.00", "0.95", "5.95")
    # 18.80 net left on the line: 18.81 is more.
    too_much = _reduce(client, tenant, invoice, "18.81")
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["error"]["details"][0]["remaining_amount"] == "18.80"


def test_on_a_tax_inclusive_invoice_the_amount_is_gross(client: TestClient, tenant: Tenant) -> None:
    invoice = _issued(client, tenant, inclusive=True)  # 23.80 gross: 20.00 net + 3.80 VAT
    note = _reduce(client, tenant, invoice, "5.00").json()
    [credited] = note["lines"]
    # 5.00 off what the buyer pays: VAT round(5.00 x 19 / 119) = 0.80, net 4.20
    assert (credited["unit_price"], credited["gross_amount"], credited["net_amount"]) == (
        "5.00",
        "5.00",
        "4.20",
    )
    assert (note["subtotal"], note["tax_total"], note["total"]) == ("4.20", "0.80", "5.00")
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["credited_amount"], after["amount_due"]) == ("5.00", "18.80")
    # 18.80 gross left on the line: 18.81 is more.
    too_much = _reduce(client, tenant, invoice, "18.81")
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["error"]["details"][0]["remaining_amount"] == "18.80"
