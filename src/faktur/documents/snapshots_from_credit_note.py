"""Build the `CreditNoteSnapshot` of a stored credit note, beside `snapshots_from_invoice`.

What it credits comes from the credit note's own rows: its lines (priced again by faktur.calc from
their stored quantity, unit price, allowances and charges, which must give back the stored line
amounts to the minor unit), its document allowances and charges, and its VAT breakdown and totals
as stored. The stored tax of a group is the credit note's of record even where the engine alone
would round it otherwise: the credit note that completes a tax-exclusive invoice takes the tax the
invoice's group had left (faktur.credit_notes.calculation), so the credit notes of an invoice add up
to it. Everything else is the invoice's as it was issued: the seller and buyer frozen at its
finalization, its references, payment means, delivery and invoicing period, and BG-3 names it
(BT-25 number, BT-26 issue date). The amount credited is due at once (BT-9 the issue date, BR-CO-25);
what the invoice had paid is the invoice's business, not the credit note's.

Any difference between the stored rows and what they must add up to raises `StoredTotalsMismatch`:
a document that disagreed with the credit note of record would be worse than none.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from faktur import calc
from faktur.documents.credit_note_snapshot import CreditNoteSnapshot, as_credit_note
from faktur.documents.factory import snapshot_from_calc
from faktur.documents.pdf.labels import LABELS, language_of
from faktur.documents.snapshot import DocumentStatus, PrecedingInvoice
from faktur.documents.snapshots_from_invoice import (
    StoredTotalsMismatch,
    buyer_locale,
    line_texts,
    parties_and_references,
)
from faktur.models import CreditNote, CreditNoteLine, Invoice


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _adjustment(data: Mapping[str, Any]) -> calc.Adjustment:
    return calc.Adjustment(
        amount=_decimal(data.get("amount")),
        percent=_decimal(data.get("percent")),
        reason=data.get("reason"),
        reason_code=data.get("reason_code"),
    )


def _tax(category: str, percent: Any, reason: str | None, code: str | None) -> calc.TaxSpec:
    return calc.TaxSpec(calc.TaxCategory(category), Decimal(str(percent)), reason, code)


def _line_input(line: CreditNoteLine) -> calc.LineInput:
    return calc.LineInput(
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax=_tax(line.tax_category, line.tax_percent, line.exemption_reason, line.exemption_reason_code),
        allowances=tuple(_adjustment(a) for a in line.allowances),
        charges=tuple(_adjustment(c) for c in line.charges),
    )


def credit_note_input(credit_note: CreditNote) -> calc.InvoiceInput:
    """The engine's input for the credit note's stored lines and document allowances and charges."""
    return calc.InvoiceInput(
        currency=credit_note.currency,
        lines=tuple(_line_input(line) for line in credit_note.lines),
        adjustments=tuple(
            calc.DocumentAdjustment(
                is_charge=adj["kind"] == "charge",
                tax=_tax(
                    adj["tax"]["category"],
                    adj["tax"]["percent"],
                    adj["tax"].get("exemption_reason"),
                    adj["tax"].get("exemption_reason_code"),
                ),
                amount=_decimal(adj.get("amount")),
                percent=_decimal(adj.get("percent")),
                base_amount=_decimal(adj.get("base_amount")),
                reason=adj.get("reason"),
                reason_code=adj.get("reason_code"),
            )
            for adj in credit_note.adjustments
        ),
        prices_include_tax=credit_note.prices_include_tax,
    )


def _as_stored(credit_note: CreditNote, result: calc.InvoiceResult) -> calc.InvoiceResult:
    """`result` with the stored VAT amounts and totals, after checking that the stored rows are what
    the engine computed (lines, bases) and add up (EN 16931 BR-CO-10 .. BR-CO-17 identities)."""
    currency = credit_note.currency
    minor, money = calc.to_minor, calc.from_minor
    totals = result.totals
    differences = []
    for line, computed in zip(credit_note.lines, result.lines, strict=True):
        pairs: list[tuple[str, int | None, int | None]] = [
            ("net", line.net_minor, minor(computed.net, currency))
        ]
        if credit_note.prices_include_tax:
            gross = minor(computed.gross, currency) if computed.gross is not None else None
            pairs.append(("gross", line.gross_minor, gross))
        differences += [
            f"lines[{line.position - 1}].{name}: stored {a}, computed {b}" for name, a, b in pairs if a != b
        ]
    expected = {
        "line_net_total": (credit_note.line_net_total_minor, minor(totals.line_net_total, currency)),
        "allowance_total": (credit_note.allowance_total_minor, minor(totals.allowance_total, currency)),
        "charge_total": (credit_note.charge_total_minor, minor(totals.charge_total, currency)),
        "tax_exclusive_total": (credit_note.tax_exclusive_minor, minor(totals.tax_exclusive_total, currency)),
    }
    differences += [f"{name}: stored {a}, computed {b}" for name, (a, b) in expected.items() if a != b]
    stored_bases = [(g.category, Decimal(g.percent), g.taxable_minor) for g in credit_note.tax_groups]
    computed_bases = [
        (g.category.value, g.percent, minor(g.taxable_amount, currency)) for g in result.tax_groups
    ]
    if stored_bases != computed_bases:
        differences.append(f"tax groups: stored {stored_bases}, computed {computed_bases}")
    stored_tax = sum(g.tax_minor for g in credit_note.tax_groups)
    if credit_note.tax_total_minor != stored_tax:
        differences.append(f"tax_total: stored {credit_note.tax_total_minor}, groups add up to {stored_tax}")
    if credit_note.total_minor != credit_note.tax_exclusive_minor + credit_note.tax_total_minor:
        differences.append(
            f"total: stored {credit_note.total_minor}, net and tax add up to "
            f"{credit_note.tax_exclusive_minor + credit_note.tax_total_minor}"
        )
    if differences:
        raise StoredTotalsMismatch(
            f"Credit note {credit_note.number or credit_note.id}: its stored amounts are not what its lines "
            f"compute to ({'; '.join(differences)}); no document is rendered."
        )
    if [minor(g.tax_amount, currency) for g in result.tax_groups] == [
        g.tax_minor for g in credit_note.tax_groups
    ]:
        return result
    groups = tuple(
        group._replace(tax_amount=money(stored.tax_minor, currency))
        for group, stored in zip(result.tax_groups, credit_note.tax_groups, strict=True)
    )
    total = money(credit_note.total_minor, currency)
    return result._replace(
        tax_groups=groups,
        totals=totals._replace(
            tax_total=money(credit_note.tax_total_minor, currency),
            tax_inclusive_total=total,
            amount_due=total - totals.paid_amount + totals.rounding_amount,
        ),
    )


def credit_note_notes(credit_note: CreditNote, locale: str) -> tuple[str, ...]:
    """BT-22: why the invoice is credited, in the buyer's language, then the memo."""
    words = LABELS[language_of(locale)]
    reason = words.get(f"reason_{credit_note.reason}", credit_note.reason)
    notes = [words["credit_reason"].format(reason=reason)]
    if memo := _text(credit_note.memo):
        notes.append(memo)
    return tuple(notes)


