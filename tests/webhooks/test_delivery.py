"""Delivery to a real receiver on loopback: signed per Standard Webhooks (checked by a verifier
written from the specification), retried through refusals, 500s and hangs until it arrives, in
each object's order, with one webhook-id per event; every attempt is in the log."""

# ruff: noqa: F811  (test functions take the imported fixtures by name)
from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standard_webhooks_verifier import Invalid, verify
from webhook_fixtures import app, receiver  # noqa: F401 - fixtures
from webhook_receiver import Receiver, free_port
from webhook_settings import webhook_settings

from factories import create_customer, create_invoice
from faktur.app import create_app
from faktur.outbox import webhook_drain
from faktur.webhooks.delivery import CLAIM_BATCH, PER_ENDPOINT
from worker_processes import wait_for


def _endpoint(client: TestClient, headers: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/webhook-endpoints", json={"url": url, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _log(client: TestClient, headers: dict[str, str], endpoint_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params=params, headers=headers
        ).json()
        found.extend(page["data"])
        if not page["has_more"]:
            return found
        cursor = page["next_cursor"]


def _all_events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = client.get("/v1/events", params={"limit": 100}, headers=headers).json()
    assert not page["has_more"]
    return list(reversed(page["data"]))  # oldest first


def test_events_arrive_signed_and_equal_to_the_stored_events(client, tenant, receiver) -> None:
    endpoint = _endpoint(client, tenant.headers, receiver.url)
    customer = create_customer(client, tenant.headers)
    create_invoice(client, tenant.headers, customer["id"], finalize=True)
    arrived = receiver.wait_for(3)
    stored = _all_events(client, tenant.headers)
    # Different objects' events may arrive in any order (they are sent at once).
    assert sorted(r.event["id"] for r in arrived) == sorted(e["id"] for e in stored)
    by_id = {e["id"]: e for e in stored}
    for request in arrived:
        event = by_id[request.event["id"]]
        verify(endpoint["secret"], request.headers, request.body)
        assert request.headers["webhook-id"] == event["id"]
        assert request.event == event
        assert request.headers["content-type"] == "application/json"
        # A changed body, an old timestamp or another secret does not verify.
        with pytest.raises(Invalid):
            verify(endpoint["secret"], request.headers, request.body.replace(b"Kunde", b"Kundx"))
        with pytest.raises(Invalid):
            verify(
                endpoint["secret"],
                request.headers,
                request.body,
                now=int(request.headers["webhook-timestamp"]) + 600,
            )
        other = client.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
            json={"grace_period_hours": 0},
            headers=tenant.headers,
        )
        with pytest.raises(Invalid):
            verify(other.json()["secret"], request.headers, request.body)
    log = _log(client, tenant.headers, endpoint["id"])
    assert len(log) == 3 and all(
        a["succeeded"] and a["status_code"] == 204 and a["attempt"] == 1 for a in log
    )


def test_during_a_rotation_both_secrets_sign(client, tenant, receiver) -> None:
    endpoint = _endpoint(client, tenant.headers, receiver.url)
    rotated = client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=tenant.headers
    ).json()
    create_customer(client, tenant.headers)
    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(endpoint["secret"], request.headers, request.body)
    verify(rotated["secret"], request.headers, request.body)


def test_only_subscribed_types_are_sent(client, tenant, receiver) -> None:
    _endpoint(client, tenant.headers, receiver.url, enabled_events=["invoice.finalized"])
    customer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    (request,) = receiver.wait_for(1)
    time.sleep(0.5)
    assert [r.event["type"] for r in receiver.received] == ["invoice.finalized"]
    assert request.event["data"]["object"]["number"] == invoice["number"]


