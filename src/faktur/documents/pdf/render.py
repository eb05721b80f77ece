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
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal
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
from reportlab.lib.utils import simpleSplit
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
from faktur.documents.giro_code import giro_code_payload
from faktur.documents.pdf.giro_code import SIZE as GIRO_CODE_SIZE
from faktur.documents.pdf.giro_code import GiroCode
from faktur.documents.pdf.labels import CATEGORY_LABELS, LABELS, language_of
from faktur.documents.pdf.pdfa import AssociatedFile, FacturXInfo, PdfMetadata, make_pdfa
from faktur.documents.snapshot import (
    Address,
    Delivery,
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
# The legal footer: lines of 7 pt, 9 pt apart, the lowest 8 mm above the page edge; the rule above it.
FOOTER_SIZE = 7
FOOTER_LEADING = 9
FOOTER_BASE = 8 * mm
# The first footer line leaves room for "page x of y" at its right.
PAGE_LABEL_WIDTH = 30 * mm
# Table cells are padded by reportlab's default 6 pt on each side.
CELL_PADDING = 12

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
    # Break at the labels' soft hyphens (and show a hyphen there) rather than inside a word.
    kwargs.setdefault("embeddedHyphenation", 1)
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
    "cell_right": _style("cell_right", 8.5, leading=10.5, alignment=TA_RIGHT),
    "total": _style("total", 8.5, leading=10.5, fontName=FONT_BOLD),
    "total_right": _style("total_right", 8.5, leading=10.5, fontName=FONT_BOLD, alignment=TA_RIGHT),
    "due": _style("due", 10.5, leading=12.5, fontName=FONT_BOLD, textColor=white),
    "due_right": _style(
        "due_right", 10.5, leading=12.5, fontName=FONT_BOLD, textColor=white, alignment=TA_RIGHT
    ),
    "cell_small": _style("cell_small", 7.5, leading=9, textColor=MUTED),
    "cell_small_right": _style("cell_small_right", 7.5, leading=9, textColor=MUTED, alignment=TA_RIGHT),
    "head_small": _style("head_small", 7.5, leading=9, fontName=FONT_BOLD, textColor=MUTED),
    "head_small_right": _style(
        "head_small_right", 7.5, leading=9, fontName=FONT_BOLD, textColor=MUTED, alignment=TA_RIGHT
    ),
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
    if snapshot.is_credit_note:
        return fmt["full_cancellation" if snapshot.is_full_cancellation else "credit_note"]
    return fmt["invoice"]


def _title_paragraph(title: str, width: float) -> Paragraph:  # float-ok: points
    """The title in its column, the font made smaller where a word would not fit on one line
    ("Rechnungskorrektur" at 20 pt is wider than the column and would break inside the word)."""
    style = STYLES["title"]
    widest = longest_word(title, style.fontName, style.fontSize)
    if widest <= width:
        return Paragraph(_text(title), style)
    size = int(style.fontSize * width / widest * 2) / 2  # float-ok: points, down to half a point
    smaller = ParagraphStyle(f"title-{size}", parent=style, fontSize=size, leading=style.leading)
    return Paragraph(_text(title), smaller)


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
    right = [_title_paragraph(_title(snapshot, fmt), CONTENT_WIDTH * 0.45)]
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
    left: list[Flowable] = [
        Paragraph(fmt["bill_to"].upper(), STYLES["label"]),
        Spacer(0, 2),
        Paragraph("<br/>".join(buyer_lines), STYLES["body"]),
    ]
    if snapshot.delivery and (snapshot.delivery.name or snapshot.delivery.address):
        left += deliver_to_block(snapshot.delivery, fmt)
    meta = _facts_table(meta_rows(snapshot, fmt), value_width=46 * mm, h_align="CENTER")
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


def deliver_to_block(delivery: Delivery, fmt: Formatter) -> list[Flowable]:
    """BG-13: where the goods or services went, when that is not the buyer's address."""
    lines = [f"<b>{_text(delivery.name)}</b>"] if delivery.name else []
    if delivery.address:
        lines += [_text(line) for line in _address_lines(delivery.address, fmt.locale) if line]
    return [
        Spacer(0, 6),
        Paragraph(_text(fmt["deliver_to"]).upper(), STYLES["label"]),
        Spacer(0, 2),
        Paragraph("<br/>".join(lines), STYLES["body"]),
    ]


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
MIN_DESCRIPTION_WIDTH = 50 * mm


def line_columns(rows: list[list[str]]) -> list[float]:
    """The line table's widths: position and numbers at least their usual width and as wide as
    their widest value, so large amounts stay on one line; the description takes the rest, down
    to 50 mm. Past that (amounts of 10^12 and more) the usual widths, and the numbers wrap."""
    widths = list(LINE_COLUMNS)
    for index, column in ((0, 0), (2, 1), (3, 2), (4, 3), (5, 4)):
        widest = max((plain_width(row[column]) for row in rows), default=0) + CELL_PADDING
        widths[index] = max(widths[index], widest)
    widths[1] = CONTENT_WIDTH - sum(widths) + widths[1]
    return widths if widths[1] >= MIN_DESCRIPTION_WIDTH else list(LINE_COLUMNS)


def lines_table(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    """The line table; a LongTable with repeatRows=1 so the header repeats on every page."""
    gross = snapshot.prices_include_tax
    titles = [
        fmt["pos"],
        fmt["description"],
        fmt["quantity"],
        fmt["unit_price_gross" if gross else "unit_price"],
        fmt["vat"],
        fmt["amount_gross" if gross else "amount"],
    ]
    right = STYLES["cell_right"]
    texts = []
    for line in snapshot.lines:
        unit = codes.UNIT_LABELS.get(line.unit_code, line.unit_code)
        quantity = f"{fmt.number(line.quantity)} {unit}".strip()
        unit_price = line.gross_unit_price if gross and line.gross_unit_price is not None else line.unit_price
        amount = line.gross_amount if gross and line.gross_amount is not None else line.net_amount
        rate = fmt.percent(line.tax.percent) if line.tax.category != TaxCategoryCode.NOT_SUBJECT else "–"
        texts.append((line, [line.id, quantity, fmt.price(unit_price), rate, fmt.money(amount)]))
    widths = line_columns([values for _, values in texts])
    header = [
        fitted(title, STYLES["head_small" if index < 2 else "head_small_right"], width)
        for index, (title, width) in enumerate(zip(titles, widths, strict=True))
    ]
    rows: list[list[Any]] = [header]
    for line, (position, *numbers) in texts:
        cells = [fitted(text, right, width) for text, width in zip(numbers, widths[2:], strict=True)]
        rows.append([fitted(position, STYLES["cell"], widths[0]), _line_description(line, fmt), *cells])
    # splitInRow: a line taller than a page (a long description and many allowance reasons) is
    # continued on the next page instead of failing the whole document.
    table = LongTable(rows, colWidths=widths, repeatRows=1, splitInRow=1)
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


SOFT_HYPHEN = "\u00ad"


def plain_width(text: str, font: str = FONT, size: float = 8.5) -> float:  # float-ok: points
    return pdfmetrics.stringWidth(text.replace(SOFT_HYPHEN, ""), font, size)


def fitted(
    text: str,
    style: ParagraphStyle,
    width: float,  # float-ok: points
    padding: float = CELL_PADDING,  # float-ok: points
) -> str | Paragraph:
    """A plain string when it fits its cell on one line (fast), else a Paragraph that wraps (at
    spaces and soft hyphens, and inside a word only when nothing else fits) so nothing runs into
    the next cell or off the page."""
    if "\n" not in text and plain_width(text, style.fontName, style.fontSize) <= width - padding:
        return text.replace(SOFT_HYPHEN, "")
    return Paragraph(_text(text).replace("\n", "<br/>"), style)


def longest_word(text: str, font: str, size: float) -> float:  # float-ok: points, not money
    """The widest word of a text broken at spaces only."""
    words = text.replace(SOFT_HYPHEN, "").split()
    return max((pdfmetrics.stringWidth(word, font, size) for word in words), default=0)


def min_width(text: str, font: str, size: float) -> float:  # float-ok: points, not money
    """The narrowest a text gets when broken at spaces and soft hyphens (a hyphen shown at each)."""
    parts = text.replace(SOFT_HYPHEN, "- ").split()
    return max((pdfmetrics.stringWidth(part, font, size) for part in parts), default=0)


SUMMARY_WIDTH = CONTENT_WIDTH - 76 * mm
TOTALS_WIDTH = 76 * mm


def _pad(column: int) -> float:  # float-ok: points, not money
    return CELL_PADDING / 2 if column == 0 else CELL_PADDING


def tax_columns(header: list[str], rows: list[list[str]]) -> list[float]:
    """Widths of the VAT breakdown's columns, so no header or value runs into its neighbour
    ("Bemessungsgrundlage" into "Satz"): rate, base and VAT as wide as their widest value and
    header (the header broken at its soft hyphens if the whole does not fit); the category
    takes the rest, at least its longest word. Extreme amounts get fixed shares and wrap."""
    categories = [header[0], *(row[0] for row in rows)]
    values = [max((plain_width(row[c], FONT, 7.5) for row in rows), default=0) for c in (1, 2, 3)]
    # Preferred first: whole headers and whole category words, then headers broken at their soft
    # hyphens, then category words broken too.
    for header_width, category_width in (
        (plain_width, longest_word),
        (min_width, longest_word),
        (min_width, min_width),
    ):
        numeric = [
            max(values[i], header_width(header[c], FONT_BOLD, 7.5)) + CELL_PADDING
            for i, c in enumerate((1, 2, 3))
        ]
        category_min = max(category_width(text, FONT, 7.5) for text in categories) + CELL_PADDING / 2
        if SUMMARY_WIDTH - sum(numeric) >= category_min:
            return [SUMMARY_WIDTH - sum(numeric), *numeric]
    return [SUMMARY_WIDTH * share for share in (0.25, 0.13, 0.33, 0.29)]


def summary_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> Flowable:
    """VAT breakdown (left) beside the totals (right); a page break may fall inside it only when
    it is taller than what is left of the page."""
    header = [fmt["category"], fmt["rate"], fmt["taxable"], fmt["vat"]]
    values = []
    reasons = []
    for group in snapshot.tax_breakdown:
        rate = fmt.percent(group.percent) if group.category != TaxCategoryCode.NOT_SUBJECT else "–"
        values.append(
            [
                fmt.categories[group.category],
                rate,
                fmt.money(group.taxable_amount),
                fmt.money(group.tax_amount),
            ]
        )
        if group.exemption_reason:
            reasons.append(f"{_text(fmt.categories[group.category])}: {_text(group.exemption_reason)}")
    widths = tax_columns(header, values)
    tax_rows: list[list[Any]] = [
        [
            fitted(text, STYLES["head_small" if column == 0 else "head_small_right"], width, _pad(column))
            for column, (text, width) in enumerate(zip(header, widths, strict=True))
        ]
    ]
    for row in values:
        tax_rows.append(
            [
                fitted(text, STYLES["cell_small" if column == 0 else "cell_small_right"], width, _pad(column))
                for column, (text, width) in enumerate(zip(row, widths, strict=True))
            ]
        )
    tax_table = Table(tax_rows, colWidths=widths, splitInRow=1)
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
        left += [Spacer(0, 4), *[Paragraph(reason, STYLES["small"]) for reason in reasons]]
    if snapshot.prices_include_tax:
        left += [Spacer(0, 4), Paragraph(_text(fmt["prices_include_tax"]), STYLES["small"])]

    rows = totals_rows(snapshot, fmt)
    styles = {"": ("cell", "cell_right"), "strong": ("total", "total_right"), "due": ("due", "due_right")}
    # The amounts column as wide as its widest amount (the due amount is the largest type), the
    # labels wrap in the rest; amounts wrap only past 46 mm (totals of 10^13 and more).
    widest = max(
        plain_width(amount, STYLES[styles[kind][1]].fontName, STYLES[styles[kind][1]].fontSize)
        for _, amount, kind in rows
    )
    amount_width = min(max(30 * mm, widest + CELL_PADDING), 46 * mm)
    label_width = TOTALS_WIDTH - amount_width
    data: list[list[Any]] = [
        [
            fitted(label, STYLES[styles[kind][0]], label_width),
            fitted(amount, STYLES[styles[kind][1]], amount_width),
        ]
        for label, amount, kind in rows
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
    totals_table = Table(data, colWidths=[label_width, amount_width], splitInRow=1)
    totals_table.setStyle(_table_style(style))
    outer = Table([[left, totals_table]], colWidths=[SUMMARY_WIDTH, TOTALS_WIDTH], splitInRow=1)
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


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def masked_iban(iban: str) -> str:
    """The debited account as the debtor recognises it, without printing it whole."""
    # No-break spaces: the account stays on one line in a sentence.
    return _grouped(iban[:4] + "X" * (len(iban) - 8) + iban[-4:]).replace(" ", "\u00a0")


def _facts_table(
    rows: Iterable[tuple[str, str]],
    value_width: float = 90 * mm,  # float-ok: points
    h_align: Literal["LEFT", "CENTER"] = "LEFT",
) -> Table:
    """Labels (small, muted) beside their values, e.g. the invoice's dates and numbers."""
    label_width = 32 * mm
    # Plain strings where they fit (paragraph parsing dominates layout time), wrapping where not.
    data = [
        [fitted(label, STYLES["cell_small"], label_width), fitted(value, STYLES["cell"], value_width)]
        for label, value in rows
    ]
    table = Table(data, colWidths=[label_width, value_width], hAlign=h_align)
    table.setStyle(
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
    return table


def collection_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[Flowable]:
    """What the seller collects itself: a SEPA direct debit (BG-19) or a card payment (BG-18)."""
    amount = fmt.money(snapshot.totals.amount_due)
    rows: list[tuple[str, str]] = []
    if snapshot.direct_debit:
        debit = snapshot.direct_debit
        account = masked_iban(debit.debited_account)
        text = (
            fmt["direct_debit"].format(amount=amount, iban=account, date=fmt.date(snapshot.due_date))
            if snapshot.due_date
            else fmt["direct_debit_now"].format(amount=amount, iban=account)
        )
        rows.append((fmt["mandate_reference"], debit.mandate_reference))
        if debit.creditor_id:
            rows.append((fmt["creditor_id"], debit.creditor_id))
    else:
        assert snapshot.payment_card is not None
        text = fmt["card_charge"].format(amount=amount, digits=snapshot.payment_card.last_digits)
    if snapshot.effective_payment_reference:
        rows.append((fmt["payment_reference"], snapshot.effective_payment_reference))
    return [Paragraph(_text(text), STYLES["body"]), Spacer(0, 3), _facts_table(rows)]


def _with_giro_code(facts: Table, snapshot: InvoiceSnapshot) -> Flowable:
    """The account facts, with the SEPA GiroCode of the amount due beside them when there is one."""
    payload = giro_code_payload(snapshot, snapshot.totals.amount_due)
    if payload is None:
        return facts
    table = Table([[facts, GiroCode(payload)]], colWidths=[None, GIRO_CODE_SIZE], hAlign="LEFT")
    table.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def payment_block(snapshot: InvoiceSnapshot, fmt: Formatter) -> list[Flowable]:
    seller, totals = snapshot.seller, snapshot.totals
    flowables: list[Flowable] = [Paragraph(_text(fmt["payment"]), STYLES["heading"])]
    amount = fmt.money(totals.amount_due)
    if snapshot.is_credit_note:
        flowables.append(Paragraph(_text(fmt["credited"].format(amount=amount)), STYLES["body"]))
    elif totals.amount_due <= 0:
        flowables.append(Paragraph(_text(fmt["nothing_due"]), STYLES["body"]))
    elif snapshot.direct_debit or snapshot.payment_card:
        flowables += collection_block(snapshot, fmt)
    else:
        text = (
            fmt["pay_by"].format(amount=amount, date=fmt.date(snapshot.due_date))
            if snapshot.due_date
            else fmt["pay_now"].format(amount=amount)
        )
        flowables.append(Paragraph(_text(text), STYLES["body"]))
        rows = [(fmt["account_holder"], seller.legal_name)]
        if seller.iban:
            rows.append((fmt["iban"], _grouped(seller.iban)))
        if seller.bic:
            rows.append((fmt["bic"], seller.bic))
        if snapshot.effective_payment_reference:
            rows.append((fmt["payment_reference"], snapshot.effective_payment_reference))
        flowables += [Spacer(0, 3), _with_giro_code(_facts_table(rows), snapshot)]
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
    """The legal footer: who issued the invoice, where, under which tax and company ids, and (§35a
    HGB) the commercial register entry and managing directors when the organisation has set them."""
    seller = snapshot.seller
    address = ", ".join(line for line in _address_lines(seller.address, fmt.locale) if line)
    first = " · ".join([seller.legal_name, address])
    ids = []
    if seller.vat_id:
        ids.append(f"{fmt['vat_id']} {seller.vat_id}")
    if seller.tax_registration_id:
        ids.append(f"{fmt['tax_id']} {seller.tax_registration_id}")
    if seller.legal_registration_id and seller.legal_registration_id != seller.register_number:
        ids.append(f"{fmt['registration']} {seller.legal_registration_id}")
    ids += [value for value in (seller.contact_email, seller.contact_phone) if value]
    company = []
    if seller.register_court:
        entry = ", ".join(filter(None, [seller.register_court, seller.register_number]))
        company.append(f"{fmt['register']}: {entry}")
    elif seller.register_number:
        company.append(f"{fmt['registration']} {seller.register_number}")
    if seller.managing_directors:
        company.append(f"{fmt['managing_directors']}: {seller.managing_directors}")
    return [line for line in (first, " · ".join(ids), " · ".join(company)) if line]


def footer_layout(lines: list[str]) -> list[str]:
    """The footer wrapped to the page: the first line leaves room for "page x of y"."""
    wrapped: list[str] = []
    for index, line in enumerate(lines):
        width = CONTENT_WIDTH - (PAGE_LABEL_WIDTH if index == 0 else 0)
        wrapped += simpleSplit(line, FONT, FOOTER_SIZE, width) or [""]
    return wrapped


def footer_top(line_count: int) -> float:  # float-ok: points, not money
    """Baseline of the footer's first line: 18 mm, raised when more lines than fit below it."""
    return max(18 * mm, FOOTER_BASE + (line_count - 1) * FOOTER_LEADING)


# --- pages ---------------------------------------------------------------------------------------


class _InvoiceCanvas(Canvas):
    """Defers each page until the page count is known, for "page x of y"; then finishes the PDF/A."""

    # reportlab's private members this canvas uses, which its stubs leave out.
    _doc: Any
    _startPage: Callable[[], None]

    def __init__(
        self,
        *args: Any,
        page_label: str,
        page_label_y: float,  # float-ok: points, not money
        finish: Callable[[Canvas], None],
        seed: bytes,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The file /ID derives from the invoice, not from reportlab's clock or SOURCE_DATE_EPOCH.
        self._doc.signature = hashlib.md5(seed, usedforsecurity=False)
        self._page_label = page_label
        self._page_label_y = page_label_y
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
            self.drawRightString(PAGE_WIDTH - MARGIN_X, self._page_label_y, label)
            super().showPage()
        self._finish(self)
        super().save()


def _decorate_page(
    canvas: Canvas,
    doc: BaseDocTemplate,
    *,
    snapshot: InvoiceSnapshot,
    fmt: Formatter,
    footer: list[str],
    first: bool,
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
        # One line: a long seller name is cut rather than run off the page.
        canvas.drawString(MARGIN_X, PAGE_HEIGHT - 12 * mm, simpleSplit(heading, FONT, 7.5, CONTENT_WIDTH)[0])
    top = footer_top(len(footer))
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN_X, top + 4 * mm, PAGE_WIDTH - MARGIN_X, top + 4 * mm)
    canvas.setFont(FONT, FOOTER_SIZE)
    canvas.setFillColor(MUTED)
    for offset, text in enumerate(footer):
        canvas.drawString(MARGIN_X, top - offset * FOOTER_LEADING, text)
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
    footer = footer_layout(footer_lines(snapshot, fmt))
    top = footer_top(len(footer))
    # The body ends 8 mm above the footer's rule (30 mm from the edge for a footer of up to 4 lines).
    bottom_margin = max(MARGIN_BOTTOM, top + 12 * mm)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=bottom_margin,
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
        bottom_margin,
        CONTENT_WIDTH,
        PAGE_HEIGHT - MARGIN_TOP - bottom_margin,
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
                onPage=partial(_decorate_page, snapshot=snapshot, fmt=fmt, footer=footer, first=True),
                autoNextPageTemplate="later",
            ),
            PageTemplate(
                "later",
                [frame],
                onPage=partial(_decorate_page, snapshot=snapshot, fmt=fmt, footer=footer, first=False),
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
        page_label_y=top,
        finish=lambda canvas: make_pdfa(canvas, metadata, files, facturx),
        seed=seed,
    )
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def render_pdf(snapshot: InvoiceSnapshot) -> bytes:
    """The invoice or credit note as a PDF/A-3b document (drafts carry a DRAFT watermark, no number)."""
    return build_pdf(snapshot)
