"""A request that wrote its events and then failed at COMMIT emits nothing: `GET /v1/events` does
not list them and a real receiver on loopback gets nothing, while the same request sent again
succeeds and its events arrive, once each.

The request is a real one over HTTP to `faktur serve` (a real process, delivering in its own
thread): invoicing a whole order, which writes `invoice.created`, `invoice.finalized` and
`order.fully_invoiced` in its transaction. Its COMMIT is made to fail by the database, as a full
disk makes it fail:
- SQLite: the server's file-size limit (RLIMIT_FSIZE, set from outside with `prlimit`) is lowered
  to one byte before the request; in WAL mode a transaction's pages first reach a file at COMMIT,
  which fails (503 `database_io_error` or 507 `storage_full`);
- PostgreSQL: a deferred constraint trigger on the `events` table raises `disk_full` at COMMIT,
  which proves the events were written in the failing transaction (507 `storage_full`).
"""

# ruff: noqa: F811  (test functions take the imported fixtures by name)
from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from webhook_fixtures import receiver  # noqa: F401 - fixtures
from webhook_receiver import Receiver
from webhook_settings import webhook_env

from factories import customer_body
from served import served_process

FAIL_AT_COMMIT = """
CREATE FUNCTION test_fail_commit_with_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE CONSTRAINT TRIGGER test_fail_commit_with_events AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_commit_with_events();
"""
UNDO_FAIL_AT_COMMIT = """
DROP TRIGGER IF EXISTS test_fail_commit_with_events ON events;
DROP FUNCTION IF EXISTS test_fail_commit_with_events();
"""


@contextmanager
def commit_fails(backend: str, engine: Engine, server_pid: int) -> Iterator[None]:
    """Every COMMIT of the server that writes something fails, until the block ends."""
    if backend == "sqlite":
        # One byte: any write at or past it fails (EFBIG, or a short write that SQLite takes for a
        # full disk); the hard limit stays unlimited, so the soft one can be raised again.
        resource.prlimit(server_pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
        try:
            yield
        finally:
            resource.prlimit(
                server_pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            )
        return
    with engine.begin() as conn:
        conn.execute(text(FAIL_AT_COMMIT))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(UNDO_FAIL_AT_COMMIT))


def _post(api: str, path: str, headers: dict[str, str], body: dict[str, Any], **extra: str) -> httpx.Response:
    return httpx.post(f"{api}{path}", json=body, headers={**headers, **extra}, timeout=30)


def _events(api: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = httpx.get(f"{api}/v1/events", params={"limit": 100}, headers=headers, timeout=30).json()
    assert not page["has_more"]
    return list(reversed(page["data"]))  # oldest first


@pytest.mark.slow
def test_a_request_failing_at_commit_emits_nothing_and_its_retry_emits_once(
    backend: str, database_url: str, engine: Engine, tenant, receiver: Receiver
) -> None:
    headers = tenant.headers
    with served_process(database_url, settings=webhook_env()) as (api, pid):
        assert _post(api, "/v1/webhook-endpoints", headers, {"url": receiver.url}).status_code == 201
        customer = _post(api, "/v1/customers", headers, customer_body()).json()
        (first,) = receiver.wait_for(1)
        assert first.event["type"] == "customer.created"
        line = {
            "name": "Widget",
            "quantity": "3",
            "unit_price": "10.00",
            "tax": {"category": "S", "percent": "19"},
        }
        order = _post(
            api, "/v1/orders", headers, {"customer_id": customer["id"], "currency": "EUR", "lines": [line]}
        )
        assert order.status_code == 201, order.text
        invoice_order = f"/v1/orders/{order.json()['id']}/invoices"
        time.sleep(0.3)  # the delivery of customer.created is logged before the fault is armed

        with commit_fails(backend, engine, pid):
            failed = _post(api, invoice_order, headers, {"finalize": True}, **{"Idempotency-Key": "order-1"})
        assert failed.status_code in (503, 507), failed.text
        assert failed.json()["error"]["code"] in ("database_io_error", "storage_full")

        # Nothing of the request was stored: no events, no invoice, the order still open.
        assert [e["type"] for e in _events(api, headers)] == ["customer.created"]
        invoices = httpx.get(f"{api}/v1/invoices", headers=headers, timeout=30).json()
        assert invoices["data"] == []
        time.sleep(1.0)  # twenty passes of the delivery loop
        assert len(receiver.seen) == 1, [r.event["type"] for r in receiver.seen]

        # The same request again (its Idempotency-Key's claim was rolled back too) succeeds.
        retried = _post(api, invoice_order, headers, {"finalize": True}, **{"Idempotency-Key": "order-1"})
        assert retried.status_code == 201, retried.text
        arrived = receiver.wait_for(4)
        time.sleep(0.5)
        stored = _events(api, headers)
        assert sorted(e["type"] for e in stored) == [
            "customer.created",
            "invoice.created",
            "invoice.finalized",
            "order.fully_invoiced",
        ]
        assert len(receiver.seen) == 4
        assert sorted(r.event["id"] for r in arrived) == sorted(e["id"] for e in stored)
        invoice_id = retried.json()["id"]
        assert {e["data"]["object"]["id"] for e in stored if e["type"].startswith("invoice.")} == {invoice_id}