def test_an_endpoint_deleted_while_its_delivery_is_in_flight_is_skipped_and_the_pass_recorded(
    client, tenant, receiver
) -> None:
    """One pass sends to two endpoints; one is deleted while its receiver hangs: the pass records
    the other's attempt (the outcomes lock their endpoints once each), and the loop goes on."""
    hanging = Receiver(free_port(), mode="hang")
    hanging.start()
    try:
        gone = _endpoint(client, tenant.headers, hanging.url)
        kept = _endpoint(client, tenant.headers, receiver.url)
        create_customer(client, tenant.headers)
        wait_for(lambda: hanging.seen, timeout=10, what="the delivery to the hanging receiver")
        deleted = client.delete(f"/v1/webhook-endpoints/{gone['id']}", headers=tenant.headers)
        assert deleted.status_code == 204
        receiver.wait_for(1)
        wait_for(lambda: _log(client, tenant.headers, kept["id"]), timeout=10, what="the kept attempt")
        (attempt,) = _log(client, tenant.headers, kept["id"])
        assert attempt["succeeded"] and attempt["status_code"] == 204
        missing = client.get(f"/v1/webhook-endpoints/{gone['id']}/deliveries", headers=tenant.headers)
        assert missing.status_code == 404
        create_customer(client, tenant.headers)
        ids = [r.headers["webhook-id"] for r in receiver.wait_for(2)]
        # Each sent once: a pass that failed to record its outcomes would send them again.
        assert len(ids) == len(set(ids)) == 2
        assert len(hanging.seen) == 1
    finally:
        hanging.stop()


def test_a_hanging_receiver_holds_its_own_sends_not_the_others(
    database_url, engine, tenant, receiver
) -> None:
    """A pass records what came within a second and leaves a send still waiting in flight: while one
    endpoint's receiver hangs (5 s of a 6 s timeout), the other endpoint gets the next event at once,
    and the hanging send's attempt is logged when it ends."""
    hanging = Receiver(free_port(), mode="hang", hang_seconds=5)
    hanging.start()
    settings = webhook_settings(database_url, webhook_timeout_seconds=6.0)
    try:
        with TestClient(create_app(settings, engine)) as client:
            slow = _endpoint(client, tenant.headers, hanging.url)
            _endpoint(client, tenant.headers, receiver.url)
            create_customer(client, tenant.headers)
            receiver.wait_for(1, timeout=10)
            wait_for(lambda: hanging.seen, timeout=10, what="the send to the hanging receiver")
            started = time.monotonic()
            create_customer(client, tenant.headers)
            arrived = receiver.wait_for(2, timeout=10)
            assert time.monotonic() - started < 3, "the other endpoint waited for the hanging one"
            assert len({r.headers["webhook-id"] for r in arrived}) == 2
            wait_for(lambda: _log(client, tenant.headers, slow["id"]), timeout=15, what="the hanging attempt")
            first = min(_log(client, tenant.headers, slow["id"]), key=lambda a: a["created_at"])
            assert (first["attempt"], first["succeeded"], first["status_code"]) == (1, False, None)
    finally:
        hanging.stop()


def test_a_hanging_endpoint_with_a_backlog_takes_only_its_share_of_the_sends(
    database_url, engine, tenant, receiver
) -> None:
    """An endpoint whose receiver hangs, with more due events than a pass sends at once, gets
    PER_ENDPOINT sends in flight and no more; another endpoint's event goes out meanwhile."""
    hanging = Receiver(free_port(), mode="hang", hang_seconds=6)
    hanging.start()
    settings = webhook_settings(database_url, webhook_timeout_seconds=8.0)
    try:
        with TestClient(create_app(settings, engine)) as client:
            _endpoint(client, tenant.headers, hanging.url)
            for n in range(CLAIM_BATCH + 8):
                create_customer(client, tenant.headers, name=f"Backlog {n}")
            wait_for(lambda: len(hanging.seen) >= PER_ENDPOINT, timeout=10, what="the hanging sends")
            _endpoint(client, tenant.headers, receiver.url)
            started = time.monotonic()
            create_customer(client, tenant.headers, name="After the backlog")
            (arrived,) = receiver.wait_for(1, timeout=10)
            waited = time.monotonic() - started
            in_flight = len(hanging.seen)
        assert waited < 3, f"the other endpoint waited {waited:.1f} s for the hanging one's sends"
        assert arrived.event["data"]["object"]["name"] == "After the backlog"
        assert in_flight == PER_ENDPOINT
    finally:
        hanging.stop()


