"""The invoice PDF: PDF/A-3b essentials, byte stability, pagination, locale and drafts."""

from __future__ import annotations

import io

import pytest
from document_factories import corpus, snapshot
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from faktur.documents.pdf.render import render_pdf
from faktur.documents.snapshot import DocumentStatus


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _text(pdf: bytes) -> str:
    # Babel puts no-break spaces between number and currency; compare with plain spaces.
    return "\n".join(page.extract_text() for page in _reader(pdf).pages).replace("\u00a0", " ")


def _fonts(reader: PdfReader) -> list[DictionaryObject]:
    fonts = []
    for page in reader.pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            fonts.append(font.get_object() if isinstance(font, IndirectObject) else font)
    return fonts


@pytest.fixture(scope="module")
def english_pdf() -> bytes:
    return render_pdf(snapshot())


def test_every_font_is_embedded(english_pdf: bytes) -> None:
    fonts = _fonts(_reader(english_pdf))
    assert fonts
    for font in fonts:
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile" in descriptor, font["/BaseFont"]
        assert "Helvetica" not in font["/BaseFont"]


def test_pdfa_output_intent_and_xmp_metadata(english_pdf: bytes) -> None:
    root = _reader(english_pdf).trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<xmp:CreateDate>2024-05-02T00:00:00+00:00</xmp:CreateDate>" in xmp


def test_info_dictionary_matches_xmp(english_pdf: bytes) -> None:
    reader = _reader(english_pdf)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    info = reader.metadata
    assert info["/CreationDate"] == "D:20240502000000+00'00'"
    assert f">{info['/Title']}<" in xmp and f">{info['/Producer']}<" in xmp


def test_same_snapshot_gives_identical_bytes(english_pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # reportlab reads it; the PDF must not care
    assert render_pdf(snapshot()) == english_pdf


def test_english_pdf_shows_the_invoice_facts(english_pdf: bytes) -> None:
    text = _text(english_pdf)
    for expected in (
        "Invoice",
        "RE-2024-00042",
        "04011000-12345-34",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
        "€1,534.79",
        "VAT ID DE811907980",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_german_pdf_has_german_labels_and_amounts() -> None:
    text = _text(render_pdf(snapshot(locale="de")))
    assert "Rechnung" in text and "Zahlbetrag" in text
    assert "1.534,79 €" in text
    assert "16.05.2024" in text


def test_french_pdf_has_french_labels() -> None:
    text = _text(render_pdf(snapshot(locale="fr_FR")))
    assert "Facture" in text and "Net à payer" in text
    assert "1 534,79 €" in text


def test_many_lines_break_across_pages_with_repeated_header_and_page_count() -> None:
    pdf = render_pdf(corpus()["many_lines"])
    reader = _reader(pdf)
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        if number < pages:
            assert "Description" in text and "Unit price" in text
    assert "Licence seat 120" in _text(pdf)


def test_draft_has_watermark_and_no_number() -> None:
    text = _text(render_pdf(snapshot(status=DocumentStatus.DRAFT)))
    assert "DRAFT" in text and "Draft invoice" in text
    assert "Invoice number" not in text


def test_tax_inclusive_pdf_shows_gross_prices() -> None:
    invoice = corpus()["tax_inclusive"]
    text = _text(render_pdf(invoice))
    assert "incl. VAT" in text and "Prices include VAT." in text
    # Gross unit price and gross line amount as the customer saw them; the XML carries the net ones.
    assert "€11.90" in text and "€34.51" in text
