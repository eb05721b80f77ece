"""iw-erp (seed 003) walked field by field: every field of the seed's invoice object sent in a
request is honoured (and answered back) or refused with a 400 naming it; inwendo's own header
`x-iw-jwt-token` authenticates."""

from __future__ import annotations

from typing import Any

import pytest
from test_dialect_iw_erp import FIELDS, URL, assert_documented_types, invoice

from factories import create_customer

# A value of each honoured field, and what the answer then shows for it (None: the same value).
HONOURED: dict[str, tuple[Any, Any]] = {
    "number": (4711, None),
    "manual_number_prefix": ("RE-", None),  # with manual_number, below
    "manual_number": (12, None),
    "number_string": ("RE-2025-0815", None),
    "number_date": ("2025-03-01T10:30:00+01:00", "2025-03-01T09:30:00+00:00"),
    "message": ("Danke", None),
    "currency": ("CHF", None),
    "name": ("Kurs", None),
    "due_date": ("2030-03-31T18:00:00+02:00", "2030-03-31T16:00:00+00:00"),
    "tax": ({"value": 7}, None),
    "linked_number_title": ("Auftrag", None),
    "linked_number": ("A-17", None),
    "status": ("paid", None),
    "payment_goal": ({"days": 30}, None),
    "items": ([{"name": "Kurs", "quantity": 1, "price": 80, "tax": {"value": 7}}], None),
    "buyer": (None, None),  # the customer, in every request
    "payment_date": ("2025-03-02T08:15:00Z", "2025-03-02T08:15:00+00:00"),
    "cancel_text": ("Storno", None),
}
# Sent with these, where a field needs another to mean something.
WITH = {
    "manual_number_prefix": {"manual_number": 12},
    "number_date": {"number": 1},
    "payment_date": {"status": "paid"},
    "cancel_text": {"status": "cancelled"},
}
REFUSED: dict[str, Any] = {
    "id": 5,
    "token": "abc",
    "generation_date": "2025-01-01T00:00:00Z",
    "netto_value": 100.0,
    "brutto_value": 119.0,
    "tax_value": 19.0,
    "previous_status": "draft",
    "status_updated": "2025-01-01T00:00:00Z",
    "archived": True,
    "last_pdf_export": "2025-01-01T00:00:00Z",
    "last_status_export": "x",
    "base_booking_group": {"id": 1},
    "search_string": "x",
    "accounting_type": {"id": 1},
    "payment_type": {"id": 1},
    "is_payment_date_from_ext_service": True,
    "direct_debit_exported": True,
    "offer": {"id": 1},
    "time_reports": [{"id": 1}],
    "payment_provider_status": "x",
    "payment_provider_reference": "x",
    "payment_provider_transaction_reference": "x",
    "cancel_date": "2025-01-01T00:00:00Z",
    "base_event_sign_up": {"id": 1},
    "base_booking": {"id": 1},
    "base_event_sign_up_group": {"id": 1},
    "person_log_book_entry": {"id": 1},
    "billing_payment_profile": {"id": 1},
}


def jwt(key: str) -> dict[str, str]:
    return {"x-iw-jwt-token": key, "Content-Type": "application/json"}


def test_every_field_of_the_invoice_object_is_honoured_or_refused() -> None:
    assert set(HONOURED) | set(REFUSED) == set(FIELDS)
    assert not set(HONOURED) & set(REFUSED)


@pytest.mark.parametrize("name", sorted(HONOURED))
def test_an_honoured_field_is_answered_back(client, tenant, name) -> None:
    customer = create_customer(client, tenant.headers)
    value, answered = HONOURED[name]
    fields = {**WITH.get(name, {})}
    if value is not None:
        fields[name] = value
    if name == "due_date":
        fields["payment_goal"] = None
    response = client.post(URL, json=invoice(customer["id"], **fields), headers=jwt(tenant.api_key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert_documented_types(body)
    expected = value if answered is None else answered
    if name == "buyer":
        assert body["buyer"]["id"] == customer["id"]
    elif name == "items":
        assert [(i["name"], i["netto_value"]) for i in body["items"]] == [("Kurs", 80)]
    elif name == "tax":
        # The invoice's rate for items without their own (the other item has 7 % already).
        assert [i["tax"]["value"] for i in body["items"]] == [7, 7]
    else:
        assert body[name] == expected, body[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_field_is_a_400_naming_it(client, tenant, name) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post(
        URL, json=invoice(customer["id"], **{name: REFUSED[name]}), headers=jwt(tenant.api_key)
    )
    assert response.status_code == 400, response.text
    assert f"invoice.{name}" in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


def test_null_or_faktur_s_own_values_of_refused_fields_are_accepted(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    echo = {name: None for name in REFUSED}
    echo.update(
        archived=False, direct_debit_exported=False, is_payment_date_from_ext_service=False, time_reports=[]
    )
    response = client.post(URL, json=invoice(customer["id"], **echo), headers=jwt(tenant.api_key))
    assert response.status_code == 200, response.text


def test_number_string_number_and_dates_are_the_invoices(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    fields = {
        "number": 815,
        "number_string": "RE-2025-0815",
        "number_date": "2025-03-01T10:30:00+01:00",
        "due_date": "2025-03-31T18:00:00+02:00",
        "payment_goal": None,
    }
    body = client.post(URL, json=invoice(customer["id"], **fields), headers=jwt(tenant.api_key)).json()
    assert (body["number"], body["number_string"]) == (815, "RE-2025-0815")
    native = client.get(f"/v1/invoices/{body['token']}", headers=tenant.headers).json()
    assert (native["number"], native["issue_date"], native["due_date"]) == (
        "RE-2025-0815",
        "2025-03-01",
        "2025-03-31",
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"number": 1, "manual_number": 2}, "differ"),
        ({"manual_number_prefix": "A-", "manual_number": 1, "number_string": "B-1"}, "not the prefix"),
        ({"number_date": "2025-03-01T00:00:00Z"}, "number_date needs"),  # automatic numbers
        ({"payment_date": "2025-03-01T00:00:00Z"}, "needs status paid"),
        ({"number_string": "X-1", "status": "draft"}, "draft"),
    ],
)
def test_contradicting_fields_are_refused(client, tenant, fields, reason) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post(URL, json=invoice(customer["id"], **fields), headers=jwt(tenant.api_key))
    assert response.status_code == 400, response.text
    assert reason in response.json()["message"]


def test_the_jwt_header_authenticates_and_a_wrong_one_is_401(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    assert client.post(URL, json=invoice(customer["id"]), headers=jwt(tenant.api_key)).status_code == 200
    wrong = client.post(URL, json=invoice(customer["id"]), headers=jwt("fk_wrong"))
    assert (wrong.status_code, wrong.json()["code"]) == (401, 401)


def test_a_due_date_before_the_issue_date_is_refused(client, tenant) -> None:
    """Differs from the vendor (README): an invoice cannot fall due before it is issued."""
    customer = create_customer(client, tenant.headers)
    body = invoice(customer["id"], due_date="2020-01-31T12:00:00Z", payment_goal=None)
    response = client.post(URL, json=body, headers=jwt(tenant.api_key))
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["invoice.due_date"]
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []
