"""The PDF's legal content (§14 UStG, §35a HGB) and a layout that never fails or overlaps on valid data:
service period and delivery date labelled, deliver-to address, register entry and managing directors in
the footer, VAT table columns wide enough for their headers, cells that wrap and lines that split
across pages, and large drafts laid out once per change."""

from __future__ import annotations

import datetime as dt
import io
import time
from decimal import Decimal

import pytest
from document_api import BUYER_DETAILS, complete_seller
from document_factories import line, seller, snapshot
from fastapi.testclient import TestClient
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from conftest import Tenant
from factories import create_customer, create_invoice
from faktur.calc import TaxCategory, TaxSpec
from faktur.documents.draft_cache import DraftPdfCache
from faktur.documents.pdf.labels import CATEGORY_LABELS, LABELS
from faktur.documents.pdf.render import (
    CELL_PADDING,
    CONTENT_WIDTH,
    FONT,
    FONT_BOLD,
    FOOTER_SIZE,
    SUMMARY_WIDTH,
    Formatter,
    footer_layout,
    line_columns,
    min_width,
    plain_width,
    register_fonts,
    render_pdf,
    tax_columns,
)
from faktur.documents.snapshot import Address, DocumentStatus

SERVICE = {
    "period_start": "2026-02-01",
    "period_end": "2026-03-01",
    "delivery_date": "2026-02-27",
    "deliver_to": {
        "name": "Kunde AG, Lager Nord",
        "address_line1": "Lagerweg 3",
        "city": "Hamburg",
        "postal_code": "20095",
        "country": "DE",
    },
}
REGISTER = {
    "register_court": "Amtsgericht Charlottenburg",
    "register_number": "HRB 123456 B",
    "managing_directors": "Jana Vogel, Tom Berger",
    "sepa_creditor_id": "DE98ZZZ09999999999",
}
DIRECT_DEBIT = {
    "method": "sepa_direct_debit",
    "mandate_reference": "MANDATE-2026-001",
    "debited_iban": "DE02120300000000202051",
}


@pytest.fixture(autouse=True)
def _fonts() -> None:
    """The layout helpers measure with faktur's font, which render_pdf registers before it lays out a
    page; tests that call them first (a fresh xdist worker) register it the same way."""
    register_fonts()


def _text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\u00a0", " ")


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def seller_with_register(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(client, tenant.headers, **REGISTER)
    return tenant


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "de",
            [
                "Leistungszeitraum 01.02.2026 – 28.02.2026",
                "Leistungsdatum 27.02.2026",
                "LIEFERANSCHRIFT",
                "Kunde AG, Lager Nord",
                "Registergericht: Amtsgericht Charlottenburg, HRB 123456 B",
                "Geschäftsführung: Jana Vogel, Tom Berger",
                "SEPA-Lastschrift",
                "DE02 XXXX XXXX XXXX XX20 51",
                "Mandatsreferenz MANDATE-2026-001",
                "Gläubiger-ID DE98ZZZ09999999999",
            ],
        ),
        (
            "fr",
            [
                "Période de prestation 1 févr. 2026 – 28 févr. 2026",
                "Date de livraison 27 févr. 2026",
                "ADRESSE DE LIVRAISON",
                "Immatriculation: Amtsgericht Charlottenburg, HRB 123456 B",
                "Dirigeants: Jana Vogel, Tom Berger",
                "prélèvement SEPA",
            ],
        ),
        ("en", ["Service period", "Delivery date", "DELIVER TO", "Managing directors: Jana Vogel"]),
    ],
)
def test_pdf_labels_service_period_delivery_deliver_to_and_register(
    client: TestClient, seller_with_register: Tenant, locale: str, expected: list[str]
) -> None:
    headers = seller_with_register.headers
    customer = create_customer(client, headers, **BUYER_DETAILS, locale=locale, payment_means=DIRECT_DEBIT)
    invoice = create_invoice(client, headers, customer["id"], finalize=True, **SERVICE)
    response = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers)
    assert response.status_code == 200, response.text
    text = " ".join(_text(response.content).split())
    for fragment in expected:
        assert fragment in text, fragment
    # The register number is printed once, in the register entry, not again as a bare registration.
    assert text.count("HRB 123456 B") == 1


