"""Credit notes (EN 16931 type 381) rendered from their snapshot: a UBL 2.1 CreditNote and a CII
with TypeCode 381, each naming the preceding invoice (BT-25 number, BT-26 issue date), in the
profiles en16931, xrechnung and peppol plus the CII inside the Factur-X PDF, with zero fatal
findings of the official rules; the PDF is titled Credit note / Rechnungskorrektur (Stornorechnung
for a full cancellation) / Avoir."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from document_api import complete_seller, embedded_files, pdf_text
from document_factories import ISSUE_DATE, REDUCED_7, STANDARD_19, corpus, line, snapshot
from einvoice_corpus import buyer
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from conftest import Tenant
from factories import create_invoice
from faktur.calc import Adjustment, TaxCategory, TaxSpec
from faktur.db import session_scope
from faktur.documents import missing_fields, render_cii, render_facturx, render_pdf, render_ubl
from faktur.documents.credit_note_snapshot import CreditNoteSnapshot, as_credit_note, full_cancellation_of
from faktur.documents.snapshot import DocumentStatus, DocumentType, InvoiceSnapshot, PrecedingInvoice
from faktur.documents.snapshots_from_invoice import snapshot_from_invoice
from faktur.invoices import service as invoices
from official_validator import OfficialValidator

PROFILES = [
    ("ubl", "en16931"),
    ("cii", "en16931"),
    ("ubl", "peppol"),
    ("ubl", "xrechnung"),
    ("cii", "xrechnung"),
]
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
CREDIT_DATE = dt.date(2024, 6, 3)
CORPUS = corpus()
INVOICES = {name: s for name, s in CORPUS.items() if not s.is_credit_note and not s.is_draft}


def assert_valid_everywhere(validator: OfficialValidator, credit: CreditNoteSnapshot, label: str) -> None:
    for syntax, profile in PROFILES:
        assert missing_fields(credit, profile, syntax) == [], (label, syntax, profile)
        xml = render_ubl(credit, profile) if syntax == "ubl" else render_cii(credit, profile)
        validator.assert_valid(xml, syntax, profile, label)
    embedded = embedded_files(render_facturx(credit))["factur-x.xml"]
    validator.assert_valid(embedded, "cii", "en16931", f"{label} Factur-X")


def references(credit: CreditNoteSnapshot) -> dict[str, Any]:
    """What the UBL and the CII say the document is, which invoice it corrects and what it credits."""
    ubl = etree.fromstring(render_ubl(credit))
    cii = etree.fromstring(render_cii(credit))
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    cii_reference = ".//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument"
    return {
        "ubl_root": etree.QName(ubl).localname,
        "ubl_type": ubl.findtext("cbc:CreditNoteTypeCode", namespaces=NS),
        "ubl_preceding": (
            ubl.findtext(f"{reference}/cbc:ID", namespaces=NS),
            ubl.findtext(f"{reference}/cbc:IssueDate", namespaces=NS),
        ),
        "ubl_payable": ubl.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS),
        "cii_type": cii.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS),
        "cii_preceding": (
            cii.findtext(f"{cii_reference}/ram:IssuerAssignedID", namespaces=NS),
            cii.findtext(f"{cii_reference}/ram:FormattedIssueDateTime/*", namespaces=NS),
        ),
        "cii_payable": cii.findtext(".//ram:DuePayableAmount", namespaces=NS),
    }


@pytest.mark.parametrize("name", sorted(INVOICES))
def test_a_full_cancellation_of_every_corpus_invoice_passes_every_profile(
    official_validator: OfficialValidator, name: str
) -> None:
    invoice = INVOICES[name]
    credit = full_cancellation_of(invoice, number="CN-2024-00001", issue_date=CREDIT_DATE)
    assert_valid_everywhere(official_validator, credit, f"cancellation of {name}")
    total = str(invoice.totals.tax_inclusive_total + invoice.totals.rounding_amount)
    assert references(credit) == {
        "ubl_root": "CreditNote",
        "ubl_type": "381",
        "ubl_preceding": (invoice.number, invoice.issue_date.isoformat()),
        "ubl_payable": total,
        "cii_type": "381",
        "cii_preceding": (invoice.number, invoice.issue_date.strftime("%Y%m%d")),
        "cii_payable": total,
    }


def test_a_partial_credit_note_with_two_rates_passes_every_profile(
    official_validator: OfficialValidator,
) -> None:
    # 2 hours of 120.00 at 19 % and one handbook of 49.90 at 7 % credited: 240.00 + 45.60 + 49.90 + 3.49
    credited = snapshot(
        [line("2", "120", STANDARD_19), line("1", "49.90", REDUCED_7)], number="CN-2024-00002"
    )
    credit = as_credit_note(credited, PrecedingInvoice(number="RE-2024-00042", issue_date=ISSUE_DATE))
    assert (credit.totals.tax_total, credit.totals.amount_due) == (Decimal("49.09"), Decimal("338.99"))
    assert not credit.is_full_cancellation
    assert_valid_everywhere(official_validator, credit, "partial credit")
    assert references(credit)["ubl_preceding"] == ("RE-2024-00042", "2024-05-02")


def test_a_tax_inclusive_jpy_credit_note_passes_every_profile(official_validator: OfficialValidator) -> None:
    credited = snapshot(
        [line("1", "12800"), line("2", "980", REDUCED_7)],
        currency="JPY",
        prices_include_tax=True,
        number="CN-1",
    )
    credit = as_credit_note(credited, PrecedingInvoice(number="RE-2024-00042", issue_date=ISSUE_DATE))
    assert references(credit)["ubl_payable"] == "14760"
    assert_valid_everywhere(official_validator, credit, "JPY inclusive credit")


@pytest.mark.parametrize(
    ("locale", "full", "title"),
    [
        ("en", False, "Credit note"),
        ("en", True, "Credit note"),
        ("de", False, "Rechnungskorrektur"),
        ("de", True, "Stornorechnung"),
        ("fr", False, "Avoir"),
        ("fr", True, "Avoir"),
    ],
)
def test_the_pdf_is_titled_in_the_buyers_language(locale: str, full: bool, title: str) -> None:
    invoice = snapshot(locale=locale)
    if full:
        credit = full_cancellation_of(invoice, number="CN-2024-00003", issue_date=CREDIT_DATE)
    else:
        credit = as_credit_note(
            snapshot([line("1", "120")], locale=locale, number="CN-2024-00003"),
            PrecedingInvoice(number=invoice.number or "", issue_date=invoice.issue_date),
        )
    text = pdf_text(render_pdf(credit))
    assert title in [text_line.strip() for text_line in text.splitlines()]
    assert "RE-2024-00042" in text and "CN-2024-00003" in text
    other_titles = {"Stornorechnung", "Rechnungskorrektur"} - {title}
    assert not any(other in text for other in other_titles)


def test_the_documents_of_a_credit_note_are_byte_stable() -> None:
    first = full_cancellation_of(snapshot(), number="CN-2024-00004", issue_date=CREDIT_DATE)
    again = full_cancellation_of(snapshot(), number="CN-2024-00004", issue_date=CREDIT_DATE)
    for render in (render_ubl, render_cii, render_pdf, render_facturx):
        assert render(first) == render(again)


def test_a_credit_note_snapshot_names_its_invoice_and_is_type_381() -> None:
    fields = {name: getattr(snapshot(), name) for name in InvoiceSnapshot.model_fields}
    with pytest.raises(ValidationError, match="preceding_invoice"):
        CreditNoteSnapshot(**{**fields, "document_type": DocumentType.CREDIT_NOTE, "preceding_invoice": None})
    with pytest.raises(ValidationError, match="document_type"):
        CreditNoteSnapshot(
            **{
                **fields,
                "document_type": DocumentType.INVOICE,
                "preceding_invoice": PrecedingInvoice(number="X"),
            }
        )


def test_only_an_issued_invoice_is_cancelled() -> None:
    with pytest.raises(ValueError, match="issued invoice"):
        full_cancellation_of(snapshot(status=DocumentStatus.DRAFT), number="CN-1", issue_date=CREDIT_DATE)
    with pytest.raises(ValueError, match="issued invoice"):
        full_cancellation_of(CORPUS["credit_note"], number="CN-1", issue_date=CREDIT_DATE)
    with pytest.raises(ValueError, match="before the invoice"):
        full_cancellation_of(snapshot(), number="CN-1", issue_date=ISSUE_DATE - dt.timedelta(days=1))


def test_a_cancellation_credits_the_whole_total_even_of_a_prepaid_invoice() -> None:
    prepaid = CORPUS["prepaid"]
    credit = full_cancellation_of(prepaid, number="CN-2024-00005", issue_date=CREDIT_DATE)
    assert (credit.totals.paid_amount, credit.totals.amount_due) == (
        Decimal(0),
        prepaid.totals.tax_inclusive_total,
    )
    assert (credit.due_date, credit.payment_terms, credit.effective_payment_reference) == (
        CREDIT_DATE,
        None,
        "CN-2024-00005",
    )


_TAXES = st.sampled_from(
    [
        STANDARD_19,
        REDUCED_7,
        TaxSpec(TaxCategory.Z, Decimal("0")),
        TaxSpec(TaxCategory.E, Decimal("0"), exemption_reason="Exempt", exemption_reason_code="VATEX-EU-132"),
    ]
)


@st.composite
def _invoices(draw: st.DrawFn) -> InvoiceSnapshot:
    # JPY in whole yen, never a percentage allowance: Peppol's 0.02 re-checks (R120, R040) cannot
    # hold for yen amounts, and documents.profiles refuses Peppol for such invoices (and their
    # cancellations) before rendering.
    currency = draw(st.sampled_from(["EUR", "USD", "JPY"]))
    places = 0 if currency == "JPY" else 2
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        quantity = draw(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("250"), places=places and 1))
        price = draw(st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=places))
        discounted = currency != "JPY" and draw(st.booleans())
        allowances = [Adjustment(percent=Decimal(10), reason="Discount")] if discounted else []
        lines.append(line(str(quantity), str(price), draw(_TAXES), allowances=allowances))
    return snapshot(
        lines,
        currency=currency,
        prices_include_tax=draw(st.booleans()),
        locale=draw(st.sampled_from(["en", "de", "fr"])),
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice=_invoices(), days_later=st.integers(0, 400))
def test_the_cancellation_of_any_valid_invoice_passes_the_official_rules(
    official_validator: OfficialValidator, invoice: InvoiceSnapshot, days_later: int
) -> None:
    credit = full_cancellation_of(
        invoice, number="CN-2024-00009", issue_date=invoice.issue_date + dt.timedelta(days=days_later)
    )
    for syntax, profile in PROFILES:
        xml = render_ubl(credit, profile) if syntax == "ubl" else render_cii(credit, profile)
        official_validator.assert_valid(xml, syntax, profile)


def test_cancellations_of_api_accepted_invoices_pass_every_profile(
    client: TestClient,
    tenant: Tenant,
    session_factory,
    official_validator: OfficialValidator,
) -> None:
    complete_seller(client, tenant.headers)
    customer = buyer(client, tenant.headers)
    bodies: dict[str, dict[str, Any]] = {
        "two rates": {
            "lines": [line_in("Consulting", "12.5", "120.00", "19"), line_in("Book", "2", "24.90", "7")]
        },
        "inclusive": {"lines": [line_in("Seat", "3", "11.90", "19")], "prices_include_tax": True},
        "discounted": {
            "lines": [line_in("Licence", "10", "99.00", "19")],
            "adjustments": [
                {
                    "kind": "allowance",
                    "amount": "99.00",
                    "reason": "Loyalty",
                    "tax": {"category": "S", "percent": "19"},
                }
            ],
        },
    }
    ids = {}
    for label, body in bodies.items():
        ids[label] = create_invoice(
            client, tenant.headers, customer, body.pop("lines"), finalize=True, **body
        )["id"]
    with session_scope(session_factory) as session:
        for label, invoice_id in ids.items():
            invoice = invoices.get_invoice(session, tenant.organisation_id, uuid.UUID(invoice_id))
            issued = snapshot_from_invoice(
                invoice,
                invoice.seller_snapshot or {},
                invoice.customer_snapshot,
                draft_issue_date=CREDIT_DATE,
            )
            credit = full_cancellation_of(issued, number="CN-2026-00001", issue_date=issued.issue_date)
            assert_valid_everywhere(official_validator, credit, f"cancellation of the {label} invoice")


def line_in(description: str, quantity: str, price: str, percent: str) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": price,
        "tax": {"category": "S", "percent": percent},
    }
