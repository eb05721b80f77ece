"""Sending on finalization, whatever finalized the invoice: the outbox loop reads the committed
invoice.finalized events and queues one e-mail per invoice whose customer (or else organisation)
setting asks for it; delivered through a real SMTP server on loopback (aiosmtpd), on SQLite and
PostgreSQL. Exactly once: with two loops at once, and after a pass that died."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.billing import runs
from faktur.context import Actor
from faktur.db import session_scope
from faktur.invoices import service as invoices
from faktur.models import Event, InvoiceSend, Organisation
from faktur.outbox import OutboxLoop, make_drains
from faktur.sending.service import queue_finalized_sends
from invoice_items.item_factories import create_item, gather
from orders.order_factories import create_order, invoice_order
from recurring_factories import create_contract, flat
from sending.smtp_server import SmtpServer

SELLER = {
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "email": "billing@seller.example",
    "contact_name": "Anna Roth",
    "phone": "+49 30 1234567",
    "electronic_address": "billing@seller.example",
    "electronic_address_scheme": "EM",
}
ZENSKAR = "/compat/zenskar"
PATHS = ("create", "finalize", "billing_run", "order", "gather", "zenskar_approve")


def drain(app: FastAPI, session_factory: Any) -> int:
    """Run the service's outbox loop (every drain, as `faktur worker` and the service thread do)
    until a pass finds nothing; how much it did."""
    loop = OutboxLoop(make_drains(session_factory, app.state.settings), poll_seconds=0.1)
    done = 0
    try:
        while (found := loop.run_once().done) > 0:
            done += found
    finally:
        loop.stop()
    return done


def deliver_with_two_loops(app: FastAPI, session_factory) -> None:
    """Two full outbox loops (`drain`) deliver what is queued, at once."""
    start = threading.Barrier(2)

    def deliver() -> None:
        start.wait()
        drain(app, session_factory)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def race_two_queueing_loops(session_factory) -> int:
    """Two threads queue the e-mails of the unchecked events at once, in small passes, each
    holding its locks a moment (the other must skip them, not wait), until both find nothing;
    returns how many events they checked together."""
    barrier = threading.Barrier(2)
    checked: list[int] = []

    def loop() -> None:
        barrier.wait()
        while True:
            with session_scope(session_factory) as session:
                found = queue_finalized_sends(session, datetime.now(UTC), smtp_from=None, limit=2)
                time.sleep(0.01)
            if not found:
                return
            checked.append(found)

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sum(checked)


def sends_of(session_factory: Any) -> Counter[uuid.UUID]:
    with session_scope(session_factory) as session:
        rows = session.execute(select(InvoiceSend.invoice_id, InvoiceSend.trigger)).all()
    assert {trigger for _, trigger in rows} <= {"finalized"}
    return Counter(invoice_id for invoice_id, _ in rows)


def unchecked(session_factory: Any) -> int:
    with session_scope(session_factory) as session:
        stmt = select(func.count()).where(Event.type == "invoice.finalized", Event.email_checked.is_(False))
        return int(session.execute(stmt).scalar_one())


def finalize_by(path: str, client: TestClient, tenant: Tenant, session_factory: Any, customer: str) -> str:
    """Finalize one invoice of `customer` by `path`; its id."""
    headers = tenant.headers
    if path == "create":
        return str(create_invoice(client, headers, customer, lines=[line("Beratung")], finalize=True)["id"])
    if path == "finalize":
        draft = create_invoice(client, headers, customer, lines=[line("Beratung")])
        response = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=headers)
        assert response.status_code == 200, response.text
        return str(draft["id"])
    if path == "billing_run":
        create_contract(client, headers, [flat("100.00")], customer_id=customer, start_date="2024-01-01")
        now = datetime.now(UTC)
        with session_scope(session_factory) as session:
            run_id = runs.start_run(session, tenant.organisation_id, date(2024, 2, 15), now).id
        runs.run_in_process(session_factory, tenant.organisation_id, run_id, now)
        listed = client.get(f"/v1/invoices?customer_id={customer}", headers=headers).json()["data"]
        [invoice] = listed
        assert invoice["status"] == "open" and invoice["contract_id"]
        return str(invoice["id"])
    if path == "order":
        order = create_order(client, headers, customer)
        response = invoice_order(client, headers, order["id"], finalize=True)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])
    if path == "gather":
        create_item(client, headers, customer)
        response = gather(client, headers, customer_id=customer, finalize=True)
        assert response.status_code == 201, response.text
        [invoice] = response.json()["invoices"]
        return str(invoice["id"])
    if path == "zenskar_approve":
        contract = create_contract(
            client,
            headers,
            [flat()],
            customer_id=customer,
            billing_cycle_start_day=1,
            start_date="2024-01-01",
        )
        zk = {"x-api-key": tenant.api_key, "organisation": str(tenant.organisation_id)}
        body = {
            "customer_id": customer,
            "contract_id": contract["id"],
            "from_date": "2024-01-01T00:00:00Z",
            "to_date": "2024-02-01T00:00:00Z",
        }
        generated = client.post(f"{ZENSKAR}/invoices/generate_invoice", json=body, headers=zk)
        assert generated.status_code == 200, generated.text
        invoice_id = str(generated.json()["id"])
        approved = client.patch(f"{ZENSKAR}/invoices/{invoice_id}/approve", headers=zk)
        assert approved.status_code == 200, approved.text
        return invoice_id
    raise AssertionError(path)


def test_every_path_that_finalizes_emails_the_invoice_once_when_the_customer_asks(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    finalized: dict[str, tuple[str, str]] = {}
    for path in PATHS:
        address = f"ap-{path.replace('_', '-')}@kunde.example"
        customer = create_customer(mail_client, tenant.headers, email=address, email_on_finalize=True)["id"]
        finalized[path] = (finalize_by(path, mail_client, tenant, session_factory, customer), address)
    # Nothing is queued by the finalizing requests themselves: the loop does it after the commits.
    assert sends_of(session_factory) == Counter()

    drain(mail_app, session_factory)
    drain(mail_app, session_factory)  # a second loop pass finds nothing more to queue or send

    assert sends_of(session_factory) == Counter({uuid.UUID(i): 1 for i, _ in finalized.values()})
    assert sorted(r.recipients[0] for r in smtp.received) == sorted(a for _, a in finalized.values())
    assert all(len(r.recipients) == 1 for r in smtp.received)
    for invoice_id, address in finalized.values():
        number = mail_client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()["number"]
        [message] = [r.message for r in smtp.received if r.recipients == [address]]
        assert number and number in message["Subject"]
    assert unchecked(session_factory) == 0


def test_with_the_setting_off_nothing_is_sent_by_any_path(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    for path in PATHS:
        # The organisation's setting is off and the customer has none of its own.
        customer = create_customer(mail_client, tenant.headers, email=f"{path}@kunde.example")["id"]
        finalize_by(path, mail_client, tenant, session_factory, customer)
    drain(mail_app, session_factory)
    assert sends_of(session_factory) == Counter()
    assert smtp.received == []
    assert unchecked(session_factory) == 0  # every event was looked at, once

    # The organisation's setting on, a customer's own false wins; another customer gets it.
    organisation = {**SELLER, "email_on_finalize": True}
    assert mail_client.patch("/v1/organisation", json=organisation, headers=tenant.headers).status_code == 200
    opted_out = create_customer(
        mail_client, tenant.headers, email="no@kunde.example", email_on_finalize=False
    )
    no_address = create_customer(mail_client, tenant.headers, email=None)
    yes = create_customer(mail_client, tenant.headers, email="yes@kunde.example")
    for customer in (opted_out, no_address, yes):
        finalize_by("create", mail_client, tenant, session_factory, customer["id"])
    drain(mail_app, session_factory)
    assert [r.recipients for r in smtp.received] == [["yes@kunde.example"]]


def test_a_rolled_back_finalization_sends_nothing(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    customer = create_customer(mail_client, tenant.headers, email="ap@kunde.example", email_on_finalize=True)
    draft = create_invoice(mail_client, tenant.headers, customer["id"], lines=[line("Beratung")])

    class Abandoned(Exception):
        pass

    # The finalization writes its invoice.finalized event, then its transaction rolls back.
    with pytest.raises(Abandoned), session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        actor = Actor(organisation, "test")
        issued = invoices.finalize_invoice(session, actor, uuid.UUID(draft["id"]), datetime.now(UTC))
        assert issued.number
        written = select(func.count()).select_from(Event).where(Event.type == "invoice.finalized")
        assert session.execute(written).scalar_one() == 1
        raise Abandoned()
    drain(mail_app, session_factory)
    assert sends_of(session_factory) == Counter()
    assert smtp.received == []
    stored = mail_client.get(f"/v1/invoices/{draft['id']}", headers=tenant.headers).json()
    assert stored["status"] == "draft"

    # The same draft finalized for real is sent, once.
    assert mail_client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).status_code == 200
    drain(mail_app, session_factory)
    assert [r.recipients for r in smtp.received] == [["ap@kunde.example"]]


def test_a_pass_that_dies_before_its_commit_leaves_the_events_to_the_next(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    customer = create_customer(mail_client, tenant.headers, email="ap@kunde.example", email_on_finalize=True)
    ids = [finalize_by("create", mail_client, tenant, session_factory, customer["id"]) for _ in range(3)]

    class Died(Exception):
        pass

    with pytest.raises(Died), session_scope(session_factory) as session:
        assert queue_finalized_sends(session, datetime.now(UTC), smtp_from=None) == 3
        raise Died()  # the process died after queuing, before COMMIT
    assert sends_of(session_factory) == Counter()
    assert unchecked(session_factory) == 3

    drain(mail_app, session_factory)
    drain(mail_app, session_factory)
    assert sends_of(session_factory) == Counter({uuid.UUID(i): 1 for i in ids})
    assert len(smtp.received) == 3


def test_an_invoice_voided_before_the_loop_saw_it_is_not_sent(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    customer = create_customer(mail_client, tenant.headers, email="ap@kunde.example", email_on_finalize=True)
    invoice = finalize_by("create", mail_client, tenant, session_factory, customer["id"])
    # Voiding the issued invoice issues a credit note (credit_note.issued): as the invoice never
    # reached the customer, neither does the correction of it.
    voided = mail_client.post(f"/v1/invoices/{invoice}/void", headers=tenant.headers)
    assert voided.status_code == 200 and len(voided.json()["credit_notes"]) == 1
    drain(mail_app, session_factory)
    assert smtp.received == [] and unchecked(session_factory) == 0
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(InvoiceSend)) == 0


def test_the_services_loop_emails_an_invoice_finalized_by_a_billing_run(
    mail_app: FastAPI, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    with TestClient(mail_app, raise_server_exceptions=False) as client:  # its lifespan runs the loop
        assert client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
        customer = create_customer(client, tenant.headers, email="ap@kunde.example", email_on_finalize=True)
        finalize_by("billing_run", client, tenant, session_factory, customer["id"])
        deadline = time.monotonic() + 20
        while not smtp.received:
            assert time.monotonic() < deadline, "the service's outbox loop sent nothing"
            time.sleep(0.1)
    assert [r.recipients for r in smtp.received] == [["ap@kunde.example"]]


@pytest.mark.postgres_only
def test_two_loops_at_once_queue_and_send_each_invoice_once(
    mail_app: FastAPI, mail_client: TestClient, tenant: Tenant, smtp: SmtpServer, session_factory: Any
) -> None:
    assert mail_client.patch("/v1/organisation", json=SELLER, headers=tenant.headers).status_code == 200
    customers = [
        create_customer(mail_client, tenant.headers, email=f"c{n}@kunde.example", email_on_finalize=True)
        for n in range(4)
    ]
    ids = [
        finalize_by("create", mail_client, tenant, session_factory, customers[n % 4]["id"]) for n in range(24)
    ]
    assert race_two_queueing_loops(session_factory) == 24
    assert sends_of(session_factory) == Counter({uuid.UUID(i): 1 for i in ids})

    # Two full loops deliver them: each e-mail arrives once.
    deliver_with_two_loops(mail_app, session_factory)
    assert Counter(r.recipients[0] for r in smtp.received) == Counter(
        {f"c{n}@kunde.example": 6 for n in range(4)}
    )
    assert len({r.message["Message-ID"] for r in smtp.received}) == 24
