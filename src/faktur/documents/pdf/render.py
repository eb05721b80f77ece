"""The invoice PDF: reportlab platypus layout, labels in the buyer's language, PDF/A-3b, byte-stable.

Layout, top to bottom: seller and title, buyer and invoice facts, the line table (it breaks across pages
and repeats its header), VAT breakdown beside the totals, payment instructions, notes; every page has a
legal footer and "page x of y". Only the embedded Bitstream Vera fonts shipped with reportlab are used
(PDF/A forbids the non-embedded standard 14 fonts), and reportlab runs in invariant mode with dates taken
from the invoice, so one snapshot always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pycountry
import reportlab
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from reportlab.lib.colors import Color, white
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from faktur.documents import codes
from faktur.documents.pdf.labels import CATEGORY_LABELS, LABELS, language_of
from faktur.documents.pdf.pdfa import AssociatedFile, FacturXInfo, PdfMetadata, make_pdfa
from faktur.documents.snapshot import (
    Address,
    InvoiceLineSnapshot,
    InvoiceSnapshot,
    LineAdjustment,
    TaxCategoryCode,
)
from faktur.documents.xmlutil import decimal_text

FONT = "FakturSans"
FONT_BOLD = "FakturSans-Bold"
PRODUCER = "faktur"

ACCENT = Color(0.11, 0.23, 0.38)
MUTED = Color(0.40, 0.43, 0.48)
RULE = Color(0.80, 0.82, 0.85)
SHADE = Color(0.94, 0.95, 0.97)
WATERMARK = Color(0.90, 0.90, 0.90)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 30 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

# Babel uses narrow and thin no-break spaces (fr "1 234,56 €") that Vera has no glyph for.
_SPACES = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0"})
_STANDARD_LIKE = {
    TaxCategoryCode.STANDARD,
    TaxCategoryCode.ZERO,
    TaxCategoryCode.CANARY_ISLANDS,
    TaxCategoryCode.CEUTA_MELILLA,
}


@cache
def register_fonts() -> None:
    """Register reportlab's bundled Bitstream Vera (freely redistributable) once per process."""
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _table_style(commands: list[Any]) -> TableStyle:
    """A table style that starts with our font: reportlab sets each cell's font (Helvetica by default)
    even for cells that only hold paragraphs, and PDF/A allows no font that is not embedded."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands])


def _style(name: str, size: float = 8.5, **kwargs: Any) -> ParagraphStyle:  # float-ok: points, not money
    kwargs.setdefault("fontName", FONT)
    kwargs.setdefault("leading", size * 1.3)
    return ParagraphStyle(name, fontSize=size, **kwargs)


STYLES = {
    "body": _style("body"),
    "small": _style("small", 7.5, textColor=MUTED),
    "small_right": _style("small_right", 7.5, textColor=MUTED, alignment=TA_RIGHT),
    "seller": _style("seller", 15, fontName=FONT_BOLD, textColor=ACCENT, leading=18),
    "title": _style("title", 20, fontName=FONT_BOLD, textColor=ACCENT, alignment=TA_RIGHT, leading=24),
    "label": _style("label", 7.5, fontName=FONT_BOLD, textColor=MUTED),
    "label_right": _style("label_right", 7.5, fontName=FONT_BOLD, textColor=MUTED, alignment=TA_RIGHT),
    "heading": _style("heading", 9.5, fontName=FONT_BOLD, textColor=ACCENT, spaceAfter=2),
    "cell": _style("cell", 8.5, leading=10.5),
}


class Formatter:
    """Numbers, money and dates in the buyer's locale (Babel), with labels in the buyer's language."""

    def __init__(self, locale: str, currency: str) -> None:
        self.locale = locale.replace("-", "_")
        self.currency = currency
        self.labels = LABELS[language_of(locale)]
        self.categories = CATEGORY_LABELS[language_of(locale)]

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def money(self, value: Decimal) -> str:
        return format_currency(value, self.currency, locale=self.locale).translate(_SPACES)

    def price(self, value: Decimal) -> str:
        """A unit price keeps its extra decimals (0.0125 €/unit) but shows at least the currency's."""
        plain = Decimal(decimal_text(value))
        return format_currency(
            plain, self.currency, locale=self.locale, decimal_quantization=False
        ).translate(_SPACES)

    def number(self, value: Decimal) -> str:
        return format_decimal(
            Decimal(decimal_text(value)), locale=self.locale, decimal_quantization=False
        ).translate(_SPACES)

    def percent(self, value: Decimal | None) -> str:
        rate = (value or Decimal(0)) / 100
        return format_percent(rate, locale=self.locale, decimal_quantization=False).translate(_SPACES)

    def date(self, value: dt.date) -> str:
        return format_date(value, format="medium", locale=self.locale).translate(_SPACES)


