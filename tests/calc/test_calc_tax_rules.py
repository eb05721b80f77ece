"""EN 16931 VAT category rules: what each category demands of rates, reasons and party identifiers."""

from decimal import Decimal

import pytest

from faktur.calc import (
    Adjustment,
    DocumentAdjustment,
    InvoiceInput,
    LineInput,
    Parties,
    RuleViolation,
    TaxCategory,
    TaxRuleError,
    TaxSpec,
    compute_invoice,
    ensure_issuable,
    line_rule_violations,
    party_rule_violations,
)

D = Decimal
C = TaxCategory
S19 = TaxSpec(C.S, D("19"))
E_REASON = TaxSpec(C.E, D(0), exemption_reason="Exempt under Art. 132 (1)(g) VAT Directive")
AE = TaxSpec(C.AE, D(0), exemption_reason="Reverse charge")
K = TaxSpec(C.K, D(0), exemption_reason_code="VATEX-EU-IC")
G = TaxSpec(C.G, D(0), exemption_reason_code="VATEX-EU-G")
O_SPEC = TaxSpec(C.O, D(0), exemption_reason="Not subject to VAT")
SELLER = Parties(seller_vat_id="DE123456789")


def ln(tax: TaxSpec, **kwargs: object) -> LineInput:
    return LineInput(D(1), D("100.00"), tax, **kwargs)


def invoice(*lines: LineInput, adjustments: tuple[DocumentAdjustment, ...] = ()) -> InvoiceInput:
    return InvoiceInput("EUR", lines, adjustments)


def rules(violations: list[RuleViolation]) -> list[tuple[str, str | None]]:
    return [(v.rule, v.field) for v in violations]


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        (TaxSpec(C.S, D(0)), [("BR-S-05", "lines[0].tax.percent")]),
        (TaxSpec(C.Z, D(5)), [("BR-Z-05", "lines[0].tax.percent")]),
        (TaxSpec(C.E, D(19), exemption_reason="x"), [("BR-E-05", "lines[0].tax.percent")]),
        (TaxSpec(C.AE, D(19), exemption_reason="x"), [("BR-AE-05", "lines[0].tax.percent")]),
        (TaxSpec(C.K, D(1), exemption_reason="x"), [("BR-IC-05", "lines[0].tax.percent")]),
        (TaxSpec(C.G, D(1), exemption_reason="x"), [("BR-G-05", "lines[0].tax.percent")]),
        (TaxSpec(C.O, D(1), exemption_reason="x"), [("BR-O-05", "lines[0].tax.percent")]),
        (TaxSpec(C.L, D(0)), [("BR-AF-05", "lines[0].tax.percent")]),  # the CII rules want above 0
        (TaxSpec(C.M, D(0)), [("BR-AG-05", "lines[0].tax.percent")]),
        (TaxSpec(C.L, D(7)), []),
        (TaxSpec(C.M, D("0.5")), []),
        (TaxSpec(C.Z, D(0)), []),
        (S19, []),
    ],
)
def test_line_rate_must_fit_its_category(tax: TaxSpec, expected: list[tuple[str, str]]) -> None:
    assert rules(line_rule_violations(invoice(ln(tax)))) == expected


def test_document_allowance_and_charge_rates_cite_their_own_rules() -> None:
    adjustments = (
        DocumentAdjustment(False, TaxSpec(C.E, D(19), exemption_reason="x"), amount=D(1), reason="r"),
        DocumentAdjustment(True, TaxSpec(C.S, D(0)), amount=D(1), reason="r"),
    )
    violations = line_rule_violations(invoice(ln(S19), adjustments=adjustments))
    assert rules(violations) == [
        ("BR-E-06", "adjustments[0].tax.percent"),
        ("BR-S-07", "adjustments[1].tax.percent"),
    ]
    assert violations[0].line_index is None


@pytest.mark.parametrize(
    ("tax", "rule"),
    [
        (TaxSpec(C.S, D(19), exemption_reason="Exempt"), "BR-S-10"),
        (TaxSpec(C.Z, D(0), exemption_reason_code="VATEX-EU-132"), "BR-Z-10"),
        (TaxSpec(C.L, D(7), exemption_reason="x"), "BR-AF-10"),
        (TaxSpec(C.M, D(4), exemption_reason="x"), "BR-AG-10"),
    ],
)
def test_taxed_categories_must_not_carry_an_exemption_reason(tax: TaxSpec, rule: str) -> None:
    (violation,) = line_rule_violations(invoice(ln(S19), ln(tax)))
    assert violation.rule == rule
    assert violation.line_index == 1
    assert violation.field is not None and violation.field.startswith("lines[1].tax.exemption_reason")


