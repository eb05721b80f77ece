"""Credit notes issued through the API pass the official rule sets in every profile: zero fatal findings.

A corpus per case of issue 16, on SQLite and PostgreSQL, each credit note's amounts computed by hand:
a partial credit over two VAT rates, a tax-inclusive invoice, JPY, a credit after a partial payment, a
full cancellation (of a paid invoice, refunded), and the credit notes that complete an invoice after
earlier ones (the pro-rata allowances and charges of its lines, its document allowances and charges,
the VAT its groups had left). Beside them the other VAT categories (reverse charge, intra-community
supply, export, not subject) and a price reduction and a custom line. Each credit note's UBL and CII
(en16931), UBL Peppol, UBL and CII XRechnung and the CII inside its Factur-X PDF (en16931 and
xrechnung) are fetched from `GET /v1/credit-notes/{id}/...` and validated with
../shared/einvoice-validator.
"""

from __future__ import annotations

from typing import Any

from credit_note_api import issue_credit_note, pay, ubl_facts
from document_api import complete_seller
from einvoice_corpus import buyer, check_documents
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_invoice, line
from official_validator import OfficialValidator

S19 = {"category": "S", "percent": "19"}
S7 = {"category": "S", "percent": "7"}
FACTURX = ("en16931", "xrechnung")


def _invoice(
    client: TestClient, tenant: Tenant, customer: str, lines: list[dict[str, Any]], **extra: Any
) -> dict:
    return create_invoice(client, tenant.headers, customer, lines, finalize=True, **extra)


def _check(
    client: TestClient, tenant: Tenant, validator: OfficialValidator, notes: dict[str, dict[str, Any]]
) -> list[str]:
    failures = []
    for label, note in notes.items():
        failures += check_documents(
            client,
            tenant.headers,
            validator,
            note["id"],
            f"credit note {label}",
            resource="credit-notes",
            facturx_profiles=FACTURX,
        )
    return failures


def _ids(invoice: dict[str, Any]) -> list[str]:
    return [invoice_line["id"] for invoice_line in invoice["lines"]]


def _summary(note: dict[str, Any]) -> tuple[Any, ...]:
    groups = [
        (g["category"], g["percent"], g["taxable_amount"], g["tax_amount"]) for g in note["tax_breakdown"]
    ]
    return note["total_excluding_tax"], note["tax_total"], note["total"], groups


