"""iw-erp dialect (seed 003): every documented response field, with its type and meaning."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed_openapi import seed_text

from factories import create_customer

URL = "/compat/iw-erp/api/invoice/invoices"
QUERY = {"iw-build-id": "build-4711", "iw-package-id": "pkg-1"}


def documented_fields() -> dict[str, str]:
    """The 200 body's fields and types as seed 003 lists them: {'id': 'integer', ...}."""
    text = seed_text("003")
    answer = text[text.index("### 200") :]
    return dict(re.findall(r"- \*\*(\w+)\*\* \(([^)]+\)?)\)", answer))


FIELDS = documented_fields()


def _is_datetime(value: Any) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


TYPE_CHECKS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "string(date-time)": _is_datetime,
    "number(float)": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array[object]": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
}


def assert_documented_types(body: dict[str, Any]) -> None:
    assert set(body) == set(FIELDS)
    for name, kind in FIELDS.items():
        value = body[name]
        assert value is None or TYPE_CHECKS[kind](value), (name, kind, value)


def session(key: str) -> dict[str, str]:
    return {"x-session-token": key, "Content-Type": "application/json"}


def invoice(customer_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "buyer": {"id": customer_id},
        "name": "Mitgliedsbeitrag 2025",
        "message": "Vielen Dank!",
        "currency": "EUR",
        "tax": {"value": 19},
        "payment_goal": 14,
        "items": [
            {"name": "Beitrag", "quantity": 2, "price": 50},
            {"name": "Buch", "quantity": 1, "price": 24.9, "tax": {"value": 7}},
        ],
    }
    body.update(fields)
    return {"invoice": body}


def post(client: TestClient, key: str, body: Any, **headers: str) -> Any:
    return client.post(URL, params=QUERY, json=body, headers={**session(key), **headers})


def test_seed_lists_the_fields_this_suite_checks() -> None:
    assert len(FIELDS) == 46
    assert set(FIELDS.values()) == set(TYPE_CHECKS)
    assert (FIELDS["id"], FIELDS["number"], FIELDS["netto_value"], FIELDS["items"]) == (
        "integer",
        "integer",
        "number(float)",
        "array[object]",
    )


