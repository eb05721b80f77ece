"""usage.billing_repository.usage_groups: a contract's unbilled events grouped by the database, per metric
within each requested span and per metric and UTC day outside them (both databases)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from faktur.db import session_scope
from faktur.usage import billing_repository as billed
from faktur.usage import repository
from recurring_factories import create_contract, create_metric, event, send_events, usage


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def test_groups_split_spans_from_days_outside_them(client, tenant, session_factory) -> None:
    create_metric(client, tenant.headers, "gb", "sum", "gb")
    create_metric(client, tenant.headers, "api_calls", "count")
    contract = create_contract(
        client,
        tenant.headers,
        [
            usage("gb", {"model": "per_unit", "unit_price": "1"}, name="Storage"),
            usage("api_calls", {"model": "per_unit", "unit_price": "1"}),
        ],
    )
    cid = contract["id"]
    send_events(
        client,
        tenant.headers,
        [
            event(cid, "2024-01-10T10:00:00Z", "gb", gb="1.5"),
            event(cid, "2024-01-31T23:59:59Z", "gb", gb="2"),
            event(cid, "2024-01-11T10:00:00Z", "gb"),  # no value: carries no quantity
            event(cid, "2024-01-12T10:00:00Z"),
            event(cid, "2024-01-12T11:00:00Z"),
            event(cid, "2024-02-03T10:00:00Z", "gb", gb="4"),  # outside both spans
            event(cid, "2024-02-03T22:00:00Z", "gb", gb="0.25"),
            event(cid, "2024-02-04T10:00:00Z"),
            event(cid, "2024-03-05T10:00:00Z", "gb", gb="7"),
            event(cid, "2024-04-01T00:00:00Z", "gb", gb="100"),  # not before `before`
        ],
    )
    contract_id = uuid.UUID(cid)
    before = _at("2024-04-01", 0)
    spans = [
        (contract_id, _at("2024-01-01", 0), _at("2024-02-01", 0)),
        (contract_id, _at("2024-03-01", 0), before),
    ]
    with session_scope(session_factory) as session:
        metrics = {
            m.id: m.code
            for m in repository.metrics_by_code(session, tenant.organisation_id, ["gb", "api_calls"]).values()
        }
        groups = billed.usage_groups(
            session, tenant.organisation_id, [contract_id], _at("2024-04-01", 0), spans
        )
        rows = billed.contract_events(
            session, tenant.organisation_id, [contract_id], _at("2024-04-01", 0), unbilled_only=True
        )

    summary = sorted(
        ((metrics[g.metric_id], g.span, g.day, sorted(g.values, key=str), len(g.keys)) for g in groups),
        key=repr,
    )
    assert summary == sorted(
        [
            ("api_calls", None, date(2024, 2, 4), [None], 1),
            ("api_calls", 0, None, [None, None], 0),
            ("gb", None, date(2024, 2, 3), ["0.25", "4"], 2),
            ("gb", 0, None, ["1.5", "2", None], 0),
            ("gb", 1, None, ["7"], 0),
        ],
        key=repr,
    )
    assert all(g.contract_id == contract_id for g in groups)
    for group in groups:
        in_group = [e for e in rows if e.metric_id == group.metric_id and _belongs(e, group, spans)]
        assert group.max_seq == max(e.seq for e in in_group)
        # Outside the spans every event is listed for marking, with the key billing marks it by.
        if group.span is None:
            assert sorted(group.keys) == sorted(e.key for e in in_group)


def _belongs(event: billed.EventValue, group: billed.UsageGroup, spans) -> bool:
    if group.span is not None:
        _, since, before = spans[group.span]
        return since <= event.timestamp < before
    return event.timestamp.astimezone(UTC).date() == group.day
