"""Period invoices of contracts on hand-computed values: each pricing model, proration, timing,
duplicates (also enforced by the database), late usage, the upcoming-invoice preview."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from faktur.db import session_scope
from faktur.http.deps import get_now
from faktur.models import Invoice, UsageCoverage, UsageEvent
from recurring_factories import (
    billed,
    create_contract,
    create_metric,
    event,
    events_billed_by,
    flat,
    invoice_period,
    line_summary,
    one_off,
    send_events,
    usage,
)

TIERS = [
    {"up_to": "100", "unit_price": "0.10"},
    {"up_to": "1000", "unit_price": "0.08"},
    {"up_to": None, "unit_price": "0.05", "flat_fee": "5"},
]


@pytest.fixture
def fixed_now(app):
    """Pin the service's clock; returns a setter."""

    def set_now(value: datetime) -> None:
        app.dependency_overrides[get_now] = lambda: value

    set_now(datetime(2024, 6, 15, 12, 0, tzinfo=UTC))
    yield set_now
    app.dependency_overrides.pop(get_now, None)


def _usage_contract(client, headers, charge_model: dict[str, Any]) -> dict[str, Any]:
    create_metric(client, headers, "units", "sum", "n")
    return create_contract(
        client, headers, [usage("units", charge_model, name="Units")], billing_cycle_start_day=1
    )


@pytest.mark.parametrize(
    ("charge_model", "units", "lines", "subtotal"),
    [
        pytest.param(
            {"model": "per_unit", "unit_price": "0.25"},
            "1234",
            [("1234", "0.25", "308.50")],
            "308.50",
            id="per-unit",
        ),
        pytest.param(
            {"model": "per_unit", "unit_price": "0.333333"},
            "2.5",
            [("2.5", "0.333333", "0.83")],
            "0.83",
            id="per-unit-fractional",
        ),
        pytest.param(
            {"model": "per_unit", "unit_price": "0.25"},
            None,
            [("0", "0.25", "0.00")],
            "0.00",
            id="per-unit-no-usage",
        ),
        pytest.param(
            {"model": "per_unit", "unit_price": "0.25", "minimum": "500"},
            "1234",
            [("1234", "0.25", "308.50"), ("1", "191.50", "191.50")],
            "500.00",
            id="per-unit-minimum",
        ),
        # 100 x 0.10 + 900 x 0.08 + 500 x 0.05 + 5 = 10 + 72 + 25 + 5
        pytest.param(
            {"model": "graduated", "tiers": TIERS},
            "1500",
            [
                ("100", "0.10", "10.00"),
                ("900", "0.08", "72.00"),
                ("500", "0.05", "25.00"),
                ("1", "5", "5.00"),
            ],
            "112.00",
            id="graduated",
        ),
        pytest.param(
            {"model": "graduated", "tiers": TIERS},
            "100",
            [("100", "0.10", "10.00")],
            "10.00",
            id="graduated-tier-boundary",
        ),
        # all 1500 at the third tier's 0.05, plus its flat fee
        pytest.param(
            {"model": "volume", "tiers": TIERS},
            "1500",
            [("1500", "0.05", "75.00"), ("1", "5", "5.00")],
            "80.00",
            id="volume",
        ),
        pytest.param(
            {"model": "volume", "tiers": TIERS},
            "1000",
            [("1000", "0.08", "80.00")],
            "80.00",
            id="volume-boundary",
        ),
        pytest.param(
            {"model": "volume", "tiers": TIERS, "minimum": "100"},
            "1000",
            [("1000", "0.08", "80.00"), ("1", "20.00", "20.00")],
            "100.00",
            id="volume-minimum",
        ),
        # (1234 - 50 free) = 1184 units -> 12 started packages of 100 at 12.00
        pytest.param(
            {"model": "package", "package_size": 100, "package_price": "12", "free_units": "50"},
            "1234",
            [("12", "12", "144.00")],
            "144.00",
            id="package",
        ),
        pytest.param(
            {"model": "package", "package_size": 100, "package_price": "12"},
            "1200",
            [("12", "12", "144.00")],
            "144.00",
            id="package-exact",
        ),
    ],
)
def test_pricing_models_on_the_invoice(client, tenant, charge_model, units, lines, subtotal) -> None:
    contract = _usage_contract(client, tenant.headers, charge_model)
    if units is not None:
        # The units arrive as two events, so the sum aggregation is exercised too.
        half = Decimal(units) // 2
        rest = Decimal(units) - half
        send_events(
            client,
            tenant.headers,
            [
                event(contract["id"], "2024-01-10T08:00:00Z", "units", n=str(half)),
                event(contract["id"], "2024-01-31T23:59:59Z", "units", n=str(rest)),
                event(contract["id"], "2024-02-01T00:00:00Z", "units", n="999"),  # next period
            ],
        )
    invoice = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    assert line_summary(invoice) == lines
    assert invoice["subtotal"] == subtotal
    assert invoice["tax_breakdown"][0]["percent"] in ("19", "19.00")
    assert all(
        line["period_start"] == "2024-01-01" and line["period_end"] == "2024-02-01"
        for line in invoice["lines"]
    )
    assert all(line["source"]["kind"] == "contract_component" for line in invoice["lines"])
    assert invoice["contract_id"] == contract["id"]


