"""On PostgreSQL, `faktur worker` processes deliver webhooks: a worker SIGKILLed in the middle
of a delivery loses its lease and another worker delivers the event, with the same webhook-id;
1,000 events with two workers all arrive."""

# ruff: noqa: F811  (test functions take the imported fixtures by name)
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from webhook_fixtures import receiver  # noqa: F401 - fixtures
from webhook_settings import webhook_env

from factories import customer_body
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import session_scope
from faktur.models import Event, WebhookAttempt
from faktur.webhooks import service as webhooks
from worker_processes import wait_for, worker_processes

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def workers(database_url: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    env = {**os.environ, "FAKTUR_DATABASE_URL": database_url, **webhook_env(webhook_timeout_seconds=2)}
    with worker_processes(env) as start:
        yield start


def _endpoint(session_factory, organisation_id: uuid.UUID, url: str) -> None:
    policy = webhooks.EndpointPolicy(allow_private_urls=True, secret_grace=timedelta(hours=1))
    with session_scope(session_factory) as session:
        webhooks.create_endpoint(
            session, organisation_id, webhooks.NewEndpoint(url, None, None, {}), policy, datetime.now(UTC)
        )


def _customers(session_factory, organisation_id: uuid.UUID, count: int) -> list[str]:
    with session_scope(session_factory) as session:
        for n in range(count):
            body = CustomerCreate(**customer_body(name=f"Customer {n}"))
            customers.create_customer(session, organisation_id, body, datetime.now(UTC))
    with session_scope(session_factory) as session:
        return [str(i) for i in session.execute(select(Event.id).order_by(Event.seq)).scalars()]


def test_a_worker_killed_mid_delivery_leaves_it_to_another(
    session_factory, tenant, receiver, workers
) -> None:
    receiver.mode = "hang"
    receiver.hang_seconds = 30
    _endpoint(session_factory, tenant.organisation_id, receiver.url)
    (event_id,) = _customers(session_factory, tenant.organisation_id, 1)
    first = workers()
    wait_for(lambda: receiver.seen or first.poll() is not None, timeout=60, what="the first worker's send")
    assert first.poll() is None, "the first worker exited"
    first.send_signal(signal.SIGKILL)  # in the middle of the delivery: the request is unanswered
    first.wait(timeout=10)
    receiver.mode = "ok"
    workers()
    (arrived,) = receiver.wait_for(1, timeout=60)
    assert arrived.headers["webhook-id"] == receiver.seen[0].headers["webhook-id"] == event_id
    assert arrived.event["id"] == event_id
    # The killed worker logged nothing; the one that delivered logged its success.
    deadline = time.monotonic() + 30
    while True:
        with session_scope(session_factory) as session:
            attempts = list(session.execute(select(WebhookAttempt)).scalars())
        if attempts or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(a.succeeded, a.status_code) for a in attempts] == [(True, 204)]


@pytest.mark.slow
def test_a_thousand_events_with_two_workers_none_lost(session_factory, tenant, receiver, workers) -> None:
    _endpoint(session_factory, tenant.organisation_id, receiver.url)
    ids = _customers(session_factory, tenant.organisation_id, 1000)
    assert len(ids) == 1000
    workers()
    workers()
    deadline = time.monotonic() + 300
    while {r.event["id"] for r in list(receiver.received)} != set(ids):
        assert time.monotonic() < deadline, (
            f"{len({r.event['id'] for r in receiver.received})} of 1000 arrived"
        )
        time.sleep(0.1)
    # Each success is logged once its worker records the pass's outcomes, just after the answer.
    while True:
        with session_scope(session_factory) as session:
            succeeded = session.execute(
                select(func.count(func.distinct(WebhookAttempt.event_id))).where(
                    WebhookAttempt.succeeded.is_(True)
                )
            ).scalar_one()
        if succeeded == 1000 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert succeeded == 1000
    assert all(json.loads(r.body)["id"] == r.headers["webhook-id"] for r in receiver.received)
