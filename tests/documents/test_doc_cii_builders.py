"""Each CII builder, one EN 16931 group at a time."""

from __future__ import annotations

from document_factories import corpus, snapshot
from lxml import etree

from faktur.documents.cii import builder as cii

NS = {"ram": cii.RAM, "udt": cii.UDT, "rsm": cii.RSM, "qdt": cii.QDT}


def _text(element: etree._Element, path: str) -> str | None:
    return element.findtext(path, namespaces=NS)


def test_context_names_the_guideline_and_business_process() -> None:
    factur_x = cii.build_context(cii.Profile.EN16931)
    assert (
        _text(factur_x, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"
    )
    assert factur_x.find("ram:BusinessProcessSpecifiedDocumentContextParameter", NS) is None
    xrechnung = cii.build_context(cii.Profile.XRECHNUNG)
    assert _text(xrechnung, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID").endswith("xrechnung_3.0")


def test_header_has_number_type_and_102_date() -> None:
    header = cii.build_header(corpus()["credit_note"])
    assert _text(header, "ram:ID") == "GS-2024-00007"
    assert _text(header, "ram:TypeCode") == "381"
    date = header.find("ram:IssueDateTime/udt:DateTimeString", NS)
    assert (date.text, date.get("format")) == ("20240502", "102")


def test_line_has_product_net_price_quantity_tax_and_total() -> None:
    element = cii.build_line(snapshot().lines[0], "EUR")
    assert _text(element, "ram:SpecifiedTradeProduct/ram:SellerAssignedID") == "SKU-001"
    assert (
        _text(element, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount")
        == "120"
    )
    quantity = element.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS)
    assert (quantity.text, quantity.get("unitCode")) == ("10", "HUR")
    settlement = element.find("ram:SpecifiedLineTradeSettlement", NS)
    assert _text(settlement, "ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19"
    assert (
        _text(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
        == "1200.00"
    )


def test_line_allowance_comes_before_the_line_total() -> None:
    line = corpus()["two_rates_allowances_charges"].lines[0]
    settlement = cii.build_line(line, "EUR").find("ram:SpecifiedLineTradeSettlement", NS)
    tags = [etree.QName(child).localname for child in settlement]
    assert tags == [
        "ApplicableTradeTax",
        "SpecifiedTradeAllowanceCharge",
        "SpecifiedTradeSettlementLineMonetarySummation",
    ]
    allowance = settlement.find("ram:SpecifiedTradeAllowanceCharge", NS)
    assert _text(allowance, "ram:ChargeIndicator/udt:Indicator") == "false"
    assert _text(allowance, "ram:CalculationPercent") == "10"


def test_party_order_follows_the_d16b_schema() -> None:
    party = cii.build_party(snapshot().seller, "SellerTradeParty")
    tags = [etree.QName(child).localname for child in party]
    assert tags == [
        "Name",
        "SpecifiedLegalOrganization",
        "DefinedTradeContact",
        "PostalTradeAddress",
        "URIUniversalCommunication",
        "SpecifiedTaxRegistration",
        "SpecifiedTaxRegistration",
    ]
    schemes = [e.get("schemeID") for e in party.findall("ram:SpecifiedTaxRegistration/ram:ID", NS)]
    assert schemes == ["VA", "FC"]


def test_agreement_has_buyer_reference_and_order() -> None:
    agreement = cii.build_agreement(snapshot())
    assert _text(agreement, "ram:BuyerReference") == "04011000-12345-34"
    assert _text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "PO-7781"


def test_delivery_is_present_even_when_empty() -> None:
    assert len(cii.build_delivery(snapshot())) == 0
    delivery = cii.build_delivery(corpus()["intra_community"])
    assert _text(delivery, "ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert (
        _text(delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString")
        == "20240430"
    )


def test_tax_breakdown_carries_exemption_reason_and_code() -> None:
    (group,) = cii.build_tax_breakdown(corpus()["exempt"])
    assert _text(group, "ram:CategoryCode") == "E"
    assert _text(group, "ram:ExemptionReasonCode") == "VATEX-EU-132-1I"
    assert _text(group, "ram:CalculatedAmount") == "0.00"


def test_payment_means_and_terms() -> None:
    means = cii.build_payment_means(snapshot())
    assert _text(means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    assert _text(means, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFFXXX"
    (terms,) = cii.build_payment_terms(snapshot())
    assert _text(terms, "ram:DueDateDateTime/udt:DateTimeString") == "20240516"


def test_monetary_summation_and_credit_note_reference() -> None:
    summation = cii.build_monetary_summation(corpus()["prepaid"])
    assert _text(summation, "ram:TotalPrepaidAmount") == "500.00"
    assert summation.find("ram:TaxTotalAmount", NS).get("currencyID") == "EUR"
    settlement = cii.build_settlement(corpus()["credit_note"])
    assert _text(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "RE-2024-00042"


def test_render_cii_is_deterministic() -> None:
    invoice = corpus()["two_rates_allowances_charges"]
    assert cii.render_cii(invoice) == cii.render_cii(invoice)
