"""Each UBL builder, one EN 16931 group at a time."""

from __future__ import annotations

from decimal import Decimal

from document_factories import corpus, foreign_buyer, snapshot
from lxml import etree

from faktur.documents.snapshot import Delivery, DocumentStatus
from faktur.documents.ubl import builder as ubl

NS = {"cac": ubl.CAC, "cbc": ubl.CBC}


def _text(element: etree._Element, path: str) -> str | None:
    return element.findtext(path, namespaces=NS)


def test_header_carries_profile_ids_number_dates_and_references() -> None:
    invoice = snapshot()
    elements = ubl.build_header(invoice, ubl.Profile.PEPPOL)
    tags = [etree.QName(e).localname for e in elements]
    assert tags[:6] == ["CustomizationID", "ProfileID", "ID", "IssueDate", "DueDate", "InvoiceTypeCode"]
    assert elements[0].text.endswith("urn:fdc:peppol.eu:2017:poacc:billing:3.0")
    assert elements[2].text == "RE-2024-00042"
    assert "BuyerReference" in tags and "OrderReference" in tags


def test_credit_note_header_moves_due_date_and_references_the_invoice() -> None:
    credit = corpus()["credit_note"]
    elements = ubl.build_header(credit)
    tags = [etree.QName(e).localname for e in elements]
    assert "DueDate" not in tags and "CreditNoteTypeCode" in tags
    billing = elements[tags.index("BillingReference")]
    assert _text(billing, "cac:InvoiceDocumentReference/cbc:ID") == "RE-2024-00042"
    means = ubl.build_payment_means(credit)[0]
    assert _text(means, "cbc:PaymentDueDate") == "2024-05-16"


def test_party_has_endpoint_address_tax_schemes_legal_entity_and_contact() -> None:
    party = ubl.build_party(snapshot().seller)
    assert party.find("cbc:EndpointID", NS).get("schemeID") == "9930"
    assert _text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "DE"
    schemes = [_text(s, "cac:TaxScheme/cbc:ID") for s in party.findall("cac:PartyTaxScheme", NS)]
    assert schemes == ["VAT", "FC"]
    assert _text(party, "cac:PartyLegalEntity/cbc:RegistrationName") == "Nordlicht Software GmbH"
    assert _text(party, "cac:Contact/cbc:ElectronicMail") == "billing@nordlicht.example"


def test_third_street_line_goes_to_address_line() -> None:
    address = ubl.build_address(snapshot().buyer.address.model_copy(update={"street_lines": ("a", "b", "c")}))
    assert [
        _text(address, p) for p in ("cbc:StreetName", "cbc:AdditionalStreetName", "cac:AddressLine/cbc:Line")
    ] == [
        "a",
        "b",
        "c",
    ]


def test_not_subject_invoice_leaves_out_vat_ids() -> None:
    parties = ubl.build_parties(corpus()["not_subject"])
    assert all(
        p.find(".//cac:PartyTaxScheme", NS) is None
        or _text(p, ".//cac:PartyTaxScheme/cac:TaxScheme/cbc:ID") != "VAT"
        for p in parties
    )


def test_delivery_only_when_given() -> None:
    assert ubl.build_delivery(snapshot()) == []
    delivery = ubl.build_delivery(
        snapshot(delivery=Delivery(date=snapshot().issue_date, address=foreign_buyer().address))
    )
    assert _text(delivery[0], "cbc:ActualDeliveryDate") == "2024-05-02"
    assert _text(delivery[0], "cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode") == "FR"


def test_payment_means_carries_iban_bic_reference_and_terms() -> None:
    means, terms = ubl.build_payment_means(snapshot())
    assert _text(means, "cbc:PaymentMeansCode") == "58"
    assert _text(means, "cbc:PaymentID") == "RE-2024-00042"
    assert _text(means, "cac:PayeeFinancialAccount/cbc:ID") == "DE89370400440532013000"
    assert _text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "COBADEFFXXX"
    assert _text(terms, "cbc:Note") == "14 days net"


def test_document_allowance_has_reason_percent_base_and_tax_category() -> None:
    invoice = corpus()["two_rates_allowances_charges"]
    allowance, charge = ubl.build_document_allowances_charges(invoice)
    assert _text(allowance, "cbc:ChargeIndicator") == "false"
    assert _text(allowance, "cbc:MultiplierFactorNumeric") == "5"
    assert _text(allowance, "cbc:Amount") == "50.00" and _text(allowance, "cbc:BaseAmount") == "1000.00"
    assert _text(allowance, "cac:TaxCategory/cbc:Percent") == "19"
    assert (
        _text(charge, "cbc:ChargeIndicator") == "true"
        and _text(charge, "cbc:AllowanceChargeReasonCode") == "FC"
    )


def test_tax_total_has_one_subtotal_per_group_with_exemption_reasons() -> None:
    (total,) = ubl.build_tax_total(corpus()["reverse_charge"])
    (subtotal,) = total.findall("cac:TaxSubtotal", NS)
    assert _text(subtotal, "cac:TaxCategory/cbc:ID") == "AE"
    assert _text(subtotal, "cac:TaxCategory/cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert _text(total, "cbc:TaxAmount") == "0.00"
    (two_rates,) = ubl.build_tax_total(snapshot())
    assert len(two_rates.findall("cac:TaxSubtotal", NS)) == 2


def test_monetary_total_writes_prepaid_and_amounts_in_currency_minor_units() -> None:
    (total,) = ubl.build_monetary_total(corpus()["prepaid"])
    assert _text(total, "cbc:PrepaidAmount") == "500.00"
    (yen,) = ubl.build_monetary_total(corpus()["jpy"])
    assert _text(yen, "cbc:PayableAmount") == "46745"


def test_line_has_quantity_unit_net_amount_item_and_price() -> None:
    invoice = snapshot()
    element = ubl.build_line(invoice.lines[0], "EUR")
    quantity = element.find("cbc:InvoicedQuantity", NS)
    assert (quantity.text, quantity.get("unitCode")) == ("10", "HUR")
    assert _text(element, "cbc:LineExtensionAmount") == "1200.00"
    assert _text(element, "cac:Item/cac:SellersItemIdentification/cbc:ID") == "SKU-001"
    assert _text(element, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == "19"
    assert _text(element, "cac:Price/cbc:PriceAmount") == "120"


def test_tax_inclusive_line_is_written_with_net_price() -> None:
    invoice = corpus()["tax_inclusive"]
    first = invoice.lines[0]
    element = ubl.build_line(first, "EUR")
    price = Decimal(_text(element, "cac:Price/cbc:PriceAmount"))
    allowance = Decimal(_text(element, "cac:AllowanceCharge/cbc:Amount"))
    # Peppol's R120 slack: quantity x net price - allowances matches the net line amount.
    assert abs(first.quantity * price - allowance - first.net_amount) < Decimal("0.01")
    assert first.gross_amount == Decimal("34.51")


def test_render_ubl_is_deterministic_utf8_with_declaration() -> None:
    invoice = snapshot(status=DocumentStatus.FINAL)
    first, second = ubl.render_ubl(invoice), ubl.render_ubl(invoice)
    assert first == second
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice ')
    assert "Brandt & Söhne".encode() not in first and "Brandt &amp; Söhne".encode() in first
