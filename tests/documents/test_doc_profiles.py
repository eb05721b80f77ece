"""missing_fields lists every field a profile needs, before anything is rendered."""

from __future__ import annotations

from decimal import Decimal as D

from document_factories import buyer, line, seller, snapshot

from faktur.calc import Adjustment
from faktur.documents.cii.builder import render_cii
from faktur.documents.profiles import MissingField, Profile, missing_fields
from faktur.documents.snapshot import DocumentStatus
from faktur.documents.ubl.builder import render_ubl
from official_validator import OfficialValidator


def _fields(problems: list[MissingField]) -> set[str]:
    return {problem.field for problem in problems}


def test_complete_invoice_satisfies_every_profile() -> None:
    invoice = snapshot()
    for profile in Profile:
        assert missing_fields(invoice, profile, "ubl") == []


def test_xrechnung_without_buyer_reference_lists_bt10() -> None:
    problems = missing_fields(snapshot(buyer_reference=None), "xrechnung", "cii")
    assert [p.field for p in problems] == ["buyer_reference"]
    assert "BR-DE-15" in problems[0].reason


def test_xrechnung_lists_every_missing_field_at_once() -> None:
    invoice = snapshot(
        buyer_reference=None,
        seller=seller(
            contact_name=None,
            contact_phone=None,
            contact_email=None,
            electronic_address=None,
            electronic_address_scheme=None,
        ),
        buyer=buyer(electronic_address=None, electronic_address_scheme=None),
    )
    assert _fields(missing_fields(invoice, "xrechnung", "ubl")) == {
        "buyer_reference",
        "seller.electronic_address",
        "buyer.electronic_address",
        "seller.contact_name",
        "seller.contact_phone",
        "seller.contact_email",
    }


def test_peppol_without_electronic_addresses_lists_both() -> None:
    invoice = snapshot(
        seller=seller(electronic_address=None, electronic_address_scheme=None),
        buyer=buyer(electronic_address=None, electronic_address_scheme=None),
    )
    assert _fields(missing_fields(invoice, "peppol", "ubl")) == {
        "seller.electronic_address",
        "buyer.electronic_address",
    }


def test_peppol_needs_buyer_or_order_reference_and_ubl() -> None:
    abroad = buyer(address=buyer().address.model_copy(update={"country_code": "AT"}), vat_id="ATU13585627")
    assert missing_fields(snapshot(buyer=abroad, buyer_reference=None), "peppol") == []
    problems = missing_fields(
        snapshot(buyer=abroad, buyer_reference=None, order_reference=None), "peppol", "cii"
    )
    assert _fields(problems) == {"buyer_reference", "syntax"}


def test_peppol_between_german_parties_needs_the_german_cius_fields(
    official_validator: OfficialValidator,
) -> None:
    """Peppol applies DE-R-* when seller and buyer are in Germany: the buyer reference itself (an order
    reference does not do, DE-R-015) and the seller contact (DE-R-005..007)."""
    invoice = snapshot(buyer_reference=None, seller=seller(contact_phone=None))
    problems = missing_fields(invoice, "peppol")
    assert [(p.field, p.reason[-9:]) for p in problems] == [
        ("seller.contact_phone", "DE-R-006)"),
        ("buyer_reference", "DE-R-015)"),
    ]
    assert {"DE-R-006", "DE-R-015"} <= set(
        official_validator.validate(render_ubl(invoice, "peppol")).fatal_rules
    )


def test_kwd_is_reported_as_not_carriable() -> None:
    problems = missing_fields(snapshot(currency="KWD"), "en16931")
    assert problems == [
        MissingField(
            "currency",
            "KWD has 3 decimal places, but EN 16931 e-invoices carry amounts with at most 2; "
            "issue this invoice as a PDF only",
        )
    ]


def test_jpy_is_carriable() -> None:
    assert missing_fields(snapshot(currency="JPY"), "en16931") == []


def test_draft_cannot_become_an_e_invoice() -> None:
    assert _fields(missing_fields(snapshot(status=DocumentStatus.DRAFT), "en16931")) == {"number"}


