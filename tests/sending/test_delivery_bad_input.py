"""Bad input and tenant isolation on the e-mail and hosted-page endpoints (SQLite and PostgreSQL):
4xx with a stable code, never a 500, nothing stored; another organisation's invoice is 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant
from factories import create_customer, create_invoice
from faktur.db import session_scope
from faktur.models import Invoice, InvoiceSend

GARBAGE_SEND_BODIES: list[tuple[str, Any, str]] = [
    ("to_not_a_list", {"to": "ap@kunde.example"}, "to"),
    ("to_empty", {"to": []}, "to"),
    ("to_not_an_address", {"to": ["not-an-address"]}, "to"),
    ("to_with_a_header_injection", {"to": ["a@b.example\r\nBcc: evil@attacker.example"]}, "to"),
    ("to_with_a_display_name", {"to": ["Eve <eve@attacker.example>"]}, "to"),
    ("to_with_two_addresses_in_one", {"to": ["a@b.example,c@d.example"]}, "to"),
    ("too_many_recipients", {"to": [f"r{i}@b.example" for i in range(21)]}, "to"),
    ("cc_number", {"cc": [1]}, "cc"),
    ("cc_null_address", {"cc": [None]}, "cc"),
    ("address_too_long", {"to": ["a" * 250 + "@b.example"]}, "to"),
    ("unknown_field", {"bcc": ["x@y.example"]}, "bcc"),
    ("body_a_list", ["ap@kunde.example"], ""),
]


def send_count(session_factory: Any) -> int:
    with session_scope(session_factory) as session:
        return session.scalar(select(func.count()).select_from(InvoiceSend)) or 0


@pytest.fixture
def issued(mail_client: TestClient, tenant: Tenant) -> dict[str, Any]:
    mail_client.patch("/v1/organisation", json={"email": "billing@seller.example"}, headers=tenant.headers)
    buyer = create_customer(mail_client, tenant.headers)
    return create_invoice(mail_client, tenant.headers, buyer["id"], finalize=True)


@pytest.mark.parametrize(
    ("body", "field"), [row[1:] for row in GARBAGE_SEND_BODIES], ids=[r[0] for r in GARBAGE_SEND_BODIES]
)
def test_garbage_send_bodies_are_422_naming_the_field_and_store_nothing(
    mail_client: TestClient,
    tenant: Tenant,
    issued: dict[str, Any],
    session_factory: Any,
    body: Any,
    field: str,
) -> None:
    response = mail_client.post(f"/v1/invoices/{issued['id']}/send", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    if field:
        assert any(field in detail["field"] for detail in error["details"]), error
    assert send_count(session_factory) == 0


def test_bytes_that_are_not_json_are_400_malformed_json(
    mail_client: TestClient, tenant: Tenant, issued: dict[str, Any]
) -> None:
    headers = {**tenant.headers, "content-type": "application/json"}
    response = mail_client.post(f"/v1/invoices/{issued['id']}/send", content=b"\xff{to:", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/invoices/{}/send"),
        ("GET", "/v1/invoices/{}/sends"),
        ("POST", "/v1/invoices/{}/hosted-link/rotate"),
    ],
)
@pytest.mark.parametrize("invoice_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "%00"])
def test_an_id_that_is_not_a_uuid_is_422(
    mail_client: TestClient, tenant: Tenant, method: str, path: str, invoice_id: str
) -> None:
    response = mail_client.request(method, path.format(invoice_id), headers=tenant.headers)
    assert response.status_code == 422, response.text


def test_a_draft_is_not_sent_and_has_no_link_to_rotate(
    mail_client: TestClient, tenant: Tenant, session_factory: Any
) -> None:
    buyer = create_customer(mail_client, tenant.headers)
    draft = create_invoice(mail_client, tenant.headers, buyer["id"])
    for path in (f"/v1/invoices/{draft['id']}/send", f"/v1/invoices/{draft['id']}/hosted-link/rotate"):
        response = mail_client.post(path, headers=tenant.headers)
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "invoice_not_final"
    assert send_count(session_factory) == 0


def test_a_customer_without_email_needs_to(
    mail_client: TestClient, tenant: Tenant, session_factory: Any
) -> None:
    mail_client.patch("/v1/organisation", json={"email": "billing@seller.example"}, headers=tenant.headers)
    buyer = create_customer(mail_client, tenant.headers, email=None)
    invoice = create_invoice(mail_client, tenant.headers, buyer["id"], finalize=True)
    response = mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "email_recipient_missing"
    assert send_count(session_factory) == 0
    ok = mail_client.post(
        f"/v1/invoices/{invoice['id']}/send", json={"to": ["x@y.example"]}, headers=tenant.headers
    )
    assert ok.status_code == 202 and ok.json()["to"] == ["x@y.example"]


@pytest.mark.parametrize(
    "template",
    ["{{ secret }}", "{% for %}", "{{ number.__class__ }}", "{{ number.nothing }}", "{{", "{{ config }}"],
)
@pytest.mark.parametrize("field", ["email_subject", "email_body"])
def test_organisation_templates_that_cannot_render_are_422(
    mail_client: TestClient, tenant: Tenant, field: str, template: str
) -> None:
    response = mail_client.patch("/v1/organisation", json={field: template}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"].endswith(field)
    assert mail_client.get("/v1/organisation", headers=tenant.headers).json()[field] is None


@pytest.mark.parametrize(
    "body",
    [
        {"email_on_finalize": None},
        {"email_on_finalize": "maybe"},
        {"email_subject": ""},
        {"email_subject": "x" * 301},
    ],
)
def test_organisation_email_settings_garbage_is_422(
    mail_client: TestClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    response = mail_client.patch("/v1/organisation", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "body", [{"einvoice_profile": "zugferd"}, {"einvoice_profile": 1}, {"email_on_finalize": "yes please"}]
)
def test_customer_delivery_settings_garbage_is_422(
    mail_client: TestClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    response = mail_client.post("/v1/customers", json={"name": "X", **body}, headers=tenant.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "token", ["x", "A" * 43, "A" * 101, "ü" * 43, "..%2F..%2Fetc", "%20", "a.b", "%EF%BF%BD" * 20]
)
@pytest.mark.parametrize("suffix", ["", "/pdf", "/xml"])
def test_hosted_garbage_tokens_are_the_not_found_page(
    mail_client: TestClient, tenant: Tenant, token: str, suffix: str
) -> None:
    response = mail_client.get(f"/hosted/invoices/{tenant.organisation_id}/{token}{suffix}")
    assert response.status_code in (404, 422), response.text
    assert response.status_code != 500


# Tenant isolation: with SMTP configured, another organisation's invoice is still "not found".
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/invoices/{}/send", None),
        ("POST", "/v1/invoices/{}/send", {"to": ["me@thief.example"]}),
        ("GET", "/v1/invoices/{}/sends", None),
        ("POST", "/v1/invoices/{}/hosted-link/rotate", None),
    ],
)
def test_another_organisations_invoice_is_404_and_nothing_changes(
    mail_client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,
    session_factory: Any,
    method: str,
    path: str,
    body: Any,
) -> None:
    mail_client.patch(
        "/v1/organisation", json={"email": "other@seller.example"}, headers=other_tenant.headers
    )
    theirs = create_customer(mail_client, other_tenant.headers)
    invoice = create_invoice(mail_client, other_tenant.headers, theirs["id"], finalize=True)
    before = invoice["hosted_url"]
    response = mail_client.request(method, path.format(invoice["id"]), json=body, headers=tenant.headers)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "invoice_not_found"
    assert send_count(session_factory) == 0
    after = mail_client.get(f"/v1/invoices/{invoice['id']}", headers=other_tenant.headers).json()[
        "hosted_url"
    ]
    assert after == before


def test_another_organisations_sends_are_not_listed(
    mail_client: TestClient, tenant: Tenant, other_tenant: Tenant, session_factory: Any
) -> None:
    mail_client.patch(
        "/v1/organisation", json={"email": "other@seller.example"}, headers=other_tenant.headers
    )
    theirs = create_customer(mail_client, other_tenant.headers)
    invoice = create_invoice(mail_client, other_tenant.headers, theirs["id"], finalize=True)
    assert (
        mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=other_tenant.headers).status_code
        == 202
    )
    assert mail_client.get(f"/v1/invoices/{invoice['id']}/sends", headers=tenant.headers).status_code == 404
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1
