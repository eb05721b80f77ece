"""EN 16931 VAT category rules, checked before an invoice is issued.

These are the schematron rules about categories, rates, exemption reasons and the parties' tax
identifiers (BR-S/Z/E/AE/IC/G/O-*, BR-AF-* for IGIC (L), BR-AG-* for IPSI (M), BR-CO-09), plus the
few structural ones the engine can decide (BR-16 at least one line, BR-CO-21..24 reasons on
allowances and charges). The arithmetic rules (BR-CO-10..17, BR-x-08/09) are not checked here
because `compute_invoice` makes them true by construction.

Violations are returned as data so the API can report all of them with field paths at once;
`ensure_issuable` raises them together as one TaxRuleError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, TypeGuard

import pycountry

from faktur.calc.errors import TaxRuleError
from faktur.calc.model import (
    CATEGORY_NAMES,
    DEFAULT_EXEMPTIONS,
    InvoiceInput,
    Parties,
    RuleViolation,
    TaxCategory,
    TaxSpec,
)

C = TaxCategory
_LINE, _ALLOWANCE, _CHARGE = 0, 1, 2
_KIND_NAMES = ("line", "document allowance", "document charge")

# Rule ids per category for (invoice line, document allowance, document charge): BR-x-05..07 fix
# the rate, BR-x-02..04 the parties' identifiers.
_RATE_RULES = {
    C.S: ("BR-S-05", "BR-S-06", "BR-S-07"),
    C.Z: ("BR-Z-05", "BR-Z-06", "BR-Z-07"),
    C.E: ("BR-E-05", "BR-E-06", "BR-E-07"),
    C.AE: ("BR-AE-05", "BR-AE-06", "BR-AE-07"),
    C.K: ("BR-IC-05", "BR-IC-06", "BR-IC-07"),
    C.G: ("BR-G-05", "BR-G-06", "BR-G-07"),
    C.O: ("BR-O-05", "BR-O-06", "BR-O-07"),
    C.L: ("BR-AF-05", "BR-AF-06", "BR-AF-07"),
    C.M: ("BR-AG-05", "BR-AG-06", "BR-AG-07"),
}
_PARTY_RULES = {
    category: tuple(rule[:-2] + f"{int(rule[-2:]) - 3:02d}" for rule in rules)
    for category, rules in _RATE_RULES.items()
}
_NO_REASON_RULES = {C.S: "BR-S-10", C.Z: "BR-Z-10", C.L: "BR-AF-10", C.M: "BR-AG-10"}
_REASON_REQUIRED_RULES = {
    C.E: "BR-E-10",
    C.AE: "BR-AE-10",
    C.K: "BR-IC-10",
    C.G: "BR-G-10",
    C.O: "BR-O-10",
}
# Categories whose VAT breakdown must be unique (BR-x-01), so one exemption reason for all items.
_SINGLE_BREAKDOWN_RULES = {
    C.Z: "BR-Z-01",
    C.E: "BR-E-01",
    C.AE: "BR-AE-01",
    C.K: "BR-IC-01",
    C.G: "BR-G-01",
    C.O: "BR-O-01",
}
# Only E needs a reason from the caller; the others have a default (`DEFAULT_EXEMPTIONS`).
_EXAMPLE_CODES = {C.E: "VATEX-EU-132"}
_O_MIXED_RULES = ("BR-O-12", "BR-O-13", "BR-O-14")
# Categories whose seller needs some tax identifier (VAT id, tax registration id or tax
# representative's VAT id); K and G accept only a VAT id (BR-IC-02, BR-G-02).
_SELLER_ANY_ID = frozenset({C.S, C.Z, C.E, C.AE, C.L, C.M})
_SELLER_VAT_ID = frozenset({C.K, C.G})
# BR-CO-09: ISO 3166-1 alpha-2, plus EL (Greece), XI (Northern Ireland) and 1A (Kosovo), exactly as
# the EN 16931 schematron lists them.
_VAT_PREFIXES = frozenset({country.alpha_2 for country in pycountry.countries} | {"EL", "XI", "1A"})


class _Taxed(NamedTuple):
    kind: int
    tax: TaxSpec
    path: str
    line_index: int | None


def _taxed_items(invoice: InvoiceInput) -> Iterator[_Taxed]:
    for index, line in enumerate(invoice.lines):
        yield _Taxed(_LINE, line.tax, f"lines[{index}]", index)
    for index, doc in enumerate(invoice.adjustments):
        yield _Taxed(_CHARGE if doc.is_charge else _ALLOWANCE, doc.tax, f"adjustments[{index}]", None)


def _describe(category: TaxCategory) -> str:
    return f"VAT category {category.value} ({CATEGORY_NAMES[category]})"


def _rate_ok(tax: TaxSpec) -> bool:
    if tax.category is C.S:
        return tax.percent > 0
    if tax.category in (C.L, C.M):
        # The UBL rules allow IGIC/IPSI at 0 %, the CII ones (BR-AF-05, BR-AG-05) do not: faktur
        # renders both, so it takes the stricter; a supply taxed at 0 % is category Z.
        return tax.percent > 0
    return tax.percent == 0


def _rate_violation(item: _Taxed) -> RuleViolation:
    tax = item.tax
    if tax.category is C.S:
        wanted = "needs a VAT rate above 0; use Z, E or another category for untaxed items"
    elif tax.category is C.O:
        wanted = "carries no VAT rate; set the rate to 0"
    elif tax.category in (C.L, C.M):
        wanted = "needs a VAT rate above 0; a supply taxed at 0 % is category Z (zero rated)"
    else:
        wanted = "must have a VAT rate of 0"
    return RuleViolation(
        _RATE_RULES[tax.category][item.kind],
        f"{item.path}: {_describe(tax.category)} {wanted} (got {tax.percent})",
        item.line_index,
        f"{item.path}.tax.percent",
    )


def line_rule_violations(invoice: InvoiceInput) -> list[RuleViolation]:
    """Violations decidable from the lines and document allowances/charges alone: rate vs
    category, exemption reasons, category O mixed with others, missing allowance/charge reasons."""
    violations: list[RuleViolation] = []
    if not invoice.lines:
        violations.append(RuleViolation("BR-16", "An invoice needs at least one line", None, "lines"))
    items = list(_taxed_items(invoice))
    by_category: dict[TaxCategory, list[_Taxed]] = {}
    for item in items:
        by_category.setdefault(item.tax.category, []).append(item)
        if not _rate_ok(item.tax):
            violations.append(_rate_violation(item))

    for category, members in by_category.items():
        if category in _NO_REASON_RULES:
            violations.extend(_unwanted_reasons(category, members))
        else:
            violations.extend(_missing_or_conflicting_reasons(category, members))

    other_category = next((item for item in items if item.tax.category is not C.O), None)
    if C.O in by_category and other_category is not None:
        first_o = by_category[C.O][0]
        reported: set[int] = set()
        for item in items:
            if item.tax.category is C.O or item.kind in reported:
                continue
            reported.add(item.kind)
            violations.append(
                RuleViolation(
                    _O_MIXED_RULES[item.kind],
                    f"{item.path} is {_describe(item.tax.category)} but {first_o.path} is not subject "
                    "to VAT (category O); items outside the scope of VAT must be invoiced on a "
                    "separate invoice",
                    item.line_index,
                    f"{item.path}.tax.category",
                )
            )

    violations.extend(_adjustment_reason_violations(invoice))
    return violations


def _unwanted_reasons(category: TaxCategory, members: list[_Taxed]) -> Iterator[RuleViolation]:
    for item in members:
        tax = item.tax
        if tax.exemption_reason is None and tax.exemption_reason_code is None:
            continue
        field = "exemption_reason" if tax.exemption_reason is not None else "exemption_reason_code"
        given = tax.exemption_reason if tax.exemption_reason is not None else tax.exemption_reason_code
        yield RuleViolation(
            _NO_REASON_RULES[category],
            f"{item.path}: {_describe(category)} must not have a VAT exemption reason; "
            f"remove {given!r} or choose the category the exemption belongs to",
            item.line_index,
            f"{item.path}.tax.{field}",
        )


def _missing_or_conflicting_reasons(category: TaxCategory, members: list[_Taxed]) -> Iterator[RuleViolation]:
    with_reason = [
        item
        for item in members
        if item.tax.exemption_reason is not None or item.tax.exemption_reason_code is not None
    ]
    if not with_reason:
        if category in DEFAULT_EXEMPTIONS:
            return  # the breakdown states the category's default VATEX code and text
        first = members[0]
        yield RuleViolation(
            _REASON_REQUIRED_RULES[category],
            f"{first.path}: {_describe(category)} needs a VAT exemption reason text or a VATEX "
            f"reason code (e.g. {_EXAMPLE_CODES[category]}); none of its items gives one",
            first.line_index,
            f"{first.path}.tax.exemption_reason",
        )
        return
    for attribute in ("exemption_reason", "exemption_reason_code"):
        stated = [item for item in with_reason if getattr(item.tax, attribute) is not None]
        if not stated:
            continue
        first_value = getattr(stated[0].tax, attribute)
        differing = next((item for item in stated if getattr(item.tax, attribute) != first_value), None)
        if differing is not None:
            yield RuleViolation(
                _SINGLE_BREAKDOWN_RULES[category],
                f"{differing.path} gives {attribute.replace('_', ' ')} "
                f"{getattr(differing.tax, attribute)!r} for {_describe(category)} but "
                f"{stated[0].path} gives {first_value!r}; an invoice has one VAT breakdown for "
                "this category, so all its items must state the same reason",
                differing.line_index,
                f"{differing.path}.tax.{attribute}",
            )


def _adjustment_reason_violations(invoice: InvoiceInput) -> Iterator[RuleViolation]:
    for index, line in enumerate(invoice.lines):
        for kind, rule in (("allowances", "BR-CO-23"), ("charges", "BR-CO-24")):
            for position, adjustment in enumerate(getattr(line, kind)):
                if adjustment.reason is None and adjustment.reason_code is None:
                    path = f"lines[{index}].{kind}[{position}]"
                    yield RuleViolation(
                        rule,
                        f"{path} needs a reason text or a reason code",
                        index,
                        f"{path}.reason",
                    )
    for index, doc in enumerate(invoice.adjustments):
        if doc.reason is None and doc.reason_code is None:
            group = _CHARGE if doc.is_charge else _ALLOWANCE
            yield RuleViolation(
                "BR-CO-22" if doc.is_charge else "BR-CO-21",
                f"adjustments[{index}] ({_KIND_NAMES[group]}) needs a reason text or a reason code",
                None,
                f"adjustments[{index}].reason",
            )


def _present(value: str | None) -> TypeGuard[str]:
    return value is not None and bool(value.strip())


def party_rule_violations(invoice: InvoiceInput, parties: Parties) -> list[RuleViolation]:
    """Violations that depend on the seller's and buyer's identifiers: which categories need VAT
    ids (BR-x-02..04), intra-community delivery data (BR-IC-11/12) and VAT id prefixes
    (BR-CO-09). At most one violation per field, naming the first rule that needs it. Category O
    accepts parties with VAT ids: BR-O-02..04 only keep them out of the document, which the XML
    builders do."""
    # The first kind of item (line, then allowance, then charge) decides which of BR-x-02/03/04
    # is cited; they differ only in which element carries the category.
    first_kind: dict[TaxCategory, int] = {}
    for item in _taxed_items(invoice):
        kind = first_kind.get(item.tax.category)
        if kind is None or item.kind < kind:
            first_kind[item.tax.category] = item.kind

    seller_vat = _present(parties.seller_vat_id) or _present(parties.seller_tax_representative_vat_id)
    seller_any = seller_vat or _present(parties.seller_tax_registration_id)
    buyer_vat = _present(parties.buyer_vat_id)
    violations: dict[str, RuleViolation] = {}

    def need(field: str, rule: str, message: str) -> None:
        violations.setdefault(field, RuleViolation(rule, message, None, field))

    for category in TaxCategory:  # declaration order keeps the output deterministic
        kind = first_kind.get(category)
        if kind is None:
            continue
        rule = _PARTY_RULES[category][kind]
        described = _describe(category)
        if category in _SELLER_ANY_ID and not seller_any:
            need(
                "seller.vat_id",
                rule,
                f"An invoice with {described} items needs the seller's VAT identifier "
                "(or tax registration identifier)",
            )
        if category in _SELLER_VAT_ID and not seller_vat:
            need(
                "seller.vat_id", rule, f"An invoice with {described} items needs the seller's VAT identifier"
            )
        if category is C.AE and not (buyer_vat or _present(parties.buyer_legal_registration_id)):
            need(
                "customer.vat_id",
                rule,
                f"An invoice with {described} items needs the customer's VAT identifier "
                "(or legal registration identifier): the customer owes the VAT",
            )
        if category is C.K:
            if not buyer_vat:
                need(
                    "customer.vat_id",
                    rule,
                    f"An invoice with {described} items needs the customer's VAT identifier",
                )
            if not parties.delivery_date_or_period_given:
                need(
                    "delivery.date",
                    "BR-IC-11",
                    f"An invoice with {described} items needs the actual delivery date or the "
                    "invoicing period",
                )
            if not _present(parties.deliver_to_country):
                need(
                    "delivery.country",
                    "BR-IC-12",
                    f"An invoice with {described} items needs the deliver-to country",
                )

    for field, value in (
        ("seller.vat_id", parties.seller_vat_id),
        ("seller.tax_representative_vat_id", parties.seller_tax_representative_vat_id),
        ("customer.vat_id", parties.buyer_vat_id),
    ):
        if _present(value) and value.strip()[:2] not in _VAT_PREFIXES:
            need(
                field,
                "BR-CO-09",
                f"VAT identifier {value!r} must start with its country's ISO 3166 code "
                "(e.g. DE123456789; EL for Greece)",
            )
    return list(violations.values())


def ensure_issuable(invoice: InvoiceInput, parties: Parties) -> None:
    """Raise TaxRuleError listing every violation if the invoice must not be issued."""
    violations = line_rule_violations(invoice) + party_rule_violations(invoice, parties)
    if violations:
        raise TaxRuleError(tuple(violations))
