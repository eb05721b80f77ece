"""The official validator harness finds real errors and applies each profile's layers (so a pass means
something), and the code lists faktur keeps match the official rules."""

from __future__ import annotations

import re

import pytest
from document_factories import snapshot

from faktur.documents import codes
from faktur.documents.cii.builder import render_cii
from faktur.documents.ubl.builder import render_ubl
from official_validator import OfficialValidator, validator_directory


def test_wrong_amount_due_fails_br_co_16_in_ubl_and_cii(official_validator: OfficialValidator) -> None:
    invoice = snapshot()
    due = str(invoice.totals.amount_due).encode()
    ubl = render_ubl(invoice).replace(
        b'PayableAmount currencyID="EUR">' + due, b'PayableAmount currencyID="EUR">1.00'
    )
    cii = render_cii(invoice).replace(b"<ram:DuePayableAmount>" + due, b"<ram:DuePayableAmount>1.00")
    assert official_validator.validate(ubl).fatal_rules == ["BR-CO-16"]
    assert official_validator.validate(cii).fatal_rules == ["BR-CO-16"]


def test_schema_errors_are_fatal(official_validator: OfficialValidator) -> None:
    ubl = render_ubl(snapshot()).replace(b"<cbc:IssueDate>", b"<cbc:Bogus/><cbc:IssueDate>", 1)
    report = official_validator.validate(ubl)
    assert [(f.layer, f.rule) for f in report.fatal][:1] == [("xsd", "XSD")]


@pytest.mark.parametrize(
    ("syntax", "profile", "layers"),
    [
        ("ubl", "en16931", ["xsd", "cen"]),
        ("cii", "en16931", ["xsd", "cen"]),
        ("ubl", "peppol", ["xsd", "cen", "peppol"]),
        ("ubl", "xrechnung", ["xsd", "cen", "xrechnung"]),
        ("cii", "xrechnung", ["xsd", "cen", "xrechnung"]),
    ],
)
def test_each_profile_is_checked_with_its_rule_sets(
    official_validator: OfficialValidator, syntax: str, profile: str, layers: list[str]
) -> None:
    render = render_ubl if syntax == "ubl" else render_cii
    report = official_validator.assert_valid(render(snapshot(), profile), syntax, profile)
    assert report.layers == layers


def test_a_peppol_rule_fires_in_the_peppol_layer(official_validator: OfficialValidator) -> None:
    # An e-mail address is a CEF EAS scheme but not a Peppol one: only the Peppol rules object.
    ubl = render_ubl(snapshot(), "peppol").replace(b'schemeID="0088"', b'schemeID="EM"')
    assert [(f.layer, f.rule) for f in official_validator.validate(ubl).fatal] == [
        ("peppol", "PEPPOL-EN16931-CL008")
    ]


def test_peppol_eas_list_is_the_official_one() -> None:
    xslt = validator_directory() / "xslt" / "PEPPOL-EN16931-UBL.xsl"
    if not xslt.is_file():
        pytest.skip(f"the official Peppol rules are not at {xslt}")
    found = re.search(r"name=\"eaid\"\s+select=\"tokenize\('([^']*)'", xslt.read_text(encoding="utf-8"))
    assert found is not None
    assert frozenset(found.group(1).split()) == codes.PEPPOL_EAS