def _text(value: str) -> str:
    return escape(value).translate(_SPACES)


def _address_lines(address: Address, locale: str) -> list[str]:
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    return [*address.street_lines, city, country_name(address.country_code, locale)]


@cache
def country_name(code: str, locale: str) -> str:
    """The country in the reader's language (Babel/CLDR), falling back to ISO 3166 (pycountry)."""
    try:
        name = Locale.parse(locale).territories.get(code)
    except (ValueError, UnknownLocaleError):
        name = None
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


# --- blocks --------------------------------------------------------------------------------------


def _title(snapshot: InvoiceSnapshot, fmt: Formatter) -> str:
    if snapshot.is_draft:
        return fmt["draft_credit_note" if snapshot.is_credit_note else "draft_invoice"]
    return fmt["credit_note" if snapshot.is_credit_note else "invoice"]


def header_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    seller = snapshot.seller
    seller_lines = [
        _text(seller.legal_name) if seller.trading_name else "",
        *map(_text, _address_lines(seller.address, fmt.locale)),
    ]
    left = [
        Paragraph(_text(seller.trading_name or seller.legal_name), STYLES["seller"]),
        Paragraph("<br/>".join(line for line in seller_lines if line), STYLES["small"]),
    ]
    right = [Paragraph(_text(_title(snapshot, fmt)), STYLES["title"])]
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.55, CONTENT_WIDTH * 0.45])
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def meta_rows(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[tuple[str, str]]:
    """Label/value pairs of the invoice facts box (number, dates, references)."""
    rows = []
    if snapshot.number:
        rows.append((fmt["credit_note_number" if snapshot.is_credit_note else "number"], snapshot.number))
    rows.append((fmt["issue_date"], fmt.date(snapshot.issue_date)))
    if snapshot.due_date:
        rows.append((fmt["due_date"], fmt.date(snapshot.due_date)))
    if snapshot.period_start and snapshot.period_end:
        rows.append((fmt["period"], f"{fmt.date(snapshot.period_start)} – {fmt.date(snapshot.period_end)}"))
    if snapshot.delivery and snapshot.delivery.date:
        rows.append((fmt["delivery_date"], fmt.date(snapshot.delivery.date)))
    if snapshot.buyer_reference:
        rows.append((fmt["buyer_reference"], snapshot.buyer_reference))
    if snapshot.order_reference:
        rows.append((fmt["order_reference"], snapshot.order_reference))
    if snapshot.preceding_invoice:
        preceding = snapshot.preceding_invoice
        when = f" ({fmt.date(preceding.issue_date)})" if preceding.issue_date else ""
        rows.append((fmt["preceding_invoice"], preceding.number + when))
    return rows


def parties_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    buyer = snapshot.buyer
    buyer_lines = [f"<b>{_text(buyer.legal_name)}</b>"]
    if buyer.contact_name:
        buyer_lines.append(_text(buyer.contact_name))
    buyer_lines += [_text(line) for line in _address_lines(buyer.address, fmt.locale)]
    if buyer.vat_id:
        buyer_lines.append(f"{fmt['vat_id']} {_text(buyer.vat_id)}")
    left = [
        Paragraph(fmt["bill_to"].upper(), STYLES["label"]),
        Spacer(0, 2),
        Paragraph("<br/>".join(buyer_lines), STYLES["body"]),
    ]
    # Plain strings, not Paragraphs: these cells never wrap, and paragraph parsing dominates layout time.
    meta = Table([list(row) for row in meta_rows(snapshot, fmt)], colWidths=[32 * mm, 46 * mm])
    meta.setStyle(
        _table_style(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("FONTSIZE", (0, 0), (0, -1), 7.5),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    table = Table([[left, meta]], colWidths=[CONTENT_WIDTH - 78 * mm, 78 * mm])
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _adjustment_text(adjustment: LineAdjustment, fmt: Formatter) -> str:
    reason = adjustment.reason or adjustment.reason_code or ""
    if adjustment.percent is not None:
        reason = f"{reason} {fmt.percent(adjustment.percent)}".strip()
    sign = "+" if adjustment.is_charge else "−"
    # On a tax-inclusive invoice the reader compares with gross prices, so show the gross amount.
    amount = adjustment.gross_amount if adjustment.gross_amount is not None else adjustment.amount
    return f"{_text(reason)}: {sign}{fmt.money(amount)}"


def _line_description(line: InvoiceLineSnapshot, fmt: Formatter) -> Paragraph:
    parts = [f"<b>{_text(line.name)}</b>"]
    details = []
    if line.description:
        details.append(_text(line.description))
    if line.sku:
        details.append(f"{fmt['sku']} {_text(line.sku)}")
    if line.period_start and line.period_end:
        details.append(f"{fmt.date(line.period_start)} – {fmt.date(line.period_end)}")
    details += [_adjustment_text(adjustment, fmt) for adjustment in line.adjustments]
    if details:
        parts.append(f'<font size="7.5" color="#666d7a">{"<br/>".join(details)}</font>')
    return Paragraph("<br/>".join(parts), STYLES["cell"])


LINE_COLUMNS = (12 * mm, 68 * mm, 22 * mm, 28 * mm, 13 * mm, 27 * mm)


def lines_table(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    """The line table; a LongTable with repeatRows=1 so the header repeats on every page."""
    gross = snapshot.prices_include_tax
    header = [
        fmt["pos"],
        fmt["description"],
        fmt["quantity"],
        fmt["unit_price_gross" if gross else "unit_price"],
        fmt["vat"],
        fmt["amount_gross" if gross else "amount"],
    ]
    rows: list[list[Any]] = [header]
    for line in snapshot.lines:
        unit = codes.UNIT_LABELS.get(line.unit_code, line.unit_code)
        quantity = f"{fmt.number(line.quantity)} {unit}".strip()
        unit_price = line.gross_unit_price if gross and line.gross_unit_price is not None else line.unit_price
        amount = line.gross_amount if gross and line.gross_amount is not None else line.net_amount
        rate = fmt.percent(line.tax.percent) if line.tax.category != TaxCategoryCode.NOT_SUBJECT else "–"
        rows.append(
            [line.id, _line_description(line, fmt), quantity, fmt.price(unit_price), rate, fmt.money(amount)]
        )
    table = LongTable(rows, colWidths=LINE_COLUMNS, repeatRows=1)
    table.setStyle(
        _table_style(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, 0), 7.5),
                ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, ACCENT),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _tax_label(
    group_category: TaxCategoryCode, percent: Decimal | None, base: Decimal, fmt: Formatter
) -> str:
    if group_category in _STANDARD_LIKE:
        return fmt["vat_of"].format(rate=fmt.percent(percent), base=fmt.money(base))
    return f"{fmt['vat']} ({fmt.categories[group_category]})"


def totals_rows(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[tuple[str, str, str]]:
    """(label, amount, style) rows of the totals box; style is "", "strong" or "due"."""
    totals = snapshot.totals
    rows: list[tuple[str, str, str]] = []
    if snapshot.adjustments:
        rows.append((fmt["line_total"], fmt.money(totals.line_net_total), ""))
        for adjustment in snapshot.adjustments:
            sign = "" if adjustment.is_charge else "−"
            label = adjustment.reason or adjustment.reason_code or ""
            if adjustment.percent is not None:
                label = f"{label} {fmt.percent(adjustment.percent)}"
            rows.append((label, f"{sign}{fmt.money(adjustment.amount)}", ""))
    rows.append((fmt["net_total"], fmt.money(totals.tax_exclusive_total), ""))
    for group in snapshot.tax_breakdown:
        rows.append(
            (
                _tax_label(group.category, group.percent, group.taxable_amount, fmt),
                fmt.money(group.tax_amount),
                "",
            )
        )
    rows.append((fmt["total"], fmt.money(totals.tax_inclusive_total), "strong"))
    if totals.paid_amount:
        rows.append((fmt["paid"], f"−{fmt.money(totals.paid_amount)}", ""))
    if totals.rounding_amount:
        rows.append((fmt["rounding"], fmt.money(totals.rounding_amount), ""))
    due_label = fmt["amount_credited" if snapshot.is_credit_note else "amount_due"]
    rows.append((due_label, fmt.money(totals.amount_due), "due"))
    return rows


def _short_or_wrapped(text: str, style: ParagraphStyle, limit: int) -> str | Paragraph:
    """A plain string when it surely fits its cell (fast), a wrapping Paragraph when it may not."""
    return text if len(text) <= limit else Paragraph(_text(text), style)


def summary_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    """VAT breakdown (left) beside the totals (right), kept together on one page."""
    tax_rows: list[list[Any]] = [[fmt["category"], fmt["rate"], fmt["taxable"], fmt["vat"]]]
    reasons = []
    for group in snapshot.tax_breakdown:
        rate = fmt.percent(group.percent) if group.category != TaxCategoryCode.NOT_SUBJECT else "–"
        category = _short_or_wrapped(fmt.categories[group.category], STYLES["small"], 18)
        tax_rows.append([category, rate, fmt.money(group.taxable_amount), fmt.money(group.tax_amount)])
        if group.exemption_reason:
            reasons.append(f"{_text(fmt.categories[group.category])}: {_text(group.exemption_reason)}")
    tax_table = Table(tax_rows, colWidths=[28 * mm, 12 * mm, 31 * mm, 23 * mm])
    tax_table.setStyle(
        _table_style(
            [
                ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    left: list[Flowable] = [Paragraph(_text(fmt["tax_breakdown"]), STYLES["heading"]), tax_table]
    if reasons:
        left += [Spacer(0, 4), Paragraph("<br/>".join(reasons), STYLES["small"])]
    if snapshot.prices_include_tax:
        left += [Spacer(0, 4), Paragraph(_text(fmt["prices_include_tax"]), STYLES["small"])]

    rows = totals_rows(snapshot, fmt)
    data: list[list[Any]] = [
        [_short_or_wrapped(label, STYLES["cell"], 30), amount] for label, amount, _ in rows
    ]
    style: list[Any] = [
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
    ]
    for index, (_, _, kind) in enumerate(rows):
        if kind == "strong":
            style += [
                ("FONTNAME", (0, index), (-1, index), FONT_BOLD),
                ("LINEABOVE", (0, index), (-1, index), 0.6, ACCENT),
            ]
        elif kind == "due":
            style += [
                ("FONTNAME", (0, index), (-1, index), FONT_BOLD),
                ("FONTSIZE", (0, index), (-1, index), 10.5),
                ("TEXTCOLOR", (0, index), (-1, index), white),
                ("BACKGROUND", (0, index), (-1, index), ACCENT),
                ("TOPPADDING", (0, index), (-1, index), 6),
                ("BOTTOMPADDING", (0, index), (-1, index), 7),
                ("RIGHTPADDING", (-1, index), (-1, index), 5),
            ]
    totals_table = Table(data, colWidths=[46 * mm, 30 * mm])
    totals_table.setStyle(_table_style(style))
    outer = Table([[left, totals_table]], colWidths=[CONTENT_WIDTH - 76 * mm, 76 * mm])
    outer.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return outer


def payment_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[Flowable]:
    seller, totals = snapshot.seller, snapshot.totals
    flowables: list[Flowable] = [Paragraph(_text(fmt["payment"]), STYLES["heading"])]
    amount = fmt.money(totals.amount_due)
    if snapshot.is_credit_note:
        flowables.append(Paragraph(_text(fmt["credited"].format(amount=amount)), STYLES["body"]))
    elif totals.amount_due <= 0:
        flowables.append(Paragraph(_text(fmt["nothing_due"]), STYLES["body"]))
    else:
        text = (
            fmt["pay_by"].format(amount=amount, date=fmt.date(snapshot.due_date))
            if snapshot.due_date
            else fmt["pay_now"].format(amount=amount)
        )
        flowables.append(Paragraph(_text(text), STYLES["body"]))
        rows = [(fmt["account_holder"], seller.legal_name)]
        if seller.iban:
            rows.append(
                (fmt["iban"], " ".join(seller.iban[i : i + 4] for i in range(0, len(seller.iban), 4)))
            )
        if seller.bic:
            rows.append((fmt["bic"], seller.bic))
        if snapshot.effective_payment_reference:
            rows.append((fmt["payment_reference"], snapshot.effective_payment_reference))
        account = Table([list(row) for row in rows], colWidths=[32 * mm, 90 * mm], hAlign="LEFT")
        account.setStyle(
            _table_style(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                    ("FONTSIZE", (0, 0), (0, -1), 7.5),
                    ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        flowables += [Spacer(0, 3), account]
    if snapshot.payment_terms:
        flowables += [
            Spacer(0, 3),
            Paragraph(
                f"<b>{_text(fmt['payment_terms'])}:</b> {_text(snapshot.payment_terms)}", STYLES["body"]
            ),
        ]
    return [KeepTogether(flowables)]


def notes_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[Flowable]:
    if not snapshot.notes:
        return []
    return [
        Spacer(0, 6),
        Paragraph(_text(fmt["notes"]), STYLES["heading"]),
        *[Paragraph(_text(note), STYLES["body"]) for note in snapshot.notes],
    ]


def footer_lines(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[str]:
    """The legal footer: who issued the invoice, where, and under which tax and company ids."""
    seller = snapshot.seller
    address = ", ".join(line for line in _address_lines(seller.address, fmt.locale) if line)
    first = " · ".join([seller.legal_name, address])
    ids = []
    if seller.vat_id:
        ids.append(f"{fmt['vat_id']} {seller.vat_id}")
    if seller.tax_registration_id:
        ids.append(f"{fmt['tax_id']} {seller.tax_registration_id}")
    if seller.legal_registration_id:
        ids.append(f"{fmt['registration']} {seller.legal_registration_id}")
    ids += [value for value in (seller.contact_email, seller.contact_phone) if value]
    return [first, " · ".join(ids)]


# --- pages ---------------------------------------------------------------------------------------


class _InvoiceCanvas(Canvas):
    """Defers each page until the page count is known, for "page x of y"; then finishes the PDF/A."""

    def __init__(
        self, *args: Any, page_label: str, finish: Callable[[Canvas], None], seed: bytes, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # The file /ID derives from the invoice, not from reportlab's clock or SOURCE_DATE_EPOCH.
        self._doc.signature = hashlib.md5(seed, usedforsecurity=False)
        self._page_label = page_label
        self._finish = finish
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            # On the footer's first line, which is short; the second line (tax ids) may fill the width.
            label = self._page_label.format(page=number, pages=total)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, 18 * mm, label)
            super().showPage()
        self._finish(self)
        super().save()


def _decorate_page(
    canvas: Canvas, doc: BaseDocTemplate, *, snapshot: InvoiceSnapshot, fmt: Formatter, first: bool
) -> None:
    canvas.saveState()
    if snapshot.is_draft:
        # Drawn before the page content, in a light tint, so it never hides what it marks.
        canvas.setFillColor(WATERMARK)
        canvas.setFont(FONT_BOLD, 110)
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(45)
        canvas.drawCentredString(0, -35, fmt["draft"])
        canvas.rotate(-45)
        canvas.translate(-PAGE_WIDTH / 2, -PAGE_HEIGHT / 2)
    if not first:
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        heading = " · ".join(
            filter(
                None,
                [
                    _title(snapshot, fmt),
                    snapshot.number,
                    snapshot.seller.trading_name or snapshot.seller.legal_name,
                ],
            )
        )
        canvas.drawString(MARGIN_X, PAGE_HEIGHT - 12 * mm, heading)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN_X, 22 * mm, PAGE_WIDTH - MARGIN_X, 22 * mm)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(MUTED)
    for offset, text in enumerate(footer_lines(snapshot, fmt)):
        canvas.drawString(MARGIN_X, 18 * mm - offset * 9, text)
    canvas.restoreState()


def _metadata(snapshot: InvoiceSnapshot, fmt: Formatter) -> PdfMetadata:
    title = " ".join(filter(None, [_title(snapshot, fmt), snapshot.number]))
    created = dt.datetime.combine(snapshot.issue_date, dt.time(0, 0))
    return PdfMetadata(
        title=title,
        author=snapshot.seller.legal_name,
        subject=f"{title} · {snapshot.seller.legal_name} → {snapshot.buyer.legal_name}",
        keywords=fmt["invoice"],
        creator=PRODUCER,
        producer=PRODUCER,
        created=created,
        lang=snapshot.locale.replace("_", "-"),
    )


def build_pdf(
    snapshot: InvoiceSnapshot,
    files: tuple[AssociatedFile, ...] = (),
    facturx: FacturXInfo | None = None,
) -> bytes:
    """Lay out and write the PDF/A-3b for `snapshot`, embedding `files` as associated files."""
    register_fonts()
    fmt = Formatter(snapshot.locale, snapshot.currency)
    metadata = _metadata(snapshot, fmt)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        invariant=1,
        initialFontName=FONT,
        title=metadata.title,
        author=metadata.author,
        creator=PRODUCER,
        producer=PRODUCER,
        lang=metadata.lang,
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                "first",
                [frame],
                onPage=partial(_decorate_page, snapshot=snapshot, fmt=fmt, first=True),
                autoNextPageTemplate="later",
            ),
            PageTemplate(
                "later", [frame], onPage=partial(_decorate_page, snapshot=snapshot, fmt=fmt, first=False)
            ),
        ]
    )
    story: list[Flowable] = [
        header_block(snapshot, fmt),
        Spacer(0, 12 * mm),
        parties_block(snapshot, fmt),
        Spacer(0, 9 * mm),
        lines_table(snapshot, fmt),
        Spacer(0, 6 * mm),
        KeepTogether([summary_block(snapshot, fmt)]),
        Spacer(0, 7 * mm),
        *payment_block(snapshot, fmt),
        *notes_block(snapshot, fmt),
    ]
    seed = "|".join(
        [
            snapshot.number or "draft",
            snapshot.issue_date.isoformat(),
            snapshot.currency,
            str(snapshot.totals.amount_due),
            snapshot.seller.legal_name,
        ]
    ).encode()
    canvasmaker = partial(
        _InvoiceCanvas,
        page_label=fmt["page_of"],
        finish=lambda canvas: make_pdfa(canvas, metadata, files, facturx),
        seed=seed,
    )
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def render_pdf(snapshot: InvoiceSnapshot) -> bytes:
    """The invoice or credit note as a PDF/A-3b document (drafts carry a DRAFT watermark, no number)."""
    return build_pdf(snapshot)