def test_the_cases_of_issue_16_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    de = buyer(client, headers)
    notes: dict[str, dict[str, Any]] = {}

    # Two rates: 2 of 10 hours at 120.00 (19 %) and 2 of 5 handbooks at 24.90 (7 %):
    # 240.00 + 49.80 = 289.80 net; 45.60 + 3.486 -> 3.49 VAT; 338.89 in all.
    two_rates = _invoice(
        client,
        tenant,
        de,
        [line("Consulting", "10", "120.00", "19", unit_code="HUR"), line("Handbook", "5", "24.90", "7")],
    )
    hours, books = _ids(two_rates)
    notes["two rates"] = issue_credit_note(
        client,
        headers,
        two_rates["id"],
        lines=[{"invoice_line_id": hours, "quantity": "2"}, {"invoice_line_id": books, "quantity": "2"}],
        reason="product_unsatisfactory",
        memo="Two sessions cancelled, two books returned.",
    )
    assert _summary(notes["two rates"]) == (
        "289.80",
        "49.09",
        "338.89",
        [("S", "7.00", "49.80", "3.49"), ("S", "19.00", "240.00", "45.60")],
    )

    # Tax-inclusive: 1 of 3 seats at 11.90 gross (19 %: 1.90 VAT, 10.00 net) and 2 of 4 snacks at
    # 2.14 gross (7 %: 4.28 -> 0.28 VAT, 4.00 net); 16.18 in all, 2.18 of it VAT.
    inclusive = _invoice(
        client,
        tenant,
        de,
        [line("Seat", "3", "11.90", "19"), line("Snack", "4", "2.14", "7")],
        prices_include_tax=True,
    )
    seat, snack = _ids(inclusive)
    notes["tax inclusive"] = issue_credit_note(
        client,
        headers,
        inclusive["id"],
        lines=[{"invoice_line_id": seat, "quantity": "1"}, {"invoice_line_id": snack, "quantity": "2"}],
    )
    assert _summary(notes["tax inclusive"]) == (
        "14.00",
        "2.18",
        "16.18",
        [("S", "7.00", "4.00", "0.28"), ("S", "19.00", "10.00", "1.90")],
    )

    # JPY: 1 of 3 seats at 12800 (19 %: 2432) and 1 book at 980 (7 %: 68.6 -> 69); 16281 in all.
    jpy = _invoice(
        client, tenant, de, [line("Seats", "3", "12800", "19"), line("Book", "2", "980", "7")], currency="JPY"
    )
    seats, book = _ids(jpy)
    notes["jpy"] = issue_credit_note(
        client,
        headers,
        jpy["id"],
        lines=[{"invoice_line_id": seats, "quantity": "1"}, {"invoice_line_id": book, "quantity": "1"}],
    )
    assert _summary(notes["jpy"]) == (
        "13780",
        "2501",
        "16281",
        [("S", "7.00", "980", "69"), ("S", "19.00", "12800", "2432")],
    )

    # After a partial payment: 1190.00 invoiced, 500.00 paid, 690.00 due. A price reduction of 600.00
    # (714.00 with VAT) takes the 690.00 off the amount due; 24.00 go to the customer's balance.
    paid_part = _invoice(client, tenant, de, [line("Licence", "1", "1000.00", "19")])
    pay(client, headers, paid_part["id"], "500.00")
    notes["after partial payment"] = issue_credit_note(
        client,
        headers,
        paid_part["id"],
        lines=[{"invoice_line_id": _ids(paid_part)[0], "amount": "600.00"}],
        credit_amount="24.00",
        reason="order_change",
    )
    assert _summary(notes["after partial payment"]) == (
        "600.00",
        "114.00",
        "714.00",
        [("S", "19.00", "600.00", "114.00")],
    )
    assert notes["after partial payment"]["settlement"]["amount_due_reduction"] == "690.00"

    # Full cancellation of a paid invoice with allowances and charges on its lines and on the document,
    # refunded in full: it repeats the invoice.
    discount = {"percent": "10", "reason": "Loyalty discount", "reason_code": "95"}
    packing = {"amount": "4.50", "reason": "Packaging", "reason_code": "ABL"}
    rich = _invoice(
        client,
        tenant,
        de,
        [
            line("Consulting", "12.5", "120.00", "19", unit_code="HUR", allowances=[discount]),
            line("Handbook", "12", "3.99", "7", charges=[packing]),
            line("Printed matter (zero rated)", "3", "15.50", "0", category="Z"),
        ],
        adjustments=[
            {"kind": "allowance", "percent": "5", "base_amount": "1000.00", "reason": "Volume", "tax": S19},
            {"kind": "charge", "amount": "12.00", "reason_code": "FC", "tax": S7},
        ],
    )
    pay(client, headers, rich["id"], rich["total"])
    notes["full cancellation"] = issue_credit_note(
        client, headers, rich["id"], refund_amount=rich["total"], reason="duplicate"
    )
    assert notes["full cancellation"]["full_cancellation"] is True
    assert notes["full cancellation"]["total"] == rich["total"]
    assert [(g["taxable_amount"], g["tax_amount"]) for g in notes["full cancellation"]["tax_breakdown"]] == [
        (g["taxable_amount"], g["tax_amount"]) for g in rich["tax_breakdown"]
    ]
    facts = ubl_facts(
        client.get(f"/v1/credit-notes/{notes['full cancellation']['id']}/ubl", headers=headers).content
    )
    assert facts["preceding"] == (rich["number"], rich["issue_date"])
    assert facts["payable"] == rich["total"]

    failures = _check(client, tenant, official_validator, notes)
    assert failures == [], "\n".join(failures)


def test_credit_notes_that_complete_an_invoice_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    """Partial credits first (each rounds its VAT on its own), then the rest: the last credit note takes
    the lines' remainders, the document allowances and charges and the VAT the groups had left."""
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    de = buyer(client, headers)
    notes: dict[str, dict[str, Any]] = {}
    for currency, price, small in (("EUR", "33.33", "0.35"), ("JPY", "3333", "35")):
        invoice = _invoice(
            client,
            tenant,
            de,
            [
                line("Seat", "7", price, "19", allowances=[{"percent": "3", "reason": "Early booking"}]),
                line("Sticker", "9", small, "7", charges=[{"amount": small, "reason": "Handling"}]),
            ],
            currency=currency,
            adjustments=[{"kind": "charge", "amount": small, "reason_code": "FC", "tax": S7}],
        )
        seat, sticker = _ids(invoice)
        for step in range(3):
            notes[f"{currency} partial {step + 1}"] = issue_credit_note(
                client,
                headers,
                invoice["id"],
                lines=[
                    {"invoice_line_id": seat, "quantity": "1"},
                    {"invoice_line_id": sticker, "quantity": "1"},
                ],
            )
        notes[f"{currency} rest"] = issue_credit_note(client, headers, invoice["id"])
        credited = sum(
            int(note["total"].replace(".", "")) for label, note in notes.items() if label.startswith(currency)
        )
        assert credited == int(invoice["total"].replace(".", "")), currency
        assert client.get(f"/v1/invoices/{invoice['id']}", headers=headers).json()["status"] == "void"
    failures = _check(client, tenant, official_validator, notes)
    assert failures == [], "\n".join(failures)


