"""Credit notes e-mailed on issue, under the e-mail on finalization setting (the organisation's
email_on_finalize, a customer's own wins): the outbox loop reads the committed credit_note.issued
events and queues the send that POST /v1/credit-notes/{id}/send would with no body; delivered
through a real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL. Exactly once: after
further passes, after a pass that died, and with two loops at once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import false, func, select

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from faktur.models import Event, InvoiceSend
from faktur.sending.service import queue_finalized_sends
from sending.smtp_server import SmtpServer
from sending.test_send_credit_note import credited, partial, send, sends
from sending.test_send_email import attachments
from sending.test_send_on_finalization import SELLER, deliver_with_two_loops, drain, race_two_queueing_loops

ON = {**SELLER, "email_on_finalize": True}


def organisation(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    assert client.patch("/v1/organisation", json=body, headers=tenant.headers).status_code == 200


def invoice_of(client: TestClient, tenant: Tenant, **customer: Any) -> dict[str, Any]:
    buyer = create_customer(client, tenant.headers, **customer)
    lines = [line("Beratung", "10", "50.00")]  # room for several partial credit notes
    return create_invoice(client, tenant.headers, buyer["id"], lines=lines, finalize=True)


def credit_note_sends(session_factory: Any) -> Counter[uuid.UUID]:
    """Automatic sends per credit note (manual ones have the trigger request)."""
    with session_scope(session_factory) as session:
        stmt = select(InvoiceSend.credit_note_id).where(
            InvoiceSend.credit_note_id.is_not(None), InvoiceSend.trigger == "finalized"
        )
        return Counter(session.scalars(stmt).all())


def unchecked(session_factory: Any) -> int:
    with session_scope(session_factory) as session:
        stmt = select(func.count()).where(
            Event.type.in_(("invoice.finalized", "credit_note.issued")), Event.email_checked == false()
        )
        return int(session.execute(stmt).scalar_one())


def received_by(smtp: SmtpServer, address: str) -> list[str]:
    """The subjects of the messages `address` received, in order."""
    return [r.message["Subject"].strip() for r in smtp.received if r.recipients == [address]]


def test_an_issued_credit_note_arrives_once_as_a_manual_send_would_carry_it(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, ON)
    invoice = invoice_of(mail_client, tenant, email="ap@acme.example", name="Acme Ltd")
    drain(mail_app, session_factory)
    [sent_invoice] = received_by(smtp, "ap@acme.example")
    assert invoice["number"] in sent_invoice

    note = partial(mail_client, tenant, invoice)
    assert len(smtp.received) == 1  # nothing from inside the request
    drain(mail_app, session_factory)
    drain(mail_app, session_factory)  # a second loop finds nothing more to queue or send
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(note["id"]): 1})
    assert unchecked(session_factory) == 0
    [_, automatic] = smtp.received
    subject = f"Rechnungskorrektur {note['number']} zur Rechnung {invoice['number']} von Seller GmbH"
    assert automatic.recipients == ["ap@acme.example"] and automatic.message["Cc"] is None
    assert automatic.message["Subject"].strip() == subject
    pdf = mail_client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=tenant.headers).content
    assert pdf.startswith(b"%PDF")
    assert attachments(automatic.message) == {f"{note['number']}.pdf": pdf}

    # The same credit note sent by hand with no body: the same recipients, subject, text and bytes.
    assert send(mail_client, tenant, note).status_code == 202
    drain(mail_app, session_factory)
    [_, _, manual] = smtp.received
    assert manual.recipients == automatic.recipients
    assert manual.message["Subject"] == automatic.message["Subject"]
    text = automatic.message.get_body(("plain",)).get_content()
    assert text == manual.message.get_body(("plain",)).get_content()
    assert attachments(manual.message) == attachments(automatic.message)
    recorded = sends(mail_client, tenant, note)
    assert [(s["trigger"], s["status"], s["to"], s["cc"]) for s in recorded] == [
        ("finalized", "sent", ["ap@acme.example"], []),
        ("request", "sent", ["ap@acme.example"], []),
    ]
    assert recorded[0]["attachments"] == recorded[1]["attachments"]
    assert recorded[0]["message_id"] == automatic.message["Message-ID"]
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(note["id"]): 1})


def test_voiding_an_invoice_the_customer_was_sent_emails_its_cancellation(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, ON)
    invoice = invoice_of(mail_client, tenant, email="ap@kunde.example", locale="de")
    drain(mail_app, session_factory)
    voided = mail_client.post(f"/v1/invoices/{invoice['id']}/void", headers=tenant.headers)
    assert voided.status_code == 200, voided.text
    [note] = voided.json()["credit_notes"]
    drain(mail_app, session_factory)
    drain(mail_app, session_factory)
    [sent_invoice, cancellation] = received_by(smtp, "ap@kunde.example")
    assert invoice["number"] in sent_invoice
    assert cancellation == f"Stornorechnung {note['number']} zur Rechnung {invoice['number']} von Seller GmbH"
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(note["id"]): 1})


def test_a_customers_own_setting_wins_and_a_customer_without_address_is_skipped(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, ON)
    opted_out = invoice_of(mail_client, tenant, email="no@kunde.example", email_on_finalize=False)
    no_address = invoice_of(mail_client, tenant, email=None)
    follows = invoice_of(mail_client, tenant, email="yes@kunde.example")
    drain(mail_app, session_factory)
    notes = [partial(mail_client, tenant, invoice) for invoice in (opted_out, no_address, follows)]
    drain(mail_app, session_factory)
    assert [r.recipients for r in smtp.received] == [["yes@kunde.example"], ["yes@kunde.example"]]
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(notes[2]["id"]): 1})

    # The organisation's setting off: a customer's own true still has its credit notes sent.
    organisation(mail_client, tenant, {"email_on_finalize": False})
    opted_in = invoice_of(mail_client, tenant, email="in@kunde.example", email_on_finalize=True)
    drain(mail_app, session_factory)
    note = credited(mail_client, tenant, opted_in)
    drain(mail_app, session_factory)
    assert len(received_by(smtp, "in@kunde.example")) == 2
    assert credit_note_sends(session_factory)[uuid.UUID(note["id"])] == 1
    assert unchecked(session_factory) == 0


def test_with_the_setting_off_no_credit_note_is_sent(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, SELLER)  # email_on_finalize stays false
    invoices = [invoice_of(mail_client, tenant, email=f"c{n}@kunde.example") for n in range(2)]
    partial(mail_client, tenant, invoices[0])
    assert (
        mail_client.post(f"/v1/invoices/{invoices[1]['id']}/void", headers=tenant.headers).status_code == 200
    )
    # One customer of the same organisation asks for its documents: only its credit note goes.
    wants = invoice_of(mail_client, tenant, email="wants@kunde.example", email_on_finalize=True)
    drain(mail_app, session_factory)  # the invoice goes before its credit note exists
    note = partial(mail_client, tenant, wants)
    drain(mail_app, session_factory)
    assert [r.recipients for r in smtp.received] == [["wants@kunde.example"]] * 2
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(note["id"]): 1})
    assert unchecked(session_factory) == 0  # every event was looked at, once


def test_a_pass_that_dies_before_its_commit_leaves_the_credit_notes_to_the_next(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, ON)
    invoice = invoice_of(mail_client, tenant, email="ap@kunde.example")
    drain(mail_app, session_factory)
    notes = [partial(mail_client, tenant, invoice) for _ in range(3)]

    class Died(Exception):
        pass

    with pytest.raises(Died), session_scope(session_factory) as session:
        assert queue_finalized_sends(session, datetime.now(UTC), smtp_from=None) == 3
        raise Died()  # the process died after queuing, before COMMIT
    assert credit_note_sends(session_factory) == Counter()
    assert unchecked(session_factory) == 3

    drain(mail_app, session_factory)
    drain(mail_app, session_factory)
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(n["id"]): 1 for n in notes})
    assert len(received_by(smtp, "ap@kunde.example")) == 1 + 3


@pytest.mark.postgres_only
def test_two_loops_at_once_queue_and_send_each_credit_note_once(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    organisation(mail_client, tenant, ON)
    invoices = [invoice_of(mail_client, tenant, email=f"c{n}@kunde.example") for n in range(4)]
    drain(mail_app, session_factory)
    assert len(smtp.received) == 4
    notes = [partial(mail_client, tenant, invoices[n % 4]) for n in range(16)]
    assert race_two_queueing_loops(session_factory) == 16
    assert credit_note_sends(session_factory) == Counter({uuid.UUID(n["id"]): 1 for n in notes})

    deliver_with_two_loops(mail_app, session_factory)
    assert Counter(r.recipients[0] for r in smtp.received) == Counter(
        {f"c{n}@kunde.example": 1 + 4 for n in range(4)}
    )
    assert len({r.message["Message-ID"] for r in smtp.received}) == 4 + 16
