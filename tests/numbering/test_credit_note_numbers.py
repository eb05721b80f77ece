"""Credit notes have their own gapless number series per organisation, beside the invoices', in the
organisation's credit_note_number_format (default CN-{YYYY}-{SEQ:05}); proven under 32 threads on
PostgreSQL with rolled-back transactions among them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import Tenant
from faktur.db import session_scope
from faktur.models import NumberSeries, Organisation
from faktur.numbering.service import CREDIT_NOTE_SERIES, next_credit_note_number, next_invoice_number

TODAY = date(2026, 6, 15)


def _take(session_factory, organisation_id, issue_date: date = TODAY) -> str:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, organisation_id)
        return next_credit_note_number(session, organisation, issue_date)


def test_credit_notes_are_numbered_in_a_series_of_their_own(session_factory, tenant: Tenant) -> None:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        assert organisation.credit_note_number_format == "CN-{YYYY}-{SEQ:05}"
        assert next_invoice_number(session, organisation, TODAY) == "INV-2026-00001"
        assert next_credit_note_number(session, organisation, TODAY) == "CN-2026-00001"
        assert next_credit_note_number(session, organisation, TODAY) == "CN-2026-00002"
        assert next_invoice_number(session, organisation, TODAY) == "INV-2026-00002"


def test_a_rolled_back_credit_note_number_is_taken_again(session_factory, tenant: Tenant) -> None:
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00001"
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        assert next_credit_note_number(session, organisation, TODAY) == "CN-2026-00002"
        raise RuntimeError("the credit note failed after taking its number")
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00002"


def test_the_series_restarts_yearly_like_the_invoices(session_factory, tenant: Tenant) -> None:
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00001"
    assert _take(session_factory, tenant.organisation_id, date(2027, 1, 2)) == "CN-2027-00001"
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00002"


def test_each_organisation_has_its_own_series(session_factory, tenant: Tenant, other_tenant: Tenant) -> None:
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00001"
    assert _take(session_factory, other_tenant.organisation_id) == "CN-2026-00001"
    assert _take(session_factory, tenant.organisation_id) == "CN-2026-00002"


def test_the_format_is_set_with_patch_organisation(
    client: TestClient, session_factory, tenant: Tenant
) -> None:
    assert client.get("/v1/organisation", headers=tenant.headers).json()["credit_note_number_format"] == (
        "CN-{YYYY}-{SEQ:05}"
    )
    changed = client.patch(
        "/v1/organisation",
        json={"credit_note_number_format": "GS-{YYYY}{MM}-{SEQ:04}"},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["credit_note_number_format"] == "GS-{YYYY}{MM}-{SEQ:04}"
    assert _take(session_factory, tenant.organisation_id) == "GS-202606-0001"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"credit_note_number_format": "CN-{SEQ:05}-{SEQ}"}, "exactly one {SEQ}"),
        ({"credit_note_number_format": "CN-{YY}-{SEQ}"}, "yearly reset needs {YYYY}"),
        ({"credit_note_number_format": "CN-{DD}-{SEQ}"}, "unknown placeholder"),
        ({"credit_note_number_format": "CN-{YYYY}-{SEQ:05}}"}, "braces"),
        ({"credit_note_number_format": "INV-{YYYY}-{SEQ:05}"}, "overlaps the invoice number format"),
        (
            {"number_format": "{SEQ}", "number_reset": "never", "credit_note_number_format": "{SEQ:05}"},
            "overlaps",
        ),
        ({"number_format": "CN-{YYYY}-{SEQ:05}"}, "overlaps the invoice number format"),
    ],
)
def test_unusable_formats_are_refused(client: TestClient, tenant: Tenant, changes, reason: str) -> None:
    before = client.get("/v1/organisation", headers=tenant.headers).json()
    refused = client.patch("/v1/organisation", json=changes, headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_number_format"
    assert any(reason in detail["reason"] for detail in error["details"]), error
    assert client.get("/v1/organisation", headers=tenant.headers).json() == before


@pytest.mark.parametrize("value", [None, "", 5, "x" * 101])
def test_garbage_formats_are_422(client: TestClient, tenant: Tenant, value: object) -> None:
    refused = client.patch(
        "/v1/organisation", json={"credit_note_number_format": value}, headers=tenant.headers
    )
    assert refused.status_code == 422, refused.text


@pytest.mark.postgres_only
def test_32_threads_taking_credit_note_numbers_with_rollbacks_leave_no_gap(
    session_factory, tenant: Tenant
) -> None:
    committed: list[str] = []
    rolled_back: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        session = session_factory()
        try:
            organisation = session.get(Organisation, tenant.organisation_id)
            number = next_credit_note_number(session, organisation, TODAY)
            if n % 5 == 0:
                session.rollback()
                with lock:
                    rolled_back.append(number)
                return
            session.commit()
            with lock:
                committed.append(number)
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(attempt, range(200)))
    assert len(rolled_back) == 40
    assert sorted(committed) == [f"CN-2026-{n:05d}" for n in range(1, 161)]
    with session_scope(session_factory) as session:
        counter = session.execute(
            select(NumberSeries.next_value).where(
                NumberSeries.organisation_id == tenant.organisation_id,
                NumberSeries.series == CREDIT_NOTE_SERIES,
            )
        ).scalar_one()
    assert counter == 161
