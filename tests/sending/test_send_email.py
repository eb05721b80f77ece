"""E-mailing invoices through a real SMTP server on loopback (aiosmtpd): what arrives, retries after
temporary refusals, failures on permanent ones, and nothing for a rolled-back request."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from faktur.sending.delivery import deliver_due_sends, delivery_config
from faktur.sending.service import queue_finalized_sends
from sending.smtp_server import PUBLIC_URL, SmtpServer

SELLER = {
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "email": "billing@seller.example",
    "contact_name": "Anna Roth",
    "phone": "+49 30 1234567",
    "electronic_address": "billing@seller.example",
    "electronic_address_scheme": "EM",
}


def deliver(app: FastAPI, session_factory: Any, at: datetime | None = None) -> int:
    """Queue what finalizations asked for (the outbox loop's first e-mail drain), then send what is due."""
    with session_scope(session_factory) as session:
        queue_finalized_sends(session, datetime.now(UTC), smtp_from=app.state.settings.smtp_from)
    config = delivery_config(app.state.settings)
    assert config is not None
    return deliver_due_sends(session_factory, config, (lambda: at) if at else lambda: datetime.now(UTC))


def issued(client: TestClient, tenant: Tenant, **customer: Any) -> dict[str, Any]:
    assert client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    buyer = create_customer(client, tenant.headers, **customer)
    return create_invoice(
        client, tenant.headers, buyer["id"], lines=[line("Beratung", "2", "50.00")], finalize=True
    )


def sends(client: TestClient, tenant: Tenant, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/v1/invoices/{invoice['id']}/sends", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename() or "": part.get_content() for part in message.iter_attachments()}


def test_the_email_arrives_with_recipients_subject_localized_body_and_the_stored_documents(
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
    response = mail_client.post(
        f"/v1/invoices/{invoice['id']}/send",
        json={"to": ["ap@kunde.example", "boss@kunde.example"], "cc": ["steuer@berater.example"]},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert smtp.received == []  # nothing is sent from inside the request

    assert deliver(mail_app, session_factory) == 1
    [received] = smtp.received
    assert received.recipients == ["ap@kunde.example", "boss@kunde.example", "steuer@berater.example"]
    assert received.mail_from == "invoices@seller.example"
    message = received.message
    assert message["To"] == "ap@kunde.example, boss@kunde.example"
    assert message["Cc"] == "steuer@berater.example"
    assert message["Subject"] == f"Rechnung {invoice['number']} von Seller GmbH"
    assert message["Reply-To"] == "billing@seller.example"
    body = message.get_body(("plain",)).get_content()
    assert "anbei erhalten Sie die Rechnung" in body and "119,00" in body
    assert invoice["hosted_url"].replace("http://testserver", PUBLIC_URL) in body

    pdf = mail_client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=tenant.headers).content
    xml = mail_client.get(
        f"/v1/invoices/{invoice['id']}/ubl?profile=xrechnung", headers=tenant.headers
    ).content
    assert attachments(message) == {f"{invoice['number']}.pdf": pdf, f"{invoice['number']}.xml": xml}

    [send] = sends(mail_client, tenant, invoice)
    assert send["status"] == "sent" and send["attempts"] == 1
    assert send["server_answer"] == "250 2.0.0 Ok: queued as 4711"
    assert send["message_id"] == message["Message-ID"]
    assert [a["kind"] for a in send["attachments"]] == ["facturx", "ubl"]


def test_the_customers_address_english_and_the_organisations_own_texts(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    invoice = issued(mail_client, tenant, locale="en", email="ap@acme.example", name="Acme Ltd")
    assert mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
    deliver(mail_app, session_factory)
    first = smtp.received[0].message
    assert first["Subject"] == f"Invoice {invoice['number']} from Seller GmbH"
    assert "please find attached invoice" in first.get_body(("plain",)).get_content()
    assert smtp.received[0].recipients == ["ap@acme.example"]

    texts = {
        "email_subject": "Your bill {{ number }}",
        "email_body": "Dear {{ customer }}, pay {{ amount_due }}.",
    }
    assert mail_client.patch("/v1/organisation", json=texts, headers=tenant.headers).status_code == 200
    assert mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
    deliver(mail_app, session_factory)
    second = smtp.received[1].message
    assert second["Subject"] == f"Your bill {invoice['number']}"
    assert second.get_body(("plain",)).get_content().strip() == "Dear Acme Ltd, pay €119.00."


def test_a_temporary_refusal_is_retried_and_the_email_sent_once(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    smtp.handler.refusals.append("451 4.3.0 Try again later")
    invoice = issued(mail_client, tenant)
    assert mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
    now = datetime.now(UTC)
    assert deliver(mail_app, session_factory, now) == 1
    [send] = sends(mail_client, tenant, invoice)
    assert send["status"] == "queued" and send["attempts"] == 1
    assert send["server_answer"] == "451 4.3.0 Try again later"
    assert smtp.received == []
    assert deliver(mail_app, session_factory, now + timedelta(seconds=30)) == 0  # not due yet
    assert deliver(mail_app, session_factory, now + timedelta(minutes=2)) == 1
    assert deliver(mail_app, session_factory, now + timedelta(days=3)) == 0
    assert len(smtp.received) == 1
    [send] = sends(mail_client, tenant, invoice)
    assert send["status"] == "sent" and send["attempts"] == 2 and send["sent_at"]


def test_a_permanent_refusal_fails_the_send_with_the_servers_answer(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    smtp.handler.refusals.append("550 5.1.1 Mailbox unavailable")
    invoice = issued(mail_client, tenant)
    assert mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
    now = datetime.now(UTC)
    assert deliver(mail_app, session_factory, now) == 1
    assert deliver(mail_app, session_factory, now + timedelta(days=3)) == 0
    [send] = sends(mail_client, tenant, invoice)
    assert send["status"] == "failed" and send["attempts"] == 1
    assert send["server_answer"] == "550 5.1.1 Mailbox unavailable"
    assert smtp.received == []


def test_a_rolled_back_request_sends_nothing(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    # The send row is written, then the customer's XRechnung cannot be rendered (no Leitweg-ID):
    # the request answers 422 and its transaction, send row included, is rolled back.
    invoice = issued(mail_client, tenant, einvoice_profile="xrechnung")
    response = mail_client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "document_data_missing"
    assert sends(mail_client, tenant, invoice) == []
    assert deliver(mail_app, session_factory, datetime.now(UTC) + timedelta(days=1)) == 0
    assert smtp.received == []


def test_without_smtp_sending_is_refused(client: TestClient, tenant: Tenant) -> None:
    buyer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, buyer["id"], finalize=True)
    response = client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_not_configured"
    assert "FAKTUR_SMTP_URL" in response.json()["error"]["message"]


def test_the_customer_setting_emails_on_finalization_with_the_real_number(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers)
    wants = create_customer(mail_client, tenant.headers, email="ap@wants.example", email_on_finalize=True)
    silent = create_customer(mail_client, tenant.headers, email="ap@silent.example")
    draft = create_invoice(mail_client, tenant.headers, wants["id"])
    finalized = mail_client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).json()
    create_invoice(mail_client, tenant.headers, silent["id"], finalize=True)
    deliver(mail_app, session_factory)
    [received] = smtp.received
    assert received.recipients == ["ap@wants.example"]
    assert finalized["number"] in received.message["Subject"] and "pending" not in received.message["Subject"]
    assert sends(mail_client, tenant, finalized)[0]["trigger"] == "finalized"


def test_the_organisation_setting_emails_on_finalization(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    mail_client.patch("/v1/organisation", json={**SELLER, "email_on_finalize": True}, headers=tenant.headers)
    opted_out = create_customer(mail_client, tenant.headers, email="ap@no.example", email_on_finalize=False)
    buyer = create_customer(mail_client, tenant.headers, email="ap@yes.example")
    create_invoice(mail_client, tenant.headers, buyer["id"], finalize=True)
    create_invoice(mail_client, tenant.headers, opted_out["id"], finalize=True)
    deliver(mail_app, session_factory)
    assert [r.recipients for r in smtp.received] == [["ap@yes.example"]]


def test_the_services_delivery_thread_sends_after_the_commit(
    mail_app: FastAPI, tenant: Tenant, smtp: SmtpServer
) -> None:
    with TestClient(mail_app, raise_server_exceptions=False) as client:
        invoice = issued(client, tenant)
        assert client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
        deadline = time.monotonic() + 20
        while sends(client, tenant, invoice)[0]["status"] == "queued":
            assert time.monotonic() < deadline, "the delivery thread sent nothing"
            time.sleep(0.1)
        assert sends(client, tenant, invoice)[0]["status"] == "sent"
    assert len(smtp.received) == 1


@pytest.mark.postgres_only
def test_concurrent_senders_send_each_email_once(
    backend: str,
    mail_app: FastAPI,
    mail_client: TestClient,
    tenant: Tenant,
    smtp: SmtpServer,
    session_factory: Any,
) -> None:
    invoice = issued(mail_client, tenant)
    for index in range(12):
        body = {"to": [f"r{index}@kunde.example"]}
        assert (
            mail_client.post(
                f"/v1/invoices/{invoice['id']}/send", json=body, headers=tenant.headers
            ).status_code
            == 202
        )
    config = delivery_config(mail_app.state.settings)
    assert config is not None
    barrier = threading.Barrier(3)

    def sender() -> None:
        barrier.wait()
        while deliver_due_sends(session_factory, config, limit=2):
            pass

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    recipients = sorted(r.recipients[0] for r in smtp.received)
    assert recipients == sorted(f"r{i}@kunde.example" for i in range(12))
    assert {s["status"] for s in sends(mail_client, tenant, invoice)} == {"sent"}
    assert {s["attempts"] for s in sends(mail_client, tenant, invoice)} == {1}
