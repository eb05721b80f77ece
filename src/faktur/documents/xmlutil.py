"""Small helpers shared by the UBL and CII builders: number formatting and deterministic serialisation."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from faktur.documents import codes


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation without needless trailing zeros: 19.00 -> "19", 0.5 -> "0.5"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def amount_text(value: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor units (EUR "12.30", JPY "1230")."""
    places = codes.currency_minor_units(currency)
    quantum = Decimal(1).scaleb(-places)
    return format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def iso_date(value: dt.date) -> str:
    return value.isoformat()


def cii_date(value: dt.date) -> str:
    """UN/CEFACT date format 102 (CCYYMMDD)."""
    return value.strftime("%Y%m%d")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    """Append a child; attributes are given in a fixed order by the caller so output is stable."""
    child = etree.SubElement(parent, tag, attributes)
    if text is not None:
        child.text = text
    return child


def serialise(root: etree._Element) -> bytes:
    """Pretty-printed UTF-8 with an XML declaration; no timestamps, so equal input gives equal bytes."""
    etree.indent(root, space="  ")
    # lxml writes the declaration with single quotes; the conventional double-quoted form is written here.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )
