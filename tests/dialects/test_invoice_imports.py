"""The import service the dialects use: caller numbers, amounts checked by faktur.calc, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from factories import create_customer, line
from faktur.context import Actor
from faktur.db import session_scope
from faktur.errors import Conflict, Unprocessable
from faktur.invoices import commands, imports
from faktur.invoices.schemas import InvoiceCreate, PaymentStatus
from faktur.numbering.format import sequence_of
from faktur.organisations import repository as organisations

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fmt", "number", "sequence"),
    [
        ("INV-{YYYY}-{SEQ:05}", "INV-2026-00005", 5),
        ("INV-{YYYY}-{SEQ:05}", "INV-2026-123456", 123456),
        ("INV-{YYYY}-{SEQ:05}", "INV-2026-5", None),  # never rendered without its padding
        ("INV-{YYYY}-{SEQ:05}", "INV-20250101", None),
        ("{SEQ}/{YY}-{MM}", "17/26-03", 17),
        ("{SEQ}/{YY}-{MM}", "17/26-13", None),
        ("{YYYY}/{SEQ}/{YYYY}", "2026/3/2027", None),
        ("R{SEQ}", "R007", None),
        ("R.{SEQ}", "RX7", None),  # the dot is literal
    ],
)
def test_sequence_of_reads_only_numbers_the_format_renders(fmt, number, sequence) -> None:
    assert sequence_of(fmt, number) == sequence


def _import(session_factory, tenant, customer_id: str, **fields) -> str:
    with session_scope(session_factory) as session:
        organisation = organisations.get(session, tenant.organisation_id)
        actor = Actor(organisation, "test")
        body = InvoiceCreate.model_validate(
            {
                "customer_id": customer_id,
                "lines": [line(quantity="2", unit_price="50.00")],
                "due_date": "2025-03-31",
            }
        )
        data = imports.InvoiceImport(
            invoice=commands.new_invoice(body), issue_date=date(2025, 3, 1), **fields
        )
        return str(imports.import_invoice(session, actor, data, NOW).id)


def test_import_is_issued_with_the_callers_number_and_calc_totals(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    invoice_id = _import(
        session_factory,
        tenant,
        customer["id"],
        number="LEGACY-7",
        amount_paid=Decimal("119.00"),
        expected_total=Decimal("119"),
        expected_payment_status=PaymentStatus.PAID,
    )
    native = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()
    assert (native["number"], native["status"], native["source"]) == ("LEGACY-7", "paid", "import")
    assert (native["subtotal"], native["tax_total"], native["total"], native["amount_due"]) == (
        "100.00",
        "19.00",
        "119.00",
        "0.00",
    )
    assert native["issue_date"] == "2025-03-01" and native["seller"]["legal_name"] == "Seller GmbH"
    # Automatic numbering is untouched by imports: the next native invoice is number 1.
    created = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line()], "finalize": True},
        headers=tenant.headers,
    ).json()
    assert created["number"].endswith("-00001")


def test_void_import_keeps_its_number_and_reason(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    invoice_id = _import(
        session_factory, tenant, customer["id"], number="OLD-1", void=True, void_reason="cancelled"
    )
    native = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()
    assert (native["number"], native["status"]) == ("OLD-1", "void")
    assert native["status_history"][-1]["reason"] == "cancelled"


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"number": ""}, Unprocessable, "number"),
        ({"number": "INV-2025-00001"}, Conflict, "number"),
        ({"number": "X-1", "expected_total": Decimal("100")}, Unprocessable, "total"),
        ({"number": "X-1", "amount_paid": Decimal("0.001")}, Unprocessable, "amount_paid"),
        ({"number": "X-1", "amount_paid": Decimal("-1")}, Unprocessable, "amount_paid"),
        ({"number": "X-1", "expected_payment_status": PaymentStatus.PAID}, Unprocessable, "payment_status"),
        ({"number": "X-1", "void": True, "amount_paid": Decimal("1")}, Conflict, "amount_paid"),
    ],
)
def test_refused_imports_store_nothing(client, tenant, session_factory, fields, error, field) -> None:
    customer = create_customer(client, tenant.headers)
    with pytest.raises(error) as raised:
        _import(session_factory, tenant, customer["id"], **fields)
    assert [d["field"] for d in raised.value.details] == [field]
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []
