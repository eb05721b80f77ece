"""E-mailing credit notes through a real SMTP server on loopback (aiosmtpd), on SQLite and
PostgreSQL: recipients, the localized subject and body naming the credit note and the invoice it
corrects, the stored credit-note documents attached byte for byte, retries, tenant isolation, bad
input, and nothing for a rolled-back request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant
from faktur.db import session_scope
from faktur.models import InvoiceSend
from sending.smtp_server import SmtpServer
from sending.test_delivery_bad_input import GARBAGE_SEND_BODIES
from sending.test_send_email import attachments, deliver, issued

WIDGETS = [{"description": "Widget", "quantity": "10", "unit_price": "10.00", "tax_rate": "19"}]


def credited(client: TestClient, tenant: Tenant, invoice: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def partial(client: TestClient, tenant: Tenant, invoice: dict[str, Any]) -> dict[str, Any]:
    [first] = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()["lines"]
    return credited(client, tenant, invoice, lines=[{"invoice_line_id": first["id"], "quantity": "1"}])


def send(client: TestClient, tenant: Tenant, note: dict[str, Any], body: Any = None) -> Any:
    return client.post(f"/v1/credit-notes/{note['id']}/send", json=body, headers=tenant.headers)


def sends(client: TestClient, tenant: Tenant, note: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/v1/credit-notes/{note['id']}/sends", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def send_count(session_factory: Any) -> int:
    with session_scope(session_factory) as session:
        return session.scalar(select(func.count()).select_from(InvoiceSend)) or 0


def test_a_partial_credit_note_arrives_in_german_with_its_stored_pdf_and_xrechnung(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    invoice = issued(
        mail_client,
        tenant,
        locale="de",
        einvoice_profile="xrechnung",
        buyer_reference="04011000-12345-34",
        electronic_address="ap@kunde.example",
        electronic_address_scheme="EM",
    )
    note = partial(mail_client, tenant, invoice)
    assert note["full_cancellation"] is False
    response = send(mail_client, tenant, note, {"to": ["ap@kunde.example"], "cc": ["steuer@berater.example"]})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["credit_note_id"], queued["invoice_id"]) == ("queued", note["id"], None)
    assert smtp.received == []  # nothing is sent from inside the request

    assert deliver(mail_app, session_factory) == 1
    [received] = smtp.received
    assert received.recipients == ["ap@kunde.example", "steuer@berater.example"]
    message = received.message
    assert message["Cc"] == "steuer@berater.example"
    # Python folds a subject over 78 characters onto the next line; the parser keeps its leading blank.
    assert message["Subject"].strip() == (
        f"Rechnungskorrektur {note['number']} zur Rechnung {invoice['number']} von Seller GmbH"
    )
    body = message.get_body(("plain",)).get_content()
    assert f"anbei erhalten Sie die Rechnungskorrektur {note['number']} über 59,50" in body
    assert f"zur Rechnung {invoice['number']}" in body

    pdf = mail_client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=tenant.headers).content
    xml = mail_client.get(
        f"/v1/credit-notes/{note['id']}/ubl?profile=xrechnung", headers=tenant.headers
    ).content
    assert pdf.startswith(b"%PDF") and b"<CreditNote" in xml
    assert attachments(message) == {f"{note['number']}.pdf": pdf, f"{note['number']}.xml": xml}

    [recorded] = sends(mail_client, tenant, note)
    assert recorded["status"] == "sent" and recorded["attempts"] == 1
    assert recorded["server_answer"] == "250 2.0.0 Ok: queued as 4711"
    assert recorded["message_id"] == message["Message-ID"]
    assert recorded["subject"] == message["Subject"].strip()
    assert [a["kind"] for a in recorded["attachments"]] == ["facturx", "ubl"]
    # The invoice's own list holds the invoice's sends only.
    assert mail_client.get(f"/v1/invoices/{invoice['id']}/sends", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    ("locale", "subject", "body"),
    [
        (
            "de",
            "Stornorechnung {note} zur Rechnung {invoice} von Seller GmbH",
            "die Stornorechnung {note} über",
        ),
        ("fr", "Avoir {note} sur la facture {invoice} de Seller GmbH", "l'avoir {note} d'un montant de"),
        (
            "en",
            "Credit note {note} for invoice {invoice} from Seller GmbH",
            "credit note {note} over €119.00",
        ),
    ],
)
def test_a_full_cancellation_to_the_customers_address_in_their_language(
    mail_app: FastAPI,
    mail_client: TestClient,
    tenant: Tenant,
    smtp: SmtpServer,
    session_factory: Any,
    locale: str,
    subject: str,
    body: str,
) -> None:
    invoice = issued(mail_client, tenant, locale=locale, email="ap@acme.example", name="Acme Ltd")
    note = credited(mail_client, tenant, invoice)
    assert note["full_cancellation"] is True
    assert send(mail_client, tenant, note).status_code == 202
    deliver(mail_app, session_factory)
    [received] = smtp.received
    assert received.recipients == ["ap@acme.example"]
    assert received.message["Subject"].strip() == subject.format(
        note=note["number"], invoice=invoice["number"]
    )
    text = received.message.get_body(("plain",)).get_content()
    assert body.format(note=note["number"]) in text and invoice["number"] in text and "Acme Ltd" in text
    pdf = mail_client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=tenant.headers).content
    assert attachments(received.message) == {f"{note['number']}.pdf": pdf}


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    smtp.handler.refusals.append("451 4.3.0 Try again later")
    invoice = issued(mail_client, tenant, email="ap@acme.example")
    note = partial(mail_client, tenant, invoice)
    assert send(mail_client, tenant, note).status_code == 202
    now = datetime.now(UTC)
    assert deliver(mail_app, session_factory, now) == 1
    [recorded] = sends(mail_client, tenant, note)
    assert (recorded["status"], recorded["server_answer"]) == ("queued", "451 4.3.0 Try again later")
    assert deliver(mail_app, session_factory, now + timedelta(minutes=2)) == 1
    [recorded] = sends(mail_client, tenant, note)
    assert recorded["status"] == "sent" and recorded["attempts"] == 2
    assert len(smtp.received) == 1

    smtp.handler.refusals.append("550 5.1.1 Mailbox unavailable")
    assert send(mail_client, tenant, note, {"to": ["gone@acme.example"]}).status_code == 202
    assert deliver(mail_app, session_factory, now + timedelta(minutes=3)) == 1
    failed = sends(mail_client, tenant, note)[1]
    assert (failed["status"], failed["server_answer"]) == ("failed", "550 5.1.1 Mailbox unavailable")
    assert len(smtp.received) == 1


def test_a_rolled_back_request_sends_nothing(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    # The send row is written, then the credit note's XRechnung cannot be rendered (no Leitweg-ID):
    # the request answers 422 and its transaction, send row included, is rolled back.
    invoice = issued(mail_client, tenant, email="ap@acme.example", einvoice_profile="xrechnung")
    note = partial(mail_client, tenant, invoice)
    response = send(mail_client, tenant, note)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "document_data_missing"
    assert sends(mail_client, tenant, note) == []
    assert send_count(session_factory) == 0
    assert deliver(mail_app, session_factory, datetime.now(UTC) + timedelta(days=1)) == 0
    assert smtp.received == []


def test_refusals_without_smtp_or_recipient(
    client: TestClient, mail_client: TestClient, tenant: Tenant, session_factory: Any
) -> None:
    invoice = issued(mail_client, tenant, email=None)  # the customer has no e-mail address
    note = partial(mail_client, tenant, invoice)
    without_smtp = send(client, tenant, note)
    assert without_smtp.status_code == 409
    assert without_smtp.json()["error"]["code"] == "email_not_configured"
    missing = send(mail_client, tenant, note)
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "email_recipient_missing"
    assert send_count(session_factory) == 0


@pytest.mark.parametrize(
    ("body", "field"), [row[1:] for row in GARBAGE_SEND_BODIES], ids=[r[0] for r in GARBAGE_SEND_BODIES]
)
def test_garbage_bodies_are_422_and_store_nothing(
    mail_client: TestClient, tenant: Tenant, session_factory: Any, body: Any, field: str
) -> None:
    note = partial(mail_client, tenant, issued(mail_client, tenant, email="ap@acme.example"))
    response = send(mail_client, tenant, note, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert send_count(session_factory) == 0


def test_another_organisations_credit_note_is_404_and_unknown_ids_4xx(
    mail_client: TestClient, tenant: Tenant, other_tenant: Tenant, session_factory: Any
) -> None:
    note = partial(mail_client, tenant, issued(mail_client, tenant, email="ap@acme.example"))
    assert (
        mail_client.patch(
            "/v1/organisation", json={"email": "billing@other.example"}, headers=other_tenant.headers
        ).status_code
        == 200
    )
    foreign = send(mail_client, other_tenant, note, {"to": ["x@other.example"]})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "credit_note_not_found"
    listed = mail_client.get(f"/v1/credit-notes/{note['id']}/sends", headers=other_tenant.headers)
    assert listed.status_code == 404
    assert send(mail_client, tenant, {"id": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert send(mail_client, tenant, {"id": "not-a-uuid"}).status_code == 422
    assert send_count(session_factory) == 0
