"""UN/CEFACT Cross Industry Invoice D16B per EN 16931-3-3 (Factur-X/ZUGFeRD EN 16931, XRechnung CII).

One small builder per EN 16931 group returns detached elements in the D16B schema order; `render_cii`
stacks them. CII nests the groups differently from UBL: lines come first, then the header agreement
(parties), delivery and settlement (payment, VAT, allowances, totals).
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from faktur.documents.profiles import PROFILE_IDS, Profile
from faktur.documents.snapshot import (
    Address,
    DocumentAdjustment,
    InvoiceLineSnapshot,
    InvoiceSnapshot,
    LineAdjustment,
    Party,
    SellerParty,
    TaxCategoryCode,
    TaxInfo,
)
from faktur.documents.xmlutil import amount_text, cii_date, decimal_text, serialise, sub
from faktur.payment_means import CREDIT_TRANSFER_CODES

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": RSM, "qdt": QDT, "ram": RAM, "udt": UDT}


def ram(name: str) -> str:
    return f"{{{RAM}}}{name}"


def _element(tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.Element(tag, attributes, nsmap=_NSMAP)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: dt.date) -> None:
    sub(sub(parent, ram(tag)), f"{{{UDT}}}DateTimeString", cii_date(value), format="102")


def _has_not_subject(snapshot: InvoiceSnapshot) -> bool:
    return any(group.category == TaxCategoryCode.NOT_SUBJECT for group in snapshot.tax_breakdown)


# --- BT-23, BT-24, BG-1..BT-3: context and document header ---------------------------------------


def build_context(profile: Profile = Profile.EN16931) -> etree._Element:
    ids = PROFILE_IDS[profile]
    context = _element(f"{{{RSM}}}ExchangedDocumentContext")
    if ids.profile_id:
        sub(sub(context, ram("BusinessProcessSpecifiedDocumentContextParameter")), ram("ID"), ids.profile_id)
    sub(sub(context, ram("GuidelineSpecifiedDocumentContextParameter")), ram("ID"), ids.customization_id)
    return context


def build_header(snapshot: InvoiceSnapshot) -> etree._Element:
    document = _element(f"{{{RSM}}}ExchangedDocument")
    sub(document, ram("ID"), snapshot.number or "")
    sub(document, ram("TypeCode"), snapshot.document_type.value)
    _date(document, "IssueDateTime", snapshot.issue_date)
    for note in snapshot.notes:
        sub(sub(document, ram("IncludedNote")), ram("Content"), note)
    return document


# --- BG-25: lines --------------------------------------------------------------------------------


def _trade_tax(parent: etree._Element, tax: TaxInfo, tag: str = "ApplicableTradeTax") -> None:
    element = sub(parent, ram(tag))
    sub(element, ram("TypeCode"), "VAT")
    sub(element, ram("CategoryCode"), tax.category.value)
    if tax.category != TaxCategoryCode.NOT_SUBJECT and tax.percent is not None:
        sub(element, ram("RateApplicablePercent"), decimal_text(tax.percent))


def _period(parent: etree._Element, start: dt.date | None, end: dt.date | None) -> None:
    if not (start or end):
        return
    period = sub(parent, ram("BillingSpecifiedPeriod"))
    if start:
        _date(period, "StartDateTime", start)
    if end:
        _date(period, "EndDateTime", end)


def build_allowance_charge(adjustment: LineAdjustment, currency: str) -> etree._Element:
    """One ram:SpecifiedTradeAllowanceCharge; a document-level one also carries its VAT category.

    CII amounts at line and allowance level carry no currencyID (EN 16931-3-3 only allows it on the
    tax totals), unlike UBL where every amount has one.
    """
    element = _element(ram("SpecifiedTradeAllowanceCharge"))
    sub(
        sub(element, ram("ChargeIndicator")),
        f"{{{UDT}}}Indicator",
        "true" if adjustment.is_charge else "false",
    )
    if adjustment.percent is not None:
        sub(element, ram("CalculationPercent"), decimal_text(adjustment.percent))
    if adjustment.base_amount is not None:
        sub(element, ram("BasisAmount"), amount_text(adjustment.base_amount, currency))
    sub(element, ram("ActualAmount"), amount_text(adjustment.amount, currency))
    if adjustment.reason_code:
        sub(element, ram("ReasonCode"), adjustment.reason_code)
    if adjustment.reason:
        sub(element, ram("Reason"), adjustment.reason)
    if isinstance(adjustment, DocumentAdjustment):
        _trade_tax(element, adjustment.tax, "CategoryTradeTax")
    return element


def build_line(line: InvoiceLineSnapshot, currency: str) -> etree._Element:
    element = _element(ram("IncludedSupplyChainTradeLineItem"))
    sub(sub(element, ram("AssociatedDocumentLineDocument")), ram("LineID"), line.id)
    product = sub(element, ram("SpecifiedTradeProduct"))
    if line.sku:
        sub(product, ram("SellerAssignedID"), line.sku)
    sub(product, ram("Name"), line.name)
    if line.description:
        sub(product, ram("Description"), line.description)
    agreement = sub(element, ram("SpecifiedLineTradeAgreement"))
    sub(sub(agreement, ram("NetPriceProductTradePrice")), ram("ChargeAmount"), decimal_text(line.unit_price))
    delivery = sub(element, ram("SpecifiedLineTradeDelivery"))
    sub(delivery, ram("BilledQuantity"), decimal_text(line.quantity), unitCode=line.unit_code)
    settlement = sub(element, ram("SpecifiedLineTradeSettlement"))
    _trade_tax(settlement, line.tax)
    _period(settlement, line.period_start, line.period_end)
    for adjustment in line.adjustments:
        settlement.append(build_allowance_charge(adjustment, currency))
    summation = sub(settlement, ram("SpecifiedTradeSettlementLineMonetarySummation"))
    sub(summation, ram("LineTotalAmount"), amount_text(line.net_amount, currency))
    return element


def build_lines(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    return [build_line(line, snapshot.currency) for line in snapshot.lines]


# --- BG-4..BG-11: parties and references (header trade agreement) --------------------------------


def build_address(address: Address, tag: str = "PostalTradeAddress") -> etree._Element:
    element = _element(ram(tag))
    if address.postal_code:
        sub(element, ram("PostcodeCode"), address.postal_code)
    for tag_name, text in zip(("LineOne", "LineTwo", "LineThree"), address.street_lines, strict=False):
        sub(element, ram(tag_name), text)
    if address.city:
        sub(element, ram("CityName"), address.city)
    sub(element, ram("CountryID"), address.country_code)
    if address.subdivision:
        sub(element, ram("CountrySubDivisionName"), address.subdivision)
    return element


def build_party(party: Party, tag: str, *, with_vat_ids: bool = True) -> etree._Element:
    """A seller (BG-4) or buyer (BG-7) trade party. VAT ids are left out for category O (BR-O-02..04)."""
    element = _element(ram(tag))
    sub(element, ram("Name"), party.legal_name)
    if party.legal_registration_id or party.trading_name:
        legal = sub(element, ram("SpecifiedLegalOrganization"))
        if party.legal_registration_id:
            sub(legal, ram("ID"), party.legal_registration_id)
        if party.trading_name:
            sub(legal, ram("TradingBusinessName"), party.trading_name)
    if party.contact_name or party.contact_phone or party.contact_email:
        contact = sub(element, ram("DefinedTradeContact"))
        if party.contact_name:
            sub(contact, ram("PersonName"), party.contact_name)
        if party.contact_phone:
            sub(
                sub(contact, ram("TelephoneUniversalCommunication")),
                ram("CompleteNumber"),
                party.contact_phone,
            )
        if party.contact_email:
            sub(sub(contact, ram("EmailURIUniversalCommunication")), ram("URIID"), party.contact_email)
    element.append(build_address(party.address))
    if party.electronic_address and party.electronic_address_scheme:
        sub(
            sub(element, ram("URIUniversalCommunication")),
            ram("URIID"),
            party.electronic_address,
            schemeID=party.electronic_address_scheme,
        )
    if party.vat_id and with_vat_ids:
        sub(sub(element, ram("SpecifiedTaxRegistration")), ram("ID"), party.vat_id, schemeID="VA")
    if party.tax_registration_id and isinstance(party, SellerParty):
        # BT-32 (seller tax registration, e.g. a German Steuernummer) uses scheme "FC".
        sub(
            sub(element, ram("SpecifiedTaxRegistration")), ram("ID"), party.tax_registration_id, schemeID="FC"
        )
    return element


def build_agreement(snapshot: InvoiceSnapshot) -> etree._Element:
    with_vat_ids = not _has_not_subject(snapshot)
    agreement = _element(ram("ApplicableHeaderTradeAgreement"))
    if snapshot.buyer_reference:
        sub(agreement, ram("BuyerReference"), snapshot.buyer_reference)
    agreement.append(build_party(snapshot.seller, "SellerTradeParty", with_vat_ids=with_vat_ids))
    agreement.append(build_party(snapshot.buyer, "BuyerTradeParty", with_vat_ids=with_vat_ids))
    if snapshot.order_reference:
        sub(
            sub(agreement, ram("BuyerOrderReferencedDocument")),
            ram("IssuerAssignedID"),
            snapshot.order_reference,
        )
    return agreement


# --- BG-13: delivery -----------------------------------------------------------------------------


def build_delivery(snapshot: InvoiceSnapshot) -> etree._Element:
    """Always present in CII (the element is mandatory even when empty)."""
    element = _element(ram("ApplicableHeaderTradeDelivery"))
    delivery = snapshot.delivery
    if delivery is None:
        return element
    if delivery.name or delivery.address:
        ship_to = sub(element, ram("ShipToTradeParty"))
        if delivery.name:
            sub(ship_to, ram("Name"), delivery.name)
        if delivery.address:
            ship_to.append(build_address(delivery.address))
    if delivery.date:
        _date(sub(element, ram("ActualDeliverySupplyChainEvent")), "OccurrenceDateTime", delivery.date)
    return element


# --- BG-16, BG-20..BG-23, BT-20, BG-22, BG-3: settlement -----------------------------------------


def build_payment_means(snapshot: InvoiceSnapshot) -> etree._Element:
    seller = snapshot.seller
    means = _element(ram("SpecifiedTradeSettlementPaymentMeans"))
    sub(means, ram("TypeCode"), seller.payment_means_code)
    card = snapshot.payment_card
    if card:
        # BG-18: the card's last digits (BT-87) and holder (BT-88).
        financial_card = sub(means, ram("ApplicableTradeSettlementFinancialCard"))
        sub(financial_card, ram("ID"), card.last_digits)
        if card.holder:
            sub(financial_card, ram("CardholderName"), card.holder)
    if snapshot.direct_debit:
        # BT-91, the account debited; the mandate (BT-89) is in the payment terms.
        debtor = sub(means, ram("PayerPartyDebtorFinancialAccount"))
        sub(debtor, ram("IBANID"), snapshot.direct_debit.debited_account)
    if seller.payment_means_code not in CREDIT_TRANSFER_CODES:
        return means
    if seller.iban:
        account = sub(means, ram("PayeePartyCreditorFinancialAccount"))
        sub(account, ram("IBANID"), seller.iban)
        sub(account, ram("AccountName"), seller.legal_name)
    if seller.bic:
        sub(sub(means, ram("PayeeSpecifiedCreditorFinancialInstitution")), ram("BICID"), seller.bic)
    return means


def build_tax_breakdown(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    currency = snapshot.currency
    elements = []
    for group in snapshot.tax_breakdown:
        tax = _element(ram("ApplicableTradeTax"))
        sub(tax, ram("CalculatedAmount"), amount_text(group.tax_amount, currency))
        sub(tax, ram("TypeCode"), "VAT")
        if group.exemption_reason:
            sub(tax, ram("ExemptionReason"), group.exemption_reason)
        sub(tax, ram("BasisAmount"), amount_text(group.taxable_amount, currency))
        sub(tax, ram("CategoryCode"), group.category.value)
        if group.exemption_reason_code:
            sub(tax, ram("ExemptionReasonCode"), group.exemption_reason_code)
        if group.category == TaxCategoryCode.NOT_SUBJECT:
            # EN 16931 lets the O breakdown go without a rate (BR-48); XRechnung wants one (BR-DE-14): 0.
            sub(tax, ram("RateApplicablePercent"), "0")
        elif group.percent is not None:
            sub(tax, ram("RateApplicablePercent"), decimal_text(group.percent))
        elements.append(tax)
    return elements


def build_payment_terms(snapshot: InvoiceSnapshot) -> list[etree._Element]:
    mandate = snapshot.direct_debit.mandate_reference if snapshot.direct_debit else None
    if not (snapshot.payment_terms or snapshot.due_date or mandate):
        return []
    terms = _element(ram("SpecifiedTradePaymentTerms"))
    if snapshot.payment_terms:
        sub(terms, ram("Description"), snapshot.payment_terms)
    if snapshot.due_date:
        _date(terms, "DueDateDateTime", snapshot.due_date)
    if mandate:
        sub(terms, ram("DirectDebitMandateID"), mandate)  # BT-89
    return [terms]


def build_monetary_summation(snapshot: InvoiceSnapshot) -> etree._Element:
    currency, totals = snapshot.currency, snapshot.totals
    element = _element(ram("SpecifiedTradeSettlementHeaderMonetarySummation"))
    sub(element, ram("LineTotalAmount"), amount_text(totals.line_net_total, currency))
    if any(a.is_charge for a in snapshot.adjustments):
        sub(element, ram("ChargeTotalAmount"), amount_text(totals.charge_total, currency))
    if any(not a.is_charge for a in snapshot.adjustments):
        sub(element, ram("AllowanceTotalAmount"), amount_text(totals.allowance_total, currency))
    sub(element, ram("TaxBasisTotalAmount"), amount_text(totals.tax_exclusive_total, currency))
    sub(element, ram("TaxTotalAmount"), amount_text(totals.tax_total, currency), currencyID=currency)
    if totals.rounding_amount:
        sub(element, ram("RoundingAmount"), amount_text(totals.rounding_amount, currency))
    sub(element, ram("GrandTotalAmount"), amount_text(totals.tax_inclusive_total, currency))
    if totals.paid_amount:
        sub(element, ram("TotalPrepaidAmount"), amount_text(totals.paid_amount, currency))
    sub(element, ram("DuePayableAmount"), amount_text(totals.amount_due, currency))
    return element


def build_settlement(snapshot: InvoiceSnapshot) -> etree._Element:
    settlement = _element(ram("ApplicableHeaderTradeSettlement"))
    if snapshot.direct_debit and snapshot.direct_debit.creditor_id:
        sub(settlement, ram("CreditorReferenceID"), snapshot.direct_debit.creditor_id)  # BT-90
    if snapshot.effective_payment_reference:
        sub(settlement, ram("PaymentReference"), snapshot.effective_payment_reference)
    sub(settlement, ram("InvoiceCurrencyCode"), snapshot.currency)
    settlement.append(build_payment_means(snapshot))
    settlement.extend(build_tax_breakdown(snapshot))
    _period(settlement, snapshot.period_start, snapshot.period_end)
    settlement.extend(build_allowance_charge(a, snapshot.currency) for a in snapshot.adjustments)
    settlement.extend(build_payment_terms(snapshot))
    settlement.append(build_monetary_summation(snapshot))
    if snapshot.preceding_invoice:
        reference = sub(settlement, ram("InvoiceReferencedDocument"))
        sub(reference, ram("IssuerAssignedID"), snapshot.preceding_invoice.number)
        if snapshot.preceding_invoice.issue_date:
            sub(
                sub(reference, ram("FormattedIssueDateTime")),
                f"{{{QDT}}}DateTimeString",
                cii_date(snapshot.preceding_invoice.issue_date),
                format="102",
            )
    return settlement


# --- the document --------------------------------------------------------------------------------


def render_cii(snapshot: InvoiceSnapshot, profile: Profile | str = Profile.EN16931) -> bytes:
    """The CII invoice or credit note for `snapshot` as UTF-8 bytes (Factur-X EN 16931 by default).

    Check `missing_fields(snapshot, profile, "cii")` first: this function renders what it is given.
    """
    profile = Profile(profile)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=_NSMAP)
    root.append(build_context(profile))
    root.append(build_header(snapshot))
    transaction = sub(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    transaction.extend(build_lines(snapshot))
    transaction.append(build_agreement(snapshot))
    transaction.append(build_delivery(snapshot))
    transaction.append(build_settlement(snapshot))
    etree.cleanup_namespaces(root, top_nsmap=_NSMAP)
    return serialise(root)
