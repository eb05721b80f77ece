"""Exactly once under concurrency: gathers racing over the same pending items, from threads
against a real server and from separate OS processes, attach each item to one live invoice,
create each (customer) invoice once and never fail (PostgreSQL)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests_clock import NOW

from faktur.context import Actor
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import session_scope
from faktur.invoice_items import service
from faktur.invoice_items.schemas import InvoiceItemCreate
from faktur.models import Invoice, InvoiceLine, Organisation

pytestmark = pytest.mark.postgres_only

CUSTOMERS = 12
ITEMS_PER_CUSTOMER = 4


def _seed(session_factory, organisation_id: uuid.UUID) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Customer id -> its pending item ids."""
    items: dict[uuid.UUID, list[uuid.UUID]] = {}
    with session_scope(session_factory) as session:
        actor = Actor(session.get(Organisation, organisation_id), "test")
        for c in range(CUSTOMERS):
            customer = customers.create_customer(session, organisation_id, CustomerCreate(name=f"C{c}"), NOW)
            items[customer.id] = [
                service.create_item(
                    session,
                    actor,
                    InvoiceItemCreate.model_validate(
                        {
                            "customer_id": str(customer.id),
                            "description": f"charge {k}",
                            "unit_price": "10.00",
                            "tax": {"category": "S", "percent": "19"},
                        }
                    ),
                    NOW,
                ).item.id
                for k in range(ITEMS_PER_CUSTOMER)
            ]
    return items


def _assert_each_item_on_one_live_invoice(session_factory, items: dict[uuid.UUID, list[uuid.UUID]]) -> None:
    all_items = {i for ids in items.values() for i in ids}
    with session_scope(session_factory) as session:
        lines = session.execute(
            select(InvoiceLine.source_id, InvoiceLine.invoice_id).where(
                InvoiceLine.source_kind == "invoice_item", InvoiceLine.live.is_(True)
            )
        ).all()
        invoices = session.execute(select(Invoice.id, Invoice.customer_id)).all()
    assert Counter(source for source, _ in lines) == Counter(all_items)  # each exactly once
    owner = dict(invoices)
    for source, invoice_id in lines:
        assert source in items[owner[invoice_id]]  # no invoice mixes customers


def test_eight_threads_gathering_the_whole_organisation_create_each_invoice_once(
    client, tenant, live_server, session_factory
) -> None:
    items = _seed(session_factory, tenant.organisation_id)
    barrier = threading.Barrier(8)
    responses: list[httpx.Response] = []

    def run() -> None:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as http:
            barrier.wait()
            responses.append(http.post("/v1/invoice-items/invoice", json={"finalize": True}))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [r.text for r in responses]
    created = [inv for r in responses for inv in r.json()["invoices"]]
    assert len(created) == CUSTOMERS  # one invoice per customer, created once
    assert sorted(inv["number"][-5:] for inv in created) == [f"{n:05d}" for n in range(1, CUSTOMERS + 1)]
    _assert_each_item_on_one_live_invoice(session_factory, items)


def test_threads_gathering_overlapping_id_lists_attach_each_item_once(
    client, tenant, live_server, session_factory
) -> None:
    items = _seed(session_factory, tenant.organisation_id)
    all_ids = [str(i) for ids in items.values() for i in ids]
    rng = random.Random(4)
    subsets = [rng.sample(all_ids, len(all_ids) // 2) for _ in range(7)] + [all_ids]
    barrier = threading.Barrier(len(subsets))
    responses: list[httpx.Response] = []

    def run(ids: list[str]) -> None:
        with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=120) as http:
            barrier.wait()
            responses.append(http.post("/v1/invoice-items/invoice", json={"item_ids": ids}))

    threads = [threading.Thread(target=run, args=(ids,)) for ids in subsets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    billed = [
        line["source"]["id"] for r in responses for inv in r.json()["invoices"] for line in inv["lines"]
    ]
    skipped = [s["item_id"] for r in responses for s in r.json()["skipped"]]
    assert sorted(billed) == sorted(all_ids)  # each item billed by exactly one response
    assert len(billed) + len(skipped) == sum(len(ids) for ids in subsets)  # the rest reported as skipped
    _assert_each_item_on_one_live_invoice(session_factory, items)


def test_four_processes_gathering_at_once_create_each_invoice_once(
    tenant, session_factory, database_url
) -> None:
    items = _seed(session_factory, tenant.organisation_id)
    all_ids = [str(i) for ids in items.values() for i in ids]
    worker = Path(__file__).with_name("gather_worker.py")
    # Two processes gather the whole organisation, two gather overlapping halves by id.
    arguments = [[], [], all_ids[: len(all_ids) * 2 // 3], all_ids[len(all_ids) // 3 :]]
    processes = [
        subprocess.Popen(
            [sys.executable, str(worker), database_url, str(tenant.organisation_id), *ids],
            stdout=subprocess.PIPE,
            text=True,
        )
        for ids in arguments
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0]
    reports = [json.loads(out) for out in outputs]
    created = [invoice for report in reports for invoice in report["invoices"]]
    assert len(created) == len(set(created))
    with session_scope(session_factory) as session:
        stored = session.execute(select(Invoice.id, Invoice.number)).all()
    assert sorted(str(i) for i, _ in stored) == sorted(created)
    assert sorted(n[-5:] for _, n in stored) == [f"{k:05d}" for k in range(1, len(stored) + 1)]
    _assert_each_item_on_one_live_invoice(session_factory, items)
