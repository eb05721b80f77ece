"""The number an issuing request answers is the number it stored, in the row and in the response
stored for its Idempotency-Key; a refused request takes no number."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from factories import create_customer, line
from faktur.db import session_scope
from faktur.models import IdempotencyKey, Invoice


def _stored(session_factory, organisation_id):
    with session_scope(session_factory) as session:
        return {
            str(i.id): i.number
            for i in session.execute(
                select(Invoice).where(Invoice.organisation_id == organisation_id)
            ).scalars()
        }


def test_create_and_finalize_answer_the_number_they_stored(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    year = datetime.now(UTC).year
    issued = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line()], "finalize": True},
        headers=tenant.headers,
    )
    draft = client.post(
        "/v1/invoices", json={"customer_id": customer["id"], "lines": [line()]}, headers=tenant.headers
    )
    finalized = client.post(f"/v1/invoices/{draft.json()['id']}/finalize", headers=tenant.headers)
    assert issued.status_code == 201 and finalized.status_code == 200, (issued.text, finalized.text)
    assert issued.json()["number"] == f"INV-{year}-00001"
    assert finalized.json()["number"] == f"INV-{year}-00002"
    assert int(issued.headers["content-length"]) == len(issued.content)
    assert _stored(session_factory, tenant.organisation_id) == {
        issued.json()["id"]: f"INV-{year}-00001",
        draft.json()["id"]: f"INV-{year}-00002",
    }


def test_the_stored_idempotent_response_carries_the_number(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    headers = {**tenant.headers, "Idempotency-Key": "decided-last"}
    body = {"customer_id": customer["id"], "lines": [line()], "finalize": True}
    first = client.post("/v1/invoices", json=body, headers=headers)
    replay = client.post("/v1/invoices", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.content == first.content
    with session_scope(session_factory) as session:
        stored = session.execute(select(IdempotencyKey.response_body)).scalar_one()
    assert json.loads(stored)["number"] == first.json()["number"] == f"INV-{datetime.now(UTC).year}-00001"


def test_a_failed_request_decides_nothing(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    draft = client.post(
        "/v1/invoices", json={"customer_id": customer["id"], "lines": [line()]}, headers=tenant.headers
    )
    bad = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line()], "finalize": True, "due_date": "1999-01-01"},
        headers=tenant.headers,
    )
    assert bad.status_code == 422
    finalized = client.post(f"/v1/invoices/{draft.json()['id']}/finalize", headers=tenant.headers)
    assert finalized.json()["number"] == f"INV-{datetime.now(UTC).year}-00001"