def test_tiers_are_named_on_the_lines(client, tenant) -> None:
    contract = _usage_contract(client, tenant.headers, {"model": "graduated", "tiers": TIERS})
    send_events(client, tenant.headers, [event(contract["id"], "2024-01-10T08:00:00Z", "units", n="1500")])
    invoice = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    second = invoice["lines"][1]
    assert second["description"] == "Units, tier 2 (over 100 up to 1000): 900 units, 2024-01-01 to 2024-01-31"
    assert (second["metadata"]["tier"], second["metadata"]["tier_from"], second["metadata"]["tier_to"]) == (
        "2",
        "100",
        "1000",
    )
    assert second["metadata"]["units"] == "1500"
    assert second["metadata"]["component"] == "Units"


@pytest.mark.parametrize(
    ("contract_fields", "period", "unit_price", "prorated"),
    [
        # 28-day February 2023, from the 15th: 14 of 28 days
        pytest.param(
            {"start_date": "2023-02-15", "billing_cycle_start_day": 1},
            ("2023-02-15", "2023-03-01"),
            "50.00",
            "14/28 days",
            id="28-day-month",
        ),
        # 30-day April, from the 11th: 20 of 30 days = 66.666...
        pytest.param(
            {"start_date": "2024-04-11", "billing_cycle_start_day": 1},
            ("2024-04-11", "2024-05-01"),
            "66.67",
            "20/30 days",
            id="30-day-month",
        ),
        # 31-day January, from the 21st: 11 of 31 days = 35.4838...
        pytest.param(
            {"start_date": "2024-01-21", "billing_cycle_start_day": 1},
            ("2024-01-21", "2024-02-01"),
            "35.48",
            "11/31 days",
            id="31-day-month",
        ),
        # leap February 2024, from the 15th: 15 of 29 days = 51.7241...
        pytest.param(
            {"start_date": "2024-02-15", "billing_cycle_start_day": 1},
            ("2024-02-15", "2024-03-01"),
            "51.72",
            "15/29 days",
            id="leap-february",
        ),
        # anchor 31 clamps to Feb 29: cycle Jan 31 - Feb 29 (29 days), covered from Feb 10: 19 days
        pytest.param(
            {"start_date": "2024-02-10", "billing_cycle_start_day": 31},
            ("2024-02-10", "2024-02-29"),
            "65.52",
            "19/29 days",
            id="anchor-31-in-february",
        ),
        # partial last period: contract ends (exclusive) on Mar 11, cycle Mar 1 - Apr 1: 10 of 31
        pytest.param(
            {"start_date": "2024-03-01", "end_date": "2024-03-11", "billing_cycle_start_day": 1},
            ("2024-03-01", "2024-03-11"),
            "32.26",
            "10/31 days",
            id="partial-last-period",
        ),
        # quarter Feb 1 - May 1 (29 + 31 + 30 = 90 days), from Feb 10: 81 days
        pytest.param(
            {"start_date": "2024-02-10", "billing_cycle_start_day": 1, "billing_interval": "quarter"},
            ("2024-02-10", "2024-05-01"),
            "90.00",
            "81/90 days",
            id="quarter",
        ),
    ],
)
def test_flat_fees_are_prorated_by_days(
    client, tenant, contract_fields, period, unit_price, prorated
) -> None:
    contract = create_contract(client, tenant.headers, [flat("100.00")], **contract_fields)
    invoice = billed(client, tenant.headers, contract["id"], *period)
    assert line_summary(invoice) == [("1", unit_price, unit_price)]
    assert invoice["lines"][0]["metadata"]["prorated"] == prorated
    assert (invoice["period_start"], invoice["period_end"]) == period


