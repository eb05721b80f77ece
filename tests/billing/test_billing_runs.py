"""Billing runs: every due period invoiced once, numbered in blocks without gaps, failures recorded
without stopping the run, and a run killed with SIGKILL at any point resumed to the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select

from factories import create_customer, create_invoice
from faktur.calc.periods import periods_between
from faktur.db import normalise_url, session_scope
from faktur.models import BillingRun, Invoice
from recurring_factories import (
    create_contract,
    create_metric,
    event,
    finished_run,
    flat,
    send_events,
    usage,
)


def _invoices(session_factory, organisation_id) -> list[Invoice]:
    with session_scope(session_factory) as session:
        return list(
            session.execute(
                select(Invoice).where(Invoice.organisation_id == organisation_id).order_by(Invoice.number)
            ).scalars()
        )


def _assert_once_and_gapless(session_factory, organisation_id, expected: int) -> None:
    invoices = _invoices(session_factory, organisation_id)
    keys = Counter((i.contract_id, i.period_start, i.period_end) for i in invoices)
    assert len(invoices) == expected
    assert max(keys.values()) == 1, "a period was invoiced twice"
    assert all(i.status in ("open", "paid") for i in invoices)
    year = datetime.now(UTC).year
    assert sorted(i.number for i in invoices) == [f"INV-{year}-{n:05d}" for n in range(1, expected + 1)]


def test_a_run_invoices_every_due_period_and_records_failures(client, tenant, session_factory) -> None:
    create_metric(client, tenant.headers, "api_calls")
    behind = create_contract(
        client, tenant.headers, [flat("100.00"), usage("api_calls", {"model": "per_unit", "unit_price": "1"})]
    )
    send_events(client, tenant.headers, [event(behind["id"], "2024-02-03T00:00:00Z") for _ in range(7)])
    ended = create_contract(
        client,
        tenant.headers,
        [flat("30.00")],
        start_date="2024-01-10",
        end_date="2024-02-20",
        billing_cycle_start_day=1,
    )
    # Category E needs an exemption reason: EN 16931 refuses the invoice, the run goes on.
    broken = create_contract(
        client,
        tenant.headers,
        [{"kind": "flat", "name": "x", "amount": "1", "tax": {"category": "E", "percent": "0"}}],
    )
    create_contract(client, tenant.headers, [flat()], start_date="2024-05-01")  # nothing completed by as_of

    response = client.post("/v1/billing-runs", json={"as_of": "2024-04-15"}, headers=tenant.headers)
    assert response.status_code == 202, response.text
    run = finished_run(client, tenant.headers, response.json()["id"])
    assert run["status"] == "completed"
    assert (run["contracts_total"], run["contracts_done"], run["invoices_created"]) == (3, 3, 5)
    assert run["failures_count"] == 1
    assert [(f["contract_id"], f["code"]) for f in run["failures"]] == [(broken["id"], "tax_rule_violation")]

    invoices = _invoices(session_factory, tenant.organisation_id)
    periods = sorted((str(i.contract_id), i.period_start.isoformat(), i.total_minor) for i in invoices)
    assert periods == sorted(
        [
            (behind["id"], "2024-01-01", 11900),
            (behind["id"], "2024-02-01", 11900 + 833),  # 100.00 + 7 x 1.00, at 19 %
            (behind["id"], "2024-03-01", 11900),
            (ended["id"], "2024-01-10", 2534),  # 30.00 x 22/31 = 21.29 -> 25.34 with 19 % tax
            (ended["id"], "2024-02-01", 2340),  # 30.00 x 19/29 = 19.66 -> 23.40 with 19 % tax
        ]
    )
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 5)

    again = client.post("/v1/billing-runs", json={"as_of": "2024-04-15"}, headers=tenant.headers).json()
    assert again["id"] != run["id"]
    rerun = finished_run(client, tenant.headers, again["id"])
    assert (rerun["invoices_created"], rerun["failures_count"]) == (0, 1)
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 5)


def test_billing_run_input_is_checked(client, tenant, other_tenant) -> None:
    for body in ({}, {"as_of": "yesterday"}, {"as_of": "0001-01-01"}, {"as_of": "2024-01-01", "x": 1}):
        assert client.post("/v1/billing-runs", json=body, headers=tenant.headers).status_code == 422, body
    run = client.post("/v1/billing-runs", json={"as_of": "2024-01-01"}, headers=other_tenant.headers).json()
    response = client.get(f"/v1/billing-runs/{run['id']}", headers=tenant.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "billing_run_not_found")


def _bill_command(database_url: str, as_of: str, chunk_size: int) -> subprocess.Popen[bytes]:
    # A killed run's lease expires after 2 s; the next `faktur bill` follows it until then, then
    # takes it over.
    env = {
        **os.environ,
        "FAKTUR_DATABASE_URL": database_url,
        "COLUMNS": "120",
        "FAKTUR_BILLING_RUN_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from faktur.cli import app; app()",
            "bill",
            "--as-of",
            as_of,
            "--chunk-size",
            str(chunk_size),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _count(reader: Engine, organisation_id) -> int:
    # A plain engine: faktur's SQLite engine begins every transaction IMMEDIATE (a write lock),
    # which would make this poll queue behind the run's chunks instead of watching them.
    with reader.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


def test_a_run_killed_midway_resumes_to_every_invoice_exactly_once(
    app, tenant, session_factory, database_url
) -> None:
    contracts = 60
    # The contracts come through the API; the app is closed before the runs, so only `faktur bill`
    # resumes the killed run here (the service would too, see test_run_recovery).
    with TestClient(app) as client:
        for _ in range(contracts):
            create_contract(
                client, tenant.headers, [flat("10.00"), flat("2.50", name="Support")], start_date="2024-01-01"
            )
    expected = contracts * 4  # January to April, as of May 1
    reader = create_engine(normalise_url(database_url))
    killed_at = []
    for threshold in (expected // 4, expected // 2):
        process = _bill_command(database_url, "2024-05-01", chunk_size=3)
        deadline = time.monotonic() + 60
        # Kill once some chunks committed: the run is then midway, usually with a chunk in flight.
        while time.monotonic() < deadline and process.poll() is None:
            if _count(reader, tenant.organisation_id) >= threshold:
                break
            time.sleep(0.002)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at.append(_count(reader, tenant.organisation_id))
    assert killed_at[0] < killed_at[1] < expected
    _assert_once_and_gapless(session_factory, tenant.organisation_id, killed_at[1])
    finisher = _bill_command(database_url, "2024-05-01", chunk_size=3)
    output, _ = finisher.communicate(timeout=120)
    assert finisher.returncode == 0, output.decode()
    assert b"Billing run as of 2024-05-01" in output
    _assert_once_and_gapless(session_factory, tenant.organisation_id, expected)
    with session_scope(session_factory) as session:
        run = session.execute(select(BillingRun)).scalars().all()
    # One run, resumed each time, completed at last.
    assert [(r.status, r.as_of) for r in run] == [("completed", date(2024, 5, 1))]


@pytest.mark.slow
def test_two_bill_commands_at_once_count_every_contract_once(
    client, tenant, session_factory, database_url
) -> None:
    contracts = 120
    customer = create_customer(client, tenant.headers)
    for _ in range(contracts):
        create_contract(
            client, tenant.headers, [flat("10.00")], customer_id=customer["id"], start_date="2024-01-01"
        )
    expected = contracts * 4
    both = [_bill_command(database_url, "2024-05-01", chunk_size=1) for _ in range(2)]
    # Whitespace collapsed: the console wraps long lines.
    outputs = [" ".join(process.communicate(timeout=300)[0].decode().split()) for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    assert all("Traceback" not in output for output in outputs), outputs
    # One executed the run, the other found it running, followed it to the end and showed the result.
    following = ["is already running" in output and "following it" in output for output in outputs]
    assert sorted(following) == [False, True], outputs
    assert all("Billing run as of 2024-05-01" in output for output in outputs)
    with session_scope(session_factory) as session:
        [run] = session.execute(select(BillingRun)).scalars().all()
    assert (run.status, run.chunks_total, run.chunks_done) == ("completed", contracts, contracts)
    assert (run.contracts_total, run.contracts_done, run.invoices_created) == (contracts, contracts, expected)
    _assert_once_and_gapless(session_factory, tenant.organisation_id, expected)


@pytest.mark.slow
def test_a_far_future_run_is_refused_and_a_long_run_leaves_other_organisations_served(
    live_server, tenant, other_tenant, session_factory
) -> None:
    today = datetime.now(UTC).date()
    contracts = 12  # some 8,000 invoices
    with httpx.Client(base_url=live_server, timeout=120) as http:
        far = http.post("/v1/billing-runs", json={"as_of": "9000-01-01"}, headers=tenant.headers)
        assert (far.status_code, far.json()["error"]["code"]) == (422, "as_of_out_of_range")

        # The longest legitimate run: contracts billed monthly since 1970, never invoiced.
        customer = create_customer(http, tenant.headers)
        for _ in range(contracts):
            create_contract(
                http, tenant.headers, [flat("10.00")], customer_id=customer["id"], start_date="1970-01-01"
            )
        per_contract = len(periods_between(date(1970, 1, 1), None, 1, "month", today))
        started = http.post("/v1/billing-runs", json={"as_of": today.isoformat()}, headers=tenant.headers)
        assert started.status_code == 202, started.text
        run_url = f"/v1/billing-runs/{started.json()['id']}"

        # Meanwhile another organisation creates invoices: each is answered, several of them
        # while the run is still going (no transaction holds the database for the whole run).
        other_customer = create_customer(http, other_tenant.headers)
        served_while_running = 0
        slowest = 0.0
        for _ in range(200):
            began = time.monotonic()
            created = create_invoice(http, other_tenant.headers, other_customer["id"])
            slowest = max(slowest, time.monotonic() - began)
            assert created["status"] == "draft"
            run = http.get(run_url, headers=tenant.headers).json()
            if run["status"] != "running":
                break
            served_while_running += 1
        assert served_while_running >= 3, "the run blocked the other organisation"
        assert slowest < 30, f"an invoice of another organisation waited {slowest:.1f} s"
        deadline = time.monotonic() + 300
        while run["status"] == "running":
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.5)
            run = http.get(run_url, headers=tenant.headers).json()
    assert (run["status"], run["contracts_done"], run["failures_count"]) == ("completed", contracts, 0)
    assert run["invoices_created"] == contracts * per_contract
    _assert_once_and_gapless(session_factory, tenant.organisation_id, contracts * per_contract)
