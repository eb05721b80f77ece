"""One executor per billing run: a second executor is refused while the lease lives, takes the run
over once it expired, and the executor that lost it can no longer write (its transaction rolls
back); POST /v1/billing-runs reports a run another executor has instead of starting it again;
GET shows the executor and its heartbeat; as_of stays within 1970..today."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from faktur.billing import leases, runs
from faktur.db import session_scope
from faktur.models import BillingRunChunk, Invoice
from recurring_factories import create_contract, finished_run, flat

AS_OF = date(2024, 5, 1)
PERIODS = 4  # January to April


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _invoices(session_factory, organisation_id) -> int:
    with session_scope(session_factory) as session:
        return session.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


def test_one_executor_at_a_time_and_a_lost_lease_writes_nothing(client, tenant, session_factory) -> None:
    for _ in range(6):
        create_contract(client, tenant.headers, [flat("10.00")])
    org = tenant.organisation_id
    clock = Clock()
    first = leases.Lease("bill@host-a:1:aaaa", 10, clock)
    second = leases.Lease("bill@host-b:2:bbbb", 10, clock)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, org, AS_OF, clock.now).id
        assert leases.claim(session, org, run_id, first)

    with pytest.raises(runs.AlreadyRunning) as refused:
        runs.run_in_process(session_factory, org, run_id, clock.now, chunk_size=2, lease=second)
    assert refused.value.executor == first.executor
    assert _invoices(session_factory, org) == 0

    # The first executor stays silent past its lease: the second takes the run over and does one
    # chunk before it is asked to stop (it releases the lease then).
    clock.now += timedelta(seconds=11)
    stop = threading.Event()
    completed = runs.run_in_process(
        session_factory,
        org,
        run_id,
        clock.now,
        chunk_size=2,
        lease=second,
        on_chunk=lambda *_: stop.set(),
        stop=stop,
    )
    assert not completed
    assert _invoices(session_factory, org) == 2 * PERIODS

    # The first executor wakes up and writes its next chunk: fenced out, nothing of it stays.
    with session_scope(session_factory) as session:
        pending = runs.repository.pending_chunks(session, org, run_id)
    seq, contract_ids = pending[0]
    with pytest.raises(leases.LeaseLost):
        runs.execute_chunk(session_factory, org, run_id, seq, contract_ids, AS_OF, clock.now, first)
    assert _invoices(session_factory, org) == 2 * PERIODS

    # Anyone may take a released lease at once; the run is finished by that executor.
    third = leases.Lease("serve@host-c:3:cccc", 10, clock)
    assert runs.run_in_process(session_factory, org, run_id, clock.now, lease=third)
    with session_scope(session_factory) as session:
        run = runs.get_run(session, org, run_id)
        chunks = session.execute(select(BillingRunChunk).where(BillingRunChunk.run_id == run_id))
        done_by = {chunk.worker for chunk in chunks.scalars()}
    assert (run.status, run.chunks_total, run.chunks_done) == ("completed", 3, 3)
    assert (run.contracts_total, run.contracts_done, run.invoices_created) == (6, 6, 6 * PERIODS)
    assert done_by == {second.executor, third.executor}
    assert run.executor == third.executor
    assert _invoices(session_factory, org) == 6 * PERIODS


def test_post_reports_a_run_another_executor_has_and_get_shows_the_executor(
    client, tenant, session_factory
) -> None:
    for _ in range(2):
        create_contract(client, tenant.headers, [flat("10.00")])
    org = tenant.organisation_id
    elsewhere = leases.Lease("bill@elsewhere:42:abcd", 600)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, org, AS_OF, datetime.now(UTC)).id
        assert leases.claim(session, org, run_id, elsewhere)

    again = client.post("/v1/billing-runs", json={"as_of": AS_OF.isoformat()}, headers=tenant.headers)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["id"], body["status"], body["executor"]) == (str(run_id), "running", elsewhere.executor)
    assert body["heartbeat_at"] is not None and body["lease_expires_at"] > body["heartbeat_at"]
    assert _invoices(session_factory, org) == 0, "a second executor started the run"

    shown = client.get(f"/v1/billing-runs/{run_id}", headers=tenant.headers).json()
    assert (shown["executor"], shown["heartbeat_at"]) == (elsewhere.executor, body["heartbeat_at"])

    # Once the lease is given back, the POST resumes the run here and finishes it.
    with session_scope(session_factory) as session:
        leases.release(session, org, run_id, elsewhere)
    resumed = client.post("/v1/billing-runs", json={"as_of": AS_OF.isoformat()}, headers=tenant.headers)
    assert resumed.status_code == 202, resumed.text
    assert resumed.json()["executor"].startswith("serve@")
    done = finished_run(client, tenant.headers, str(run_id))
    assert (done["status"], done["contracts_done"], done["invoices_created"]) == ("completed", 2, 2 * PERIODS)
    assert done["executor"] == resumed.json()["executor"]


def test_as_of_is_limited_to_1970_until_today(client, tenant) -> None:
    today = datetime.now(UTC).date()
    for as_of in ("9000-01-01", (today + timedelta(days=1)).isoformat(), "1969-12-31"):
        response = client.post("/v1/billing-runs", json={"as_of": as_of}, headers=tenant.headers)
        assert response.status_code == 422, as_of
        error = response.json()["error"]
        assert error["code"] == "as_of_out_of_range"
        assert error["details"][0]["field"] == "as_of"
    ok = client.post("/v1/billing-runs", json={"as_of": today.isoformat()}, headers=tenant.headers)
    assert ok.status_code == 202, ok.text


def test_two_starts_of_one_as_of_resume_the_same_run(tenant, session_factory) -> None:
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        first = runs.start_run(session, tenant.organisation_id, AS_OF, now).id
    with session_scope(session_factory) as session:
        assert runs.start_run(session, tenant.organisation_id, AS_OF, now).id == first


@pytest.mark.postgres_only
def test_concurrent_starts_of_one_as_of_make_one_run(tenant, session_factory) -> None:
    barrier = threading.Barrier(4)
    ids: list[object] = []

    def start() -> None:
        with session_scope(session_factory) as session:
            barrier.wait()
            ids.append(runs.start_run(session, tenant.organisation_id, AS_OF, datetime.now(UTC)).id)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 4 and len(set(ids)) == 1
