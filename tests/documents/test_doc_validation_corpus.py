"""Every UBL and CII the builders make passes the official rule sets of its profile (XSD, CEN EN 16931,
Peppol BIS, XRechnung: ../shared/einvoice-validator) with zero fatal findings.

The snapshot corpus covers each VAT category, two rates with line and document allowances and charges,
tax-inclusive prices, JPY, a prepaid amount, 120 lines and a credit note; a hypothesis test adds random
valid invoices. Invoices made through the API are in test_doc_official_corpus.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from document_factories import STANDARD_19, corpus, line, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faktur.calc import Adjustment, DocumentAdjustment, TaxCategory, TaxSpec
from faktur.documents.cii.builder import render_cii
from faktur.documents.profiles import missing_fields
from faktur.documents.ubl.builder import render_ubl
from official_validator import OfficialValidator

CORPUS = corpus()


PROFILES = [
    ("ubl", "en16931"),
    ("cii", "en16931"),
    ("ubl", "peppol"),
    ("ubl", "xrechnung"),
    ("cii", "xrechnung"),
]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_passes_the_official_rules_in_every_profile(
    official_validator: OfficialValidator, name: str
) -> None:
    invoice = CORPUS[name]
    for syntax, profile in PROFILES:
        assert missing_fields(invoice, profile, syntax) == []
        xml = render_ubl(invoice, profile) if syntax == "ubl" else render_cii(invoice, profile)
        official_validator.assert_valid(xml, syntax, profile, name)


def test_many_lines_corpus_really_has_120_lines() -> None:
    assert render_ubl(CORPUS["many_lines"]).count(b"<cac:InvoiceLine>") == 120


def test_credit_note_is_a_ubl_credit_note() -> None:
    xml = render_ubl(CORPUS["credit_note"])
    assert b"<CreditNote " in xml and b"<cbc:CreditNoteTypeCode>381<" in xml


# --- property: any valid input renders to valid XML ----------------------------------------------

_TAXES = st.sampled_from(
    [
        STANDARD_19,
        TaxSpec(TaxCategory.S, Decimal("7")),
        TaxSpec(TaxCategory.S, Decimal("20")),
        TaxSpec(TaxCategory.Z, Decimal("0")),
        TaxSpec(TaxCategory.E, Decimal("0"), exemption_reason="Exempt", exemption_reason_code="VATEX-EU-132"),
    ]
)
_PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
_QUANTITIES = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("250"), places=1)


@st.composite
def _invoices(draw: st.DrawFn) -> object:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        quantity, price = draw(_QUANTITIES), draw(_PRICES)
        allowances = []
        if draw(st.booleans()):
            allowances.append(
                Adjustment(percent=draw(st.sampled_from([Decimal(5), Decimal(10)])), reason="Discount")
            )
        lines.append(line(str(quantity), str(price), draw(_TAXES), allowances=allowances))
    adjustments = []
    if draw(st.booleans()):
        base = draw(_PRICES)
        adjustments.append(
            DocumentAdjustment(True, lines[0].tax, amount=base, reason="Freight", reason_code="FC")
        )
    currency = draw(st.sampled_from(["EUR", "EUR", "USD", "GBP"]))
    return snapshot(
        lines,
        adjustments=adjustments,
        currency=currency,
        prices_include_tax=draw(st.booleans()),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice=_invoices())
def test_any_valid_invoice_renders_documents_that_pass_the_official_rules(
    official_validator: OfficialValidator, invoice: object
) -> None:
    for syntax, profile in PROFILES:
        assert missing_fields(invoice, profile, syntax) == []
        render = render_ubl if syntax == "ubl" else render_cii
        official_validator.assert_valid(render(invoice, profile), syntax, profile)
