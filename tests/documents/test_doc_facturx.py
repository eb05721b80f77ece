"""Factur-X: the PDF/A-3b carries exactly the CII of the same snapshot, and is byte-stable."""

from __future__ import annotations

import io

import facturx
import pytest
from document_factories import corpus, snapshot
from pypdf import PdfReader

from faktur.documents.cii.builder import render_cii
from faktur.documents.facturx import render_facturx
from faktur.documents.snapshot import DocumentStatus
from faktur.documents.ubl.builder import render_ubl


@pytest.fixture(scope="module")
def invoice_and_pdf() -> tuple[object, bytes]:
    invoice = corpus()["two_rates_allowances_charges"]
    return invoice, render_facturx(invoice)


def test_embedded_xml_round_trips(invoice_and_pdf: tuple[object, bytes]) -> None:
    invoice, pdf = invoice_and_pdf
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == render_cii(invoice)


def test_attachment_is_an_associated_file_with_relationship(invoice_and_pdf: tuple[object, bytes]) -> None:
    root = PdfReader(io.BytesIO(invoice_and_pdf[1])).trailer["/Root"]
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Alternative"
    assert spec["/UF"] == "factur-x.xml"
    embedded = spec["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/text/xml"
    assert "/ModDate" in embedded["/Params"]


def test_xmp_declares_pdfa3_and_the_factur_x_extension(invoice_and_pdf: tuple[object, bytes]) -> None:
    root = PdfReader(io.BytesIO(invoice_and_pdf[1])).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"


def test_fonts_embedded_in_factur_x(invoice_and_pdf: tuple[object, bytes]) -> None:
    for page in PdfReader(io.BytesIO(invoice_and_pdf[1])).pages:
        for font in page["/Resources"]["/Font"].values():
            assert "/FontFile2" in font.get_object()["/FontDescriptor"].get_object()


def test_factur_x_level_is_en16931(invoice_and_pdf: tuple[object, bytes]) -> None:
    from lxml import etree

    _, xml = facturx.get_xml_from_pdf(invoice_and_pdf[1], check_xsd=False)
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"


def test_every_format_is_byte_stable(invoice_and_pdf: tuple[object, bytes]) -> None:
    invoice, pdf = invoice_and_pdf
    again = corpus()["two_rates_allowances_charges"]
    assert render_facturx(again) == pdf
    assert render_ubl(again) == render_ubl(invoice)
    assert render_cii(again) == render_cii(invoice)


def test_draft_is_refused() -> None:
    with pytest.raises(ValueError, match="finalize"):
        render_facturx(snapshot(status=DocumentStatus.DRAFT))
