"""Billing-run chunks write their invoices in one batch: when the database refuses the batch (an
invoice of the same period committed by someone else after the chunk read the live invoices), the
chunk is retried without that contract, recorded as a failure, and no number is skipped."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from faktur.billing import runs
from faktur.billing import service as billing
from faktur.db import session_scope
from faktur.models import BillingRunFailure, Invoice
from recurring_factories import create_contract, flat


def test_a_period_invoiced_concurrently_fails_its_contract_and_leaves_no_gap(
    client, tenant, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    raced, *others = [create_contract(client, tenant.headers, [flat("100.00")]) for _ in range(3)]
    first = client.post(
        f"/v1/contracts/{raced['id']}/invoices",
        json={"period_start": "2024-01-01", "period_end": "2024-02-01", "finalize": True},
        headers=tenant.headers,
    )
    assert first.status_code == 201, first.text

    real_load_states = billing.load_states

    def read_before_the_other_commit(session, organisation_id, contracts, until, periods=None, **options):
        # What a chunk sees when the other invoice commits right after it read the live invoices:
        # January looks due.
        states, metrics = real_load_states(session, organisation_id, contracts, until, periods, **options)
        raced_id = uuid.UUID(raced["id"])
        if raced_id not in states:
            return states, metrics  # the chunk retried without it
        contract = states[raced_id].contract
        january = billing.contract_period(contract, date(2024, 1, 1))
        unaware, _ = real_load_states(session, organisation_id, [contract], until, {raced_id: [january]})
        states[raced_id] = unaware[raced_id]
        states[raced_id].invoiced.clear()
        return states, metrics

    monkeypatch.setattr(billing, "load_states", read_before_the_other_commit)
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, tenant.organisation_id, date(2024, 2, 15), now).id
    runs.run_in_process(session_factory, tenant.organisation_id, run_id, now)

    with session_scope(session_factory) as session:
        run = runs.get_run(session, tenant.organisation_id, run_id)
        assert (run.status, run.invoices_created, run.failures_count) == ("completed", 2, 1)
        failures = session.execute(select(BillingRunFailure).where(BillingRunFailure.run_id == run_id))
        assert [(str(f.contract_id), f.code) for f in failures.scalars()] == [
            (raced["id"], "duplicate_period")
        ]
        invoices = list(
            session.execute(
                select(Invoice).where(Invoice.organisation_id == tenant.organisation_id)
            ).scalars()
        )
    per_contract = Counter(str(i.contract_id) for i in invoices)
    assert per_contract == {raced["id"]: 1, **{c["id"]: 1 for c in others}}
    assert sorted(i.number for i in invoices) == [f"INV-{now.year}-{n:05d}" for n in (1, 2, 3)]
