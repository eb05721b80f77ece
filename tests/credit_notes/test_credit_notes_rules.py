"""More rules of credit notes on SQLite and PostgreSQL: pro-rata shares of line allowances,
document allowances credited with the last lines, Idempotency-Key, bad input storing nothing,
previews storing nothing, lists with filters and cursor paging."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from faktur.models import CreditNote, CreditNoteLine, CustomerBalanceTransaction, Event


def _issued(client: TestClient, tenant: Tenant, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)["id"]
    return create_invoice(client, tenant.headers, customer, lines, finalize=True, **extra)


def _post(client: TestClient, tenant: Tenant, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, json=body, headers={**tenant.headers, **headers})


def _counts(session_factory) -> tuple[int, int, int, int]:
    with session_scope(session_factory) as session:
        return (
            session.execute(select(func.count()).select_from(CreditNote)).scalar_one(),
            session.execute(select(func.count()).select_from(CreditNoteLine)).scalar_one(),
            session.execute(select(func.count()).select_from(CustomerBalanceTransaction)).scalar_one(),
            session.execute(
                select(func.count()).select_from(Event).where(Event.type == "credit_note.issued")
            ).scalar_one(),
        )


def test_a_line_allowance_is_credited_pro_rata(client: TestClient, tenant: Tenant) -> None:
    # 4 x 25.00 = 100.00 less 10 % = 90.00 net, + 19 % = 17.10: 107.10
    discounted = line("Seat", "4", "25.00", "19", allowances=[{"percent": "10", "reason": "Volume"}])
    invoice = _issued(client, tenant, [discounted])
    assert invoice["total"] == "107.10"
    [seat] = invoice["lines"]
    path = f"/v1/invoices/{invoice['id']}/credit-notes"
    # 1 of 4: 25.00 with a share of 2.50 of the allowance = 22.50 net, 4.28 VAT (4.275): 26.78
    one = _post(client, tenant, path, {"lines": [{"invoice_line_id": seat["id"], "quantity": "1"}]}).json()
    [credited] = one["lines"]
    assert (credited["amount"], credited["allowance_total"], credited["net_amount"]) == (
        "25.00",
        "2.50",
        "22.50",
    )
    assert (one["tax_total"], one["total"]) == ("4.28", "26.78")
    rest = _post(client, tenant, path, {}).json()
    # 67.50 net; the group's VAT left is 17.10 - 4.28 = 12.82 (round(67.50 x 19 %) = 12.83)
    assert (rest["subtotal"], rest["tax_total"], rest["total"]) == ("67.50", "12.82", "80.32")
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["credited_amount"]) == ("void", "107.10")


def test_document_allowances_are_credited_with_the_last_lines(client: TestClient, tenant: Tenant) -> None:
    # 2 x 50.00 = 100.00 less a document allowance of 10.00 = 90.00 + 17.10 = 107.10
    adjustment = {
        "kind": "allowance",
        "amount": "10.00",
        "reason": "Loyalty",
        "tax": {"category": "S", "percent": "19"},
    }
    invoice = _issued(client, tenant, [line("Box", "2", "50.00", "19")], adjustments=[adjustment])
    assert invoice["total"] == "107.10"
    [box] = invoice["lines"]
    path = f"/v1/invoices/{invoice['id']}/credit-notes"
    first = _post(client, tenant, path, {"lines": [{"invoice_line_id": box["id"], "quantity": "1"}]}).json()
    assert (first["adjustments"], first["total"]) == ([], "59.50")
    last = _post(client, tenant, path, {"lines": [{"invoice_line_id": box["id"], "quantity": "1"}]}).json()
    assert [a["computed_amount"] for a in last["adjustments"]] == ["10.00"]
    assert (last["subtotal"], last["allowance_total"], last["total"]) == ("50.00", "10.00", "47.60")
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["credited_amount"]) == ("void", "107.10")


def test_full_cancellation_repeats_the_invoice(client: TestClient, tenant: Tenant) -> None:
    adjustment = {
        "kind": "charge",
        "amount": "4.90",
        "reason": "Shipping",
        "tax": {"category": "S", "percent": "19"},
    }
    lines = [
        line("Widget", "3", "9.99", "19"),
        line("Book", "1", "12.50", "7"),
        line("Refund", "-1", "5.00", "19"),
    ]
    invoice = _issued(client, tenant, lines, adjustments=[adjustment])
    note = _post(client, tenant, f"/v1/invoices/{invoice['id']}/credit-notes", {"reason": "duplicate"}).json()
    for key in ("subtotal", "allowance_total", "charge_total", "total_excluding_tax", "tax_total", "total"):
        assert note[key] == invoice[key], key
    assert note["tax_breakdown"] == invoice["tax_breakdown"]
    assert [(n["quantity"], n["net_amount"]) for n in note["lines"]] == [
        (i["quantity"], i["net_amount"]) for i in invoice["lines"]
    ]


def test_idempotency_key_replays_and_issues_once(client: TestClient, tenant: Tenant, session_factory) -> None:
    invoice = _issued(client, tenant, [line("Consulting", "2", "100.00", "19")])
    [consulting] = invoice["lines"]
    path = f"/v1/invoices/{invoice['id']}/credit-notes"
    body = {"lines": [{"invoice_line_id": consulting["id"], "quantity": "1"}]}
    first = _post(client, tenant, path, body, **{"Idempotency-Key": "cn-1"})
    again = _post(client, tenant, path, body, **{"Idempotency-Key": "cn-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert _counts(session_factory)[0] == 1
    other = _post(
        client,
        tenant,
        path,
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "0.5"}]},
        **{"Idempotency-Key": "cn-1"},
    )
    assert other.status_code == 409


def test_bad_input_is_4xx_and_stores_nothing(client: TestClient, tenant: Tenant, session_factory) -> None:
    invoice = _issued(client, tenant, [line("Consulting", "2", "100.00", "19")])
    [consulting] = invoice["lines"]
    path = f"/v1/invoices/{invoice['id']}/credit-notes"
    before = _counts(session_factory)
    bad_bodies: list[Any] = [
        {"lines": [{"invoice_line_id": consulting["id"]}]},
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "1", "amount": "1"}]},
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "-1"}]},
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "1.1234567"}]},
        {"lines": [{"invoice_line_id": consulting["id"], "amount": "0.001"}]},
        {"lines": [{"description": "x", "unit_price": "1"}]},
        {"lines": [{"amount": "5"}]},
        {"reason": "because"},
        {"refund_amount": "-1"},
        {"credit_amount": "1.001"},
        {"unknown": 1},
        [],
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "3"}]},
        {"lines": [{"invoice_line_id": consulting["id"], "quantity": "1"}], "credit_amount": "1.00"},
    ]
    for body in bad_bodies:
        response = _post(client, tenant, path, body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message", "details"}
    assert _counts(session_factory) == before
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json() == invoice
    missing = _post(client, tenant, "/v1/invoices/00000000-0000-4000-8000-000000000000/credit-notes", {})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "invoice_not_found")
    unknown_note = client.get("/v1/credit-notes/00000000-0000-4000-8000-000000000000", headers=tenant.headers)
    assert (unknown_note.status_code, unknown_note.json()["error"]["code"]) == (404, "credit_note_not_found")


def test_preview_stores_nothing(client: TestClient, tenant: Tenant, session_factory) -> None:
    invoice = _issued(client, tenant, [line("Consulting", "2", "100.00", "19")])
    before = _counts(session_factory)
    preview = _post(client, tenant, f"/v1/invoices/{invoice['id']}/credit-notes/preview", {})
    assert preview.status_code == 200, preview.text
    assert (preview.json()["total"], preview.json()["unsettled_amount"]) == ("238.00", "0.00")
    assert _counts(session_factory) == before
    assert (
        client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()["credited_amount"]
        == "0.00"
    )


def test_list_filters_and_cursor_paging(client: TestClient, tenant: Tenant) -> None:
    first = _issued(client, tenant, [line("A", "5", "10.00", "19")])
    second = _issued(client, tenant, [line("B", "1", "10.00", "19")])
    [a_line] = first["lines"]
    made = [
        _post(
            client,
            tenant,
            f"/v1/invoices/{first['id']}/credit-notes",
            {"lines": [{"invoice_line_id": a_line["id"], "quantity": "1"}]},
        ).json()
        for _ in range(3)
    ]
    other = _post(client, tenant, f"/v1/invoices/{second['id']}/credit-notes", {}).json()
    seen: list[str] = []
    cursor = None
    while True:
        query = f"/v1/credit-notes?limit=2{f'&cursor={cursor}' if cursor else ''}"
        page = client.get(query, headers=tenant.headers).json()
        seen += [n["id"] for n in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [other["id"], *(n["id"] for n in reversed(made))]
    by_invoice = client.get(f"/v1/credit-notes?invoice_id={first['id']}", headers=tenant.headers).json()[
        "data"
    ]
    assert {n["id"] for n in by_invoice} == {n["id"] for n in made}
    by_customer = client.get(f"/v1/credit-notes?customer_id={second['customer_id']}", headers=tenant.headers)
    assert [n["id"] for n in by_customer.json()["data"]] == [other["id"]]
    created = made[0]["created_at"].replace("+00:00", "Z")
    later = client.get("/v1/credit-notes", params={"created_before": created}, headers=tenant.headers).json()
    assert later["data"] == []
    since = client.get("/v1/credit-notes", params={"created_from": created}, headers=tenant.headers).json()
    assert len(since["data"]) == 4
    got = client.get(f"/v1/credit-notes/{other['id']}", headers=tenant.headers).json()
    assert got == other
    assert (got["invoice_number"], got["invoice_issue_date"]) == (second["number"], second["issue_date"])


def test_uncollectible_invoice_credited_to_zero_due_becomes_paid(client: TestClient, tenant: Tenant) -> None:
    invoice = _issued(client, tenant, [line("A", "2", "50.00", "19")])  # 119.00
    client.post(f"/v1/invoices/{invoice['id']}/payments", json={"amount": "59.50"}, headers=tenant.headers)
    client.post(f"/v1/invoices/{invoice['id']}/mark-uncollectible", headers=tenant.headers)
    [a] = invoice["lines"]
    note = _post(
        client,
        tenant,
        f"/v1/invoices/{invoice['id']}/credit-notes",
        {"lines": [{"invoice_line_id": a["id"], "quantity": "1"}]},
    ).json()
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert (after["status"], after["amount_due"], after["payment_status"]) == ("paid", "0.00", "paid")
    assert after["status_history"][-1]["reason"] == f"settled by credit note {note['number']}"
