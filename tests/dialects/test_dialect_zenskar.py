"""Zenskar dialect (seed 001): a draft invoice for any range of days of a contract, every error a
422 `HTTPValidationError`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from seed_openapi import seed_openapi

from factories import create_customer
from recurring_factories import create_contract, finished_run, flat, one_off
from schemathesis_harness import run_contract

URL = "/compat/zenskar/invoices/generate_invoice"
IDS = b'{"customer_id": "{customer}", "contract_id": "{contract}", '
JAN = {"from_date": "2024-01-01T00:00:00Z", "to_date": "2024-02-01T00:00:00Z"}


def zk(tenant: Any) -> dict[str, str]:
    """The headers of the seed's security schemes (x-api-key and organisation)."""
    return {
        "x-api-key": tenant.api_key,
        "organisation": str(tenant.organisation_id),
        "Content-Type": "application/json",
    }


def contract_of(
    client: TestClient, tenant: Any, *components: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)
    return create_contract(
        client,
        tenant.headers,
        list(components) or [flat()],
        customer_id=customer["id"],
        billing_cycle_start_day=1,
        **fields,
    )


def body_for(contract: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"customer_id": contract["customer_id"], "contract_id": contract["id"], **JAN, **fields}


def assert_seed_error(
    response: Any, loc: list[Any] | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """422 with exactly the seed's HTTPValidationError: {detail: [{loc, msg, type}]}."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert list(body) == ["detail"], body
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "type"}, item
        assert isinstance(item["msg"], str) and item["msg"] and isinstance(item["type"], str)
        assert all(isinstance(part, str | int) for part in item["loc"])
    if loc is not None:
        assert loc in [item["loc"] for item in body["detail"]], body
    if kind is not None:
        assert kind in [item["type"] for item in body["detail"]], body
    return body["detail"]


def native_invoices(client: TestClient, tenant: Any) -> list[dict[str, Any]]:
    return client.get("/v1/invoices", headers=tenant.headers).json()["data"]


def test_end_to_end_seed_request_then_read_back_natively(client, tenant) -> None:
    contract = contract_of(client, tenant, flat("100.00"), one_off("500.00"))
    # Every field of the seed's GenerateInvoiceRequestSchema, with the seed's two auth headers.
    body = {
        "customer_id": contract["customer_id"],
        "contract_id": contract["id"],
        "from_date": "2024-01-01T00:00:00Z",
        "to_date": "2024-02-01T00:00:00Z",
        "check_duplicate_invoice": True,
        "bill_for_date": "2024-01-01T00:00:00Z",
        "billing_cycle_start_day": 1,
    }
    response = client.post(URL, json=body, headers={**zk(tenant), "apiversion": "1"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "draft" and answer["is_duplicate"] is False
    assert (answer["from_date"], answer["to_date"]) == ("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z")
    assert (answer["amount_without_tax"], answer["tax_amount"], answer["total_amount"]) == (600, 114, 714)
    assert b'"total_amount":714.00' in response.content  # exact JSON number, currency's digits

    native = client.get(f"/v1/invoices/{answer['id']}", headers=tenant.headers).json()
    assert native["status"] == "draft" and native["number"] is None
    assert (native["subtotal"], native["tax_total"], native["total"]) == ("600.00", "114.00", "714.00")
    assert (native["period_start"], native["period_end"]) == ("2024-01-01", "2024-02-01")
    assert (native["contract_id"], native["customer"]["id"]) == (contract["id"], contract["customer_id"])
    assert sorted(line["net_amount"] for line in native["lines"]) == ["100.00", "500.00"]


def test_dates_as_iso_8601_or_epoch_seconds(client, tenant) -> None:
    contract = contract_of(client, tenant)
    forms = [
        {"from_date": 1706745600, "to_date": "1709251200"},  # Feb 2024 as Unix seconds
        {"from_date": "2024-03-01T00:00:00", "to_date": "2024-04-01"},  # no zone: UTC
        # to_date is exclusive; a last instant of the period still ends the period on its day.
        {"from_date": "2024-04-01T00:00:00+00:00", "to_date": "2024-04-30T23:59:59Z"},
    ]
    periods = []
    for dates in forms:
        response = client.post(URL, json=body_for(contract, **dates), headers=zk(tenant))
        assert response.status_code == 200, response.text
        periods.append((response.json()["from_date"][:10], response.json()["to_date"][:10]))
    assert periods == [
        ("2024-02-01", "2024-03-01"),
        ("2024-03-01", "2024-04-01"),
        ("2024-04-01", "2024-05-01"),
    ]
    # Midnight in Berlin is 23:00 UTC the day before: 2024-04-30 to 2024-06-01 in UTC days, which
    # shares April 30 with April's invoice. Differs from the vendor: nothing is invoiced twice.
    shifted = {"from_date": "2024-05-01T00:00:00+01:00", "to_date": "2024-06-01T00:00:00+01:00"}
    detail = assert_seed_error(
        client.post(URL, json=body_for(contract, **shifted), headers=zk(tenant)),
        ["body", "from_date"],
        "period_overlaps_invoice",
    )
    assert "2024-04-30" in detail[0]["msg"]


def test_check_duplicate_invoice_refuses_a_second_invoice_of_the_period(client, tenant) -> None:
    """As documented: "Check for duplicate invoice in same billing period"."""
    contract = contract_of(client, tenant)
    first = client.post(URL, json=body_for(contract), headers=zk(tenant)).json()
    refused = client.post(URL, json=body_for(contract, check_duplicate_invoice=True), headers=zk(tenant))
    detail = assert_seed_error(refused, ["body", "check_duplicate_invoice"], "duplicate_invoice")
    assert first["id"] in detail[0]["msg"]
    assert [inv["id"] for inv in native_invoices(client, tenant)] == [first["id"]]


@pytest.mark.parametrize("flag", [False, None, "absent"])
def test_without_the_check_the_periods_invoice_is_answered_not_a_second_one(client, tenant, flag) -> None:
    """Differs from the vendor (README): unchecked, Zenskar makes another invoice for the period;
    faktur keeps one live invoice per billed day and answers the existing one (200)."""
    contract = contract_of(client, tenant)
    first = client.post(URL, json=body_for(contract), headers=zk(tenant)).json()
    body = body_for(contract) if flag == "absent" else body_for(contract, check_duplicate_invoice=flag)
    again = client.post(URL, json=body, headers=zk(tenant))
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["is_duplicate"]) == (first["id"], True)
    assert again.json()["total_amount"] == first["total_amount"]
    assert [inv["id"] for inv in native_invoices(client, tenant)] == [first["id"]]
    # A void invoice releases the period: the next request makes a new one.
    assert client.post(f"/v1/invoices/{first['id']}/finalize", headers=tenant.headers).status_code == 200
    assert client.post(f"/v1/invoices/{first['id']}/void", headers=tenant.headers).status_code == 200
    redo = client.post(URL, json=body_for(contract, check_duplicate_invoice=True), headers=zk(tenant))
    assert redo.status_code == 200 and redo.json()["id"] != first["id"] and not redo.json()["is_duplicate"]


def test_bill_for_date_picks_the_contract_terms(client, tenant) -> None:
    contract = contract_of(client, tenant, flat("100.00"))
    patched = client.patch(
        f"/v1/contracts/{contract['id']}",
        json={"components": [flat("120.00")], "terms_effective_from": "2024-03-01"},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    april = {"from_date": "2024-04-01T00:00:00Z", "to_date": "2024-05-01T00:00:00Z"}
    may = {"from_date": "2024-05-01T00:00:00Z", "to_date": "2024-06-01T00:00:00Z"}
    old_terms = client.post(
        URL, json=body_for(contract, **april, bill_for_date="2024-01-15T00:00:00Z"), headers=zk(tenant)
    )
    new_terms = client.post(URL, json=body_for(contract, **may), headers=zk(tenant))
    assert (old_terms.json()["amount_without_tax"], new_terms.json()["amount_without_tax"]) == (100, 120)


def test_billing_cycle_start_day_snaps_a_missing_bound(client, tenant) -> None:
    contract = contract_of(client, tenant)
    only_from = {
        "customer_id": contract["customer_id"],
        "contract_id": contract["id"],
        "billing_cycle_start_day": 1,
    }
    answers = [
        client.post(URL, json={**only_from, "from_date": "2024-01-01T00:00:00Z"}, headers=zk(tenant)),
        client.post(URL, json={**only_from, "to_date": 1709251200, "from_date": None}, headers=zk(tenant)),
    ]
    assert [(a.status_code, a.json()["from_date"][:10], a.json()["to_date"][:10]) for a in answers] == [
        (200, "2024-01-01", "2024-02-01"),
        (200, "2024-02-01", "2024-03-01"),
    ]
    # Another cycle day than the contract's cannot name one of its periods.
    assert_seed_error(
        client.post(
            URL,
            json={**only_from, "billing_cycle_start_day": 15, "from_date": 1709251200},
            headers=zk(tenant),
        ),
        ["body", "billing_cycle_start_day"],
        "not_the_contract_cycle",
    )
    # Without the cycle day both bounds are required, as the seed says.
    no_day = {k: v for k, v in only_from.items() if k != "billing_cycle_start_day"}
    assert_seed_error(
        client.post(URL, json={**no_day, "from_date": "2024-03-01T00:00:00Z"}, headers=zk(tenant)),
        ["body", "to_date"],
        "missing",
    )
    detail = assert_seed_error(client.post(URL, json=only_from, headers=zk(tenant)))
    assert [d["loc"] for d in detail] == [["body", "from_date"], ["body", "to_date"]]
    # Before the contract starts there is no period to snap to.
    assert_seed_error(
        client.post(URL, json={**only_from, "from_date": "2023-06-01T00:00:00Z"}, headers=zk(tenant)),
        ["body", "from_date"],
        "outside_contract",
    )
    assert len(native_invoices(client, tenant)) == 2


@pytest.mark.parametrize(
    ("dates", "lines"),
    [
        # 30 of January's 31 days: the monthly fee prorated as the billing engine prorates.
        ({"from_date": "2024-01-02T00:00:00Z", "to_date": "2024-02-01T00:00:00Z"}, ["96.77"]),
        # Two whole periods in one invoice.
        ({"from_date": "2024-01-01T00:00:00Z", "to_date": "2024-03-01T00:00:00Z"}, ["100.00", "100.00"]),
        # Across a cycle boundary (Jan 15 to Feb 10): 17 of 31 January days, 9 of 29 February days.
        ({"from_date": 1705276800, "to_date": 1707523200}, ["54.84", "31.03"]),
    ],
)
def test_any_range_of_days_is_invoiced_prorated_by_the_billing_engine(client, tenant, dates, lines) -> None:
    contract = contract_of(client, tenant)
    response = client.post(URL, json=body_for(contract, **dates), headers=zk(tenant))
    assert response.status_code == 200, response.text
    answer = response.json()
    native = client.get(f"/v1/invoices/{answer['id']}", headers=tenant.headers).json()
    assert [line["net_amount"] for line in native["lines"]] == lines
    assert (native["period_start"], native["period_end"]) == (
        answer["from_date"][:10],
        answer["to_date"][:10],
    )
    assert all(
        "prorated" in line["description"] for line in native["lines"] if line["net_amount"] != "100.00"
    )


def test_a_range_overlapping_an_invoice_or_not_yet_over_is_422(client, tenant) -> None:
    contract = contract_of(client, tenant)
    assert client.post(URL, json=body_for(contract), headers=zk(tenant)).status_code == 200  # January
    cases = [
        ({"from_date": "2024-01-20T00:00:00Z", "to_date": "2024-02-10T00:00:00Z"}, "period_overlaps_invoice"),
        ({"from_date": "2099-01-01T00:00:00Z", "to_date": "2099-02-01T00:00:00Z"}, "period_not_completed"),
        ({"from_date": "2099-01-05T00:00:00Z", "to_date": "2099-02-01T00:00:00Z"}, "period_not_completed"),
        ({"from_date": "2023-12-01T00:00:00Z", "to_date": "2024-01-01T00:00:00Z"}, "outside_contract"),
    ]
    for dates, kind in cases:
        assert_seed_error(client.post(URL, json=body_for(contract, **dates), headers=zk(tenant)), kind=kind)
    assert len(native_invoices(client, tenant)) == 1


def test_a_billing_run_skips_a_period_a_range_invoice_bills(client, tenant) -> None:
    """Nothing is invoiced twice: February 10-20 billed by range leaves February to the client."""
    contract = contract_of(client, tenant)
    dates = {"from_date": "2024-02-10T00:00:00Z", "to_date": "2024-02-20T00:00:00Z"}
    assert client.post(URL, json=body_for(contract, **dates), headers=zk(tenant)).status_code == 200
    run = client.post("/v1/billing-runs", json={"as_of": "2024-04-15"}, headers=tenant.headers)
    assert run.status_code == 202, run.text
    assert finished_run(client, tenant.headers, run.json()["id"])["status"] == "completed"
    periods = sorted((i["period_start"], i["period_end"]) for i in native_invoices(client, tenant))
    assert periods == [
        ("2024-01-01", "2024-02-01"),
        ("2024-02-10", "2024-02-20"),
        ("2024-03-01", "2024-04-01"),
    ]


def test_a_range_of_an_in_advance_contract_is_422(client, tenant) -> None:
    """Differs from the vendor: in-advance fees are billed per whole period; a range inside one
    would bill its days twice."""
    contract = contract_of(client, tenant, billing_timing="in_advance")
    dates = {"from_date": "2024-01-05T00:00:00Z", "to_date": "2024-02-01T00:00:00Z"}
    assert_seed_error(
        client.post(URL, json=body_for(contract, **dates), headers=zk(tenant)),
        kind="range_of_in_advance_contract",
    )


def test_another_organisations_contract_is_a_422_on_contract_id(client, tenant, other_tenant) -> None:
    foreign = contract_of(client, other_tenant)
    own = contract_of(client, tenant)
    cases = [
        (body_for(foreign), ["body", "contract_id"], "contract_not_found"),
        (body_for(own, contract_id=str(uuid.uuid4())), ["body", "contract_id"], "contract_not_found"),
        (
            body_for(own, customer_id=foreign["customer_id"]),
            ["body", "customer_id"],
            "contract_of_other_customer",
        ),
    ]
    for body, loc, kind in cases:
        detail = assert_seed_error(client.post(URL, json=body, headers=zk(tenant)), loc, kind)
        assert foreign["id"] not in detail[0]["msg"] or kind == "contract_not_found"
    assert native_invoices(client, tenant) == [] and native_invoices(client, other_tenant) == []


@pytest.mark.parametrize(
    ("headers", "loc", "kind"),
    [
        ({}, ["header", "x-api-key"], "missing"),
        ({"organisation": "{org}"}, ["header", "x-api-key"], "missing"),
        ({"x-api-key": "{key}"}, ["header", "organisation"], "missing"),
        ({"x-api-key": "fk_wrong", "organisation": "{org}"}, ["header", "x-api-key"], "invalid_api_key"),
        (
            {"x-api-key": "{key}", "organisation": "{other_org}"},
            ["header", "organisation"],
            "organisation_mismatch",
        ),
        (
            {"x-api-key": "{key}", "organisation": "Seller GmbH"},
            ["header", "organisation"],
            "organisation_mismatch",
        ),
        ({"Authorization": "Bearer {key}", "organisation": "{org}"}, ["header", "x-api-key"], "missing"),
    ],
)
def test_missing_or_wrong_credentials_are_422(client, tenant, other_tenant, headers, loc, kind) -> None:
    contract = contract_of(client, tenant)
    values = {"key": tenant.api_key, "org": tenant.organisation_id, "other_org": other_tenant.organisation_id}
    sent = {name: value.format(**values) for name, value in headers.items()}
    response = client.post(URL, json=body_for(contract), headers=sent)
    assert_seed_error(response, loc, kind)
    assert native_invoices(client, tenant) == []


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (b"{", None, "json_invalid"),
        (b"", ["body"], "missing"),
        (b"[]", ["body"], "model_attributes_type"),
        (b"null", ["body"], None),
        (b'{"contract_id": "{contract}", "from_date": 0, "to_date": 1}', ["body", "customer_id"], "missing"),
        (b'{"customer_id": "x", "contract_id": 7}', ["body", "customer_id"], "uuid_parsing"),
        (
            IDS + b'"from_date": "yesterday", "to_date": 1}',
            ["body", "from_date"],
            None,
        ),
        (
            IDS + b'"from_date": true, "to_date": 1}',
            ["body", "from_date"],
            "datetime_type",
        ),
        (
            IDS + b'"from_date": 1e400, "to_date": 1}',
            ["body", "from_date"],
            None,
        ),
        (
            IDS + b'"from_date": 100000000000000000000, "to_date": 1}',
            ["body", "from_date"],
            "datetime_parsing",
        ),
        (
            IDS + b'"from_date": "0001-01-01T00:00:00+01:00", "to_date": 1}',
            ["body", "from_date"],
            "value_error",
        ),
        (
            IDS + b'"from_date": 1706745600, "to_date": "9999-12-31T12:00:00Z"}',
            ["body", "to_date"],
            "date_out_of_range",
        ),
        # from_date not before to_date (to_date is exclusive)
        (
            IDS + b'"from_date": 1706745600, "to_date": 1704067200}',
            ["body", "to_date"],
            "value_error",
        ),
        (
            IDS + b'"from_date": 1706745600, "to_date": 1706745600}',
            ["body", "to_date"],
            "value_error",
        ),
        (
            IDS + b'"from_date": 1706745600, "to_date": 1709251200, "billing_cycle_start_day": 32}',
            ["body", "billing_cycle_start_day"],
            "less_than_equal",
        ),
        (
            IDS + b'"from_date": 1706745600, "to_date": 1709251200, "check_duplicate_invoice": "maybe"}',
            ["body", "check_duplicate_invoice"],
            "bool_parsing",
        ),
        (
            IDS + b'"from_date": 1706745600, "to_date": 1709251200, "bill_for_date": [2024]}',
            ["body", "bill_for_date"],
            "datetime_type",
        ),
    ],
)
def test_malformed_bodies_are_422_in_the_seed_shape(client, tenant, raw, loc, kind) -> None:
    contract = contract_of(client, tenant)
    content = raw.replace(b"{customer}", contract["customer_id"].encode()).replace(
        b"{contract}", contract["id"].encode()
    )
    response = client.post(URL, content=content, headers=zk(tenant))
    detail = assert_seed_error(response, loc, kind)
    assert "error" not in response.json()  # never faktur's native shape
    assert all("input" not in d for d in detail)
    assert native_invoices(client, tenant) == []


def test_wrong_content_type_and_apiversion_are_422(client, tenant) -> None:
    contract = contract_of(client, tenant)
    plain = {**zk(tenant), "Content-Type": "text/plain"}
    assert_seed_error(client.post(URL, content=b"customer_id=1", headers=plain), ["body"])
    bad_version = {**zk(tenant), "apiversion": "latest"}
    assert_seed_error(
        client.post(URL, json=body_for(contract), headers=bad_version), ["header", "apiversion"]
    )
    assert native_invoices(client, tenant) == []


def steer_toward_known_ids(contract: dict[str, Any]):
    """Most valid cases name the contract, its customer and one of its completed months. The
    choice is drawn, never kept outside hypothesis: a replayed case must draw the same data."""
    months = [1704067200, 1706745600, 1709251200, 1711929600, 1714521600]  # 2024-01-01 .. 2024-05-01

    def steer(case: Any, draw: Any) -> None:
        if isinstance(case.body, dict) and draw(st.integers(0, 3)) != 0:
            case.body["customer_id"] = contract["customer_id"]
            case.body["contract_id"] = contract["id"]
            month = draw(st.integers(0, len(months) - 2))
            case.body["from_date"] = months[month]
            # Mostly the month itself; sometimes a span that is not a period of the contract.
            case.body["to_date"] = draw(st.sampled_from([months[month + 1]] * 3 + ["2024-12-01T00:00:00Z"]))
            case.body["check_duplicate_invoice"] = draw(st.sampled_from([True, True, None, False]))
            # Only these: fields the document does not name are refused (never ignored).
            named = {"customer_id", "contract_id", "from_date", "to_date", "check_duplicate_invoice"}
            for key in set(case.body) - named:
                del case.body[key]
            if isinstance(case.headers, dict):
                case.headers.pop("apiversion", None)  # generated as 'null' at times, which is a 422

    return steer


def test_contract_of_seed_openapi(app, client, tenant) -> None:
    contract = contract_of(client, tenant)
    statuses = run_contract(
        app,
        seed_openapi("001"),
        "/compat/zenskar",
        {"x-api-key": tenant.api_key, "organisation": str(tenant.organisation_id)},
        prepare=steer_toward_known_ids(contract),
    )
    assert 200 in statuses and 422 in statuses
    assert set(statuses) <= {200, 422}


def test_idempotency_key_replays_the_first_answer(client, tenant) -> None:
    contract = contract_of(client, tenant)
    headers = {**zk(tenant), "Idempotency-Key": "zk-1"}
    first = client.post(URL, json=body_for(contract), headers=headers)
    replay = client.post(URL, json=body_for(contract), headers=headers)
    assert (replay.status_code, replay.content) == (200, first.content)
    other = body_for(contract, from_date="2024-02-01T00:00:00Z", to_date="2024-03-01T00:00:00Z")
    assert_seed_error(client.post(URL, json=other, headers=headers))
    assert len(native_invoices(client, tenant)) == 1
