"""Snapshot factories for document tests: every snapshot's numbers come from `faktur.calc`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from faktur.calc import Adjustment, DocumentAdjustment, InvoiceInput, LineInput, TaxCategory, TaxSpec
from faktur.documents.factory import LineText, compute_snapshot
from faktur.documents.snapshot import (
    Address,
    Delivery,
    DocumentStatus,
    DocumentType,
    InvoiceSnapshot,
    Party,
    PrecedingInvoice,
    SellerParty,
)

D = Decimal
ISSUE_DATE = dt.date(2024, 5, 2)

STANDARD_19 = TaxSpec(TaxCategory.S, D("19"))
REDUCED_7 = TaxSpec(TaxCategory.S, D("7"))


def seller(**changes: Any) -> SellerParty:
    values: dict[str, Any] = {
        "legal_name": "Nordlicht Software GmbH",
        "trading_name": "Nordlicht",
        "address": Address(
            street_lines=("Friedrichstraße 68",), city="Berlin", postal_code="10117", country_code="DE"
        ),
        "vat_id": "DE811907980",
        "tax_registration_id": "30/123/45678",
        "legal_registration_id": "HRB 123456 B",
        "electronic_address": "DE811907980",
        "electronic_address_scheme": "9930",
        "contact_name": "Jana Vogel",
        "contact_email": "billing@nordlicht.example",
        "contact_phone": "+49 30 1234567",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "payment_means_code": "58",
    }
    values.update(changes)
    return SellerParty(**values)


def buyer(**changes: Any) -> Party:
    values: dict[str, Any] = {
        "legal_name": "Brandt & Söhne KG",
        "address": Address(
            street_lines=("Königsallee 12", "3. OG"),
            city="Düsseldorf",
            postal_code="40212",
            country_code="DE",
        ),
        "vat_id": "DE129273398",
        # A GLN (scheme 0088): a Peppol participant id, which an e-mail address ("EM") is not.
        "electronic_address": "4000001000005",
        "electronic_address_scheme": "0088",
        "contact_name": "Ole Brandt",
        "contact_email": "ole@brandt.example",
    }
    values.update(changes)
    return Party(**values)


def foreign_buyer(country: str = "FR", **changes: Any) -> Party:
    values: dict[str, Any] = {
        "legal_name": "Atelier Lumière SARL",
        "address": Address(
            street_lines=("12 rue de la Paix",), city="Paris", postal_code="75002", country_code=country
        ),
        "vat_id": "FR40303265045",
        "electronic_address": "3012345000000",
        "electronic_address_scheme": "0088",
    }
    values.update(changes)
    return Party(**values)


def line(
    quantity: str = "1",
    price: str = "100",
    tax: TaxSpec = STANDARD_19,
    allowances: Sequence[Adjustment] = (),
    charges: Sequence[Adjustment] = (),
) -> LineInput:
    return LineInput(D(quantity), D(price), tax, tuple(allowances), tuple(charges))


def snapshot(
    lines: Sequence[LineInput] | None = None,
    texts: Sequence[LineText] | None = None,
    *,
    currency: str = "EUR",
    adjustments: Sequence[DocumentAdjustment] = (),
    prices_include_tax: bool = False,
    paid_amount: str = "0",
    **fields: Any,
) -> InvoiceSnapshot:
    """A finalized German B2B invoice (XRechnung- and Peppol-complete unless told otherwise)."""
    lines = (
        list(lines) if lines is not None else [line("10", "120", STANDARD_19), line("2", "49.90", REDUCED_7)]
    )
    if texts is None:
        texts = [
            LineText(
                name=f"Item {index}",
                description="Consulting and implementation",
                sku=f"SKU-{index:03d}",
                unit_code="HUR" if index == 1 else "C62",
            )
            for index in range(1, len(lines) + 1)
        ]
    invoice = InvoiceInput(
        currency=currency,
        lines=tuple(lines),
        adjustments=tuple(adjustments),
        prices_include_tax=prices_include_tax,
        paid_amount=D(paid_amount),
    )
    values: dict[str, Any] = {
        "number": "RE-2024-00042",
        "issue_date": ISSUE_DATE,
        "due_date": ISSUE_DATE + dt.timedelta(days=14),
        "buyer_reference": "04011000-12345-34",
        "order_reference": "PO-7781",
        "payment_terms": "14 days net",
        "seller": seller(),
        "buyer": buyer(),
        "locale": "en",
    }
    if fields.get("status") == DocumentStatus.DRAFT:
        values["number"] = None
    values.update(fields)
    return compute_snapshot(invoice, texts, **values)


def exempt(category: TaxCategory, reason: str, code: str | None = None) -> TaxSpec:
    return TaxSpec(category, D("0"), exemption_reason=reason, exemption_reason_code=code)


def corpus() -> dict[str, InvoiceSnapshot]:
    """Invoices covering each VAT category and the awkward cases the validators should see."""
    delivery = Delivery(
        name="Atelier Lumière",
        address=Address(
            street_lines=("12 rue de la Paix",), city="Paris", postal_code="75002", country_code="FR"
        ),
        date=dt.date(2024, 4, 30),
    )
    discount = Adjustment(percent=D("10"), reason="Loyalty discount", reason_code="95")
    return {
        "standard": snapshot(),
        "zero_rated": snapshot([line("3", "15.50", TaxSpec(TaxCategory.Z, D("0")))]),
        "exempt": snapshot(
            [
                line(
                    "1",
                    "800",
                    exempt(TaxCategory.E, "Exempt under §4 Nr. 21 UStG (education)", "VATEX-EU-132-1I"),
                )
            ]
        ),
        "reverse_charge": snapshot(
            [line("5", "200", exempt(TaxCategory.AE, "Reverse charge", "VATEX-EU-AE"))],
            buyer=foreign_buyer(),
        ),
        "intra_community": snapshot(
            [line("40", "12.5", exempt(TaxCategory.K, "Intra-community supply", "VATEX-EU-IC"))],
            buyer=foreign_buyer(),
            delivery=delivery,
        ),
        "export": snapshot(
            [line("1", "1500", exempt(TaxCategory.G, "Export outside the EU", "VATEX-EU-G"))],
            buyer=foreign_buyer("US", vat_id=None),
        ),
        "not_subject": snapshot(
            [line("1", "300", exempt(TaxCategory.O, "Not subject to VAT", "VATEX-EU-O"))],
            buyer=foreign_buyer("CH", vat_id=None),
        ),
        "two_rates_allowances_charges": snapshot(
            [
                line("4", "250", STANDARD_19, allowances=[discount]),
                line(
                    "12",
                    "3.99",
                    REDUCED_7,
                    charges=[Adjustment(amount=D("4.50"), reason="Packaging", reason_code="ABL")],
                ),
                line("1", "99", STANDARD_19),
            ],
            adjustments=[
                DocumentAdjustment(
                    False,
                    STANDARD_19,
                    percent=D("5"),
                    base_amount=D("1000"),
                    reason="Volume discount",
                    reason_code="95",
                ),
                DocumentAdjustment(True, REDUCED_7, amount=D("12.00"), reason="Freight", reason_code="FC"),
            ],
        ),
        "tax_inclusive": snapshot(
            [
                line("3", "11.90", STANDARD_19, allowances=[Adjustment(amount=D("1.19"), reason="Voucher")]),
                line("7", "2.49", REDUCED_7),
            ],
            adjustments=[
                DocumentAdjustment(True, STANDARD_19, amount=D("5.95"), reason="Shipping", reason_code="FC")
            ],
            prices_include_tax=True,
        ),
        "jpy": snapshot([line("3", "12800"), line("1", "980", REDUCED_7)], currency="JPY"),
        "prepaid": snapshot(paid_amount="500.00"),
        "many_lines": snapshot(
            [
                line(str(1 + index % 7), f"{9 + index}.95", STANDARD_19 if index % 3 else REDUCED_7)
                for index in range(120)
            ],
            [LineText(name=f"Licence seat {index + 1}", sku=f"SEAT-{index + 1:04d}") for index in range(120)],
        ),
        "credit_note": snapshot(
            document_type=DocumentType.CREDIT_NOTE,
            number="GS-2024-00007",
            preceding_invoice=PrecedingInvoice(number="RE-2024-00042", issue_date=ISSUE_DATE),
        ),
    }