def test_exempt_items_need_an_exemption_reason() -> None:
    (violation,) = line_rule_violations(invoice(ln(TaxSpec(C.E, D(0)))))
    assert (violation.rule, violation.field, violation.line_index) == (
        "BR-E-10",
        "lines[0].tax.exemption_reason",
        0,
    )
    assert "VATEX" in violation.message


@pytest.mark.parametrize(
    ("category", "code", "text"),
    [
        (C.AE, "VATEX-EU-AE", "Reverse charge"),
        (C.K, "VATEX-EU-IC", "Intra-Community supply"),
        (C.G, "VATEX-EU-G", "Export outside the EU"),
        (C.O, "VATEX-EU-O", "Not subject to VAT"),
    ],
)
def test_untaxed_categories_without_a_reason_state_their_vatex_default(
    category: TaxCategory, code: str, text: str
) -> None:
    without_reason = invoice(ln(TaxSpec(category, D(0))), ln(TaxSpec(category, D(0))))
    assert line_rule_violations(without_reason) == []
    (group,) = compute_invoice(without_reason).tax_groups
    assert (group.exemption_reason_code, group.exemption_reason) == (code, text)
    # A reason the caller gives wins, and lines without one inherit it rather than the default.
    given = invoice(ln(TaxSpec(category, D(0), exemption_reason="Own words")), ln(TaxSpec(category, D(0))))
    (group,) = compute_invoice(given).tax_groups
    assert (group.exemption_reason_code, group.exemption_reason) == (None, "Own words")


def test_exempt_without_a_reason_cannot_be_issued() -> None:
    with pytest.raises(TaxRuleError) as caught:
        ensure_issuable(invoice(ln(TaxSpec(C.E, D(0)))), SELLER)
    assert caught.value.code == "tax_rule_violation"
    assert [v.rule for v in caught.value.violations] == ["BR-E-10"]


def test_exempt_reason_code_alone_is_enough() -> None:
    assert line_rule_violations(invoice(ln(TaxSpec(C.E, D(0), exemption_reason_code="VATEX-EU-132")))) == []


def test_one_reason_on_any_item_covers_the_category() -> None:
    assert line_rule_violations(invoice(ln(TaxSpec(C.E, D(0))), ln(E_REASON))) == []


def test_conflicting_reasons_in_a_single_breakdown_category() -> None:
    other = TaxSpec(C.E, D(0), exemption_reason="Exempt under Art. 135 (1)(b)")
    (violation,) = line_rule_violations(invoice(ln(E_REASON), ln(S19), ln(other)))
    assert (violation.rule, violation.field, violation.line_index) == (
        "BR-E-01",
        "lines[2].tax.exemption_reason",
        2,
    )


def test_not_subject_to_vat_cannot_be_mixed_with_other_categories() -> None:
    adjustments = (
        DocumentAdjustment(False, S19, amount=D(1), reason="r"),
        DocumentAdjustment(True, O_SPEC, amount=D(1), reason="r"),
    )
    violations = line_rule_violations(invoice(ln(O_SPEC), ln(S19), ln(S19), adjustments=adjustments))
    assert rules(violations) == [
        ("BR-O-12", "lines[1].tax.category"),
        ("BR-O-13", "adjustments[0].tax.category"),
    ]


def test_invoice_needs_a_line() -> None:
    assert rules(line_rule_violations(invoice())) == [("BR-16", "lines")]


def test_allowances_and_charges_need_a_reason() -> None:
    bare = Adjustment(amount=D(1))
    adjustments = (
        DocumentAdjustment(False, S19, amount=D(1)),
        DocumentAdjustment(True, S19, amount=D(1), reason_code="FC"),
    )
    violations = line_rule_violations(
        invoice(ln(S19, allowances=(bare,), charges=(bare,)), adjustments=adjustments)
    )
    assert rules(violations) == [
        ("BR-CO-23", "lines[0].allowances[0].reason"),
        ("BR-CO-24", "lines[0].charges[0].reason"),
        ("BR-CO-21", "adjustments[0].reason"),
    ]


