"""The validation harness finds real errors (so a passing corpus means something)."""

from __future__ import annotations

from document_factories import snapshot

from faktur.documents.cii.builder import render_cii
from faktur.documents.ubl.builder import render_ubl
from faktur.documents.validation import parse_svrl, validate_cii, validate_ubl, validate_xsd


def test_wrong_amount_due_fails_br_co_16_in_ubl_and_cii() -> None:
    invoice = snapshot()
    due = str(invoice.totals.amount_due).encode()
    ubl = render_ubl(invoice).replace(
        b'PayableAmount currencyID="EUR">' + due, b'PayableAmount currencyID="EUR">1.00'
    )
    cii = render_cii(invoice).replace(b"<ram:DuePayableAmount>" + due, b"<ram:DuePayableAmount>1.00")
    assert [e.rule for e in validate_ubl(ubl)] == ["BR-CO-16"]
    assert [e.rule for e in validate_cii(cii)] == ["BR-CO-16"]


def test_schema_errors_are_reported_before_business_rules() -> None:
    ubl = render_ubl(snapshot()).replace(b"<cbc:IssueDate>", b"<cbc:Bogus/><cbc:IssueDate>", 1)
    errors = validate_xsd(ubl)
    assert errors and errors[0].rule == "xsd"
    assert validate_ubl(ubl) == errors


def test_only_fatal_asserts_count() -> None:
    svrl = """<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert id="R1" flag="warning" location="/a"><svrl:text>soft</svrl:text>
      </svrl:failed-assert>
      <svrl:failed-assert id="R2" flag="fatal" location="/b"><svrl:text>hard</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="R3" location="/c"><svrl:text>no flag</svrl:text></svrl:failed-assert>
    </svrl:schematron-output>"""
    assert [(e.rule, e.message, e.location) for e in parse_svrl(svrl)] == [
        ("R2", "hard", "/b"),
        ("R3", "no flag", "/c"),
    ]
