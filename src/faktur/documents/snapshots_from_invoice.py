"""Build the `InvoiceSnapshot` of a stored invoice: its numbers recomputed by faktur.calc, its words and
parties taken from the seller and customer snapshots copied at finalization.

The stored totals are the invoice of record; the recomputation must give them back to the minor unit, or
`StoredTotalsMismatch` is raised: a document that disagreed with the invoice would be worse than none.
No session and no clock: the caller passes the parties (the frozen copies for a finalized invoice, the
live ones for a draft preview) and the issue date a draft is shown with. The fields a credit note's
snapshot takes from the invoice it corrects (`parties_and_references`, `line_texts`) are built here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from faktur import calc
from faktur.documents.factory import LineText, snapshot_from_calc
from faktur.documents.pdf.labels import LABELS, language_of
from faktur.documents.profiles import MissingField
from faktur.documents.snapshot import (
    Address,
    Delivery,
    DirectDebit,
    DocumentStatus,
    InvoiceSnapshot,
    Party,
    PaymentCard,
    SellerParty,
)
from faktur.invoices.calculation import input_from_invoice
from faktur.models import CreditNoteLine, Invoice, InvoiceLine
from faktur.payment_means import PaymentMethod, payment_means_code

# EU member states (ISO 3166-1 alpha-2). Factur-X is the default PDF for sellers established here;
# membership is political, not in pycountry, so the list is kept by hand (2020-: without GB).
EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)


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


def seller_party(
    seller: Mapping[str, Any], currency: str, means: Mapping[str, Any] | None = None
) -> SellerParty:
    """The seller as the document shows it; `means` are the buyer's payment means (None: transfer)."""
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
        payment_means_code=payment_means_code(
            dict(means) if means else None, _text(seller.get("iban")), currency
        ),
        register_court=_text(seller.get("register_court")),
        register_number=_text(seller.get("register_number")),
        managing_directors=_text(seller.get("managing_directors")),
    )


def payment_details(
    seller: Mapping[str, Any], means: Mapping[str, Any] | None
) -> tuple[PaymentCard | None, DirectDebit | None]:
    """BG-18 or BG-19 of the buyer's payment means (neither for a credit transfer)."""
    method = PaymentMethod(means["method"]) if means else PaymentMethod.CREDIT_TRANSFER
    if method == PaymentMethod.SEPA_DIRECT_DEBIT:
        assert means is not None
        return None, DirectDebit(
            mandate_reference=means["mandate_reference"],
            creditor_id=_text(seller.get("sepa_creditor_id")),
            debited_account=means["debited_iban"],
        )
    if method in (PaymentMethod.BANK_CARD, PaymentMethod.CREDIT_CARD):
        assert means is not None
        card = PaymentCard(
            last_digits=means["card_last_digits"],
            holder=_text(means.get("card_holder")),
            network=_text(means.get("card_network")),
        )
        return card, None
    return None, None


def delivery_of(invoice: Invoice) -> Delivery | None:
    """BG-13 of the invoice: the actual delivery date and the deliver-to party, if any was given."""
    deliver_to = invoice.deliver_to or {}
    address = _address(deliver_to) if _text(deliver_to.get("country")) else None
    name = _text(deliver_to.get("name"))
    if not (invoice.delivery_date or name or address):
        return None
    return Delivery(name=name, address=address, date=invoice.delivery_date)


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


def buyer_locale(buyer: Mapping[str, Any]) -> str:
    """The language the document speaks to the buyer in."""
    return _text(buyer.get("locale")) or "en"


def line_texts(lines: Iterable[InvoiceLine | CreditNoteLine]) -> list[LineText]:
    """The words of each stored line of an invoice or a credit note, in line order."""
    return [
        LineText(
            name=line.description,
            sku=line.sku,
            unit_code=line.unit_code,
            period_start=line.period_start,
            period_end=_inclusive_end(line.period_end),
            id=str(line.position),
        )
        for line in lines
    ]


def parties_and_references(
    invoice: Invoice, seller: Mapping[str, Any], buyer: Mapping[str, Any], currency: str
) -> dict[str, Any]:
    """The snapshot fields an invoice's documents and its credit notes' take alike from the invoice:
    seller and buyer (the given party details), the buyer's payment means (BG-18, BG-19), the buyer
    reference (BT-10), the invoicing period (BG-14), the delivery (BG-13) and the buyer's locale."""
    means = invoice.payment_means or buyer.get("payment_means")
    payment_card, direct_debit = payment_details(seller, means)
    period_start, period_end = invoicing_period(invoice)
    return {
        "buyer_reference": _text(invoice.buyer_reference) or _text(buyer.get("buyer_reference")),
        "period_start": period_start,
        "period_end": _inclusive_end(period_end),
        "delivery": delivery_of(invoice),
        "payment_card": payment_card,
        "direct_debit": direct_debit,
        "seller": seller_party(seller, currency, means),
        "buyer": buyer_party(buyer),
        "locale": buyer_locale(buyer),
    }


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
    is_draft = invoice.status == "draft"
    # Paid before issue (BT-113): the engine deducts it from the amount due (BT-115).
    invoice_input = replace(
        input_from_invoice(invoice), paid_amount=calc.from_minor(invoice.prepaid_minor, invoice.currency)
    )
    result = calc.compute_invoice(invoice_input)
    _check_against_stored(invoice, result)
    issue_date = invoice.issue_date or draft_issue_date
    terms_days = invoice.payment_terms_days
    due_date = invoice.due_date
    if due_date is None and terms_days is not None:
        due_date = issue_date + dt.timedelta(days=terms_days)
    return snapshot_from_calc(
        invoice_input,
        result,
        line_texts(invoice.lines),
        status=DocumentStatus.DRAFT if is_draft else DocumentStatus.FINAL,
        number=None if is_draft else invoice.number,
        issue_date=issue_date,
        due_date=due_date,
        notes=(memo,) if (memo := _text(invoice.memo)) else (),
        payment_terms=payment_terms_text(terms_days, buyer_locale(buyer)),
        **parties_and_references(invoice, seller, buyer, invoice.currency),
    )
