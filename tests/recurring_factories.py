"""Request bodies and helpers for contracts, metrics, usage events and billing runs."""

from __future__ import annotations

import itertools
import time
from typing import Any

from fastapi.testclient import TestClient

from factories import create_customer

_ids = itertools.count(1)

TAX = {"category": "S", "percent": "19"}


def flat(amount: str = "100.00", name: str = "Platform fee", **extra: Any) -> dict[str, Any]:
    return {"kind": "flat", "name": name, "amount": amount, "tax": TAX, **extra}


def one_off(amount: str = "500.00", name: str = "Setup", **extra: Any) -> dict[str, Any]:
    return {"kind": "one_off", "name": name, "amount": amount, "tax": TAX, **extra}


def usage(
    metric_code: str, charge_model: dict[str, Any], name: str = "API calls", **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "usage",
        "name": name,
        "metric_code": metric_code,
        "charge_model": charge_model,
        "tax": TAX,
        **extra,
    }


def create_metric(
    client: TestClient,
    headers: dict[str, str],
    code: str = "api_calls",
    aggregation: str = "count",
    prop: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": code.replace("_", " "), "aggregation": aggregation}
    if prop is not None:
        body["property"] = prop
    response = client.post("/v1/metrics", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_contract(
    client: TestClient,
    headers: dict[str, str],
    components: list[dict[str, Any]],
    customer_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    if customer_id is None:
        customer_id = create_customer(client, headers)["id"]
    body = {"customer_id": customer_id, "start_date": "2024-01-01", "components": components, **fields}
    response = client.post("/v1/contracts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def event(
    contract_id: str, timestamp: str, metric_code: str = "api_calls", **properties: Any
) -> dict[str, Any]:
    return {
        "transaction_id": f"tx-{next(_ids)}",
        "metric_code": metric_code,
        "contract_id": contract_id,
        "timestamp": timestamp,
        "properties": properties,
    }


def send_events(client: TestClient, headers: dict[str, str], events: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/v1/events/batch", json={"events": events}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def invoice_period(
    client: TestClient,
    headers: dict[str, str],
    contract_id: str,
    start: str | None = None,
    end: str | None = None,
    **extra: Any,
) -> Any:
    body: dict[str, Any] = dict(extra)
    if start is not None:
        body.update(period_start=start, period_end=end)
    return client.post(f"/v1/contracts/{contract_id}/invoices", json=body, headers=headers)


def billed(client: TestClient, headers: dict[str, str], contract_id: str, start: str, end: str, **extra: Any):
    response = invoice_period(client, headers, contract_id, start, end, **extra)
    assert response.status_code == 201, response.text
    return response.json()


def line_summary(invoice: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(quantity, unit_price, net_amount) of each line."""
    return [(line["quantity"], line["unit_price"], line["net_amount"]) for line in invoice["lines"]]


def events_billed_by(session_factory: Any) -> dict[str, int]:
    """How many stored events each live invoice billed ("None": unbilled), by mark or coverage."""
    from collections import Counter

    from sqlalchemy import select

    from faktur.db import session_scope
    from faktur.models import UsageEvent
    from faktur.usage import billing_repository as billing

    with session_scope(session_factory) as session:
        events = session.execute(select(UsageEvent.organisation_id, UsageEvent.id)).all()
        billed: Counter[str] = Counter()
        for organisation_id in {org for org, _ in events}:
            ids = [event_id for org, event_id in events if org == organisation_id]
            billed.update(str(i) for i in billing.billing_invoices(session, organisation_id, ids).values())
    return dict(billed)


def finished_run(
    client: TestClient, headers: dict[str, str], run_id: str, timeout: float = 120
) -> dict[str, Any]:
    """GET a billing run until it is no longer running: a run started over HTTP executes on the
    service's executor thread after the 202."""
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/v1/billing-runs/{run_id}", headers=headers).json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, f"billing run {run_id} still running after {timeout} s"
        time.sleep(0.05)