def test_the_longest_legal_line_renders_its_pdf_across_pages(
    client: TestClient, seller_with_register: Tenant
) -> None:
    headers = seller_with_register.headers
    customer = create_customer(client, headers, **BUYER_DETAILS)
    reasons = [f"{'Rabattgrund ' * 24}Ende{index:02d}"[-300:] for index in range(20)]
    longest = {
        "description": ("Langbeschreibung " * 60)[:996] + "FINE",
        "sku": "S" * 100,
        "quantity": "1",
        "unit_price": "1000.00",
        "tax": {"category": "S", "percent": "19"},
        "allowances": [{"amount": "0.01", "reason": reason} for reason in reasons[:10]],
        "charges": [{"amount": "0.01", "reason": reason} for reason in reasons[10:]],
    }
    invoice = create_invoice(client, headers, customer["id"], [longest], finalize=True)
    for params in ({"embed": "false"}, {"embed": "true"}):
        response = client.get(f"/v1/invoices/{invoice['id']}/pdf", params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert _pages(response.content) >= 2
        text = _text(response.content).replace("\n", " ")
        assert "FINE" in text and "Ende19" in text


def test_vat_table_columns_fit_their_headers_and_values_in_every_language() -> None:
    for language in LABELS:
        fmt = Formatter(language, "EUR")
        header = [fmt["category"], fmt["rate"], fmt["taxable"], fmt["vat"]]
        for base in (Decimal("99.80"), Decimal("1235647.89"), Decimal("987654321.00")):
            rows = [
                [fmt.categories[category], fmt.percent(Decimal(19)), fmt.money(base), fmt.money(base / 5)]
                for category in CATEGORY_LABELS[language]
            ]
            widths = tax_columns(header, rows)
            assert sum(widths) == pytest.approx(SUMMARY_WIDTH)
            for column in (1, 2, 3):
                assert widths[column] >= min_width(header[column], FONT_BOLD, 7.5) + CELL_PADDING
                assert (
                    widths[column] >= max(plain_width(row[column], FONT, 7.5) for row in rows) + CELL_PADDING
                )
            assert widths[0] >= max(min_width(row[0], FONT, 7.5) for row in rows)
        # With ordinary amounts nothing is broken: "Bemessungsgrundlage" keeps its one line.
        small = [
            [fmt.categories[TaxCategory.S], "19 %", fmt.money(Decimal("99.80")), fmt.money(Decimal("18.96"))]
        ]
        widths = tax_columns(header, small)
        assert widths[2] >= plain_width(header[2], FONT_BOLD, 7.5) + CELL_PADDING


def test_line_columns_widen_for_large_amounts_and_keep_the_description_readable() -> None:
    fmt = Formatter("de", "EUR")
    big = fmt.money(Decimal("123456789012.34"))
    widths = line_columns([["1", "1 Stk", fmt.price(Decimal("9.90")), "19 %", big]])
    assert sum(widths) == pytest.approx(CONTENT_WIDTH)
    assert widths[5] >= plain_width(big) + CELL_PADDING
    assert widths[1] >= 50 * 72 / 25.4
    # Past what the page can give, the usual widths, and the cells wrap.
    assert line_columns([["1", "1 Stk", big, "19 %", big]])[5] < plain_width(big)


def test_footer_wraps_to_the_page_width_and_the_body_makes_room() -> None:
    long_seller = seller(
        legal_name="Nordlicht Software und Beratung für Elektronische Rechnungen "
        "Gesellschaft mit beschränkter Haftung",
        address=Address(
            street_lines=("Friedrichstraße 68, Hinterhaus, Aufgang C, 4. Obergeschoss links",),
            city="Berlin-Charlottenburg-Wilmersdorf",
            postal_code="10117",
            country_code="DE",
        ),
        register_court="Amtsgericht Charlottenburg (Berlin)",
        register_number="HRB 123456 B",
        managing_directors="Jana Vogel, Tom Berger, Ida Schmidt, Ole Brandt, Paula Meyer, Karl Weber",
    )
    invoice = snapshot(seller=long_seller, locale="de")
    from faktur.documents.pdf.render import footer_lines

    lines = footer_layout(footer_lines(invoice, Formatter("de", "EUR")))
    assert len(lines) > 3
    assert all(stringWidth(text, FONT, FOOTER_SIZE) <= CONTENT_WIDTH for text in lines)
    text = _text(render_pdf(invoice))
    assert "Paula Meyer, Karl Weber" in text.replace("\n", " ")


def test_large_numbers_wrap_inside_their_cells_instead_of_failing() -> None:
    huge = snapshot([line("999999999", "999999.99", TaxSpec(TaxCategory.S, Decimal("19")))], locale="fr")
    pdf = render_pdf(huge)
    assert _pages(pdf) == 1


def test_draft_pdfs_are_rendered_once_per_change() -> None:
    calls = []

    def render(invoice: object) -> bytes:
        calls.append(invoice)
        return b"%PDF " + str(len(calls)).encode()

    cache = DraftPdfCache(budget_bytes=64)
    draft = snapshot(status=DocumentStatus.DRAFT)
    first = cache.get_or_render(draft, render)
    assert cache.get_or_render(snapshot(status=DocumentStatus.DRAFT), render) == first
    assert len(calls) == 1
    edited = snapshot(status=DocumentStatus.DRAFT, notes=("Thanks",))
    assert cache.get_or_render(edited, render) != first
    next_day = snapshot(status=DocumentStatus.DRAFT, issue_date=dt.date(2024, 5, 3))
    cache.get_or_render(next_day, render)
    assert len(calls) == 3
    for index in range(20):  # the byte budget drops the least recently used
        cache.get_or_render(snapshot(status=DocumentStatus.DRAFT, notes=(str(index),)), render)
    assert sum(len(value) for value in cache._entries.values()) <= 64


def test_a_large_draft_pdf_is_served_from_the_cache_until_it_changes(
    client: TestClient, seller_with_register: Tenant
) -> None:
    headers = seller_with_register.headers
    customer = create_customer(client, headers, **BUYER_DETAILS)
    lines = [
        {
            "description": f"Seat {index}",
            "quantity": "1",
            "unit_price": "9.90",
            "tax": {"category": "S", "percent": "19"},
        }
        for index in range(300)
    ]
    draft = create_invoice(client, headers, customer["id"], lines)
    url = f"/v1/invoices/{draft['id']}/pdf"
    first = client.get(url, headers=headers)
    started = time.perf_counter()
    again = client.get(url, headers=headers)
    cached_seconds = time.perf_counter() - started
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["Cache-Control"] == "no-store"
    assert cached_seconds >= 0  # timing is measured in bench/, not asserted here
    assert (
        client.patch(
            f"/v1/invoices/{draft['id']}", json={"memo": "Bitte prüfen"}, headers=headers
        ).status_code
        == 200
    )
    changed = client.get(url, headers=headers)
    assert changed.content != first.content and "Bitte prüfen" in _text(changed.content)
