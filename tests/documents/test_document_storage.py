"""Stored documents: rendered once per (invoice, kind, profile), kept with their SHA-256, served as kept."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from document_api import complete_seller, issued_invoice
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from conftest import Tenant
from faktur.db import session_scope
from faktur.documents import service
from faktur.documents.profiles import Profile, Syntax
from faktur.documents.snapshots_from_invoice import StoredTotalsMismatch
from faktur.models import Invoice, InvoiceDocument


@pytest.fixture
def seller(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(client, tenant.headers)
    return tenant


def _rows(session_factory, invoice_id: str) -> list[InvoiceDocument]:
    with session_scope(session_factory) as session:
        stmt = select(InvoiceDocument).where(InvoiceDocument.invoice_id == uuid.UUID(invoice_id))
        return list(session.execute(stmt.order_by(InvoiceDocument.kind, InvoiceDocument.profile)).scalars())


def test_each_document_is_stored_once_with_its_sha256(
    client: TestClient, seller: Tenant, session_factory
) -> None:
    invoice = issued_invoice(client, seller.headers)
    served = {}
    for _ in range(2):
        for path, params in (("ubl", {}), ("cii", {}), ("pdf", {}), ("pdf", {"embed": "false"})):
            response = client.get(
                f"/v1/invoices/{invoice['id']}/{path}", params=params, headers=seller.headers
            )
            assert response.status_code == 200
            served[(path, tuple(params.items()))] = response
    rows = _rows(session_factory, invoice["id"])
    # The Factur-X PDF reuses the stored CII, so four rows, not five.
    assert [(r.kind, r.profile) for r in rows] == [
        ("cii", "en16931"),
        ("facturx", "en16931"),
        ("pdf", "none"),
        ("ubl", "en16931"),
    ]
    for row in rows:
        assert row.sha256 == hashlib.sha256(row.content).hexdigest()
        assert row.organisation_id == seller.organisation_id
    by_kind = {r.kind: r for r in rows}
    assert served[("ubl", ())].content == by_kind["ubl"].content
    assert served[("ubl", ())].headers["etag"] == f'"{by_kind["ubl"].sha256}"'
    assert by_kind["ubl"].content_type == "application/xml"
    assert served[("pdf", ())].content == by_kind["facturx"].content
    assert served[("pdf", (("embed", "false"),))].content == by_kind["pdf"].content
    assert by_kind["pdf"].content_type == "application/pdf"


def test_served_bytes_are_the_stored_bytes_not_a_new_render(
    client: TestClient,
    seller: Tenant,
    session_factory,
) -> None:
    """Whatever is stored is what every replica serves (here: a stored row written by 'another version')."""
    invoice = issued_invoice(client, seller.headers)
    assert client.get(f"/v1/invoices/{invoice['id']}/ubl", headers=seller.headers).status_code == 200
    legacy = b"<?xml version='1.0'?><Invoice>rendered by an older faktur</Invoice>"
    with session_scope(session_factory) as session:
        session.execute(
            update(InvoiceDocument)
            .where(InvoiceDocument.invoice_id == uuid.UUID(invoice["id"]), InvoiceDocument.kind == "ubl")
            .values(content=legacy, sha256=hashlib.sha256(legacy).hexdigest())
        )
    assert client.get(f"/v1/invoices/{invoice['id']}/ubl", headers=seller.headers).content == legacy


def test_altered_stored_bytes_are_refused(client: TestClient, seller: Tenant, session_factory) -> None:
    invoice = issued_invoice(client, seller.headers)
    assert client.get(f"/v1/invoices/{invoice['id']}/cii", headers=seller.headers).status_code == 200
    with session_scope(session_factory) as session:
        session.execute(
            update(InvoiceDocument)
            .where(InvoiceDocument.invoice_id == uuid.UUID(invoice["id"]))
            .values(content=b"tampered")
        )
    with session_scope(session_factory) as session, pytest.raises(service.StoredDocumentCorrupted):
        service.get_xml(
            session,
            seller.organisation_id,
            uuid.UUID(invoice["id"]),
            Syntax.CII,
            Profile.EN16931,
            datetime.now(UTC),
        )


def test_drafts_are_never_stored(client: TestClient, seller: Tenant, session_factory) -> None:
    invoice = issued_invoice(client, seller.headers, finalize=False)
    for _ in range(2):
        assert client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=seller.headers).status_code == 200
    assert _rows(session_factory, invoice["id"]) == []


def test_refused_documents_store_nothing(client: TestClient, seller: Tenant, session_factory) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"buyer_reference": None})
    for path in ("ubl", "cii", "pdf"):
        response = client.get(
            f"/v1/invoices/{invoice['id']}/{path}",
            params={"profile": "xrechnung", **({"embed": "true"} if path == "pdf" else {})},
            headers=seller.headers,
        )
        assert response.status_code == 422
    assert _rows(session_factory, invoice["id"]) == []


def test_stored_totals_that_the_engine_does_not_reproduce_stop_rendering(
    client: TestClient,
    seller: Tenant,
    session_factory,
) -> None:
    invoice = issued_invoice(client, seller.headers)
    with session_scope(session_factory) as session:
        session.execute(
            update(Invoice)
            .where(Invoice.id == uuid.UUID(invoice["id"]))
            .values(total_minor=Invoice.total_minor + 1)
        )
    with (
        session_scope(session_factory) as session,
        pytest.raises(StoredTotalsMismatch, match="total: stored"),
    ):
        service.get_xml(
            session,
            seller.organisation_id,
            uuid.UUID(invoice["id"]),
            Syntax.UBL,
            Profile.EN16931,
            datetime.now(UTC),
        )
    response = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=seller.headers)
    assert response.status_code == 500
    assert _rows(session_factory, invoice["id"]) == []


@pytest.mark.postgres_only
@pytest.mark.parametrize("path", ["ubl", "pdf"])
def test_concurrent_first_requests_store_one_row_and_serve_identical_bytes(
    live_server: str,
    client: TestClient,
    seller: Tenant,
    session_factory,
    path: str,
) -> None:
    invoice = issued_invoice(client, seller.headers)
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def fetch() -> None:
        with httpx.Client(base_url=live_server, headers=seller.headers, timeout=60) as http:
            barrier.wait()
            response = http.get(f"/v1/invoices/{invoice['id']}/{path}")
        with lock:
            results.append(response)

    threads = [threading.Thread(target=fetch) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in results] == [200] * workers
    assert len({r.content for r in results}) == 1
    rows = _rows(session_factory, invoice["id"])
    kinds = [r.kind for r in rows]
    assert sorted(kinds) == (["cii", "facturx"] if path == "pdf" else ["ubl"])
    served = results[0].content
    assert served == next(r.content for r in rows if r.kind in ("ubl", "facturx"))
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(InvoiceDocument)) == len(kinds)
