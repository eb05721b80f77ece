"""/v1/organisation: the seller details and number format of the caller's organisation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice


def get_org(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    response = client.get("/v1/organisation", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def patch_org(client: TestClient, tenant: Tenant, **body: Any) -> Any:
    return client.patch("/v1/organisation", json=body, headers=tenant.headers)


def finalize_new_invoice(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)
    return create_invoice(client, tenant.headers, customer["id"], finalize=True)


def test_get_returns_the_callers_seller_details(client: TestClient, tenant: Tenant) -> None:
    org = get_org(client, tenant)
    assert org["id"] == str(tenant.organisation_id)
    assert org["legal_name"] == "Seller GmbH"
    assert org["country"] == "DE"
    assert org["vat_id"] == "DE136695976"
    assert org["default_currency"] == "EUR"
    assert org["payment_terms_days"] == 30
    assert org["number_format"] == "INV-{YYYY}-{SEQ:05}"
    assert org["number_reset"] == "yearly"


def test_patch_updates_seller_details_and_keeps_the_rest(client: TestClient, tenant: Tenant) -> None:
    before = get_org(client, tenant)
    changes = {
        "trading_name": "Seller",
        "address_line1": "Alsterufer 1",
        "city": "Hamburg",
        "postal_code": "20354",
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
        "email": "billing@seller.example",
        "payment_terms_days": 14,
    }
    response = patch_org(client, tenant, **changes)
    assert response.status_code == 200, response.text
    after = get_org(client, tenant)
    assert after == response.json()
    assert {k: after[k] for k in changes} == changes
    untouched = set(before) - set(changes) - {"updated_at"}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    assert after["updated_at"] >= before["updated_at"]


def test_patch_normalises_codes(client: TestClient, tenant: Tenant) -> None:
    response = patch_org(client, tenant, country="fr", default_currency="chf", vat_id="FR 40 303265045")
    assert response.status_code == 200, response.text
    org = response.json()
    assert (org["country"], org["default_currency"], org["vat_id"]) == ("FR", "CHF", "FR40303265045")


def test_patch_null_clears_an_optional_detail(client: TestClient, tenant: Tenant) -> None:
    assert patch_org(client, tenant, trading_name="Seller").status_code == 200
    response = patch_org(client, tenant, trading_name=None)
    assert response.status_code == 200
    assert get_org(client, tenant)["trading_name"] is None


@pytest.mark.parametrize(
    "field", ["legal_name", "default_currency", "payment_terms_days", "number_format", "number_reset"]
)
def test_patch_null_on_a_required_setting_is_422_and_keeps_it(
    client: TestClient, tenant: Tenant, field: str
) -> None:
    before = get_org(client, tenant)
    response = patch_org(client, tenant, **{field: None})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == [field]
    assert get_org(client, tenant) == before


def test_number_format_without_seq_is_422_invalid_number_format(client: TestClient, tenant: Tenant) -> None:
    response = patch_org(client, tenant, number_format="INV-{YYYY}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_number_format"
    assert [d["field"] for d in error["details"]] == ["number_format"]
    assert get_org(client, tenant)["number_format"] == "INV-{YYYY}-{SEQ:05}"


@pytest.mark.parametrize(
    "number_format",
    ["INV-{SEQ}-{SEQ}", "INV-{YYYY}-{NUM}", "INV-{YYYY}-{SEQ", "INV-{YYYY}}-{SEQ}", "INV-{YYYY}-{SEQ:99}"],
    ids=["two_seq", "unknown_placeholder", "unclosed_brace", "stray_brace", "renders_too_long"],
)
def test_unusable_number_formats_are_rejected(client: TestClient, tenant: Tenant, number_format: str) -> None:
    response = patch_org(client, tenant, number_format=number_format)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_number_format"
    assert get_org(client, tenant)["number_format"] == "INV-{YYYY}-{SEQ:05}"


def test_yearly_reset_without_full_year_is_422(client: TestClient, tenant: Tenant) -> None:
    response = patch_org(client, tenant, number_format="R{YY}-{SEQ}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_number_format"
    assert [d["field"] for d in error["details"]] == ["number_format"]


def test_switching_to_yearly_reset_checks_the_stored_format(client: TestClient, tenant: Tenant) -> None:
    assert patch_org(client, tenant, number_format="R-{SEQ}", number_reset="never").status_code == 200
    response = patch_org(client, tenant, number_reset="yearly")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_number_format"
    assert get_org(client, tenant)["number_reset"] == "never"


def test_format_without_year_is_fine_when_numbers_never_reset(client: TestClient, tenant: Tenant) -> None:
    response = patch_org(client, tenant, number_format="R-{SEQ:04}", number_reset="never")
    assert response.status_code == 200, response.text
    assert finalize_new_invoice(client, tenant)["number"] == "R-0001"


def test_custom_format_numbers_the_next_finalized_invoice(client: TestClient, tenant: Tenant) -> None:
    response = patch_org(client, tenant, number_format="RE/{YYYY}/{MM}/{SEQ:04}")
    assert response.status_code == 200, response.text
    today = datetime.now(UTC)
    first = finalize_new_invoice(client, tenant)
    second = finalize_new_invoice(client, tenant)
    assert first["number"] == f"RE/{today:%Y}/{today:%m}/0001"
    assert second["number"] == f"RE/{today:%Y}/{today:%m}/0002"


def test_format_change_leaves_issued_numbers_alone(client: TestClient, tenant: Tenant) -> None:
    issued = finalize_new_invoice(client, tenant)
    assert re.fullmatch(r"INV-\d{4}-00001", issued["number"])
    assert patch_org(client, tenant, number_format="B-{YYYY}-{SEQ}").status_code == 200
    stored = client.get(f"/v1/invoices/{issued['id']}", headers=tenant.headers).json()
    assert stored["number"] == issued["number"]
    next_number = finalize_new_invoice(client, tenant)["number"]
    assert next_number == f"B-{datetime.now(UTC):%Y}-2"


def test_finalized_invoice_keeps_seller_details_from_its_finalization(
    client: TestClient, tenant: Tenant
) -> None:
    issued = finalize_new_invoice(client, tenant)
    assert patch_org(client, tenant, legal_name="Renamed GmbH", city="Hamburg").status_code == 200
    after = client.get(f"/v1/invoices/{issued['id']}", headers=tenant.headers).json()
    assert after["seller"]["legal_name"] == "Seller GmbH"
    assert after["seller"]["city"] == "Berlin"
    assert finalize_new_invoice(client, tenant)["seller"]["legal_name"] == "Renamed GmbH"


def test_default_currency_applies_to_new_invoices(client: TestClient, tenant: Tenant) -> None:
    assert patch_org(client, tenant, default_currency="CHF").status_code == 200
    customer = create_customer(client, tenant.headers, currency=None)
    invoice = create_invoice(client, tenant.headers, customer["id"])
    assert invoice["currency"] == "CHF"


def test_payment_terms_set_the_due_date_at_finalization(client: TestClient, tenant: Tenant) -> None:
    assert patch_org(client, tenant, payment_terms_days=10).status_code == 200
    issued = finalize_new_invoice(client, tenant)
    issue = datetime.fromisoformat(issued["issue_date"])
    due = datetime.fromisoformat(issued["due_date"])
    assert (due - issue).days == 10
    assert issued["payment_terms_days"] == 10