def test_category_rules_name_the_party_id_to_fix() -> None:
    from document_factories import corpus

    reverse = corpus()["reverse_charge"].model_copy(update={"buyer": buyer(vat_id=None)})
    assert _fields(missing_fields(reverse, "en16931")) == {"buyer.vat_id"}


def test_codes_are_checked_against_the_official_lists() -> None:
    invoice = snapshot()
    bad_line = invoice.lines[0].model_copy(update={"unit_code": "HOURS"})
    bad = invoice.model_copy(
        update={"lines": (bad_line, *invoice.lines[1:]), "seller": seller(electronic_address_scheme="9999")}
    )
    assert _fields(missing_fields(bad, "en16931")) == {
        "lines[0].unit_code",
        "seller.electronic_address_scheme",
    }


def test_peppol_refuses_electronic_addresses_outside_its_eas_list() -> None:
    email = buyer(electronic_address="rechnung@brandt.example", electronic_address_scheme="EM")
    invoice = snapshot(buyer=email)
    problems = missing_fields(invoice, "peppol", "ubl")
    assert _fields(problems) == {"buyer.electronic_address_scheme"}
    assert "PEPPOL-EN16931-CL008" in problems[0].reason
    # "EM" is a CEF EAS code: EN 16931 and XRechnung take it.
    assert missing_fields(invoice, "en16931", "ubl") == []
    assert missing_fields(invoice, "xrechnung", "cii") == []


def test_seller_with_only_a_tax_number_needs_a_legal_registration_id() -> None:
    small_business = seller(vat_id=None, legal_registration_id=None, tax_registration_id="21/815/08150")
    problems = missing_fields(snapshot(seller=small_business), "en16931", "cii")
    assert _fields(problems) == {"seller.legal_registration_id"}
    assert "BR-CO-26" in problems[0].reason
    registered = seller(vat_id=None, tax_registration_id="21/815/08150")
    assert missing_fields(snapshot(seller=registered), "en16931", "cii") == []


def test_not_subject_to_vat_counts_only_identifiers_the_document_shows() -> None:
    # Category O leaves the VAT ids out (BR-O-02): the seller then needs its legal registration id.
    from document_factories import corpus

    not_subject = corpus()["not_subject"]
    assert missing_fields(not_subject, "en16931") == []
    vat_id_only = not_subject.model_copy(update={"seller": seller(legal_registration_id=None)})
    assert _fields(missing_fields(vat_id_only, "en16931")) == {"seller.legal_registration_id"}


def test_peppol_refuses_what_its_rounding_recheck_would_reject(official_validator: OfficialValidator) -> None:
    # Half a unit at 1 JPY is 1 JPY after rounding to whole yen: 0.5 off quantity x price.
    invoice = snapshot([line("0.5", "1")], currency="JPY")
    problems = missing_fields(invoice, "peppol", "ubl")
    assert _fields(problems) == {"lines[0].net_amount"}
    assert "PEPPOL-EN16931-R120" in problems[0].reason
    assert "PEPPOL-EN16931-R120" in official_validator.validate(render_ubl(invoice, "peppol")).fatal_rules
    assert missing_fields(invoice, "en16931", "ubl") == missing_fields(invoice, "xrechnung", "cii") == []


def test_xrechnung_and_peppol_refuse_percentages_rounded_past_their_recheck(
    official_validator: OfficialValidator,
) -> None:
    ten_percent = Adjustment(percent=D("10"), reason="Discount")
    invoice = snapshot([line("1", "5", allowances=[ten_percent])], currency="JPY")
    for profile, syntax in (("xrechnung", "cii"), ("peppol", "ubl")):
        problems = missing_fields(invoice, profile, syntax)
        assert "lines[0].allowances[0].amount" in _fields(problems)
    assert "PEPPOL-EN16931-R040" in official_validator.validate(render_cii(invoice, "xrechnung")).fatal_rules
    assert missing_fields(invoice, "en16931", "cii") == []