@pytest.mark.parametrize(
    ("parties", "expected"),
    [
        (Parties(seller_vat_id="DE123456789", buyer_vat_id="FR12345678901"), []),
        (Parties(seller_vat_id="DE123456789", buyer_legal_registration_id="HRB 1234"), []),
        (Parties(seller_tax_registration_id="12/345/67890", buyer_vat_id="FR12345678901"), []),
        (Parties(seller_vat_id="DE123456789"), [("BR-AE-02", "customer.vat_id")]),
        (Parties(buyer_vat_id="FR12345678901"), [("BR-AE-02", "seller.vat_id")]),
        (Parties(seller_vat_id="DE123456789", buyer_vat_id="  "), [("BR-AE-02", "customer.vat_id")]),
    ],
)
def test_reverse_charge_needs_both_parties_identified(
    parties: Parties, expected: list[tuple[str, str]]
) -> None:
    assert rules(party_rule_violations(invoice(ln(AE)), parties)) == expected


def test_reverse_charge_on_a_document_charge_cites_br_ae_04() -> None:
    adjustments = (DocumentAdjustment(True, AE, amount=D(1), reason="r"),)
    violations = party_rule_violations(invoice(ln(S19), adjustments=adjustments), SELLER)
    assert rules(violations) == [("BR-AE-04", "customer.vat_id")]


def test_intra_community_supply_needs_vat_ids_and_delivery() -> None:
    parties = Parties(seller_tax_registration_id="12/345/67890")
    assert rules(party_rule_violations(invoice(ln(K)), parties)) == [
        ("BR-IC-02", "seller.vat_id"),
        ("BR-IC-02", "customer.vat_id"),
        ("BR-IC-11", "delivery.date"),
        ("BR-IC-12", "delivery.country"),
    ]
    complete = Parties(
        seller_vat_id="DE123456789",
        buyer_vat_id="FR12345678901",
        deliver_to_country="FR",
        delivery_date_or_period_given=True,
    )
    assert party_rule_violations(invoice(ln(K)), complete) == []


def test_export_needs_the_seller_vat_id_not_just_a_tax_number() -> None:
    parties = Parties(seller_tax_registration_id="12/345/67890")
    assert rules(party_rule_violations(invoice(ln(G)), parties)) == [("BR-G-02", "seller.vat_id")]
    assert (
        party_rule_violations(invoice(ln(G)), Parties(seller_tax_representative_vat_id="DE999999999")) == []
    )


def test_not_subject_to_vat_is_issuable_by_parties_with_vat_ids() -> None:
    # BR-O-02..04 only ask the document to leave the VAT ids out, which the XML builders do.
    parties = Parties(
        seller_vat_id="DE123456789", buyer_vat_id="FR12345678901", seller_tax_registration_id="1"
    )
    assert party_rule_violations(invoice(ln(O_SPEC)), parties) == []
    assert party_rule_violations(invoice(ln(O_SPEC)), Parties(seller_tax_registration_id="1")) == []


@pytest.mark.parametrize(
    ("tax", "rule"),
    [
        (S19, "BR-S-02"),
        (TaxSpec(C.Z, D(0)), "BR-Z-02"),
        (E_REASON, "BR-E-02"),
        (TaxSpec(C.L, D(7)), "BR-AF-02"),
        (TaxSpec(C.M, D(4)), "BR-AG-02"),
    ],
)
def test_taxed_and_exempt_sales_need_a_seller_tax_identifier(tax: TaxSpec, rule: str) -> None:
    assert rules(party_rule_violations(invoice(ln(tax)), Parties())) == [(rule, "seller.vat_id")]
    assert party_rule_violations(invoice(ln(tax)), Parties(seller_tax_registration_id="12/345/67890")) == []


def test_one_violation_per_field_even_when_several_categories_need_it() -> None:
    violations = party_rule_violations(invoice(ln(S19), ln(AE)), Parties(buyer_vat_id="FR12345678901"))
    assert rules(violations) == [("BR-S-02", "seller.vat_id")]


@pytest.mark.parametrize(
    ("vat_id", "ok"),
    [
        ("DE123456789", True),
        ("EL123456789", True),
        ("XI123456789", True),
        ("123456789", False),
        ("de123", False),
    ],
)
def test_vat_ids_start_with_a_country_code(vat_id: str, ok: bool) -> None:
    violations = party_rule_violations(invoice(ln(S19)), Parties(seller_vat_id=vat_id))
    assert rules(violations) == ([] if ok else [("BR-CO-09", "seller.vat_id")])


def test_a_clean_invoice_is_issuable() -> None:
    ensure_issuable(invoice(ln(S19), ln(TaxSpec(C.S, D(7)))), SELLER)