def test_anchor_31_full_february_is_not_prorated(client, tenant) -> None:
    contract = create_contract(client, tenant.headers, [flat("100.00")], start_date="2024-01-31")
    invoice = billed(client, tenant.headers, contract["id"], "2024-01-31", "2024-02-29")
    assert line_summary(invoice) == [("1", "100.00", "100.00")]
    march = billed(client, tenant.headers, contract["id"], "2024-02-29", "2024-03-31")
    assert line_summary(march) == [("1", "100.00", "100.00")]


def test_in_advance_fees_bill_the_next_period_and_one_offs_the_first_invoice(client, tenant) -> None:
    contract = create_contract(
        client,
        tenant.headers,
        [flat("100.00"), one_off("250.00")],
        start_date="2024-01-15",
        billing_cycle_start_day=1,
        billing_timing="in_advance",
        end_date="2024-03-20",
    )
    first = billed(client, tenant.headers, contract["id"], "2024-01-15", "2024-02-01")
    # Jan 15 - Feb 1 (17 of 31 days, nothing billed it before), February in advance, the set-up fee.
    assert line_summary(first) == [
        ("1", "54.84", "54.84"),
        ("1", "100.00", "100.00"),
        ("1", "250.00", "250.00"),
    ]
    assert [(ln["period_start"], ln["period_end"]) for ln in first["lines"][:2]] == [
        ("2024-01-15", "2024-02-01"),
        ("2024-02-01", "2024-03-01"),
    ]
    second = billed(client, tenant.headers, contract["id"], "2024-02-01", "2024-03-01")
    # March in advance, cut at the contract end (Mar 1 - Mar 20: 19 of 31 days).
    assert line_summary(second) == [("1", "61.29", "61.29")]
    # Nothing is left to bill for the last period: its fee went out in advance, there is no usage.
    last = invoice_period(client, tenant.headers, contract["id"], "2024-03-01", "2024-03-20")
    assert (last.status_code, last.json()["error"]["code"]) == (422, "nothing_to_bill")


def test_a_period_is_invoiced_once_and_the_database_enforces_it(client, tenant, session_factory) -> None:
    contract = create_contract(client, tenant.headers, [flat()])
    first = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01", finalize=True)
    for check in (True, False):
        again = invoice_period(
            client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01", check_duplicate=check
        )
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert error["code"] == "duplicate_period"
        assert error["details"][0]["existing_invoice_id"] == first["id"]
        assert first["id"] in error["message"]
    voided = client.post(f"/v1/invoices/{first['id']}/void", headers=tenant.headers)
    assert voided.status_code == 200, voided.text
    redo = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    assert redo["id"] != first["id"]
    with session_scope(session_factory) as session:
        assert session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 2


