"""Issuing credit notes through the API, with hand-computed amounts, on SQLite and PostgreSQL:
partial credits (two VAT rates), tax-inclusive invoices, JPY, credits after a partial payment,
full cancellations, settlement rules, the effect on the invoice and the limits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line


def _issued(client: TestClient, tenant: Tenant, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers, **extra.pop("customer", {}))["id"]
    return create_invoice(client, tenant.headers, customer, lines, finalize=True, **extra)


def _credit(
    client: TestClient, tenant: Tenant, invoice_id: str, body: dict[str, Any], status: int = 201
) -> Any:
    response = client.post(f"/v1/invoices/{invoice_id}/credit-notes", json=body, headers=tenant.headers)
    assert response.status_code == status, response.text
    return response.json()


def _invoice(client: TestClient, tenant: Tenant, invoice_id: str) -> dict[str, Any]:
    return client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()


# 10 x 10.00 at 19 % and 4 x 25.00 at 7 %: 100.00 + 19.00, 100.00 + 7.00 = 226.00
TWO_RATES = [line("Widget", "10", "10.00", "19"), line("Book", "4", "25.00", "7")]


def test_partial_credit_with_two_vat_rates(client: TestClient, tenant: Tenant) -> None:
    invoice = _issued(client, tenant, TWO_RATES)
    assert invoice["total"] == "226.00"
    widget, book = (item["id"] for item in invoice["lines"])
    # 3 widgets (30.00 + 5.70) and 1 book (25.00 + 1.75) = 62.45
    note = _credit(
        client,
        tenant,
        invoice["id"],
        {
            "lines": [
                {"invoice_line_id": widget, "quantity": "3"},
                {"invoice_line_id": book, "quantity": "1"},
            ],
            "reason": "product_unsatisfactory",
            "memo": "Damaged in transit",
        },
    )
    assert note["number"].startswith("CN-")
    assert [(g["percent"], g["taxable_amount"], g["tax_amount"]) for g in note["tax_breakdown"]] == [
        ("7.00", "25.00", "1.75"),
        ("19.00", "30.00", "5.70"),
    ] or [(g["percent"], g["taxable_amount"], g["tax_amount"]) for g in note["tax_breakdown"]] == [
        ("19.00", "30.00", "5.70"),
        ("7.00", "25.00", "1.75"),
    ]
    assert (note["subtotal"], note["tax_total"], note["total"]) == ("55.00", "7.45", "62.45")
    assert note["settlement"]["amount_due_reduction"] == "62.45"
    assert (note["reason"], note["memo"], note["full_cancellation"]) == (
        "product_unsatisfactory",
        "Damaged in transit",
        False,
    )
    after = _invoice(client, tenant, invoice["id"])
    assert (after["status"], after["credited_amount"], after["amount_due"]) == ("open", "62.45", "163.55")
    assert after["credit_notes"] == [{"id": note["id"], "number": note["number"]}]


def test_full_cancellation_after_a_partial_credit_voids_the_invoice_exactly(
    client: TestClient, tenant: Tenant
) -> None:
    # 3 x 0.333 = 0.999 -> 1.00 net; a third credited at a time rounds each to 0.33
    invoice = _issued(client, tenant, [line("Tiny", "3", "0.333", "19")])
    assert invoice["total"] == "1.19"
    [only] = invoice["lines"]
    first = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": only["id"], "quantity": "1"}]}
    )
    assert (first["subtotal"], first["tax_total"], first["total"]) == ("0.33", "0.06", "0.39")
    rest = _credit(client, tenant, invoice["id"], {})
    assert rest["full_cancellation"] is True
    assert (rest["subtotal"], rest["tax_total"], rest["total"]) == ("0.67", "0.13", "0.80")
    after = _invoice(client, tenant, invoice["id"])
    assert (after["status"], after["credited_amount"], after["amount_due"]) == ("void", "1.19", "0.00")
    assert rest["number"] in after["status_history"][-1]["reason"]
    _credit(client, tenant, invoice["id"], {}, status=409)


def test_full_cancellation_after_custom_lines_credits_only_what_is_left(
    client: TestClient, tenant: Tenant
) -> None:
    """Custom lines credit no invoice line: the cancellation takes the lines' remainders and, per VAT
    rate, one allowance of what the custom lines credited, so the notes add up to the total."""
    invoice = _issued(client, tenant, TWO_RATES)  # 100.00 + 19.00, 100.00 + 7.00 = 226.00
    widget = invoice["lines"][0]["id"]
    goodwill = {
        "description": "Goodwill",
        "quantity": "1",
        "unit_price": "5.00",
        "tax": {"category": "S", "percent": "7"},
    }
    first = _credit(
        client, tenant, invoice["id"], {"lines": [goodwill, {"invoice_line_id": widget, "quantity": "2"}]}
    )
    assert first["total"] == "29.15"  # 5.00 + 0.35 and 20.00 + 3.80
    rest = _credit(client, tenant, invoice["id"], {"reason": "duplicate"})
    groups = {g["percent"]: (g["taxable_amount"], g["tax_amount"]) for g in rest["tax_breakdown"]}
    assert groups == {"19.00": ("80.00", "15.20"), "7.00": ("95.00", "6.65")}
    assert (rest["subtotal"], rest["total_excluding_tax"], rest["total"]) == ("180.00", "175.00", "196.85")
    [allowance] = rest["adjustments"]
    assert (allowance["kind"], allowance["computed_amount"], allowance["tax"]["percent"]) == (
        "allowance",
        "5.00",
        "7.00",
    )
    assert allowance["reason"] == "Credited earlier by custom lines"
    after = _invoice(client, tenant, invoice["id"])
    assert (after["status"], after["credited_amount"], after["amount_due"]) == ("void", "226.00", "0.00")


def test_void_after_a_custom_line_and_a_refusal_when_custom_lines_took_more_than_a_rate_has(
    client: TestClient, tenant: Tenant
) -> None:
    # Tax-inclusive: 119.00 at 19 % and 107.00 at 7 %; a custom 11.90 gross at 19 % is taken off gross.
    body = [line("Widget", "1", "119.00", "19"), line("Book", "1", "107.00", "7")]
    invoice = _issued(client, tenant, body, prices_include_tax=True)
    custom = {"description": "Goodwill", "unit_price": "11.90", "tax": {"category": "S", "percent": "19"}}
    _credit(client, tenant, invoice["id"], {"lines": [custom]})
    voided = client.post(f"/v1/invoices/{invoice['id']}/void", json={}, headers=tenant.headers)
    assert voided.status_code == 200, voided.text
    after = _invoice(client, tenant, invoice["id"])
    assert (after["status"], after["credited_amount"]) == ("void", "226.00")
    [note_ref] = [n for n in after["credit_notes"] if n["number"] in after["status_history"][-1]["reason"]]
    rest = client.get(f"/v1/credit-notes/{note_ref['id']}", headers=tenant.headers).json()
    assert rest["total"] == "214.10"
    # Custom lines at 19 % worth more than the 19 % line: the rest cannot be credited line by line.
    other = _issued(client, tenant, TWO_RATES)
    big = {"description": "Goodwill", "unit_price": "150.00", "tax": {"category": "S", "percent": "19"}}
    _credit(client, tenant, other["id"], {"lines": [big]})
    refused = _credit(client, tenant, other["id"], {}, status=409)
    assert refused["error"]["code"] == "credit_exceeds_remaining"
    assert "S 19" in refused["error"]["message"] and "custom lines" in refused["error"]["message"]
    left = _invoice(client, tenant, other["id"])
    assert (left["status"], left["credited_amount"], len(left["credit_notes"])) == ("open", "178.50", 1)


def test_tax_inclusive_invoice(client: TestClient, tenant: Tenant) -> None:
    # gross 2 x 11.90 = 23.80 at 19 %: tax round(23.80 x 19 / 119) = 3.80, net 20.00
    invoice = _issued(client, tenant, [line("Ticket", "2", "11.90", "19")], prices_include_tax=True)
    assert (invoice["total"], invoice["tax_total"]) == ("23.80", "3.80")
    [ticket] = invoice["lines"]
    note = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": ticket["id"], "quantity": "1"}]}
    )
    # gross 11.90: tax round(11.90 x 19 / 119) = 1.90, net 10.00
    assert (note["prices_include_tax"], note["total"], note["tax_total"], note["subtotal"]) == (
        True,
        "11.90",
        "1.90",
        "10.00",
    )
    rest = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": ticket["id"], "amount": "11.90"}]}
    )
    assert rest["total"] == "11.90"
    assert _invoice(client, tenant, invoice["id"])["status"] == "void"


def test_jpy(client: TestClient, tenant: Tenant) -> None:
    # 3 x 333 JPY = 999 at 10 %: tax 100 (99.9 rounded), total 1099
    invoice = _issued(client, tenant, [line("Tea", "3", "333", "10")], currency="JPY")
    assert invoice["total"] == "1099"
    [tea] = invoice["lines"]
    note = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": tea["id"], "quantity": "1"}]}
    )
    # 333 at 10 %: tax 33 (33.3), total 366
    assert (note["currency"], note["subtotal"], note["tax_total"], note["total"]) == (
        "JPY",
        "333",
        "33",
        "366",
    )
    rest = _credit(client, tenant, invoice["id"], {})
    # 666 at 10 %: 66.6 -> 67, so the last note takes the group's rest 100 - 33 = 67: 733
    assert (rest["subtotal"], rest["tax_total"], rest["total"]) == ("666", "67", "733")
    assert _invoice(client, tenant, invoice["id"])["credited_amount"] == "1099"


def test_credit_after_a_partial_payment_reduces_the_due_then_refunds(
    client: TestClient, tenant: Tenant
) -> None:
    invoice = _issued(client, tenant, [line("Consulting", "1", "100.00", "19")])  # 119.00
    paid = client.post(
        f"/v1/invoices/{invoice['id']}/payments", json={"amount": "100.00"}, headers=tenant.headers
    )
    assert paid.status_code == 201, paid.text
    [consulting] = invoice["lines"]
    # a price reduction of 50.00 net = 59.50: 19.00 reduce the amount due, 40.50 must be settled
    body = {"lines": [{"invoice_line_id": consulting["id"], "amount": "50.00"}]}
    preview = client.post(
        f"/v1/invoices/{invoice['id']}/credit-notes/preview", json=body, headers=tenant.headers
    )
    assert preview.status_code == 200, preview.text
    assert (preview.json()["total"], preview.json()["unsettled_amount"]) == ("59.50", "40.50")
    refused = _credit(client, tenant, invoice["id"], body, status=422)
    assert refused["error"]["code"] == "credit_settlement_mismatch"
    wrong = _credit(client, tenant, invoice["id"], {**body, "refund_amount": "40.00"}, status=422)
    assert wrong["error"]["code"] == "credit_settlement_mismatch"
    assert (
        client.get(f"/v1/credit-notes?invoice_id={invoice['id']}", headers=tenant.headers).json()["data"]
        == []
    )
    note = _credit(
        client,
        tenant,
        invoice["id"],
        {
            **body,
            "refund_amount": "40.50",
            "refund_method": "bank_transfer",
            "refund_reference": "R-1",
            "refund_date": "2026-01-15",
        },
    )
    assert note["settlement"] == {
        "amount_due_reduction": "19.00",
        "refund_amount": "40.50",
        "refund_method": "bank_transfer",
        "refund_reference": "R-1",
        "refund_date": "2026-01-15",
        "credit_amount": "0.00",
    }
    after = _invoice(client, tenant, invoice["id"])
    assert (after["status"], after["amount_due"], after["credited_amount"], after["payment_status"]) == (
        "paid",
        "0.00",
        "59.50",
        "paid",
    )


def test_full_cancellation_of_a_paid_invoice_with_refund_via_void(client: TestClient, tenant: Tenant) -> None:
    invoice = _issued(client, tenant, [line("Consulting", "1", "100.00", "19")])
    client.post(f"/v1/invoices/{invoice['id']}/payments", json={"amount": "119.00"}, headers=tenant.headers)
    refused = client.post(
        f"/v1/invoices/{invoice['id']}/void", json={"reason": "wrong customer"}, headers=tenant.headers
    )
    assert refused.status_code == 422, refused.text
    voided = client.post(
        f"/v1/invoices/{invoice['id']}/void",
        json={"reason": "wrong customer", "refund_amount": "119.00", "refund_method": "bank_transfer"},
        headers=tenant.headers,
    )
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["status"], body["credited_amount"], body["amount_due"]) == ("void", "119.00", "0.00")
    [ref] = body["credit_notes"]
    assert ref["number"] in body["status_history"][-1]["reason"]
    assert "wrong customer" in body["status_history"][-1]["reason"]
    note = client.get(f"/v1/credit-notes/{ref['id']}", headers=tenant.headers).json()
    assert (note["full_cancellation"], note["total"], note["settlement"]["refund_amount"]) == (
        True,
        "119.00",
        "119.00",
    )


def test_credit_to_balance_is_applied_to_the_next_invoice(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    invoice = create_invoice(
        client, tenant.headers, customer, [line("Consulting", "1", "100.00", "19")], finalize=True
    )
    client.post(f"/v1/invoices/{invoice['id']}/payments", json={"amount": "119.00"}, headers=tenant.headers)
    [consulting] = invoice["lines"]
    note = _credit(
        client,
        tenant,
        invoice["id"],
        {"lines": [{"invoice_line_id": consulting["id"], "amount": "20.00"}], "credit_amount": "23.80"},
    )
    assert note["settlement"]["credit_amount"] == "23.80"
    balance = client.get(f"/v1/customers/{customer}/balance", headers=tenant.headers).json()
    assert [(b["currency"], b["amount"]) for b in balance["balances"]] == [("EUR", "23.80")]
    [ledger] = client.get(f"/v1/customers/{customer}/balance-transactions", headers=tenant.headers).json()[
        "data"
    ]
    assert (ledger["kind"], ledger["amount"], ledger["invoice_id"], ledger["credit_note_id"]) == (
        "credit_note",
        "23.80",
        invoice["id"],
        note["id"],
    )
    draft = create_invoice(client, tenant.headers, customer, [line("More", "1", "50.00", "19")])  # 59.50
    issued = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).json()
    assert (issued["amount_paid"], issued["prepaid_amount"], issued["amount_due"]) == (
        "23.80",
        "23.80",
        "35.70",
    )


def test_limits_and_errors(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    invoice = _issued(client, tenant, TWO_RATES)
    widget, book = (item["id"] for item in invoice["lines"])
    too_many = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": widget, "quantity": "11"}]}, 409
    )
    assert too_many["error"]["code"] == "credit_exceeds_remaining"
    [detail] = too_many["error"]["details"]
    assert (detail["invoice_line_id"], detail["requested_quantity"], detail["remaining_quantity"]) == (
        widget,
        "11",
        "10",
    )
    too_much = _credit(
        client, tenant, invoice["id"], {"lines": [{"invoice_line_id": book, "amount": "100.01"}]}, 409
    )
    assert too_much["error"]["code"] == "credit_exceeds_remaining"
    custom_bad_rate = _credit(
        client, tenant, invoice["id"], {"lines": [line("Goodwill", "1", "5.00", "16")]}, 422
    )
    assert custom_bad_rate["error"]["code"] == "credit_tax_not_on_invoice"
    custom = _credit(client, tenant, invoice["id"], {"lines": [line("Goodwill", "1", "5.00", "7")]})
    assert (custom["lines"][0]["kind"], custom["total"]) == ("custom", "5.35")
    draft = create_invoice(client, tenant.headers, invoice["customer_id"])
    not_final = _credit(client, tenant, draft["id"], {}, 409)
    assert not_final["error"]["code"] == "invoice_not_final"
    unknown = _credit(
        client,
        tenant,
        invoice["id"],
        {"lines": [{"invoice_line_id": draft["lines"][0]["id"], "quantity": "1"}]},
        422,
    )
    assert unknown["error"]["code"] == "credit_line_unknown"
    foreign = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={}, headers=other_tenant.headers)
    assert foreign.status_code == 404
    assert client.get(f"/v1/credit-notes/{custom['id']}", headers=other_tenant.headers).status_code == 404
    assert client.get("/v1/credit-notes", headers=other_tenant.headers).json()["data"] == []
    listed = client.get(f"/v1/credit-notes?invoice_id={invoice['id']}", headers=tenant.headers).json()
    assert [n["id"] for n in listed["data"]] == [custom["id"]]
