"""A credit note's rows built in memory from what calculation computed. Pure: no session, no SQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from faktur import calc
from faktur.credit_notes.calculation import ComputedCreditNote, SettledAmounts
from faktur.credit_notes.domain import NewCreditNote
from faktur.models import CreditNote, CreditNoteLine, CreditNoteTaxGroup, Invoice


def _adjustment(adj: calc.Adjustment) -> dict[str, Any]:
    return {
        "amount": None if adj.amount is None else str(adj.amount),
        "percent": None if adj.percent is None else str(adj.percent),
        "reason": adj.reason,
        "reason_code": adj.reason_code,
    }


def build_credit_note(
    invoice: Invoice,
    computed: ComputedCreditNote,
    settled: SettledAmounts,
    command: NewCreditNote,
    *,
    actor: str,
    customer_snapshot: dict[str, Any],
    seller_snapshot: dict[str, Any],
    now: datetime,
) -> CreditNote:
    currency = computed.currency

    def minor(value: Any) -> int:
        return calc.to_minor(value, currency)

    note_id = uuid.uuid4()
    organisation_id = invoice.organisation_id
    settlement = command.settlement
    lines = [
        CreditNoteLine(
            organisation_id=organisation_id,
            id=uuid.uuid4(),
            created_at=now,
            credit_note_id=note_id,
            position=position,
            kind=planned.kind.value,
            invoice_line_id=None if planned.invoice_line is None else planned.invoice_line.id,
            credited_quantity=planned.credited_quantity,
            description=planned.description,
            sku=planned.sku,
            quantity=planned.input.quantity,
            unit_code=planned.unit_code,
            unit_price=planned.input.unit_price,
            tax_category=result.tax.category.value,
            tax_percent=result.tax.percent,
            exemption_reason=result.tax.exemption_reason,
            exemption_reason_code=result.tax.exemption_reason_code,
            allowances=[_adjustment(a) for a in planned.input.allowances],
            charges=[_adjustment(c) for c in planned.input.charges],
            amount_minor=minor(result.amount),
            allowance_total_minor=minor(result.allowance_total),
            charge_total_minor=minor(result.charge_total),
            net_minor=minor(result.net),
            gross_minor=None if result.gross is None else minor(result.gross),
            period_start=None if planned.invoice_line is None else planned.invoice_line.period_start,
            period_end=None if planned.invoice_line is None else planned.invoice_line.period_end,
        )
        for position, (planned, result) in enumerate(
            zip(computed.lines, computed.result.lines, strict=True), 1
        )
    ]
    groups = [
        CreditNoteTaxGroup(
            organisation_id=organisation_id,
            id=uuid.uuid4(),
            created_at=now,
            credit_note_id=note_id,
            position=position,
            category=group.category.value,
            percent=group.percent,
            taxable_minor=minor(group.taxable_amount),
            tax_minor=minor(group.tax_amount),
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for position, group in enumerate(computed.result.tax_groups, 1)
    ]
    totals = computed.result.totals
    return CreditNote(
        organisation_id=organisation_id,
        id=note_id,
        created_at=now,
        created_by=actor,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        number=None,
        issue_date=now.date(),
        reason=command.reason.value,
        memo=command.memo,
        currency=currency,
        prices_include_tax=computed.prices_include_tax,
        full_cancellation=computed.full_cancellation,
        adjustments=[dict(a) for a in computed.adjustments],
        customer_snapshot=customer_snapshot,
        seller_snapshot=seller_snapshot,
        line_net_total_minor=minor(totals.line_net_total),
        allowance_total_minor=minor(totals.allowance_total),
        charge_total_minor=minor(totals.charge_total),
        tax_exclusive_minor=minor(totals.tax_exclusive_total),
        tax_total_minor=minor(totals.tax_total),
        total_minor=minor(totals.tax_inclusive_total),
        due_reduction_minor=settled.due_reduction,
        refund_minor=settled.refund,
        refund_method=settlement.refund_method if settled.refund else None,
        refund_reference=settlement.refund_reference if settled.refund else None,
        refund_date=(settlement.refund_date or now.date()) if settled.refund else None,
        balance_credit_minor=settled.balance_credit,
        lines=lines,
        tax_groups=groups,
    )