def test_end_to_end_automatic_number_every_field_and_native_read_back(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    response = post(client, tenant.api_key, invoice(customer["id"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert_documented_types(body)
    today = datetime.now(UTC).date()
    # Identity: a per-organisation integer id, the faktur id as token, the automatic number.
    assert (body["id"], body["number"]) == (1, 1)
    assert body["number_string"] == f"INV-{today.year}-00001"
    assert (body["manual_number_prefix"], body["manual_number"]) == (None, None)
    # Amounts: 2 x 50.00 at 19 % and 24.90 at 7 %.
    assert (body["netto_value"], body["tax_value"], body["brutto_value"]) == (124.9, 20.74, 145.64)
    assert '"brutto_value":145.64' in response.text
    assert body["tax"]["value"] is None  # two rates: see the groups
    assert sorted(
        (g["category"], g["value"], g["netto_value"], g["tax_value"]) for g in body["tax"]["groups"]
    ) == [
        ("S", 7, 24.9, 1.74),
        ("S", 19, 100, 19),
    ]
    assert [
        (i["id"], i["name"], i["quantity"], i["price"], i["netto_value"], i["tax"]["value"])
        for i in body["items"]
    ] == [(1, "Beitrag", 2, 50, 100, 19), (2, "Buch", 1, 24.9, 24.9, 7)]
    # Dates: due after the payment goal, numbered now.
    assert body["payment_goal"] == {"days": 14}
    assert (
        body["due_date"] == datetime.combine(today + timedelta(days=14), datetime.min.time(), UTC).isoformat()
    )
    assert datetime.fromisoformat(body["number_date"]).date() == today
    assert (body["status"], body["previous_status"]) == ("open", "draft")
    assert body["status_updated"] == body["number_date"]
    assert (body["cancel_date"], body["cancel_text"], body["payment_date"]) == (None, None, None)
    assert (body["name"], body["message"], body["currency"]) == (
        "Mitgliedsbeitrag 2025",
        "Vielen Dank!",
        "EUR",
    )
    assert body["buyer"]["id"] == customer["id"] and body["buyer"]["name"] == "Kunde AG"
    assert body["search_string"] == f"INV-{today.year}-00001 Mitgliedsbeitrag 2025 Kunde AG"
    assert (body["archived"], body["direct_debit_exported"], body["time_reports"]) == (False, False, [])

    native = client.get(f"/v1/invoices/{body['token']}", headers=tenant.headers).json()
    assert (native["number"], native["status"], native["payment_status"]) == (
        body["number_string"],
        "open",
        "unpaid",
    )
    assert (native["subtotal"], native["tax_total"], native["total"]) == ("124.90", "20.74", "145.64")
    assert native["due_date"] == (today + timedelta(days=14)).isoformat()
    assert native["memo"] == "Vielen Dank!"


def test_ids_and_numbers_count_per_organisation(client, tenant, other_tenant) -> None:
    mine = create_customer(client, tenant.headers)
    theirs = create_customer(client, other_tenant.headers)
    first = post(client, tenant.api_key, invoice(mine["id"])).json()
    second = post(client, tenant.api_key, invoice(mine["id"])).json()
    other = post(client, other_tenant.api_key, invoice(theirs["id"])).json()
    assert [(b["id"], b["number"]) for b in (first, second, other)] == [(1, 1), (2, 2), (1, 1)]


def test_manual_number_is_honoured_and_unique(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    fields = {"manual_number_prefix": "RE-2025-", "manual_number": 1001}
    body = post(client, tenant.api_key, invoice(customer["id"], **fields)).json()
    assert_documented_types(body)
    assert (body["number"], body["manual_number_prefix"], body["manual_number"], body["number_string"]) == (
        1001,
        "RE-2025-",
        1001,
        "RE-2025-1001",
    )
    native = client.get(f"/v1/invoices/{body['token']}", headers=tenant.headers).json()
    assert (native["number"], native["source"], native["status"]) == ("RE-2025-1001", "import", "open")
    assert native["total"] == "145.64"

    again = post(client, tenant.api_key, invoice(customer["id"], **fields))
    assert again.status_code == 409
    assert again.json() == {
        "code": 409,
        "message": "Invoice number RE-2025-1001 is already used in this organisation.",
        "errors": [{"field": "invoice.manual_number", "message": "already used"}],
    }
    # A manual number without prefix is the number itself.
    plain = post(client, tenant.api_key, invoice(customer["id"], manual_number=7)).json()
    assert (plain["number"], plain["number_string"]) == (7, "7")


def test_paid_status_records_the_payment(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    paid = invoice(customer["id"], status="paid", payment_date="2025-02-03T10:00:00+01:00")
    body = post(client, tenant.api_key, paid).json()
    assert (body["status"], body["previous_status"]) == ("paid", "open")
    assert body["payment_date"] == "2025-02-03T09:00:00+00:00"  # with its time of day
    native = client.get(f"/v1/invoices/{body['token']}", headers=tenant.headers).json()
    assert (native["status"], native["amount_paid"], native["amount_due"]) == ("paid", "145.64", "0.00")
    assert native["payments"][0]["paid_on"] == "2025-02-03"


@pytest.mark.parametrize("manual", [None, 5], ids=["automatic", "manual"])
def test_cancelled_status_voids_with_date_and_text(client, tenant, manual) -> None:
    customer = create_customer(client, tenant.headers)
    fields: dict[str, Any] = {"status": "cancelled", "cancel_text": "Doppelt erfasst"}
    if manual is not None:
        fields["manual_number"] = manual
    body = post(client, tenant.api_key, invoice(customer["id"], **fields)).json()
    assert (body["status"], body["previous_status"], body["cancel_text"]) == (
        "cancelled",
        "open",
        "Doppelt erfasst",
    )
    assert body["cancel_date"] == body["status_updated"] and _is_datetime(body["cancel_date"])
    native = client.get(f"/v1/invoices/{body['token']}", headers=tenant.headers).json()
    assert native["status"] == "void"
    # Cancelled by a full cancellation credit note: its date and memo are the cancellation's.
    [ref] = native["credit_notes"]
    note = client.get(f"/v1/credit-notes/{ref['id']}", headers=tenant.headers).json()
    assert (note["full_cancellation"], note["memo"], note["total"]) == (
        True,
        "Doppelt erfasst",
        native["total"],
    )
    assert native["credited_amount"] == native["total"]
    assert (
        native["status_history"][-1]["reason"]
        == f"Doppelt erfasst; fully credited by credit note {note['number']}"
    )
    assert datetime.fromisoformat(body["cancel_date"]) == datetime.fromisoformat(note["created_at"])


def test_draft_has_no_number_yet(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = post(client, tenant.api_key, invoice(customer["id"], status="draft")).json()
    assert_documented_types(body)
    assert (body["status"], body["previous_status"], body["number"], body["number_string"]) == (
        "draft",
        None,
        None,
        None,
    )
    assert body["due_date"] is None and body["payment_goal"] == {"days": 14}


def test_payment_goal_as_object_and_single_rate_tax(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = post(
        client,
        tenant.api_key,
        invoice(customer["id"], payment_goal={"days": 0}, items=[{"name": "Kurs", "price": 80}]),
    ).json()
    assert body["due_date"][:10] == datetime.now(UTC).date().isoformat()
    assert (body["tax"]["value"], body["tax"]["category"]) == (19, "S")
    assert (body["netto_value"], body["tax_value"], body["brutto_value"]) == (80, 15.2, 95.2)


def test_camel_case_header_converts_the_answer_and_camel_case_requests_are_read(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = invoice(customer["id"], manualNumberPrefix="M-", manualNumber=3, paymentGoal={"days": 7})
    del body["invoice"]["payment_goal"]  # one spelling per field
    response = post(client, tenant.api_key, body, **{"x-iw-convert-to-camel-case": "1"})
    answer = response.json()
    assert "numberString" in answer and "number_string" not in answer
    assert set(answer) == {re.sub(r"_(\w)", lambda m: m.group(1).upper(), name) for name in FIELDS}
    assert (answer["numberString"], answer["manualNumberPrefix"], answer["paymentGoal"]) == (
        "M-3",
        "M-",
        {"days": 7},
    )
    assert answer["items"][0]["nettoValue"] == 100
    plain = post(
        client, tenant.api_key, invoice(customer["id"]), **{"x-iw-convert-to-camel-case": "0"}
    ).json()
    assert "number_string" in plain


def test_bearer_header_authenticates_too(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post(
        URL, json=invoice(customer["id"]), headers={"Authorization": f"Bearer {tenant.api_key}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-session-token": "fk_wrong"}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}],
)
def test_missing_or_wrong_token_is_401_in_iw_erp_shape(client, tenant, headers) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post(URL, json=invoice(customer["id"]), headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401 and body["errors"] == [] and body["message"]


def test_foreign_or_unknown_buyer_is_404(client, tenant, other_tenant) -> None:
    foreign = create_customer(client, other_tenant.headers)
    for buyer_id in (foreign["id"], "00000000-0000-4000-8000-000000000000"):
        response = post(client, tenant.api_key, invoice(buyer_id))
        assert response.status_code == 404
        assert response.json()["code"] == 404 and set(response.json()) == {"code", "message", "errors"}
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{", None),
        (b"[]", None),
        (b'{"invoice": null}', "invoice"),
        (b"{}", "invoice"),
        (None, "invoice.items"),  # no items
        ({"price": "12.50"}, "invoice.items[0].price"),
        ({"price": 1e30}, "invoice.items[0].price"),
        ({"quantity": True}, "invoice.items[0].quantity"),
        ({"name": ""}, "invoice.items[0].name"),
        ({"tax": {"value": -1}}, "invoice.items[0].tax.value"),
        ({"unit": "hours"}, "invoice.items[0].unit"),
    ],
)
def test_bad_input_is_400_in_iw_erp_shape_and_stores_nothing(client, tenant, raw, field) -> None:
    customer = create_customer(client, tenant.headers)
    if isinstance(raw, dict) or raw is None:
        body = invoice(customer["id"])
        body["invoice"]["items"] = [] if raw is None else [{"name": "x", "price": 1, **raw}]
        raw = json.dumps(body).encode()
    response = client.post(URL, content=raw, headers=session(tenant.api_key))
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message", "errors"} and body["code"] == 400
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"manual_number": -1}, "invoice.manual_number"),
        ({"manual_number": "12"}, "invoice.manual_number"),
        ({"manual_number_prefix": "X-"}, "invoice"),
        ({"manual_number": 1, "status": "draft"}, "invoice"),
        ({"status": "archived"}, "invoice.status"),
        ({"payment_goal": -3}, "invoice.payment_goal"),
        ({"currency": "EURO"}, "invoice.currency"),
        ({"tax": None}, "invoice"),
        ({"payment_date": "2025-02-03T10:00:00"}, "invoice.payment_date"),
        ({"manual_number_prefix": "INV-2025-0000", "manual_number": 1}, "invoice.manual_number"),
    ],
)
def test_invalid_invoice_fields_are_refused(client, tenant, fields, field) -> None:
    customer = create_customer(client, tenant.headers)
    response = post(client, tenant.api_key, invoice(customer["id"], **fields))
    assert response.status_code in (400, 409), response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []
