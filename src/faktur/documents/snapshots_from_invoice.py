"""Build the `InvoiceSnapshot` of a stored invoice: its numbers recomputed by faktur.calc, its words and
parties taken from the seller and customer snapshots copied at finalization.

The stored totals are the invoice of record; the recomputation must give them back to the minor unit, or
`StoredTotalsMismatch` is raised: a document that disagreed with the invoice would be worse than none.
No session and no clock: the caller passes the parties (the frozen copies for a finalized invoice, the
live ones for a draft preview) and the issue date a draft is shown with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from faktur import calc
from faktur.documents.factory import LineText, snapshot_from_calc
from faktur.documents.pdf.labels import LABELS, language_of
from faktur.documents.profiles import MissingField
from faktur.documents.snapshot import (
    Address,
    DocumentStatus,
    InvoiceSnapshot,
    Party,
    SellerParty,
)
from faktur.invoices.calculation import input_from_invoice
from faktur.models import Invoice

# EU member states (ISO 3166-1 alpha-2). Factur-X is the default PDF for sellers established here;
# membership is political, not in pycountry, so the list is kept by hand (2020-: without GB).
EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)

# UNCL4461: 58 SEPA credit transfer (EUR only), 30 credit transfer, 1 instrument not defined (the
# seller gave no account, e.g. it is paid by card; BR-61 asks for an account only for 30 and 58).
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
NOT_DEFINED = "1"


class StoredTotalsMismatch(RuntimeError):
    """The engine no longer computes the totals stored on the invoice: refuse to render anything."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _address(data: Mapping[str, Any]) -> Address:
    lines = tuple(
        line for line in (_text(data.get("address_line1")), _text(data.get("address_line2"))) if line
    )
    return Address(
        street_lines=lines,
        city=_text(data.get("city")),
        postal_code=_text(data.get("postal_code")),
        country_code=data["country"],
    )


def party_problems(seller: Mapping[str, Any], buyer: Mapping[str, Any]) -> list[MissingField]:
    """What stops even a PDF: EN 16931 (BT-40, BT-55) and the snapshot need both countries."""
    problems = []
    if not _text(seller.get("country")):
        problems.append(
            MissingField("seller.address.country_code", "the seller has no country (EN 16931 BT-40)")
        )
    if not _text(buyer.get("country")):
        problems.append(
            MissingField("buyer.address.country_code", "the customer has no country (EN 16931 BT-55)")
        )
    return problems


def seller_is_in_eu(seller: Mapping[str, Any]) -> bool:
    return str(seller.get("country") or "").upper() in EU_COUNTRIES


def _payment_means(seller: Mapping[str, Any], currency: str) -> str:
    if not _text(seller.get("iban")):
        return NOT_DEFINED
    return SEPA_CREDIT_TRANSFER if currency == "EUR" else CREDIT_TRANSFER


def seller_party(seller: Mapping[str, Any], currency: str) -> SellerParty:
    return SellerParty(
        legal_name=seller["legal_name"],
        trading_name=_text(seller.get("trading_name")),
        address=_address(seller),
        vat_id=_text(seller.get("vat_id")),
        tax_registration_id=_text(seller.get("tax_registration_id")),
        legal_registration_id=_text(seller.get("legal_registration_id")),
        electronic_address=_text(seller.get("electronic_address")),
        electronic_address_scheme=_text(seller.get("electronic_address_scheme")),
        contact_name=_text(seller.get("contact_name")),
        contact_email=_text(seller.get("email")),
        contact_phone=_text(seller.get("phone")),
        iban=_text(seller.get("iban")),
        bic=_text(seller.get("bic")),
        payment_means_code=_payment_means(seller, currency),
    )


def buyer_party(buyer: Mapping[str, Any]) -> Party:
    return Party(
        legal_name=buyer["name"],
        address=_address(buyer),
        vat_id=_text(buyer.get("vat_id")),
        legal_registration_id=_text(buyer.get("legal_registration_id")),
        electronic_address=_text(buyer.get("electronic_address")),
        electronic_address_scheme=_text(buyer.get("electronic_address_scheme")),
        contact_email=_text(buyer.get("email")),
    )


def _inclusive_end(end: dt.date | None) -> dt.date | None:
    # faktur's periods are half-open [start, end); EN 16931 end dates (BT-74, BT-135) are the last day.
    return None if end is None else end - dt.timedelta(days=1)