def test_a_pass_that_leaves_due_deliveries_for_an_endpoints_share_asks_to_go_again(
    database_url, engine, session_factory, tenant, receiver
) -> None:
    """A burst to one endpoint goes out PER_ENDPOINT per pass, pass after pass: each pass that
    left due deliveries says so (the outbox loop goes again at once instead of sleeping its poll
    interval); the pass that finds nothing left does not."""
    burst = 2 * PER_ENDPOINT + 3
    with TestClient(create_app(webhook_settings(database_url, outbox_in_process=False), engine)) as client:
        _endpoint(client, tenant.headers, receiver.url)
        for n in range(burst):
            create_customer(client, tenant.headers, name=f"Burst {n}")
    drain = webhook_drain(session_factory, webhook_settings(database_url))
    try:
        passes = [drain(), drain(), drain(), drain()]
    finally:
        drain.close()
    assert [p.more for p in passes] == [True, True, False, False]
    assert [p.done for p in passes] == [burst + PER_ENDPOINT, PER_ENDPOINT, 3, 0]  # the first fans out too
    assert len({r.headers["webhook-id"] for r in receiver.wait_for(burst)}) == burst


def test_receiver_down_failing_hanging_then_back_gets_everything_in_order(
    database_url, engine, tenant, receiver
) -> None:
    settings = webhook_settings(
        # Many retries: a loaded machine switching the receiver slowly must not exhaust them.
        database_url,
        webhook_retry_delays_seconds=[0.3] * 30,
        webhook_timeout_seconds=1.0,
    )
    receiver.stop()  # down: connection refused
    with TestClient(create_app(settings, engine)) as client:
        endpoint = _endpoint(client, tenant.headers, receiver.url)
        first = create_customer(client, tenant.headers, name="First")
        second = create_customer(client, tenant.headers, name="Second")
        for n in range(3):
            for customer in (first, second):
                patched = client.patch(
                    f"/v1/customers/{customer['id']}", json={"city": f"City {n}"}, headers=tenant.headers
                )
                assert patched.status_code == 200
        wait_for(
            lambda: any(a["error"] for a in _log(client, tenant.headers, endpoint["id"])),
            what="a refused attempt",
        )
        receiver.mode = "error"
        receiver.start()
        wait_for(lambda: len(receiver.seen) >= 2, what="500 answers")
        receiver.mode = "hang"
        seen = len(receiver.seen)
        wait_for(lambda: len(receiver.seen) > seen, what="a hung request")
        wait_for(
            lambda: any(
                a["error"] and "no answer" in a["error"] for a in _log(client, tenant.headers, endpoint["id"])
            ),
            what="a timed-out attempt",
        )
        receiver.mode = "ok"
        stored = _all_events(client, tenant.headers)
        wait_for(
            lambda: {r.event["id"] for r in receiver.received} >= {e["id"] for e in stored}, 60, "every event"
        )
        arrived = list(receiver.received)
        everything = {e["id"] for e in stored}
        wait_for(
            lambda: (
                {a["event_id"] for a in _log(client, tenant.headers, endpoint["id"]) if a["succeeded"]}
                == everything
            ),
            what="every success in the log",
        )
        log = _log(client, tenant.headers, endpoint["id"])

    assert len(stored) == 8
    # Every event arrived, each object's in the order they happened.
    by_object: dict[str, list[str]] = defaultdict(list)
    for event in stored:
        by_object[event["data"]["object"]["id"]].append(event["id"])
    received_by_object: dict[str, list[str]] = defaultdict(list)
    for request in arrived:
        if request.event["id"] not in received_by_object[request.event["data"]["object"]["id"]]:
            received_by_object[request.event["data"]["object"]["id"]].append(request.event["id"])
    assert received_by_object == by_object
    assert {r.event["id"] for r in arrived} == {e["id"] for e in stored}
    # One webhook-id per event, on every attempt that reached the receiver.
    ids: dict[str, set[str]] = defaultdict(set)
    for request in receiver.seen:
        ids[json.loads(request.body)["id"]].add(request.headers["webhook-id"])
    assert all(found == {event_id} for event_id, found in ids.items())
    # The log has every attempt: refusals, 500s with their answer, time-outs, and the successes.
    assert {a["event_id"] for a in log if a["succeeded"]} == everything
    assert any(a["status_code"] is None and "Connection" in (a["error"] or "") for a in log)
    assert any(a["status_code"] == 500 and a["response_body"] == "receiver broken" for a in log)
    assert any(a["status_code"] is None and "no answer within 1 s" in (a["error"] or "") for a in log)
    assert len(log) == len({(a["event_id"], a["attempt"]) for a in log})
    for event in stored:
        attempts = sorted(a["attempt"] for a in log if a["event_id"] == event["id"])
        assert attempts == list(range(1, len(attempts) + 1))
        assert len([r for r in receiver.seen if json.loads(r.body)["id"] == event["id"]]) <= len(attempts)


