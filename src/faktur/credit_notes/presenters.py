"""Turn credit notes (stored, or built for a preview) into response bodies."""

from __future__ import annotations

from typing import Any

from faktur import calc
from faktur.credit_notes.schemas import (
    CreditNoteLineOut,
    CreditNoteOut,
    CreditNotePreviewOut,
    SettlementOut,
)
from faktur.invoices.presenters import line_tax_out, tax_breakdown_out
from faktur.invoices.schemas import AdjustmentOut, DocumentAdjustmentOut
from faktur.models import CreditNote, Invoice


def _fields(note: CreditNote, invoice: Invoice) -> dict[str, Any]:
    currency = note.currency

    def money(minor: int) -> str:
        return calc.format_amount(calc.from_minor(minor, currency), currency)

    return {
        "invoice_id": note.invoice_id,
        "invoice_number": invoice.number,
        "invoice_issue_date": invoice.issue_date,
        "customer_id": note.customer_id,
        "reason": note.reason,
        "memo": note.memo,
        "currency": currency,
        "prices_include_tax": note.prices_include_tax,
        "full_cancellation": note.full_cancellation,
        "issue_date": note.issue_date,
        "lines": [
            CreditNoteLineOut(
                id=line.id,
                position=line.position,
                kind=line.kind,
                invoice_line_id=line.invoice_line_id,
                credited_quantity=str(line.credited_quantity),
                description=line.description,
                sku=line.sku,
                quantity=str(line.quantity),
                unit_code=line.unit_code,
                unit_price=str(line.unit_price),
                tax=line_tax_out(line),
                allowances=[AdjustmentOut(**a) for a in line.allowances],
                charges=[AdjustmentOut(**c) for c in line.charges],
                amount=money(line.amount_minor),
                allowance_total=money(line.allowance_total_minor),
                charge_total=money(line.charge_total_minor),
                net_amount=money(line.net_minor),
                gross_amount=None if line.gross_minor is None else money(line.gross_minor),
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in note.lines
        ],
        "adjustments": [DocumentAdjustmentOut(**a) for a in note.adjustments],
        "tax_breakdown": tax_breakdown_out(note.tax_groups, currency),
        "subtotal": money(note.line_net_total_minor),
        "allowance_total": money(note.allowance_total_minor),
        "charge_total": money(note.charge_total_minor),
        "total_excluding_tax": money(note.tax_exclusive_minor),
        "tax_total": money(note.tax_total_minor),
        "total": money(note.total_minor),
        "settlement": SettlementOut(
            amount_due_reduction=money(note.due_reduction_minor),
            refund_amount=money(note.refund_minor),
            refund_method=note.refund_method,
            refund_reference=note.refund_reference,
            refund_date=note.refund_date,
            credit_amount=money(note.balance_credit_minor),
        ),
        "customer": note.customer_snapshot,
        "seller": note.seller_snapshot,
    }


def present_credit_note(note: CreditNote, invoice: Invoice) -> CreditNoteOut:
    return CreditNoteOut(
        **_fields(note, invoice),
        id=note.id,
        number=note.number,
        created_at=note.created_at,
        created_by=note.created_by,
    )


def present_preview(note: CreditNote, invoice: Invoice, unsettled_minor: int) -> CreditNotePreviewOut:
    currency = note.currency
    return CreditNotePreviewOut(
        **_fields(note, invoice),
        unsettled_amount=calc.format_amount(calc.from_minor(unsettled_minor, currency), currency),
    )
