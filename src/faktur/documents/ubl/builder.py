"""UBL 2.1 Invoice / CreditNote per EN 16931-3-2, one small builder per EN 16931 group.

Each `build_*` function takes the snapshot and returns detached elements in UBL schema order; `render_ubl`
only stacks them. Element order follows the UBL 2.1 XSD sequences, which differ between Invoice and
CreditNote in a few places (due date, line quantity, allowance position).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from faktur.documents.profiles import PROFILE_IDS, Profile
from faktur.documents.snapshot import (
    Address,
    DirectDebit,
    DocumentAdjustment,
    InvoiceLineSnapshot,
    InvoiceSnapshot,
    LineAdjustment,
    Party,
    PaymentCard,
    SellerParty,
    TaxCategoryCode,
    TaxInfo,
)
from faktur.documents.xmlutil import amount_text, decimal_text, iso_date, serialise, sub
from faktur.payment_means import CREDIT_TRANSFER_CODES

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NSMAP: dict[str | None, str] = {"cac": CAC, "cbc": CBC}


def cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def cbc(name: str) -> str:
    return f"{{{CBC}}}{name}"


def _element(tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.Element(tag, attributes, nsmap=_NSMAP)
    if text is not None:
        element.text = text
    return element


def _has_not_subject(snapshot: InvoiceSnapshot) -> bool:
    return any(group.category == TaxCategoryCode.NOT_SUBJECT for group in snapshot.tax_breakdown)


# --- BG-1..BG-3, BG-14: header -------------------------------------------------------------------


def build_header(snapshot: InvoiceSnapshot, profile: Profile = Profile.EN16931) -> list[etree._Element]:
    """Specification ids, number, dates, type, notes, currency, references and invoicing period."""
    ids = PROFILE_IDS[profile]
    credit = snapshot.is_credit_note
    elements = [_element(cbc("CustomizationID"), ids.customization_id)]
    if ids.profile_id:
        elements.append(_element(cbc("ProfileID"), ids.profile_id))
    elements.append(_element(cbc("ID"), snapshot.number or ""))
    elements.append(_element(cbc("IssueDate"), iso_date(snapshot.issue_date)))
    if snapshot.due_date and not credit:
        # A CreditNote has no DueDate element; its BT-9 goes into PaymentMeans (see build_payment_means).
        elements.append(_element(cbc("DueDate"), iso_date(snapshot.due_date)))
    type_tag = "CreditNoteTypeCode" if credit else "InvoiceTypeCode"
    elements.append(_element(cbc(type_tag), snapshot.document_type.value))
    elements.extend(_element(cbc("Note"), note) for note in snapshot.notes)
    elements.append(_element(cbc("DocumentCurrencyCode"), snapshot.currency))
    if snapshot.buyer_reference:
        elements.append(_element(cbc("BuyerReference"), snapshot.buyer_reference))
    if snapshot.period_start or snapshot.period_end:
        elements.append(_period(snapshot.period_start, snapshot.period_end))
    if snapshot.order_reference:
        order = _element(cac("OrderReference"))
        sub(order, cbc("ID"), snapshot.order_reference)
        elements.append(order)
    if snapshot.preceding_invoice:
        billing = _element(cac("BillingReference"))
        reference = sub(billing, cac("InvoiceDocumentReference"))
        sub(reference, cbc("ID"), snapshot.preceding_invoice.number)
        if snapshot.preceding_invoice.issue_date:
            sub(reference, cbc("IssueDate"), iso_date(snapshot.preceding_invoice.issue_date))
        elements.append(billing)
    return elements


def _period(start: dt.date | None, end: dt.date | None) -> etree._Element:
    period = _element(cac("InvoicePeriod"))
    if start:
        sub(period, cbc("StartDate"), iso_date(start))
    if end:
        sub(period, cbc("EndDate"), iso_date(end))
    return period


# --- BG-4..BG-11: parties ------------------------------------------------------------------------


def build_address(address: Address, tag: str = "PostalAddress") -> etree._Element:
    element = _element(cac(tag))
    street = list(address.street_lines)
    if street:
        sub(element, cbc("StreetName"), street[0])
    if len(street) > 1:
        sub(element, cbc("AdditionalStreetName"), street[1])
    if address.city:
        sub(element, cbc("CityName"), address.city)
    if address.postal_code:
        sub(element, cbc("PostalZone"), address.postal_code)
    if address.subdivision:
        sub(element, cbc("CountrySubentity"), address.subdivision)
    if len(street) > 2:
        sub(sub(element, cac("AddressLine")), cbc("Line"), street[2])
    sub(sub(element, cac("Country")), cbc("IdentificationCode"), address.country_code)
    return element


def build_party(party: Party, *, with_vat_ids: bool = True) -> etree._Element:
    """A cac:Party (seller BG-4 or buyer BG-7). VAT ids are left out for category O (BR-O-02..04)."""
    element = _element(cac("Party"))
    if party.electronic_address and party.electronic_address_scheme:
        sub(element, cbc("EndpointID"), party.electronic_address, schemeID=party.electronic_address_scheme)
    if party.trading_name:
        sub(sub(element, cac("PartyName")), cbc("Name"), party.trading_name)
    element.append(build_address(party.address))
    if party.vat_id and with_vat_ids:
        scheme = sub(element, cac("PartyTaxScheme"))
        sub(scheme, cbc("CompanyID"), party.vat_id)
        sub(sub(scheme, cac("TaxScheme")), cbc("ID"), "VAT")
    if party.tax_registration_id and isinstance(party, SellerParty):
        # BT-32 is a seller-only term; its TaxScheme must be anything but VAT ("FC", fiscal code).
        scheme = sub(element, cac("PartyTaxScheme"))
        sub(scheme, cbc("CompanyID"), party.tax_registration_id)
        sub(sub(scheme, cac("TaxScheme")), cbc("ID"), "FC")
    legal = sub(element, cac("PartyLegalEntity"))
    sub(legal, cbc("RegistrationName"), party.legal_name)
    if party.legal_registration_id:
        sub(legal, cbc("CompanyID"), party.legal_registration_id)
    if party.contact_name or party.contact_phone or party.contact_email:
        contact = sub(element, cac("Contact"))
        if party.contact_name:
            sub(contact, cbc("Name"), party.contact_name)
        if party.contact_phone:
            sub(contact, cbc("Telephone"), party.contact_phone)
        if party.contact_email:
            sub(contact, cbc("ElectronicMail"), party.contact_email)
    return element


def _add_creditor_id(party: etree._Element, creditor_id: str) -> None:
    """BT-90, the seller's SEPA creditor id: a PartyIdentification with scheme SEPA, after EndpointID."""
    identification = _element(cac("PartyIdentification"))
    sub(identification, cbc("ID"), creditor_id, schemeID="SEPA")
    endpoint = party.find(cbc("EndpointID"))
    party.insert(0 if endpoint is None else 1, identification)