def test_a_cancellation_after_custom_lines_passes_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    """Custom lines at both rates and a quantity credit, then the rest: the last credit note takes the
    custom lines off as document-level allowances (BG-20) at their rates, tax-exclusive, tax-inclusive
    and in yen, and the notes add up to the invoice's total."""
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    de = buyer(client, headers)
    notes: dict[str, dict[str, Any]] = {}
    for label, currency, price, inclusive in (
        ("EUR", "EUR", "33.33", False),
        ("EUR gross", "EUR", "39.66", True),
        ("JPY", "JPY", "3333", False),
    ):
        invoice = _invoice(
            client,
            tenant,
            de,
            [line("Seat", "7", price, "19"), line("Sticker", "9", price, "7")],
            currency=currency,
            prices_include_tax=inclusive,
        )
        seat, _ = _ids(invoice)
        custom = "5" if currency == "JPY" else "4.99"
        notes[f"{label} custom"] = issue_credit_note(
            client,
            headers,
            invoice["id"],
            lines=[
                {"description": "Goodwill", "unit_price": custom, "tax": S19},
                {"description": "Goodwill", "quantity": "2", "unit_price": custom, "tax": S7},
                {"invoice_line_id": seat, "quantity": "3"},
            ],
        )
        notes[f"{label} rest"] = rest = issue_credit_note(client, headers, invoice["id"])
        assert len(rest["adjustments"]) == 2
        credited = sum(
            int(note["total"].replace(".", ""))
            for name, note in notes.items()
            if name.startswith(f"{label} ")
        )
        assert abs(credited - int(invoice["total"].replace(".", ""))) <= (2 if currency == "JPY" else 0)
        assert client.get(f"/v1/invoices/{invoice['id']}", headers=headers).json()["status"] == "void"
    failures = _check(client, tenant, official_validator, notes)
    assert failures == [], "\n".join(failures)


def test_other_categories_price_reductions_and_custom_lines_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    de = buyer(client, headers)
    notes: dict[str, dict[str, Any]] = {}
    reverse = _invoice(
        client, tenant, buyer(client, headers, "FR"), [line("Licences", "5", "200.00", "0", category="AE")]
    )
    notes["reverse charge"] = issue_credit_note(
        client, headers, reverse["id"], lines=[{"invoice_line_id": _ids(reverse)[0], "quantity": "2"}]
    )
    intra = _invoice(
        client,
        tenant,
        buyer(client, headers, "FR"),
        [line("Goods", "40", "12.50", "0", category="K")],
        delivery_date="2026-03-02",
        deliver_to={"name": "Atelier Lumière", "city": "Paris", "postal_code": "75002", "country": "FR"},
    )
    notes["intra-community"] = issue_credit_note(
        client, headers, intra["id"], reason="product_unsatisfactory"
    )
    export = _invoice(
        client, tenant, buyer(client, headers, "US"), [line("Machine", "1", "1500.00", "0", category="G")]
    )
    notes["export"] = issue_credit_note(
        client, headers, export["id"], lines=[{"invoice_line_id": _ids(export)[0], "amount": "150.00"}]
    )
    outside = _invoice(
        client,
        tenant,
        buyer(client, headers, "CH"),
        [line("Advisory outside the EU", "1", "300.00", "0", category="O")],
    )
    notes["not subject"] = issue_credit_note(client, headers, outside["id"])
    mixed = _invoice(
        client,
        tenant,
        de,
        [line("Consulting", "4", "95.00", "19", unit_code="HUR"), line("Book", "1", "39.90", "7")],
        currency="USD",
        period_start="2026-01-01",
        period_end="2026-02-01",
    )
    notes["custom line"] = issue_credit_note(
        client,
        headers,
        mixed["id"],
        lines=[
            {"description": "Goodwill for the delay", "quantity": "1", "unit_price": "25.00", "tax": S19},
            {"invoice_line_id": _ids(mixed)[1], "amount": "9.90"},
        ],
        reason="other",
        memo="As agreed on the phone.",
    )
    failures = _check(client, tenant, official_validator, notes)
    assert failures == [], "\n".join(failures)


def test_the_last_credit_note_of_a_yen_invoice_keeps_its_vat_within_the_rules(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    """10 units of 1002 JPY at 19 %: the invoice's VAT is 1903.8 -> 1904. Three credit notes of one unit
    each round 190.38 down to 190; the rest, 7 units (exact VAT 1332.66), has 1904 - 570 = 1334 left in
    the group. BR-CO-17 and BR-S-09 allow less than one currency unit between a group's VAT and its
    exact value: in yen 1334 is refused by the rules, so the last credit note must state 1333."""
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    invoice = _invoice(
        client, tenant, buyer(client, headers), [line("Ticket", "10", "1002", "19")], currency="JPY"
    )
    [ticket] = _ids(invoice)
    notes = {
        f"yen partial {step}": issue_credit_note(
            client, headers, invoice["id"], lines=[{"invoice_line_id": ticket, "quantity": "1"}]
        )
        for step in (1, 2, 3)
    }
    notes["yen rest"] = issue_credit_note(client, headers, invoice["id"])
    failures = _check(client, tenant, official_validator, notes)
    assert failures == [], "\n".join(failures)
