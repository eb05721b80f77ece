"""Tenancy (design rule 1): another organisation's id is "not found" (404), never "forbidden", and a
caller can neither read nor change anything of another organisation.

`other_tenant` owns a customer, a tax rate, a draft and a finalized invoice; `tenant` owns a customer
and a draft of its own (to reference the other's ids from its own resources). Every row of
FOREIGN_ID_REQUESTS is one endpoint called by `tenant` with the other's ids: adding an endpoint is
adding a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from outbox_settle import settle_email_checks


@dataclass(frozen=True)
class Ids:
    """The other tenant's resources, and the caller's own customer and draft."""

    customer: str
    tax_rate: str
    draft: str
    open: str
    own_customer: str
    own_draft: str


@pytest.fixture
def ids(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> Ids:
    theirs = other_tenant.headers
    customer = create_customer(client, theirs, name="Their Customer SARL", email="theirs@client.example")
    rate = client.post("/v1/tax-rates", json={"name": "TVA 20", "percent": "20"}, headers=theirs)
    assert rate.status_code == 201, rate.text
    rate_id = rate.json()["id"]
    rated_line = {"description": "Audit", "quantity": "2", "unit_price": "50.00", "tax_rate_id": rate_id}
    draft = create_invoice(client, theirs, customer["id"], lines=[rated_line])
    issued = create_invoice(client, theirs, customer["id"], finalize=True)
    own_customer = create_customer(client, tenant.headers, name="Our Customer GmbH")
    own_draft = create_invoice(client, tenant.headers, own_customer["id"])
    return Ids(customer["id"], rate_id, draft["id"], issued["id"], own_customer["id"], own_draft["id"])


Snapshot = Callable[[], dict[str, list[str]]]


@pytest.fixture
def stored_rows(session_factory: Any) -> Snapshot:
    """Every row of every table in the database, so a test can prove a request changed nothing."""
    with session_scope(session_factory) as session:
        tables = MetaData()
        tables.reflect(bind=session.connection())

    def snapshot() -> dict[str, list[str]]:
        settle_email_checks(session_factory)
        with session_scope(session_factory) as session:
            return {
                table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
                for table in tables.sorted_tables
            }

    return snapshot


Body = Callable[[Ids], dict[str, Any]] | None


def rated(rate_id: str) -> dict[str, Any]:
    return {"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate_id": rate_id}


def adjustment(rate_id: str) -> dict[str, Any]:
    return {"kind": "charge", "amount": "5.00", "reason": "Shipping", "tax_rate_id": rate_id}


# (id, method, path template, body, expected error code)
FOREIGN_ID_REQUESTS: list[tuple[str, str, str, Body, str]] = [
    ("get_customer", "GET", "/v1/customers/{customer}", None, "customer_not_found"),
    ("patch_customer", "PATCH", "/v1/customers/{customer}", lambda i: {"name": "Mine"}, "customer_not_found"),
    ("get_balance", "GET", "/v1/customers/{customer}/balance", None, "customer_not_found"),
    (
        "list_balance_transactions",
        "GET",
        "/v1/customers/{customer}/balance-transactions",
        None,
        "customer_not_found",
    ),
    (
        "credit_their_customer",
        "POST",
        "/v1/customers/{customer}/balance-transactions",
        lambda i: {"amount": "10.00", "description": "Mine"},
        "customer_not_found",
    ),
    ("get_draft", "GET", "/v1/invoices/{draft}", None, "invoice_not_found"),
    ("get_open", "GET", "/v1/invoices/{open}", None, "invoice_not_found"),
    ("patch_draft", "PATCH", "/v1/invoices/{draft}", lambda i: {"memo": "Hijacked"}, "invoice_not_found"),
    ("patch_lines", "PATCH", "/v1/invoices/{draft}", lambda i: {"lines": [line()]}, "invoice_not_found"),
    ("finalize_draft", "POST", "/v1/invoices/{draft}/finalize", None, "invoice_not_found"),
    ("void_open", "POST", "/v1/invoices/{open}/void", lambda i: {"reason": "mine now"}, "invoice_not_found"),
    ("void_draft", "POST", "/v1/invoices/{draft}/void", None, "invoice_not_found"),
    ("uncollectible_open", "POST", "/v1/invoices/{open}/mark-uncollectible", None, "invoice_not_found"),
    ("pay_open", "POST", "/v1/invoices/{open}/payments", lambda i: {"amount": "10.00"}, "invoice_not_found"),
    (
        "pay_open_in_full",
        "POST",
        "/v1/invoices/{open}/payments",
        lambda i: {"amount": "119.00"},
        "invoice_not_found",
    ),
    (
        "create_invoice_for_their_customer",
        "POST",
        "/v1/invoices",
        lambda i: {"customer_id": i.customer, "lines": [line()]},
        "customer_not_found",
    ),
    (
        "create_finalized_invoice_for_their_customer",
        "POST",
        "/v1/invoices",
        lambda i: {"customer_id": i.customer, "lines": [line()], "finalize": True},
        "customer_not_found",
    ),
    (
        "preview_for_their_customer",
        "POST",
        "/v1/invoices/preview",
        lambda i: {"customer_id": i.customer, "lines": [line()]},
        "customer_not_found",
    ),
    (
        "create_invoice_with_their_tax_rate",
        "POST",
        "/v1/invoices",
        lambda i: {"customer_id": i.own_customer, "lines": [rated(i.tax_rate)]},
        "tax_rate_not_found",
    ),
    (
        "create_invoice_with_their_tax_rate_on_second_line",
        "POST",
        "/v1/invoices",
        lambda i: {"customer_id": i.own_customer, "lines": [line(), rated(i.tax_rate)]},
        "tax_rate_not_found",
    ),
    (
        "create_invoice_with_their_tax_rate_on_adjustment",
        "POST",
        "/v1/invoices",
        lambda i: {"customer_id": i.own_customer, "lines": [line()], "adjustments": [adjustment(i.tax_rate)]},
        "tax_rate_not_found",
    ),
    (
        "preview_with_their_tax_rate",
        "POST",
        "/v1/invoices/preview",
        lambda i: {"customer_id": i.own_customer, "lines": [rated(i.tax_rate)]},
        "tax_rate_not_found",
    ),
    (
        "move_own_draft_to_their_customer",
        "PATCH",
        "/v1/invoices/{own_draft}",
        lambda i: {"customer_id": i.customer},
        "customer_not_found",
    ),
    (
        "put_their_tax_rate_on_own_draft",
        "PATCH",
        "/v1/invoices/{own_draft}",
        lambda i: {"lines": [rated(i.tax_rate)]},
        "tax_rate_not_found",
    ),
    (
        "send_open",
        "POST",
        "/v1/invoices/{open}/send",
        lambda i: {"to": ["me@thief.example"]},
        "invoice_not_found",
    ),
    ("list_sends_of_open", "GET", "/v1/invoices/{open}/sends", None, "invoice_not_found"),
    (
        "rotate_hosted_link_of_open",
        "POST",
        "/v1/invoices/{open}/hosted-link/rotate",
        None,
        "invoice_not_found",
    ),
    (
        "credit_open",
        "POST",
        "/v1/invoices/{open}/credit-notes",
        lambda i: {"reason": "duplicate"},
        "invoice_not_found",
    ),
    (
        "preview_credit_of_open",
        "POST",
        "/v1/invoices/{open}/credit-notes/preview",
        lambda i: {},
        "invoice_not_found",
    ),
    ("credit_draft", "POST", "/v1/invoices/{draft}/credit-notes", lambda i: {}, "invoice_not_found"),
]


def _path(template: str, ids: Ids) -> str:
    return template.format(**vars(ids))


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [row[1:] for row in FOREIGN_ID_REQUESTS],
    ids=[row[0] for row in FOREIGN_ID_REQUESTS],
)
def test_foreign_id_is_404_and_changes_nothing(
    client: TestClient,
    tenant: Tenant,
    ids: Ids,
    stored_rows: Snapshot,
    method: str,
    path: str,
    body: Body,
    code: str,
) -> None:
    before = stored_rows()
    response = client.request(
        method, _path(path, ids), json=None if body is None else body(ids), headers=tenant.headers
    )
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert "Their Customer" not in response.text and "TVA 20" not in response.text
    assert stored_rows() == before


def test_other_tenants_invoices_are_untouched_after_every_foreign_call(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, ids: Ids
) -> None:
    theirs = other_tenant.headers
    draft_before = client.get(f"/v1/invoices/{ids.draft}", headers=theirs).json()
    open_before = client.get(f"/v1/invoices/{ids.open}", headers=theirs).json()
    customer_before = client.get(f"/v1/customers/{ids.customer}", headers=theirs).json()

    for _, method, path, body, _ in FOREIGN_ID_REQUESTS:
        payload = None if body is None else body(ids)
        client.request(method, _path(path, ids), json=payload, headers=tenant.headers)

    draft_after = client.get(f"/v1/invoices/{ids.draft}", headers=theirs).json()
    open_after = client.get(f"/v1/invoices/{ids.open}", headers=theirs).json()
    assert draft_after == draft_before
    assert draft_after["status"] == "draft" and draft_after["number"] is None
    assert open_after == open_before
    assert open_after["status"] == "open"
    assert open_after["payments"] == [] and open_after["amount_paid"] == "0.00"
    assert [e["to_status"] for e in open_after["status_history"]] == ["draft", "open"]
    assert client.get(f"/v1/customers/{ids.customer}", headers=theirs).json() == customer_before


def test_other_tenant_still_numbers_gaplessly_after_foreign_finalize_attempts(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, ids: Ids
) -> None:
    assert client.post(f"/v1/invoices/{ids.draft}/finalize", headers=tenant.headers).status_code == 404
    first = client.get(f"/v1/invoices/{ids.open}", headers=other_tenant.headers).json()["number"]
    second = client.post(f"/v1/invoices/{ids.draft}/finalize", headers=other_tenant.headers).json()["number"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


# (id, list path template): lists filtered by the other tenant's ids or values return nothing.
FOREIGN_FILTERS = [
    ("invoices_by_their_customer", "/v1/invoices?customer_id={customer}"),
    ("open_invoices_by_their_customer", "/v1/invoices?customer_id={customer}&status=open"),
    ("draft_invoices_by_their_customer", "/v1/invoices?customer_id={customer}&status=draft"),
    ("customers_by_their_email", "/v1/customers?email=theirs@client.example"),
    ("credit_notes_of_their_invoice", "/v1/credit-notes?invoice_id={open}"),
    ("credit_notes_of_their_customer", "/v1/credit-notes?customer_id={customer}"),
]


@pytest.mark.parametrize("path", [p for _, p in FOREIGN_FILTERS], ids=[i for i, _ in FOREIGN_FILTERS])
def test_list_filtered_by_foreign_value_is_empty_not_an_error(
    client: TestClient, tenant: Tenant, ids: Ids, path: str
) -> None:
    response = client.get(_path(path, ids), headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "has_more": False, "next_cursor": None}


def test_the_same_filters_do_find_the_rows_for_their_owner(
    client: TestClient, other_tenant: Tenant, ids: Ids
) -> None:
    # The counterpart of the test above: the filters work, so the empty answers are isolation.
    invoices = client.get(_path("/v1/invoices?customer_id={customer}", ids), headers=other_tenant.headers)
    assert {i["id"] for i in invoices.json()["data"]} == {ids.draft, ids.open}
    customers = client.get("/v1/customers?email=theirs@client.example", headers=other_tenant.headers)
    assert [c["id"] for c in customers.json()["data"]] == [ids.customer]


@pytest.mark.parametrize("path", ["/v1/customers", "/v1/tax-rates", "/v1/invoices"])
def test_unfiltered_lists_show_only_own_rows(client: TestClient, tenant: Tenant, ids: Ids, path: str) -> None:
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["data"]}
    assert not listed & {ids.customer, ids.tax_rate, ids.draft, ids.open}
    expected = {
        "/v1/customers": {ids.own_customer},
        "/v1/tax-rates": set(),
        "/v1/invoices": {ids.own_draft},
    }[path]
    assert listed == expected


def test_organisation_endpoint_shows_the_callers_own_organisation(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = client.get("/v1/organisation", headers=tenant.headers).json()
    theirs = client.get("/v1/organisation", headers=other_tenant.headers).json()
    assert mine["id"] == str(tenant.organisation_id)
    assert theirs["id"] == str(other_tenant.organisation_id)

    client.patch("/v1/organisation", json={"city": "Hamburg"}, headers=tenant.headers)
    assert client.get("/v1/organisation", headers=other_tenant.headers).json() == theirs


def test_a_cursor_from_another_tenant_does_not_reveal_its_rows(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, ids: Ids
) -> None:
    page = client.get("/v1/invoices?limit=1", headers=other_tenant.headers).json()
    assert page["next_cursor"]
    response = client.get(f"/v1/invoices?cursor={page['next_cursor']}", headers=tenant.headers)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["data"]} <= {ids.own_draft}


def test_numbering_is_per_organisation(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, ids: Ids
) -> None:
    # other_tenant has issued one invoice; tenant's first is still number 1 of its own series.
    own = client.post(f"/v1/invoices/{ids.own_draft}/finalize", headers=tenant.headers).json()
    theirs = client.get(f"/v1/invoices/{ids.open}", headers=other_tenant.headers).json()
    assert own["number"].endswith("-00001")
    assert theirs["number"].endswith("-00001")