def test_after_the_last_retry_a_delivery_is_failed(database_url, engine, tenant, receiver) -> None:
    settings = webhook_settings(database_url, webhook_retry_delays_seconds=[0.1, 0.1])
    receiver.mode = "error"
    with TestClient(create_app(settings, engine)) as client:
        endpoint = _endpoint(client, tenant.headers, receiver.url)
        create_customer(client, tenant.headers)
        wait_for(lambda: len(_log(client, tenant.headers, endpoint["id"])) == 3, what="three attempts")
        time.sleep(0.8)
        log = _log(client, tenant.headers, endpoint["id"])
        got = client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()
    # The first try and the two retries of the schedule, then no more.
    assert sorted(a["attempt"] for a in log) == [1, 2, 3]
    assert all(a["status_code"] == 500 and not a["succeeded"] for a in log)
    assert got["enabled"] and got["failing_since"] is not None


def test_an_endpoint_failing_too_long_is_disabled_and_an_event_says_so(
    database_url, engine, tenant, receiver
) -> None:
    settings = webhook_settings(
        database_url, webhook_retry_delays_seconds=[0.3] * 7, webhook_disable_after_hours=1 / 3600
    )
    receiver.mode = "error"
    with TestClient(create_app(settings, engine)) as client:
        endpoint = _endpoint(client, tenant.headers, receiver.url)
        customer = create_customer(client, tenant.headers)
        wait_for(
            lambda: (
                not client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()[
                    "enabled"
                ]
            ),
            what="the endpoint disabled",
        )
        got = client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()
        assert got["disabled_reason"].startswith("every delivery failed since")
        disabled = client.get(
            "/v1/events", params={"type": "webhook_endpoint.disabled"}, headers=tenant.headers
        ).json()
        assert [e["data"]["object"]["id"] for e in disabled["data"]] == [endpoint["id"]]
        attempts = len(_log(client, tenant.headers, endpoint["id"]))
        time.sleep(0.8)
        assert len(_log(client, tenant.headers, endpoint["id"])) == attempts  # nothing is sent any more

        # Back on, and the event resent by hand: it arrives with its original webhook-id.
        receiver.mode = "ok"
        assert client.patch(
            f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True}, headers=tenant.headers
        ).json()["enabled"]
        created = client.get(
            "/v1/events", params={"type": "customer.created"}, headers=tenant.headers
        ).json()["data"][0]
        resent = client.post(f"/v1/events/{created['id']}/resend", headers=tenant.headers)
        assert resent.status_code == 202 and resent.json()["deliveries"] == 1
        receiver.wait_for(1)
        time.sleep(0.3)
    # Re-enabling resumed the waiting deliveries (the customer's event, and the event saying the
    # endpoint was disabled) and the resend asked again: at least once, one webhook-id per event.
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {created["id"], disabled["data"][0]["id"]}
    assert all(r.event["id"] == r.headers["webhook-id"] for r in receiver.received)
    assert (
        next(r.event["data"]["object"] for r in receiver.received if r.event["id"] == created["id"])
        == customer
    )


def test_resend_sends_a_delivered_event_again_with_the_same_id(client, tenant, receiver) -> None:
    _endpoint(client, tenant.headers, receiver.url)
    create_customer(client, tenant.headers)
    (first,) = receiver.wait_for(1)
    response = client.post(f"/v1/events/{first.headers['webhook-id']}/resend", headers=tenant.headers)
    assert response.status_code == 202 and response.json()["deliveries"] == 1
    second = receiver.wait_for(2)[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"] and second.body == first.body


def test_other_organisations_events_do_not_go_to_this_endpoint(
    client, tenant, other_tenant, receiver
) -> None:
    _endpoint(client, tenant.headers, receiver.url)
    create_customer(client, other_tenant.headers)
    mine = create_customer(client, tenant.headers)
    (request,) = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1 and request.event["data"]["object"]["id"] == mine["id"]