def test_only_periods_of_the_contract_calendar_can_be_invoiced(client, tenant, fixed_now) -> None:
    contract = create_contract(client, tenant.headers, [flat()], start_date="2024-01-01")
    cases = [
        (("2024-01-02", "2024-02-01"), "not_a_contract_period"),
        (("2024-01-01", "2024-03-01"), "not_a_contract_period"),
        (("2023-12-01", "2024-01-01"), "not_a_contract_period"),
        (("2024-06-01", "2024-07-01"), "period_not_completed"),
    ]
    for (start, end), code in cases:
        response = invoice_period(client, tenant.headers, contract["id"], start, end)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), response.text
    for body in (
        {"period_start": "2024-01-01"},
        {"period_start": "x", "period_end": "y"},
        {"finalize": "maybe"},
    ):
        response = client.post(f"/v1/contracts/{contract['id']}/invoices", json=body, headers=tenant.headers)
        assert response.status_code == 422, body
    # Without a period: the last completed one by the anchor (now is 2024-06-15).
    default = invoice_period(client, tenant.headers, contract["id"])
    assert default.status_code == 201, default.text
    assert (default.json()["period_start"], default.json()["period_end"]) == ("2024-05-01", "2024-06-01")


def test_late_usage_is_reported_and_billed_once_on_the_next_invoice(
    client, tenant, session_factory, fixed_now
) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(
        client,
        tenant.headers,
        [
            usage(
                "api_calls",
                {
                    "model": "graduated",
                    "tiers": [{"up_to": "10", "unit_price": "1"}, {"up_to": None, "unit_price": "0.50"}],
                },
            )
        ],
    )
    send_events(client, tenant.headers, [event(contract["id"], "2024-01-20T10:00:00Z") for _ in range(8)])
    january = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01", finalize=True)
    assert january["subtotal"] == "8.00"
    late = send_events(
        client, tenant.headers, [event(contract["id"], "2024-01-31T23:00:00Z") for _ in range(5)]
    )
    assert late["stored"] == 5  # kept, never dropped

    report = client.get(
        f"/v1/contracts/{contract['id']}/usage", params={"on": "2024-02-10"}, headers=tenant.headers
    )
    assert report.status_code == 200, report.text
    late_events = report.json()["late_events"]
    assert len(late_events) == 5
    assert {e["period"]["invoice_id"] for e in late_events} == {january["id"]}

    february = billed(client, tenant.headers, contract["id"], "2024-02-01", "2024-03-01")
    # January with the late events: 13 calls = 10 x 1 + 3 x 0.50 = 11.50; billed before: 8.00.
    adjustment = february["lines"][-1]
    assert (adjustment["quantity"], adjustment["unit_price"], adjustment["net_amount"]) == (
        "1",
        "3.50",
        "3.50",
    )
    assert (adjustment["period_start"], adjustment["period_end"]) == ("2024-01-01", "2024-02-01")
    assert adjustment["metadata"]["late_usage"] == "true"
    assert (adjustment["metadata"]["units_before"], adjustment["metadata"]["units_after"]) == ("8", "13")
    after = client.get(
        f"/v1/contracts/{contract['id']}/usage", params={"on": "2024-03-10"}, headers=tenant.headers
    )
    assert after.json()["late_events"] == []
    march = billed(client, tenant.headers, contract["id"], "2024-03-01", "2024-04-01")
    assert not any(line["metadata"].get("late_usage") for line in march["lines"])
    assert events_billed_by(session_factory) == {january["id"]: 8, february["id"]: 5}


def test_voided_period_bills_its_usage_again(client, tenant) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(
        client, tenant.headers, [usage("api_calls", {"model": "per_unit", "unit_price": "2"})]
    )
    send_events(client, tenant.headers, [event(contract["id"], "2024-01-20T10:00:00Z") for _ in range(3)])
    first = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01", finalize=True)
    client.post(f"/v1/invoices/{first['id']}/void", headers=tenant.headers)
    again = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    assert line_summary(again) == [("3", "2", "6.00")]


def test_terms_versions_and_bill_for_date(client, tenant) -> None:
    contract = create_contract(client, tenant.headers, [flat("100.00")])
    client.patch(
        f"/v1/contracts/{contract['id']}",
        json={"components": [flat("120.00")], "terms_effective_from": "2024-03-01"},
        headers=tenant.headers,
    )
    feb = billed(client, tenant.headers, contract["id"], "2024-02-01", "2024-03-01")
    mar = billed(client, tenant.headers, contract["id"], "2024-03-01", "2024-04-01")
    apr = billed(
        client, tenant.headers, contract["id"], "2024-04-01", "2024-05-01", bill_for_date="2024-01-15"
    )
    assert [i["subtotal"] for i in (feb, mar, apr)] == ["100.00", "120.00", "100.00"]


