"""A billing-run chunk (faktur.billing.chunk): a ChunkResult from plan -> check -> write; a period
with nothing to bill is a plan outcome, counted; faktur's and calc's own errors are contract
failures recorded on the run; any other exception is a bug that fails the chunk loudly and leaves
nothing of it behind (no invoice, no number, no counter, no failure, the chunk still pending)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from faktur.billing import chunk, runs
from faktur.billing import service as billing
from faktur.billing.chunk import ChunkResult, ContractFailure
from faktur.billing.leases import Lease, new_executor
from faktur.context import Actor
from faktur.db import session_scope
from faktur.models import BillingRunChunk, BillingRunFailure, Invoice, Organisation, UsageEvent
from faktur.usage import billing_repository
from recurring_factories import create_contract, create_metric, event, flat, send_events, usage

AS_OF = date(2024, 2, 15)  # January is due


def _start(session_factory, organisation_id, now: datetime):
    with session_scope(session_factory) as session:
        return runs.start_run(session, organisation_id, AS_OF, now).id


def _run(
    session_factory, organisation_id, run_id, now: datetime, lease: Lease | None = None
) -> list[ChunkResult | None]:
    results: list[ChunkResult | None] = []
    runs.run_in_process(
        session_factory,
        organisation_id,
        run_id,
        now,
        lease=lease,
        on_chunk=lambda _c, _i, result: results.append(result),
    )
    return results


def _left_behind(session_factory, organisation_id, run_id) -> dict[str, Any]:
    with session_scope(session_factory) as session:
        run = runs.get_run(session, organisation_id, run_id)
        count = session.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()
        failures = session.execute(
            select(func.count()).select_from(BillingRunFailure).where(BillingRunFailure.run_id == run_id)
        ).scalar_one()
        done = session.execute(
            select(func.count())
            .select_from(BillingRunChunk)
            .where(BillingRunChunk.run_id == run_id, BillingRunChunk.done_at.is_not(None))
        ).scalar_one()
        return {
            "invoices": count,
            "failure rows": failures,
            "chunks done": done,
            "run": (
                run.status,
                run.chunks_done,
                run.contracts_done,
                run.invoices_created,
                run.failures_count,
            ),
        }


NOTHING_LEFT = {"invoices": 0, "failure rows": 0, "chunks done": 0, "run": ("running", 0, 0, 0, 0)}


def _numbers(session_factory, organisation_id) -> list[str]:
    with session_scope(session_factory) as session:
        return sorted(
            session.execute(
                select(Invoice.number).where(Invoice.organisation_id == organisation_id)
            ).scalars()
        )


@pytest.mark.parametrize("bug", [TypeError, KeyError, ValueError])
def test_a_programming_error_in_planning_fails_the_chunk_and_commits_nothing(
    client, tenant, session_factory, monkeypatch: pytest.MonkeyPatch, bug: type[Exception]
) -> None:
    contracts = [create_contract(client, tenant.headers, [flat("10.00")]) for _ in range(3)]
    faulty_id = contracts[1]["id"]
    real_build = billing.build_period_invoice

    def build_with_a_bug(session, state, *args, **options):
        if str(state.contract.id) == faulty_id:
            raise bug("a bug in the planner")
        return real_build(session, state, *args, **options)

    monkeypatch.setattr(billing, "build_period_invoice", build_with_a_bug)
    now = datetime.now(UTC)
    run_id = _start(session_factory, tenant.organisation_id, now)
    lease = Lease(new_executor("test"))
    with pytest.raises(bug, match="a bug in the planner"):
        runs.run_in_process(session_factory, tenant.organisation_id, run_id, now, lease=lease)
    assert _left_behind(session_factory, tenant.organisation_id, run_id) == NOTHING_LEFT

    # Once the bug is gone the run is resumed and bills every contract: no number was consumed.
    monkeypatch.setattr(billing, "build_period_invoice", real_build)
    (result,) = _run(session_factory, tenant.organisation_id, run_id, now, lease)
    assert result == ChunkResult(invoices=3, failures=(), nothing_to_bill=0, complete=True)
    assert _numbers(session_factory, tenant.organisation_id) == [f"INV-{now.year}-{n:05d}" for n in (1, 2, 3)]


def test_a_bug_after_the_batch_was_written_rolls_the_whole_chunk_back(
    client, tenant, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        create_contract(client, tenant.headers, [flat("10.00")])

    def marking_with_a_bug(*_args: Any, **_options: Any) -> None:
        raise KeyError("a bug while recording the billed usage")

    monkeypatch.setattr(billing_repository, "mark_billed", marking_with_a_bug)
    now = datetime.now(UTC)
    run_id = _start(session_factory, tenant.organisation_id, now)
    with pytest.raises(KeyError, match="a bug while recording"):
        runs.run_in_process(session_factory, tenant.organisation_id, run_id, now)
    # The invoices were numbered and inserted before the bug: the transaction took them back.
    assert _left_behind(session_factory, tenant.organisation_id, run_id) == NOTHING_LEFT


def test_usage_that_cannot_be_aggregated_is_a_contract_failure_not_a_crash(
    client, tenant, session_factory
) -> None:
    create_metric(client, tenant.headers, "storage_gb", aggregation="sum", prop="gb")
    metered = [usage("storage_gb", {"model": "per_unit", "unit_price": "0.10"}, name="Storage")]
    garbled = create_contract(client, tenant.headers, metered)
    full_width = create_contract(client, tenant.headers, metered)
    fine = create_contract(client, tenant.headers, metered)
    send_events(
        client,
        tenant.headers,
        [
            event(garbled["id"], "2024-01-10T00:00:00Z", "storage_gb", gb="1000"),
            event(full_width["id"], "2024-01-10T00:00:00Z", "storage_gb", gb="12"),
            event(fine["id"], "2024-01-10T00:00:00Z", "storage_gb", gb="12.5"),
        ],
    )
    # Values the aggregation cannot read (ASCII digits only, faktur.calc.charge_models), as stored
    # before ingestion refused them or written around the API: ingestion refuses them now.
    with session_scope(session_factory) as session:
        for contract_id, value in ((garbled["id"], "1_000"), (full_width["id"], "\uff11\uff12")):
            stored = session.execute(
                select(UsageEvent).where(UsageEvent.contract_id == uuid.UUID(contract_id))
            ).scalar_one()
            stored.properties = {"gb": value}
    now = datetime.now(UTC)
    run_id = _start(session_factory, tenant.organisation_id, now)
    (result,) = _run(session_factory, tenant.organisation_id, run_id, now)

    assert result is not None
    assert (result.invoices, result.nothing_to_bill, result.complete) == (1, 0, True)
    reasons = {str(f.contract_id): (f.code, f.reason) for f in result.failures}
    assert reasons.keys() == {garbled["id"], full_width["id"]}
    assert reasons[garbled["id"]] == (
        "invalid_usage_value",
        "gb must be a number written with ASCII digits, got '1_000'",
    )
    assert reasons[full_width["id"]][0] == "invalid_usage_value"
    with session_scope(session_factory) as session:
        recorded = session.execute(
            select(BillingRunFailure.contract_id, BillingRunFailure.code).where(
                BillingRunFailure.run_id == run_id
            )
        ).all()
        run = runs.get_run(session, tenant.organisation_id, run_id)
        assert (run.status, run.invoices_created, run.failures_count) == ("completed", 1, 2)
    assert sorted((str(c), code) for c, code in recorded) == sorted(
        (str(f.contract_id), f.code) for f in result.failures
    )

    # Asked for over HTTP, the same period is a 422 with that code, not a 500.
    response = client.post(
        f"/v1/contracts/{garbled['id']}/invoices",
        json={"period_start": "2024-01-01", "period_end": "2024-02-01"},
        headers=tenant.headers,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_usage_value")


def test_a_period_with_nothing_to_bill_is_skipped_and_counted(client, tenant, session_factory) -> None:
    # In advance, ended within March: January's invoice bills January and February, February's
    # bills March; March has nothing left (its fee went out in advance, no usage components).
    create_contract(
        client, tenant.headers, [flat("100.00")], billing_timing="in_advance", end_date="2024-03-20"
    )
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, tenant.organisation_id, date(2024, 4, 1), now).id
    (result,) = _run(session_factory, tenant.organisation_id, run_id, now)
    assert result == ChunkResult(invoices=2, failures=(), nothing_to_bill=1, complete=True)
    assert _left_behind(session_factory, tenant.organisation_id, run_id)["run"] == ("completed", 1, 1, 2, 0)


def test_failures_of_earlier_transactions_stay_in_the_chunk_result(client, tenant, session_factory) -> None:
    # Category E without an exemption reason: EN 16931 refuses the invoice at the check step.
    broken = create_contract(
        client,
        tenant.headers,
        [{"kind": "flat", "name": "x", "amount": "1", "tax": {"category": "E", "percent": "0"}}],
    )
    create_contract(client, tenant.headers, [flat("10.00")])
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        run = runs.start_run(session, tenant.organisation_id, date(2024, 5, 1), now)
        (seq, contract_ids), *_ = runs.pending_chunks(session, run, now)
        run_id = run.id
    lease = Lease(new_executor("test"))
    # Two periods per transaction: the chunk needs several for its 2 x 4 due periods; the failure of
    # the transaction that planned the broken contract is counted in the chunk's result once.
    result = runs.execute_chunk(
        session_factory,
        tenant.organisation_id,
        run_id,
        seq,
        contract_ids,
        date(2024, 5, 1),
        now,
        lease,
        fenced=False,
        period_budget=2,
    )
    assert result is not None
    assert (result.invoices, result.complete) == (4, True)
    assert result.failures == (
        ContractFailure(result.failures[0].contract_id, "tax_rule_violation", result.failures[0].reason),
    )
    assert str(result.failures[0].contract_id) == broken["id"]
    assert _numbers(session_factory, tenant.organisation_id) == [
        f"INV-{now.year}-{n:05d}" for n in (1, 2, 3, 4)
    ]


def test_plan_check_write_are_steps_the_check_drops_a_refused_contract_and_writes_nothing(
    client, tenant, session_factory
) -> None:
    broken = create_contract(
        client,
        tenant.headers,
        [{"kind": "flat", "name": "x", "amount": "1", "tax": {"category": "E", "percent": "0"}}],
    )
    good = [create_contract(client, tenant.headers, [flat("10.00")]) for _ in range(2)]
    ids = [uuid.UUID(c["id"]) for c in (good[0], broken, good[1])]
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        actor = Actor(organisation, "billing_run:test")
        planned = chunk.plan(session, tenant.organisation_id, ids, AS_OF, {}, period_budget=10)
        assert len(planned.contracts) == 3 and planned.failures == ()
        checked = chunk.check(session, actor, planned.contracts, now)
        assert [f.contract_id for f in checked.refused] == [uuid.UUID(broken["id"])]
        assert checked.refused[0].code == "tax_rule_violation"
        assert {state.contract.id for state, _ in checked.owners} == {ids[0], ids[2]}
        session.flush()
        # Checked is not written: no invoice, no number taken.
        assert session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 0
        assert chunk.write(session, actor, checked, now) == 2
    assert _numbers(session_factory, tenant.organisation_id) == [f"INV-{now.year}-{n:05d}" for n in (1, 2)]
