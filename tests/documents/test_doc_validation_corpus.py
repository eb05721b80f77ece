"""Every generated UBL and CII passes its XSD and the official CEN EN 16931 schematron (run by Saxon).

The corpus covers each VAT category, two rates with line and document allowances and charges,
tax-inclusive prices, JPY, a prepaid amount, 120 lines and a credit note; a hypothesis test adds random
valid invoices. Zero fatal rule failures are allowed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from document_factories import STANDARD_19, corpus, line, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faktur.calc import Adjustment, DocumentAdjustment, TaxCategory, TaxSpec
from faktur.documents.cii.builder import render_cii
from faktur.documents.profiles import Profile, missing_fields
from faktur.documents.ubl.builder import render_ubl
from faktur.documents.validation import validate_cii, validate_ubl

CORPUS = corpus()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_ubl_passes_xsd_and_en16931_schematron(name: str) -> None:
    invoice = CORPUS[name]
    assert missing_fields(invoice, Profile.EN16931, "ubl") == []
    assert validate_ubl(render_ubl(invoice)) == []


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_cii_passes_xsd_and_en16931_schematron(name: str) -> None:
    invoice = CORPUS[name]
    assert missing_fields(invoice, Profile.EN16931, "cii") == []
    assert validate_cii(render_cii(invoice)) == []


@pytest.mark.parametrize(
    ("profile", "syntax"), [("peppol", "ubl"), ("xrechnung", "ubl"), ("xrechnung", "cii")]
)
def test_profile_documents_pass_en16931_schematron(profile: str, syntax: str) -> None:
    invoice = CORPUS["two_rates_allowances_charges"]
    assert missing_fields(invoice, profile, syntax) == []
    xml = render_ubl(invoice, profile) if syntax == "ubl" else render_cii(invoice, profile)
    assert (validate_ubl(xml) if syntax == "ubl" else validate_cii(xml)) == []


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
def test_any_valid_invoice_renders_schematron_valid_ubl_and_cii(invoice: object) -> None:
    assert missing_fields(invoice, Profile.EN16931) == []  # type: ignore[arg-type]
    assert validate_ubl(render_ubl(invoice)) == []  # type: ignore[arg-type]
    assert validate_cii(render_cii(invoice)) == []  # type: ignore[arg-type]
