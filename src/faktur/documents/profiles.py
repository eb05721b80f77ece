"""E-invoice profiles (EN 16931, Peppol BIS Billing 3.0, XRechnung 3.0) and what each requires.

`missing_fields` is pure and lists every problem at once, so the API can answer one 422 that names all
fields to fix instead of failing on the first; nothing is rendered for an invoice that would not pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from faktur.documents import codes
from faktur.documents.snapshot import InvoiceSnapshot, LineAdjustment, Party, TaxCategoryCode
from faktur.payment_means import CARD_CODES, SEPA_DIRECT_DEBIT


class Profile(StrEnum):
    EN16931 = "en16931"
    PEPPOL = "peppol"
    XRECHNUNG = "xrechnung"


class Syntax(StrEnum):
    UBL = "ubl"
    CII = "cii"


EN16931_CUSTOMIZATION = "urn:cen.eu:en16931:2017"
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
XRECHNUNG_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"


@dataclass(frozen=True)
class ProfileIds:
    """BT-24 (specification identifier) and BT-23 (business process) written into the document."""

    customization_id: str
    profile_id: str | None


PROFILE_IDS = {
    Profile.EN16931: ProfileIds(EN16931_CUSTOMIZATION, None),
    Profile.PEPPOL: ProfileIds(PEPPOL_CUSTOMIZATION, PEPPOL_PROFILE),
    # XRechnung has no business process of its own; KoSIT's examples use the Peppol one.
    Profile.XRECHNUNG: ProfileIds(XRECHNUNG_CUSTOMIZATION, PEPPOL_PROFILE),
}


@dataclass(frozen=True)
class MissingField:
    """One thing that stops a document from being rendered: a dotted field path and why."""

    field: str
    reason: str


# Categories whose breakdown needs an exemption reason (text or VATEX code): BR-E-10, BR-AE-10, ...
_EXEMPT_CATEGORIES = {
    TaxCategoryCode.EXEMPT,
    TaxCategoryCode.REVERSE_CHARGE,
    TaxCategoryCode.INTRA_COMMUNITY,
    TaxCategoryCode.EXPORT,
    TaxCategoryCode.NOT_SUBJECT,
}


# Characters XML 1.0 cannot carry at all (its Char production): most C0 controls, lone surrogates,
# U+FFFE/U+FFFF. Input refuses them; an invoice stored before that cannot have an e-invoice.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def unrepresentable_text(snapshot: InvoiceSnapshot) -> list[MissingField]:
    """Every text of `snapshot` that XML cannot carry, with the first offending character."""
    problems: list[MissingField] = []

    def visit(value: object, path: str) -> None:
        if isinstance(value, str):
            found = _NOT_XML.search(value)
            if found:
                problems.append(
                    MissingField(
                        path,
                        f"contains U+{ord(found.group()):04X}, a control character an XML e-invoice "
                        "cannot carry",
                    )
                )
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                visit(getattr(value, name), f"{path}.{name}" if path else name)
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]")

    visit(snapshot, "")
    return problems


def missing_fields(
    snapshot: InvoiceSnapshot, profile: Profile | str, syntax: Syntax | str = Syntax.UBL
) -> list[MissingField]:
    """Every field `profile` needs that `snapshot` lacks (empty list: the document can be rendered)."""
    profile = Profile(profile)
    syntax = Syntax(syntax)
    problems = _currency_problems(snapshot) + _en16931_problems(snapshot)
    if profile == Profile.PEPPOL:
        problems += _peppol_problems(snapshot, syntax)
    elif profile == Profile.XRECHNUNG:
        problems += _xrechnung_problems(snapshot)
    return _deduplicated(problems)


def _deduplicated(problems: list[MissingField]) -> list[MissingField]:
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if problem.field not in seen:
            seen.add(problem.field)
            unique.append(problem)
    return unique


def _currency_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    currency = snapshot.currency
    if not codes.is_currency(currency):
        return [MissingField("currency", f"{currency} is not an ISO 4217 currency code")]
    minor_units = codes.currency_minor_units(currency)
    if minor_units > codes.EN16931_MAX_AMOUNT_DECIMALS:
        return [
            MissingField(
                "currency",
                f"{currency} has {minor_units} decimal places, but EN 16931 e-invoices carry amounts "
                f"with at most {codes.EN16931_MAX_AMOUNT_DECIMALS}; issue this invoice as a PDF only",
            )
        ]
    return []


def _party_problems(party: Party, prefix: str) -> list[MissingField]:
    problems = []
    if not codes.is_country(party.address.country_code):
        problems.append(
            MissingField(f"{prefix}.address.country_code", "not an ISO 3166-1 alpha-2 country code")
        )
    if party.electronic_address and not party.electronic_address_scheme:
        problems.append(
            MissingField(f"{prefix}.electronic_address_scheme", "an electronic address needs its EAS scheme")
        )
    if party.electronic_address_scheme and not codes.is_valid_code("eas", party.electronic_address_scheme):
        problems.append(
            MissingField(f"{prefix}.electronic_address_scheme", "not a code of the CEF EAS code list")
        )
    return problems


def _en16931_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    """The base rules of EN 16931 that depend on data (the XML builders guarantee the structure)."""
    problems = _party_problems(snapshot.seller, "seller") + _party_problems(snapshot.buyer, "buyer")
    seller, buyer = snapshot.seller, snapshot.buyer
    if snapshot.is_draft or not snapshot.number:
        problems.append(MissingField("number", "a draft has no number; finalize the invoice first (BT-1)"))
    if not snapshot.due_date and not snapshot.payment_terms and snapshot.totals.amount_due > 0:
        problems.append(
            MissingField(
                "due_date", "an invoice with an amount due needs a due date or payment terms (BR-CO-25)"
            )
        )
    if snapshot.is_credit_note and snapshot.preceding_invoice is None:
        # Not an EN 16931 rule, but faktur's: a credit note always corrects an issued invoice.
        problems.append(MissingField("preceding_invoice", "a credit note must name the invoice it corrects"))
    if not codes.is_valid_code("payment_means", seller.payment_means_code):
        problems.append(MissingField("seller.payment_means_code", "not a UNCL4461 payment means code"))
    if seller.payment_means_code in {"30", "58"} and not seller.iban:
        problems.append(MissingField("seller.iban", "a credit transfer needs the payee's account (BR-61)"))

    categories = {group.category for group in snapshot.tax_breakdown}
    seller_tax_id = seller.vat_id or seller.tax_registration_id
    # The document omits every VAT id when it has category O (BR-O-02), so the VAT id only counts
    # towards BR-CO-26 without it; the tax registration number (BT-32) never does.
    vat_id_rendered = seller.vat_id and TaxCategoryCode.NOT_SUBJECT not in categories
    if not (vat_id_rendered or seller.legal_registration_id):
        why = (
            "its VAT id is left out of a document not subject to VAT (category O, BR-O-02)"
            if seller.vat_id
            else "a tax registration number (BT-32) does not count"
        )
        problems.append(
            MissingField(
                "seller.legal_registration_id",
                "EN 16931 needs the seller's VAT id, legal registration id (e.g. the commercial "
                f"register number) or seller identifier (BR-CO-26); {why}",
            )
        )
    if (
        categories & {TaxCategoryCode.STANDARD, TaxCategoryCode.ZERO, TaxCategoryCode.EXEMPT}
        and not seller_tax_id
    ):
        problems.append(
            MissingField(
                "seller.vat_id", "VAT categories S, Z and E need the seller's VAT or tax id (BR-S-02)"
            )
        )
    if categories & {TaxCategoryCode.CANARY_ISLANDS, TaxCategoryCode.CEUTA_MELILLA} and not seller_tax_id:
        problems.append(
            MissingField("seller.vat_id", "VAT categories L and M need the seller's VAT or tax id")
        )
    needs_seller_vat = {
        TaxCategoryCode.REVERSE_CHARGE,
        TaxCategoryCode.INTRA_COMMUNITY,
        TaxCategoryCode.EXPORT,
    }
    if categories & needs_seller_vat and not seller.vat_id:
        problems.append(
            MissingField(
                "seller.vat_id", "reverse charge, intra-community and export need the seller's VAT id"
            )
        )
    if TaxCategoryCode.REVERSE_CHARGE in categories and not (buyer.vat_id or buyer.legal_registration_id):
        problems.append(MissingField("buyer.vat_id", "reverse charge needs the buyer's VAT id (BR-AE-02)"))
    if TaxCategoryCode.INTRA_COMMUNITY in categories:
        if not buyer.vat_id:
            problems.append(
                MissingField("buyer.vat_id", "an intra-community supply needs the buyer's VAT id")
            )
        delivery = snapshot.delivery
        if not (delivery and delivery.date) and not (snapshot.period_start or snapshot.period_end):
            problems.append(
                MissingField(
                    "delivery.date", "an intra-community supply needs a delivery date or period (BR-IC-11)"
                )
            )
        if not (delivery and delivery.address):
            problems.append(
                MissingField(
                    "delivery.address", "an intra-community supply needs the deliver-to country (BR-IC-12)"
                )
            )
    if TaxCategoryCode.NOT_SUBJECT in categories and len(categories) > 1:
        problems.append(
            MissingField(
                "tax_breakdown", "category O (not subject to VAT) cannot be mixed with others (BR-O-11)"
            )
        )
    for index, group in enumerate(snapshot.tax_breakdown):
        if group.category in _EXEMPT_CATEGORIES and not (
            group.exemption_reason or group.exemption_reason_code
        ):
            problems.append(
                MissingField(
                    f"tax_breakdown[{index}].exemption_reason",
                    f"VAT category {group.category} needs an exemption reason or VATEX code",
                )
            )
        if group.exemption_reason_code and not codes.is_valid_code("vatex", group.exemption_reason_code):
            problems.append(
                MissingField(f"tax_breakdown[{index}].exemption_reason_code", "not a CEF VATEX code")
            )
    for index, line in enumerate(snapshot.lines):
        if not codes.is_valid_code("unit", line.unit_code):
            problems.append(
                MissingField(f"lines[{index}].unit_code", "not a UN/ECE Recommendation 20 unit code")
            )
        problems += _reason_code_problems(line.adjustments, f"lines[{index}]")
    problems += _reason_code_problems(snapshot.adjustments, "")
    for index, adjustment in enumerate(snapshot.adjustments):
        if not (adjustment.reason or adjustment.reason_code):
            problems.append(
                MissingField(f"adjustments[{index}].reason", "a document allowance or charge needs a reason")
            )
    return problems


def _reason_code_problems(adjustments: Sequence[LineAdjustment], prefix: str) -> list[MissingField]:
    """Allowance reason codes must be UNCL5189 codes and charge reason codes UNCL7161 (BR-CL-19/20)."""
    problems = []
    counters = {True: 0, False: 0}
    for index, adjustment in enumerate(adjustments):
        kind = "charges" if adjustment.is_charge else "allowances"
        position = counters[adjustment.is_charge]
        counters[adjustment.is_charge] += 1
        code_list = "charge_reason" if adjustment.is_charge else "allowance_reason"
        if adjustment.reason_code and not codes.is_valid_code(code_list, adjustment.reason_code):
            # Line adjustments come as two lists (allowances, charges); document ones as one list.
            field = f"{prefix}.{kind}[{position}]" if prefix else f"adjustments[{index}]"
            name = "UNCL7161 charge" if adjustment.is_charge else "UNCL5189 allowance"
            problems.append(MissingField(f"{field}.reason_code", f"not a {name} reason code"))
    return problems


def _peppol_problems(snapshot: InvoiceSnapshot, syntax: Syntax) -> list[MissingField]:
    problems = []
    if syntax != Syntax.UBL:
        problems.append(MissingField("syntax", "Peppol BIS Billing 3.0 is exchanged as UBL only"))
    for prefix, party in (("seller", snapshot.seller), ("buyer", snapshot.buyer)):
        scheme = party.electronic_address_scheme
        if party.electronic_address and scheme and scheme not in codes.PEPPOL_EAS:
            problems.append(
                MissingField(
                    f"{prefix}.electronic_address_scheme",
                    f"Peppol routes only to participant ids of its EAS list, not scheme {scheme!r} "
                    "(PEPPOL-EN16931-CL008); give a Peppol participant id, e.g. 0088 (GLN), "
                    "9930 (German VAT id) or 0204 (Leitweg-ID)",
                )
            )
    problems += _peppol_arithmetic_problems(snapshot)
    if not snapshot.seller.electronic_address:
        problems.append(
            MissingField(
                "seller.electronic_address",
                "Peppol needs the seller's electronic address (PEPPOL-EN16931-R020)",
            )
        )
    if not snapshot.buyer.electronic_address:
        problems.append(
            MissingField(
                "buyer.electronic_address",
                "Peppol needs the buyer's electronic address (PEPPOL-EN16931-R010)",
            )
        )
    if not (snapshot.buyer_reference or snapshot.order_reference):
        problems.append(
            MissingField(
                "buyer_reference",
                "Peppol needs a buyer reference or an order reference (PEPPOL-EN16931-R003)",
            )
        )
    return problems + _peppol_german_problems(snapshot)


# Peppol re-checks line nets and percentage allowances/charges against their parts, to 0.02 (R120,
# R040). An amount rounded to a currency without cents (JPY) can be further off than that.
_PEPPOL_SLACK = Decimal("0.02")


def _percent_adjustment_problems(adjustments: Sequence[LineAdjustment], prefix: str) -> list[MissingField]:
    """Percentage allowances/charges whose rounded amount is more than 0.02 off base x percent (R040).

    Fields as the API names them: `adjustments[i]` on the document, `lines[i].allowances[j]` or
    `lines[i].charges[j]` on a line (`prefix` is "" or "lines[i]").
    """
    problems = []
    counters = {True: 0, False: 0}
    for index, adjustment in enumerate(adjustments):
        position = counters[adjustment.is_charge]
        counters[adjustment.is_charge] += 1
        if adjustment.percent is None or adjustment.base_amount is None:
            continue
        exact = adjustment.base_amount * adjustment.percent / 100
        if abs(adjustment.amount - exact) > _PEPPOL_SLACK:
            kind = "charges" if adjustment.is_charge else "allowances"
            field = f"{prefix}.{kind}[{position}]" if prefix else f"adjustments[{index}]"
            problems.append(
                MissingField(
                    f"{field}.amount",
                    "Peppol and XRechnung need a percentage allowance or charge within 0.02 of base x "
                    f"percent (PEPPOL-EN16931-R040): {adjustment.amount} is {exact} rounded to the currency",
                )
            )
    return problems


def _peppol_arithmetic_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    problems = _percent_adjustment_problems(snapshot.adjustments, "")
    for index, line in enumerate(snapshot.lines):
        charges = sum((a.amount for a in line.charges), Decimal(0))
        allowances = sum((a.amount for a in line.allowances), Decimal(0))
        exact = line.quantity * line.unit_price + charges - allowances
        if abs(line.net_amount - exact) > _PEPPOL_SLACK:
            problems.append(
                MissingField(
                    f"lines[{index}].net_amount",
                    "Peppol needs the line net within 0.02 of quantity x price + charges - allowances "
                    f"(PEPPOL-EN16931-R120): {line.net_amount} is {exact} rounded to the currency",
                )
            )
        problems += _percent_adjustment_problems(line.adjustments, f"lines[{index}]")
    return problems


# What the German CIUS needs, as (field, value, what is needed, rule number): XRechnung cites it as
# BR-DE-n; Peppol BIS applies the same rules, as DE-R-0nn, when seller and buyer are both in Germany.
_GermanRequirement = tuple[str, str | None, str, int]


def _german_cius_requirements(snapshot: InvoiceSnapshot) -> list[_GermanRequirement]:
    seller, buyer = snapshot.seller, snapshot.buyer
    required: list[_GermanRequirement] = [
        ("seller.contact_name", seller.contact_name, "a seller contact name", 5),
        ("seller.contact_phone", seller.contact_phone, "a seller contact phone", 6),
        ("seller.contact_email", seller.contact_email, "a seller contact email", 7),
        ("seller.address.city", seller.address.city, "the seller's city", 3),
        ("seller.address.postal_code", seller.address.postal_code, "the seller's postcode", 4),
        ("buyer.address.city", buyer.address.city, "the buyer's city", 8),
        ("buyer.address.postal_code", buyer.address.postal_code, "the buyer's postcode", 9),
    ]
    delivery_address = snapshot.delivery.address if snapshot.delivery else None
    if delivery_address is not None:
        required += [
            ("deliver_to.city", delivery_address.city, "the deliver-to city with a deliver-to address", 10),
            (
                "deliver_to.postal_code",
                delivery_address.postal_code,
                "the deliver-to postcode with a deliver-to address",
                11,
            ),
        ]
    return required


def _peppol_german_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    """Peppol BIS checks the German CIUS rules (DE-R-*) when seller and buyer are both in Germany."""
    countries = (snapshot.seller.address.country_code, snapshot.buyer.address.country_code)
    if countries != ("DE", "DE"):
        return []
    required = _german_cius_requirements(snapshot)
    required.append(("buyer_reference", snapshot.buyer_reference, "the buyer reference (BT-10)", 15))
    return [
        MissingField(field, f"Peppol between German parties needs {what} (DE-R-{number:03d})")
        for field, value, what, number in required
        if not value
    ]


def _xrechnung_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    seller, buyer = snapshot.seller, snapshot.buyer
    required = [
        (
            "buyer_reference",
            snapshot.buyer_reference,
            "XRechnung needs the buyer reference / Leitweg-ID (BT-10, BR-DE-15)",
        ),
        (
            "seller.electronic_address",
            seller.electronic_address,
            "XRechnung 3.0 needs the seller's electronic address (BT-34)",
        ),
        (
            "buyer.electronic_address",
            buyer.electronic_address,
            "XRechnung 3.0 needs the buyer's electronic address (BT-49)",
        ),
    ]
    required += [
        (field, value, f"XRechnung needs {what} (BR-DE-{number})")
        for field, value, what, number in _german_cius_requirements(snapshot)
    ]
    problems = [MissingField(field, reason) for field, value, reason in required if not value]
    # KoSIT merges Peppol's percentage rule (R040) into XRechnung.
    problems += _percent_adjustment_problems(snapshot.adjustments, "")
    for index, line in enumerate(snapshot.lines):
        problems += _percent_adjustment_problems(line.adjustments, f"lines[{index}]")
    return problems + _xrechnung_payment_problems(snapshot)


def _xrechnung_payment_problems(snapshot: InvoiceSnapshot) -> list[MissingField]:
    """XRechnung needs payment instructions (BR-DE-1) with the group its means code calls for:
    the payee account for a transfer (BR-DE-23), the card (BR-DE-24), or the direct debit with
    the creditor id (BR-DE-25, BR-DE-30) and the debited account (BR-DE-31)."""
    code = snapshot.seller.payment_means_code
    if code in CARD_CODES:
        return (
            []
            if snapshot.payment_card
            else [
                MissingField(
                    "payment_means.card_last_digits",
                    "XRechnung needs the card's last digits for a card payment (BG-18, BR-DE-24)",
                )
            ]
        )
    if code == SEPA_DIRECT_DEBIT:
        debit = snapshot.direct_debit
        if debit is None or not debit.creditor_id:
            return [
                MissingField(
                    "seller.sepa_creditor_id",
                    "XRechnung needs the seller's SEPA creditor id for a direct debit (BT-90, BR-DE-30)",
                )
            ]
        return []
    if not snapshot.seller.iban:
        return [
            MissingField(
                "seller.iban",
                "XRechnung needs payment instructions: the payee IBAN for a credit transfer "
                "(BR-DE-1, BR-DE-23), or the customer's direct debit or card payment means",
            )
        ]
    return []