def test_upcoming_invoice_previews_the_running_period_and_stores_nothing(
    client, tenant, session_factory, fixed_now
) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(
        client,
        tenant.headers,
        [flat("100.00"), usage("api_calls", {"model": "per_unit", "unit_price": "0.5"})],
    )
    send_events(client, tenant.headers, [event(contract["id"], "2024-06-03T10:00:00Z") for _ in range(4)])
    preview = client.get(f"/v1/contracts/{contract['id']}/upcoming-invoice", headers=tenant.headers)
    assert preview.status_code == 200, preview.text
    assert line_summary(preview.json()) == [("1", "100.00", "100.00"), ("4", "0.5", "2.00")]
    assert preview.json()["total"] == "121.38"
    with session_scope(session_factory) as session:
        assert session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 0
        assert (
            session.execute(
                select(func.count()).select_from(UsageEvent).where(UsageEvent.invoice_id.is_not(None))
            ).scalar_one()
            == 0
        )
        assert session.execute(select(func.count()).select_from(UsageCoverage)).scalar_one() == 0
    fixed_now(datetime(2030, 1, 1, tzinfo=UTC))
    ended = create_contract(client, tenant.headers, [flat()], end_date="2024-03-01")
    response = client.get(f"/v1/contracts/{ended['id']}/upcoming-invoice", headers=tenant.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_running_period")


@pytest.mark.parametrize(
    "key",
    ["n", "a.b", 'say "n"', "$n", "größe", "[0]"],
    ids=["plain", "dotted", "quoted", "dollar", "non-ascii", "brackets"],
)
def test_the_metric_property_is_read_from_stored_events_whatever_its_key(client, tenant, key) -> None:
    # The database extracts the one property billing needs: keys that look like JSON paths must
    # still name the key itself; null and missing values carry no quantity.
    create_metric(client, tenant.headers, "units", "sum", key)
    contract = create_contract(
        client, tenant.headers, [usage("units", {"model": "per_unit", "unit_price": "1"}, name="Units")]
    )
    send_events(
        client,
        tenant.headers,
        [
            event(contract["id"], "2024-01-10T08:00:00Z", "units", **{key: "2.25"}),
            event(contract["id"], "2024-01-11T08:00:00Z", "units", **{key: 1}),
            event(contract["id"], "2024-01-12T08:00:00Z", "units", **{key: None}),
            event(contract["id"], "2024-01-13T08:00:00Z", "units", other="100"),
            event(contract["id"], "2024-01-14T08:00:00Z", "units", **{"n" if key != "n" else "m": "50"}),
        ],
    )
    invoice = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    assert line_summary(invoice) == [("3.25", "1", "3.25")]
    assert (invoice["lines"][0]["metadata"]["units"], invoice["lines"][0]["metadata"]["events"]) == (
        "3.25",
        "5",
    )


def test_unique_count_compares_the_stored_strings(client, tenant) -> None:
    create_metric(client, tenant.headers, "users", "unique_count", "user")
    contract = create_contract(
        client, tenant.headers, [usage("users", {"model": "per_unit", "unit_price": "3"}, name="Users")]
    )
    values: list[Any] = ['say "hi"', 'say "hi"', "back\\slash", "ünï", "ünï", 7, "7", None]
    send_events(
        client,
        tenant.headers,
        [event(contract["id"], f"2024-01-{10 + i}T08:00:00Z", "users", user=v) for i, v in enumerate(values)],
    )
    invoice = billed(client, tenant.headers, contract["id"], "2024-01-01", "2024-02-01")
    # 'say "hi"', 'back\slash', 'ünï', '7' (the number 7 is stored as the string "7")
    assert line_summary(invoice) == [("4", "3", "12.00")]