def snapshot_from_credit_note(
    credit_note: CreditNote,
    invoice: Invoice,
    seller: Mapping[str, Any],
    buyer: Mapping[str, Any],
) -> CreditNoteSnapshot:
    """The document snapshot of the issued `credit_note` of `invoice` (see the module docstring).

    `seller` and `buyer` are the parties frozen when the invoice was finalized; call
    `snapshots_from_invoice.party_problems` first.
    """
    if credit_note.number is None or invoice.number is None or invoice.issue_date is None:
        raise ValueError("a credit note document needs the credit note's and the invoice's numbers")
    invoice_input = credit_note_input(credit_note)
    result = _as_stored(credit_note, calc.compute_invoice(invoice_input))
    credited = snapshot_from_calc(
        invoice_input,
        result,
        line_texts(credit_note.lines),
        status=DocumentStatus.FINAL,
        number=credit_note.number,
        issue_date=credit_note.issue_date,
        # BT-9: the credited amount is due at once (BR-CO-25 wants a date or terms when positive).
        due_date=credit_note.issue_date,
        notes=credit_note_notes(credit_note, buyer_locale(buyer)),
        **parties_and_references(invoice, seller, buyer, credit_note.currency),
    )
    return as_credit_note(
        credited,
        PrecedingInvoice(number=invoice.number, issue_date=invoice.issue_date),
        full_cancellation=credit_note.full_cancellation,
    )