def build_parties(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    with_vat_ids = not _has_not_subject(snapshot)
    supplier = _element(cac("AccountingSupplierParty"))
    seller = build_party(snapshot.seller, with_vat_ids=with_vat_ids)
    if snapshot.direct_debit and snapshot.direct_debit.creditor_id:
        _add_creditor_id(seller, snapshot.direct_debit.creditor_id)
    supplier.append(seller)
    customer = _element(cac("AccountingCustomerParty"))
    customer.append(build_party(snapshot.buyer, with_vat_ids=with_vat_ids))
    return [supplier, customer]


# --- BG-13: delivery -----------------------------------------------------------------------------


def build_delivery(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    delivery = snapshot.delivery
    if delivery is None:
        return []
    element = _element(cac("Delivery"))
    if delivery.date:
        sub(element, cbc("ActualDeliveryDate"), iso_date(delivery.date))
    if delivery.address:
        location = sub(element, cac("DeliveryLocation"))
        location.append(build_address(delivery.address, "Address"))
    if delivery.name:
        sub(sub(sub(element, cac("DeliveryParty")), cac("PartyName")), cbc("Name"), delivery.name)
    return [element]


# --- BG-16, BG-17, BT-20: payment ----------------------------------------------------------------


def build_payment_means(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    seller = snapshot.seller
    means = _element(cac("PaymentMeans"))
    sub(means, cbc("PaymentMeansCode"), seller.payment_means_code)
    if snapshot.is_credit_note and snapshot.due_date:
        sub(means, cbc("PaymentDueDate"), iso_date(snapshot.due_date))
    if snapshot.effective_payment_reference:
        sub(means, cbc("PaymentID"), snapshot.effective_payment_reference)
    if snapshot.payment_card:
        means.append(build_card_account(snapshot.payment_card))
    if seller.iban and seller.payment_means_code in CREDIT_TRANSFER_CODES:
        account = sub(means, cac("PayeeFinancialAccount"))
        sub(account, cbc("ID"), seller.iban)
        sub(account, cbc("Name"), seller.legal_name)
        if seller.bic:
            sub(sub(account, cac("FinancialInstitutionBranch")), cbc("ID"), seller.bic)
    if snapshot.direct_debit:
        means.append(build_payment_mandate(snapshot.direct_debit))
    elements = [means]
    if snapshot.payment_terms:
        terms = _element(cac("PaymentTerms"))
        sub(terms, cbc("Note"), snapshot.payment_terms)
        elements.append(terms)
    return elements


def build_card_account(card: PaymentCard) -> etree._Element:
    """BG-18: the card's last digits (BT-87) and holder (BT-88); UBL also needs a network id."""
    account = _element(cac("CardAccount"))
    sub(account, cbc("PrimaryAccountNumberID"), card.last_digits)
    # Mandatory in UBL, unknown to EN 16931: "NA" (not available) when the network was not given.
    sub(account, cbc("NetworkID"), card.network or "NA")
    if card.holder:
        sub(account, cbc("HolderName"), card.holder)
    return account


def build_payment_mandate(debit: DirectDebit) -> etree._Element:
    """BG-19: the mandate reference (BT-89) and the debited account (BT-91); BT-90 is on the seller."""
    mandate = _element(cac("PaymentMandate"))
    sub(mandate, cbc("ID"), debit.mandate_reference)
    sub(sub(mandate, cac("PayerFinancialAccount")), cbc("ID"), debit.debited_account)
    return mandate


# --- BG-20, BG-21, BG-27, BG-28: allowances and charges ------------------------------------------


def _tax_category(tax: TaxInfo, tag: str = "TaxCategory") -> etree._Element:
    element = _element(cac(tag))
    sub(element, cbc("ID"), tax.category.value)
    if tax.category != TaxCategoryCode.NOT_SUBJECT and tax.percent is not None:
        sub(element, cbc("Percent"), decimal_text(tax.percent))
    sub(sub(element, cac("TaxScheme")), cbc("ID"), "VAT")
    return element


def build_allowance_charge(adjustment: LineAdjustment, currency: str) -> etree._Element:
    """One cac:AllowanceCharge; a document-level one also carries its VAT category."""
    element = _element(cac("AllowanceCharge"))
    sub(element, cbc("ChargeIndicator"), "true" if adjustment.is_charge else "false")
    if adjustment.reason_code:
        sub(element, cbc("AllowanceChargeReasonCode"), adjustment.reason_code)
    if adjustment.reason:
        sub(element, cbc("AllowanceChargeReason"), adjustment.reason)
    if adjustment.percent is not None:
        sub(element, cbc("MultiplierFactorNumeric"), decimal_text(adjustment.percent))
    sub(element, cbc("Amount"), amount_text(adjustment.amount, currency), currencyID=currency)
    if adjustment.base_amount is not None:
        sub(element, cbc("BaseAmount"), amount_text(adjustment.base_amount, currency), currencyID=currency)
    if isinstance(adjustment, DocumentAdjustment):
        element.append(_tax_category(adjustment.tax))
    return element


def build_document_allowances_charges(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    return [build_allowance_charge(adjustment, snapshot.currency) for adjustment in snapshot.adjustments]


# --- BG-23, BT-110: VAT breakdown ----------------------------------------------------------------


def build_tax_total(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    currency = snapshot.currency
    total = _element(cac("TaxTotal"))
    sub(total, cbc("TaxAmount"), amount_text(snapshot.totals.tax_total, currency), currencyID=currency)
    for group in snapshot.tax_breakdown:
        subtotal = sub(total, cac("TaxSubtotal"))
        sub(subtotal, cbc("TaxableAmount"), amount_text(group.taxable_amount, currency), currencyID=currency)
        sub(subtotal, cbc("TaxAmount"), amount_text(group.tax_amount, currency), currencyID=currency)
        category = sub(subtotal, cac("TaxCategory"))
        sub(category, cbc("ID"), group.category.value)
        if group.category == TaxCategoryCode.NOT_SUBJECT:
            # EN 16931 lets the O breakdown go without a rate (BR-48); XRechnung wants one (BR-DE-14): 0.
            sub(category, cbc("Percent"), "0")
        elif group.percent is not None:
            sub(category, cbc("Percent"), decimal_text(group.percent))
        if group.exemption_reason_code:
            sub(category, cbc("TaxExemptionReasonCode"), group.exemption_reason_code)
        if group.exemption_reason:
            sub(category, cbc("TaxExemptionReason"), group.exemption_reason)
        sub(sub(category, cac("TaxScheme")), cbc("ID"), "VAT")
    return [total]


# --- BG-22: document totals ----------------------------------------------------------------------


def build_monetary_total(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    currency, totals = snapshot.currency, snapshot.totals
    element = _element(cac("LegalMonetaryTotal"))

    def money(tag: str, value: Decimal) -> None:
        sub(element, cbc(tag), amount_text(value, currency), currencyID=currency)

    money("LineExtensionAmount", totals.line_net_total)
    money("TaxExclusiveAmount", totals.tax_exclusive_total)
    money("TaxInclusiveAmount", totals.tax_inclusive_total)
    if snapshot.adjustments and any(not a.is_charge for a in snapshot.adjustments):
        money("AllowanceTotalAmount", totals.allowance_total)
    if snapshot.adjustments and any(a.is_charge for a in snapshot.adjustments):
        money("ChargeTotalAmount", totals.charge_total)
    if totals.paid_amount:
        money("PrepaidAmount", totals.paid_amount)
    if totals.rounding_amount:
        money("PayableRoundingAmount", totals.rounding_amount)
    money("PayableAmount", totals.amount_due)
    return [element]


# --- BG-25: lines --------------------------------------------------------------------------------


def build_line(line: InvoiceLineSnapshot, currency: str, *, credit_note: bool = False) -> etree._Element:
    element = _element(cac("CreditNoteLine" if credit_note else "InvoiceLine"))
    sub(element, cbc("ID"), line.id)
    quantity_tag = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    sub(element, cbc(quantity_tag), decimal_text(line.quantity), unitCode=line.unit_code)
    sub(element, cbc("LineExtensionAmount"), amount_text(line.net_amount, currency), currencyID=currency)
    if line.period_start or line.period_end:
        element.append(_period(line.period_start, line.period_end))
    for adjustment in line.adjustments:
        element.append(build_allowance_charge(adjustment, currency))
    item = sub(element, cac("Item"))
    if line.description:
        sub(item, cbc("Description"), line.description)
    sub(item, cbc("Name"), line.name)
    if line.sku:
        sub(sub(item, cac("SellersItemIdentification")), cbc("ID"), line.sku)
    item.append(_tax_category(line.tax, "ClassifiedTaxCategory"))
    price = sub(element, cac("Price"))
    sub(price, cbc("PriceAmount"), decimal_text(line.unit_price), currencyID=currency)
    return element


def build_lines(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    return [
        build_line(line, snapshot.currency, credit_note=snapshot.is_credit_note) for line in snapshot.lines
    ]


# --- the document --------------------------------------------------------------------------------


def render_ubl(snapshot: InvoiceSnapshot, profile: Profile | str = Profile.EN16931) -> bytes:
    """The UBL 2.1 Invoice (380) or CreditNote (381) for `snapshot`, as UTF-8 bytes.

    Check `missing_fields(snapshot, profile, "ubl")` first: this function renders what it is given.
    """
    profile = Profile(profile)
    credit = snapshot.is_credit_note
    root_ns = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}", nsmap={None: root_ns, **_NSMAP}
    )
    groups = [
        build_header(snapshot, profile),
        build_parties(snapshot),
        build_delivery(snapshot),
        build_payment_means(snapshot),
        build_document_allowances_charges(snapshot),
        build_tax_total(snapshot),
        build_monetary_total(snapshot),
        build_lines(snapshot),
    ]
    for group in groups:
        root.extend(group)
    etree.cleanup_namespaces(root, top_nsmap={"cac": CAC, "cbc": CBC})
    return serialise(root)
