"""Turn stored invoices (or previews) into response bodies with exact decimal strings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from faktur import calc
from faktur.hosted.links import hosted_url_of
from faktur.invoices.calculation import Computed
from faktur.invoices.domain import payment_status
from faktur.invoices.schemas import (
    AdjustmentOut,
    CreditNoteRefOut,
    DocumentAdjustmentOut,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePreviewOut,
    LineSourceOut,
    PaymentOut,
    StatusChangeOut,
    TaxBreakdownOut,
    TaxOut,
)
from faktur.models import (
    CreditNoteLine,
    CreditNoteTaxGroup,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceTaxGroup,
)


def _money(minor: int, currency: str) -> str:
    return calc.format_amount(calc.from_minor(minor, currency), currency)


def _adjustments_out(items: Sequence[dict[str, Any]]) -> list[AdjustmentOut]:
    return [AdjustmentOut(**item) for item in items]


def _document_adjustments_out(items: Sequence[dict[str, Any]]) -> list[DocumentAdjustmentOut]:
    return [DocumentAdjustmentOut(**item) for item in items]


def line_tax_out(line: InvoiceLine | CreditNoteLine) -> TaxOut:
    """The VAT of a stored invoice or credit note line."""
    return TaxOut(
        category=line.tax_category,
        percent=str(line.tax_percent),
        exemption_reason=line.exemption_reason,
        exemption_reason_code=line.exemption_reason_code,
    )


def tax_breakdown_out(
    groups: Iterable[InvoiceTaxGroup | CreditNoteTaxGroup], currency: str
) -> list[TaxBreakdownOut]:
    """The stored VAT breakdown of an invoice or a credit note."""
    return [
        TaxBreakdownOut(
            category=group.category,
            percent=str(group.percent),
            taxable_amount=_money(group.taxable_minor, currency),
            tax_amount=_money(group.tax_minor, currency),
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for group in groups
    ]


def present_invoice(invoice: Invoice) -> InvoiceOut:
    currency = invoice.currency

    def money(minor: int) -> str:
        return _money(minor, currency)

    return InvoiceOut(
        hosted_url=hosted_url_of(invoice),
        id=invoice.id,
        number=invoice.number,
        status=invoice.status,
        payment_status=payment_status(
            invoice.total_minor - invoice.credited_against_due_minor, invoice.amount_paid_minor
        ),
        currency=currency,
        prices_include_tax=invoice.prices_include_tax,
        customer_id=invoice.customer_id,
        customer=invoice.customer_snapshot,
        seller=invoice.seller_snapshot,
        lines=[
            InvoiceLineOut(
                id=line.id,
                position=line.position,
                description=line.description,
                sku=line.sku,
                quantity=str(line.quantity),
                unit_code=line.unit_code,
                unit_price=str(line.unit_price),
                tax_rate_id=line.tax_rate_id,
                tax=line_tax_out(line),
                allowances=_adjustments_out(line.allowances),
                charges=_adjustments_out(line.charges),
                amount=money(line.amount_minor),
                allowance_total=money(line.allowance_total_minor),
                charge_total=money(line.charge_total_minor),
                net_amount=money(line.net_minor),
                gross_amount=None if line.gross_minor is None else money(line.gross_minor),
                period_start=line.period_start,
                period_end=line.period_end,
                metadata=line.metadata_,
                source=LineSourceOut(kind=line.source_kind, id=line.source_id) if line.source_id else None,
            )
            for line in invoice.lines
        ],
        adjustments=_document_adjustments_out(invoice.adjustments),
        tax_breakdown=tax_breakdown_out(invoice.tax_groups, currency),
        subtotal=money(invoice.line_net_total_minor),
        allowance_total=money(invoice.allowance_total_minor),
        charge_total=money(invoice.charge_total_minor),
        total_excluding_tax=money(invoice.tax_exclusive_minor),
        tax_total=money(invoice.tax_total_minor),
        total=money(invoice.total_minor),
        amount_paid=money(invoice.amount_paid_minor),
        amount_due=money(invoice.amount_due_minor),
        credited_amount=money(invoice.credited_minor),
        credit_notes=[CreditNoteRefOut(id=note.id, number=note.number) for note in invoice.credit_notes],
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        memo=invoice.memo,
        metadata=invoice.metadata_,
        external_reference=invoice.external_reference,
        buyer_reference=invoice.buyer_reference,
        source=invoice.source,
        contract_id=invoice.contract_id,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        delivery_date=invoice.delivery_date,
        deliver_to=invoice.deliver_to,
        payment_means=invoice.payment_means,
        prepaid_amount=money(invoice.prepaid_minor),
        status_history=[
            StatusChangeOut(
                from_status=event.from_status,
                to_status=event.to_status,
                actor=event.actor,
                reason=event.reason,
                at=event.created_at,
            )
            for event in invoice.events
        ],
        payments=[
            PaymentOut(
                id=p.id,
                amount=money(p.amount_minor),
                paid_on=p.paid_on,
                method=p.method,
                reference=p.reference,
                created_at=p.created_at,
            )
            for p in invoice.payments
        ],
        created_at=invoice.created_at,
        updated_at=invoice.updated_at,
        finalized_at=invoice.finalized_at,
    )


def present_preview(
    customer: Customer, computed: Computed, customer_snapshot: dict[str, Any]
) -> InvoicePreviewOut:
    currency = computed.currency
    fmt = calc.format_amount
    totals = computed.result.totals
    return InvoicePreviewOut(
        currency=currency,
        prices_include_tax=computed.prices_include_tax,
        customer=customer_snapshot,
        lines=[
            InvoiceLineOut(
                id=None,
                position=position,
                description=line.line.description,
                sku=line.line.sku,
                quantity=str(line.line.quantity),
                unit_code=line.line.unit_code,
                unit_price=str(line.line.unit_price),
                tax_rate_id=line.tax_rate.id if line.tax_rate else None,
                tax=TaxOut(
                    category=line.tax.category,
                    percent=str(line.tax.percent),
                    exemption_reason=line.tax.exemption_reason,
                    exemption_reason_code=line.tax.exemption_reason_code,
                ),
                allowances=[AdjustmentOut(**_plain(a)) for a in line.line.allowances],
                charges=[AdjustmentOut(**_plain(c)) for c in line.line.charges],
                amount=fmt(result.amount, currency),
                allowance_total=fmt(result.allowance_total, currency),
                charge_total=fmt(result.charge_total, currency),
                net_amount=fmt(result.net, currency),
                gross_amount=None if result.gross is None else fmt(result.gross, currency),
                period_start=line.line.period_start,
                period_end=line.line.period_end,
                metadata=dict(line.line.metadata or {}),
            )
            for position, (line, result) in enumerate(
                zip(computed.lines, computed.result.lines, strict=True), 1
            )
        ],
        adjustments=[
            DocumentAdjustmentOut(
                kind=adj.adjustment.kind,
                **_plain(adj.adjustment),
                base_amount=None if adj.adjustment.base_amount is None else str(adj.adjustment.base_amount),
                tax_rate_id=adj.adjustment.tax_rate_id,
                tax=TaxOut(
                    category=adj.tax.category,
                    percent=str(adj.tax.percent),
                    exemption_reason=adj.tax.exemption_reason,
                    exemption_reason_code=adj.tax.exemption_reason_code,
                ),
                computed_amount=fmt(result.amount, currency),
            )
            for adj, result in zip(computed.adjustments, computed.result.adjustments, strict=True)
        ],
        tax_breakdown=[
            TaxBreakdownOut(
                category=group.category,
                percent=str(group.percent),
                taxable_amount=fmt(group.taxable_amount, currency),
                tax_amount=fmt(group.tax_amount, currency),
                exemption_reason=group.exemption_reason,
                exemption_reason_code=group.exemption_reason_code,
            )
            for group in computed.result.tax_groups
        ],
        subtotal=fmt(totals.line_net_total, currency),
        allowance_total=fmt(totals.allowance_total, currency),
        charge_total=fmt(totals.charge_total, currency),
        total_excluding_tax=fmt(totals.tax_exclusive_total, currency),
        tax_total=fmt(totals.tax_total, currency),
        total=fmt(totals.tax_inclusive_total, currency),
        amount_due=fmt(totals.tax_inclusive_total, currency),
    )


def _plain(adj: Any) -> dict[str, Any]:
    return {
        "amount": None if adj.amount is None else str(adj.amount),
        "percent": None if adj.percent is None else str(adj.percent),
        "reason": adj.reason,
        "reason_code": adj.reason_code,
    }