def invoicing_period(invoice: Invoice) -> tuple[dt.date | None, dt.date | None]:
    """BG-14 of a period invoice: its period, widened to every line period it bills (half-open).

    A period invoice also bills other periods: flat fees in advance (the next period) and late usage
    (an earlier one). The invoicing period of the document covers every service it bills, so each
    line period lies within it, as EN 16931 readers check (PEPPOL-EN16931-R110/R111).
    """
    start, end = invoice.period_start, invoice.period_end
    if start is None and end is None:
        return None, None
    for line in invoice.lines:
        if start is not None and line.period_start is not None:
            start = min(start, line.period_start)
        if end is not None and line.period_end is not None:
            end = max(end, line.period_end)
    return start, end


def _check_against_stored(invoice: Invoice, result: calc.InvoiceResult) -> None:
    currency = invoice.currency
    minor = calc.to_minor
    totals = result.totals
    expected = {
        "line_net_total": (invoice.line_net_total_minor, minor(totals.line_net_total, currency)),
        "allowance_total": (invoice.allowance_total_minor, minor(totals.allowance_total, currency)),
        "charge_total": (invoice.charge_total_minor, minor(totals.charge_total, currency)),
        "tax_exclusive_total": (invoice.tax_exclusive_minor, minor(totals.tax_exclusive_total, currency)),
        "tax_total": (invoice.tax_total_minor, minor(totals.tax_total, currency)),
        "total": (invoice.total_minor, minor(totals.tax_inclusive_total, currency)),
    }
    for line, line_result in zip(invoice.lines, result.lines, strict=True):
        expected[f"lines[{line.position - 1}].net"] = (line.net_minor, minor(line_result.net, currency))
    stored_groups = [(g.category, g.percent, g.taxable_minor, g.tax_minor) for g in invoice.tax_groups]
    computed_groups = [
        (g.category.value, g.percent, minor(g.taxable_amount, currency), minor(g.tax_amount, currency))
        for g in result.tax_groups
    ]
    differences = [f"{name}: stored {a}, computed {b}" for name, (a, b) in expected.items() if a != b]
    if stored_groups != computed_groups:
        differences.append(f"tax groups: stored {stored_groups}, computed {computed_groups}")
    if differences:
        raise StoredTotalsMismatch(
            f"Invoice {invoice.number or invoice.id}: recomputed amounts differ from the stored ones "
            f"({'; '.join(differences)}); no document is rendered."
        )


def payment_terms_text(days: int | None, locale: str) -> str | None:
    """BT-20 in the buyer's language, from the invoice's payment terms in days."""
    if days is None:
        return None
    words = LABELS[language_of(locale)]
    return words["due_on_receipt"] if days == 0 else words["net_days"].format(days=days)


def snapshot_from_invoice(
    invoice: Invoice,
    seller: Mapping[str, Any],
    buyer: Mapping[str, Any],
    *,
    draft_issue_date: dt.date,
) -> InvoiceSnapshot:
    """The document snapshot of `invoice` with the given party details (see the module docstring).

    Call `party_problems` first: a party without a country cannot be put on any document.
    """
    locale = _text(buyer.get("locale")) or "en"
    is_draft = invoice.status == "draft"
    invoice_input = input_from_invoice(invoice)
    result = calc.compute_invoice(invoice_input)
    _check_against_stored(invoice, result)
    issue_date = invoice.issue_date or draft_issue_date
    terms_days = invoice.payment_terms_days
    due_date = invoice.due_date
    if due_date is None and terms_days is not None:
        due_date = issue_date + dt.timedelta(days=terms_days)
    period_start, period_end = invoicing_period(invoice)
    texts = [
        LineText(
            name=line.description,
            sku=line.sku,
            unit_code=line.unit_code,
            period_start=line.period_start,
            period_end=_inclusive_end(line.period_end),
            id=str(line.position),
        )
        for line in invoice.lines
    ]
    return snapshot_from_calc(
        invoice_input,
        result,
        texts,
        status=DocumentStatus.DRAFT if is_draft else DocumentStatus.FINAL,
        number=None if is_draft else invoice.number,
        issue_date=issue_date,
        due_date=due_date,
        buyer_reference=_text(invoice.buyer_reference) or _text(buyer.get("buyer_reference")),
        notes=(invoice.memo.strip(),) if _text(invoice.memo) else (),
        payment_terms=payment_terms_text(terms_days, locale),
        period_start=period_start,
        period_end=_inclusive_end(period_end),
        seller=seller_party(seller, invoice.currency),
        buyer=buyer_party(buyer),
        locale=locale,
    )
