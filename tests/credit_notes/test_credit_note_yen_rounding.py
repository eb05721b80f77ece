"""The completing credit note of a yen invoice after partial credits, on SQLite and PostgreSQL.

BR-CO-17 (and BR-S-09, ...) accept a VAT group's tax only less than one currency unit from
taxable x rate / 100. The last credit note of an invoice takes, per group, the VAT the invoice's group
had left; in yen, after several partial credit notes, that can be a unit or more off: it then takes
the nearest value the rules accept, its total differs from what was left by that rounding, and it
still voids the invoice with nothing due (faktur.credit_notes.calculation, README "Settlement")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.credit_notes.calculation import within_tax_tolerance


def _yen_invoice(client: TestClient, tenant: Tenant, unit_price: str, percent: str) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)["id"]
    return create_invoice(
        client,
        tenant.headers,
        customer,
        [line("Ticket", "10", unit_price, percent)],
        currency="JPY",
        finalize=True,
    )


def _credit(client: TestClient, tenant: Tenant, invoice_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/invoices/{invoice_id}/credit-notes", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _three_singles_then_rest(
    client: TestClient, tenant: Tenant, invoice: dict[str, Any], **rest: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    [ticket] = invoice["lines"]
    one = {"lines": [{"invoice_line_id": ticket["id"], "quantity": "1"}]}
    singles = [_credit(client, tenant, invoice["id"], one | rest) for _ in range(3)]
    return singles, _credit(client, tenant, invoice["id"], rest)


def _exact_vat(note: dict[str, Any]) -> Decimal:
    [group] = note["tax_breakdown"]
    return Decimal(group["taxable_amount"]) * Decimal(group["percent"]) / 100


def test_credits_short_of_the_total_by_the_rounding_still_void_the_invoice(
    client: TestClient, tenant: Tenant
) -> None:
    # 10 x 1002 = 10020 net, VAT 1903.8 -> 1904: 11924. One unit: 1002 + 190 (190.38) = 1192.
    invoice = _yen_invoice(client, tenant, "1002", "19")
    assert (invoice["tax_total"], invoice["total"]) == ("1904", "11924")
    singles, rest = _three_singles_then_rest(client, tenant, invoice)
    assert [n["total"] for n in singles] == ["1192"] * 3
    # The rest: 7014 net, exact VAT 1332.66; the group had 1904 - 570 = 1334 left, which the rules
    # refuse (1.34 away); 1333 is the nearest they accept: 8347, one yen short of the 8348 left.
    assert (rest["subtotal"], rest["tax_total"], rest["total"]) == ("7014", "1333", "8347")
    assert abs(Decimal(rest["tax_total"]) - _exact_vat(rest)) < 1
    assert rest["settlement"]["amount_due_reduction"] == "8347"
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["credited_amount"], after["amount_due"]) == ("void", "11923", "0")
    assert [n["number"] for n in after["credit_notes"]] == [n["number"] for n in [*singles, rest]]
    # Nothing is left to credit.
    again = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={}, headers=tenant.headers)
    assert again.status_code == 409, again.text


def test_credits_over_the_total_by_the_rounding_are_taken_off_the_amount_due(
    client: TestClient, tenant: Tenant
) -> None:
    # 10 x 1005 = 10050 net, VAT exactly 1005: 11055. One unit: 1005 + 101 (100.5 rounded up) = 1106.
    invoice = _yen_invoice(client, tenant, "1005", "10")
    assert invoice["total"] == "11055"
    singles, rest = _three_singles_then_rest(client, tenant, invoice)
    assert [n["total"] for n in singles] == ["1106"] * 3
    # The rest: 7035 net, exact VAT 703.5; the group had 1005 - 303 = 702 left (1.5 away): 703,
    # so 7738, one yen more than the 7737 left; that yen is taken off the amount due, not refunded.
    assert (rest["tax_total"], rest["total"]) == ("703", "7738")
    assert rest["settlement"]["amount_due_reduction"] == "7738"
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["credited_amount"], after["amount_due"]) == ("void", "11056", "0")


def test_a_paid_yen_invoice_is_refunded_what_was_paid_whatever_the_rounding(
    client: TestClient, tenant: Tenant
) -> None:
    invoice = _yen_invoice(client, tenant, "1005", "10")
    paid = client.post(
        f"/v1/invoices/{invoice['id']}/payments", json={"amount": "11055"}, headers=tenant.headers
    )
    assert paid.status_code == 201, paid.text
    [ticket] = invoice["lines"]
    one = {"lines": [{"invoice_line_id": ticket["id"], "quantity": "1"}], "refund_amount": "1106"}
    for _ in range(3):
        _credit(client, tenant, invoice["id"], one)
    # 7738 credited: 1 yen of rounding taken off the (zero) amount due, 7737 refunded: 11055 in all.
    short = client.post(
        f"/v1/invoices/{invoice['id']}/credit-notes", json={"refund_amount": "7738"}, headers=tenant.headers
    )
    assert short.status_code == 422, short.text
    assert short.json()["error"]["details"][0]["to_refund_or_credit"] == "7737"
    rest = _credit(client, tenant, invoice["id"], {"refund_amount": "7737"})
    assert (rest["total"], rest["settlement"]["amount_due_reduction"]) == ("7738", "1")
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["amount_due"]) == ("void", "0")


def test_the_tolerance_is_below_one_unit_of_both_references() -> None:
    # Within the tolerance: kept.
    assert within_tax_tolerance(1333, Decimal("7014"), Decimal("19"), "JPY") == 1333
    # 1334 is 1.34 from 1332.66: the nearest accepted is 1333; 1331 -> 1332.
    assert within_tax_tolerance(1334, Decimal("7014"), Decimal("19"), "JPY") == 1333
    assert within_tax_tolerance(1331, Decimal("7014"), Decimal("19"), "JPY") == 1332
    # Exactly one unit away is refused too (strictly below one): 702 and 705 around 703.5 -> 703, 704.
    assert within_tax_tolerance(702, Decimal("7035"), Decimal("10"), "JPY") == 703
    assert within_tax_tolerance(705, Decimal("7035"), Decimal("10"), "JPY") == 704
    # In cents the tolerance is 100 minor units: a few cents of rounding are always kept.
    assert within_tax_tolerance(1287, Decimal("67.50"), Decimal("19"), "EUR") == 1287
    assert within_tax_tolerance(1383, Decimal("67.50"), Decimal("19"), "EUR") == 1382
