"""The invoice API end to end: drafts, finalization, lifecycle, payments, lists (rules 2-4, 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from factories import create_customer, create_invoice, line
from faktur.http.deps import get_now


def test_draft_has_no_number_and_finalize_numbers_and_dates_it(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    draft = create_invoice(client, tenant.headers, customer["id"])
    assert (draft["status"], draft["number"], draft["issue_date"]) == ("draft", None, None)
    issued = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).json()
    today = datetime.now(UTC).date()
    assert issued["status"] == "open"
    assert issued["number"] == f"INV-{today.year}-00001"
    assert issued["issue_date"] == today.isoformat()
    assert issued["due_date"] == (today + timedelta(days=30)).isoformat()  # organisation's default terms
    assert [(h["from_status"], h["to_status"]) for h in issued["status_history"]] == [
        (None, "draft"),
        ("draft", "open"),
    ]
    assert issued["seller"]["legal_name"] == "Seller GmbH"


def test_totals_are_exact_decimal_strings(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(
        client,
        tenant.headers,
        customer["id"],
        [line(quantity="3", unit_price="0.333"), line(unit_price="10", percent="7")],
    )
    # 3 x 0.333 = 0.999 -> 1.00 at 19 % -> 0.19; 10.00 at 7 % -> 0.70
    assert [ln["net_amount"] for ln in invoice["lines"]] == ["1.00", "10.00"]
    assert invoice["subtotal"] == "11.00"
    assert invoice["tax_total"] == "0.89"
    assert invoice["total"] == "11.89"
    assert {(g["percent"], g["tax_amount"]) for g in invoice["tax_breakdown"]} == {
        ("19.00", "0.19"),
        ("7.00", "0.70"),
    }


def test_jpy_amounts_have_no_decimals(client, tenant) -> None:
    customer = create_customer(client, tenant.headers, currency="JPY")
    invoice = create_invoice(
        client, tenant.headers, customer["id"], [line(quantity="3", unit_price="333", percent="10")]
    )
    assert (invoice["currency"], invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (
        "JPY",
        "999",
        "100",
        "1099",
    )


def test_json_numbers_are_parsed_exactly(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    raw = (
        '{"customer_id": "CUSTOMER", "lines": [{"description": "x", "quantity": 0.1, "unit_price": 0.7,'
        ' "tax": {"category": "S", "percent": 19}}]}'
    ).replace("CUSTOMER", customer["id"])
    response = client.post(
        "/v1/invoices", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["quantity"] == "0.1"
    assert response.json()["lines"][0]["amount"] == "0.07"


def test_tax_inclusive_prices_keep_the_gross(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(
        client, tenant.headers, customer["id"], [line(unit_price="119.00")], prices_include_tax=True
    )
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("100.00", "19.00", "119.00")


def test_tax_rate_by_id_and_inclusive_rate_makes_invoice_inclusive(client, tenant) -> None:
    rate = client.post(
        "/v1/tax-rates",
        json={"name": "MwSt 7 brutto", "percent": "7", "inclusive": True},
        headers=tenant.headers,
    ).json()
    customer = create_customer(client, tenant.headers)
    body = {"description": "Book", "quantity": "3", "unit_price": "9.99", "tax_rate_id": rate["id"]}
    invoice = create_invoice(client, tenant.headers, customer["id"], [body])
    assert invoice["prices_include_tax"] is True
    assert invoice["total"] == "29.97"
    assert invoice["lines"][0]["tax_rate_id"] == rate["id"]


def test_preview_computes_and_stores_nothing(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post(
        "/v1/invoices/preview",
        json={"customer_id": customer["id"], "lines": [line()]},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert response.json()["total"] == "119.00"
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


def test_patch_edits_a_draft_and_recomputes(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    draft = create_invoice(client, tenant.headers, customer["id"], memo="first")
    patched = client.patch(
        f"/v1/invoices/{draft['id']}",
        json={"lines": [line(unit_price="50.00"), line(unit_price="50.00")], "memo": "second"},
        headers=tenant.headers,
    ).json()
    assert (patched["memo"], patched["total"], len(patched["lines"])) == ("second", "119.00", 2)
    kept = client.patch(f"/v1/invoices/{draft['id']}", json={"memo": "third"}, headers=tenant.headers).json()
    assert (kept["memo"], kept["total"], len(kept["lines"])) == ("third", "119.00", 2)


@pytest.mark.parametrize("action", ["patch", "finalize"])
def test_finalized_invoice_is_immutable(client, tenant, action: str) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    if action == "patch":
        response = client.patch(
            f"/v1/invoices/{invoice['id']}", json={"memo": "changed"}, headers=tenant.headers
        )
    else:
        response = client.post(f"/v1/invoices/{invoice['id']}/finalize", headers=tenant.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invoice_not_draft"
    assert "open" in response.json()["error"]["message"]
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert after == invoice


def test_customer_change_after_finalize_does_not_change_the_invoice(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    client.patch(
        f"/v1/customers/{customer['id']}", json={"name": "Renamed AG", "city": "Köln"}, headers=tenant.headers
    )
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["customer"]["name"], after["customer"]["city"]) == ("Kunde AG", "München")


def test_partial_full_and_over_payments_drive_payment_status(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)  # 119.00
    url = f"/v1/invoices/{invoice['id']}/payments"
    partial = client.post(url, json={"amount": "100.00", "method": "sepa"}, headers=tenant.headers).json()
    assert (partial["status"], partial["payment_status"], partial["amount_due"]) == (
        "open",
        "partially_paid",
        "19.00",
    )
    full = client.post(url, json={"amount": "19.00"}, headers=tenant.headers).json()
    assert (full["status"], full["payment_status"], full["amount_due"]) == ("paid", "paid", "0.00")
    over = client.post(url, json={"amount": "5.00"}, headers=tenant.headers).json()
    assert (over["status"], over["payment_status"], over["amount_paid"]) == ("paid", "overpaid", "124.00")
    assert [p["amount"] for p in over["payments"]] == ["100.00", "19.00", "5.00"]
    assert over["status_history"][-1]["to_status"] == "paid"


def test_payment_with_more_decimals_than_the_currency_is_refused(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    response = client.post(
        f"/v1/invoices/{invoice['id']}/payments", json={"amount": "1.001"}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "amount_precision"


@pytest.mark.parametrize(
    ("setup", "action", "expected_status", "expected_code"),
    [
        ([], "void", 409, "invalid_status_transition"),  # a draft cannot be voided
        ([], "mark-uncollectible", 409, "invalid_status_transition"),
        ([], "payments", 409, "invoice_not_payable"),
        (["finalize"], "void", 200, None),
        (["finalize"], "mark-uncollectible", 200, None),
        (["finalize", "void"], "void", 409, "invalid_status_transition"),
        (["finalize", "void"], "payments", 409, "invoice_not_payable"),
        (["finalize", "void"], "mark-uncollectible", 409, "invalid_status_transition"),
        (["finalize", "mark-uncollectible"], "void", 200, None),
        (["finalize", "mark-uncollectible"], "payments", 201, None),
        # paid in full: voiding issues a credit note, whose paid part must be refunded or credited
        (["finalize", "payments"], "void", 422, "credit_settlement_mismatch"),
    ],
)
def test_status_transitions(
    client, tenant, setup: list[str], action: str, expected_status: int, expected_code: str | None
) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"])

    def call(step: str):
        body = {"amount": "119.00"} if step == "payments" else None
        return client.post(f"/v1/invoices/{invoice['id']}/{step}", json=body, headers=tenant.headers)

    for step in setup:
        assert call(step).status_code in (200, 201)
    before = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    response = call(action)
    assert response.status_code == expected_status, response.text
    if expected_code:
        assert response.json()["error"]["code"] == expected_code
        assert before["status"] in response.json()["error"]["message"]
        assert client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json() == before


def test_void_with_payments_needs_the_paid_part_settled(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    client.post(f"/v1/invoices/{invoice['id']}/payments", json={"amount": "10"}, headers=tenant.headers)
    response = client.post(f"/v1/invoices/{invoice['id']}/void", headers=tenant.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "credit_settlement_mismatch")
    settled = client.post(
        f"/v1/invoices/{invoice['id']}/void", json={"credit_amount": "10"}, headers=tenant.headers
    )
    assert (settled.status_code, settled.json()["status"]) == (200, "void")


def test_void_records_reason_and_actor(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    voided = client.post(
        f"/v1/invoices/{invoice['id']}/void", json={"reason": "duplicate"}, headers=tenant.headers
    ).json()
    last = voided["status_history"][-1]
    [credit_note] = voided["credit_notes"]
    assert (last["from_status"], last["to_status"], last["reason"]) == (
        "open",
        "void",
        f"duplicate; fully credited by credit note {credit_note['number']}",
    )
    assert last["actor"].startswith("api_key:fk_")


def test_finalizing_an_empty_draft_is_refused(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    draft = client.post("/v1/invoices", json={"customer_id": customer["id"]}, headers=tenant.headers).json()
    response = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invoice_has_no_lines")


def test_reverse_charge_without_buyer_vat_id_cannot_be_issued(client, tenant) -> None:
    customer = create_customer(client, tenant.headers, vat_id=None, country="FR")
    rc = line(
        category="AE",
        percent="0",
        tax={"category": "AE", "percent": "0", "exemption_reason": "Reverse charge"},
    )
    draft = create_invoice(client, tenant.headers, customer["id"], [rc])
    response = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "tax_rule_violation")
    assert client.get(f"/v1/invoices/{draft['id']}", headers=tenant.headers).json()["status"] == "draft"
    client.patch(f"/v1/customers/{customer['id']}", json={"vat_id": "FR40303265045"}, headers=tenant.headers)
    assert client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).status_code == 200


def test_zero_total_invoice_is_paid_at_finalization(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], [line(unit_price="0")], finalize=True)
    assert (invoice["status"], invoice["payment_status"]) == ("paid", "paid")


def test_explicit_due_date_and_terms(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    by_terms = create_invoice(client, tenant.headers, customer["id"], payment_terms_days=14, finalize=True)
    assert date.fromisoformat(by_terms["due_date"]) - date.fromisoformat(by_terms["issue_date"]) == timedelta(
        days=14
    )
    fixed = create_invoice(client, tenant.headers, customer["id"], due_date="2099-01-31", finalize=True)
    assert fixed["due_date"] == "2099-01-31"


def test_list_filters_and_cursor_pagination(client, tenant, app) -> None:
    first_customer = create_customer(client, tenant.headers)
    second_customer = create_customer(client, tenant.headers, name="Zweite GmbH")
    moments = iter(datetime(2026, 1, day, 9, tzinfo=UTC) for day in range(1, 10))
    app.dependency_overrides[get_now] = lambda: next(moments)
    ids = [create_invoice(client, tenant.headers, first_customer["id"])["id"] for _ in range(4)]
    other = create_invoice(client, tenant.headers, second_customer["id"], finalize=True)
    app.dependency_overrides.clear()

    seen, cursor = [], None
    while True:
        params = {"limit": 2, "customer_id": first_customer["id"], **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/invoices", params=params, headers=tenant.headers).json()
        seen += [i["id"] for i in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))
    opened = client.get("/v1/invoices", params={"status": "open"}, headers=tenant.headers).json()["data"]
    assert [i["id"] for i in opened] == [other["id"]]
    window = client.get(
        "/v1/invoices",
        params={"created_from": "2026-01-02T00:00:00Z", "created_before": "2026-01-04T00:00:00Z"},
        headers=tenant.headers,
    ).json()["data"]
    assert [i["id"] for i in window] == [ids[2], ids[1]]


def test_quantity_defaults_to_one(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "lines": [{"description": "x", "unit_price": "5.00", "tax": {"category": "S", "percent": "19"}}],
    }
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert (response.json()["lines"][0]["quantity"], response.json()["total"]) == ("1", "5.95")


def test_allowance_finer_than_the_currency_is_a_422_naming_the_field(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    bad = line(allowances=[{"amount": "0.001", "reason": "rebate"}])
    response = client.post(
        "/v1/invoices", json={"customer_id": customer["id"], "lines": [bad]}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_decimals"
    assert response.json()["error"]["details"][0]["field"] == "lines[0].allowances[0].amount"
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []
