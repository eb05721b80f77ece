"""An invoice's rows built in memory from a command and what the engine computed, and the
commands read back from stored rows (editing a draft). Pure: no session, no SQL; the
repository writes the rows (faktur.invoices.repository)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm.attributes import set_committed_value

from faktur import calc
from faktur.invoices import lifecycle
from faktur.invoices.calculation import Computed
from faktur.invoices.domain import (
    InvoiceStatus,
    LineAdjustment,
    LineSource,
    NewAdjustment,
    NewInvoice,
    NewLine,
)
from faktur.invoices.snapshots import customer_snapshot
from faktur.models import Customer, Invoice, InvoiceLine, InvoiceTaxGroup, Organisation

_Row = TypeVar("_Row")


def build_invoice(
    organisation: Organisation,
    actor: str,
    command: NewInvoice,
    customer: Customer,
    computed: Computed,
    now: datetime,
) -> tuple[Invoice, date | None]:
    """A new invoice with its lines, tax groups and status events, built in memory (nothing is
    added to a session), and issued if `command.finalize`: then the issue date is returned and
    the caller numbers it."""
    origin = command.origin
    invoice = Invoice(
        id=uuid.uuid4(),
        organisation_id=organisation.id,
        customer_id=customer.id,
        series="default",
        status=InvoiceStatus.DRAFT.value,
        due_date=command.due_date,
        payment_terms_days=command.payment_terms_days,
        memo=command.memo,
        metadata_=dict(command.metadata or {}),
        external_reference=command.external_reference,
        buyer_reference=command.buyer_reference,
        customer_snapshot=customer_snapshot(customer),
        amount_paid_minor=0,
        created_at=now,
        updated_at=now,
        source=origin.source,
        contract_id=origin.contract_id,
        period_start=origin.period_start or command.period_start,
        period_end=origin.period_end or command.period_end,
        delivery_date=command.delivery_date,
        deliver_to=_plain_dict(command.deliver_to),
        payment_means=_plain_dict(command.payment_means),
        prepaid_minor=0,
        credited_minor=0,
        credited_against_due_minor=0,
        number=None,
        issue_date=None,
        seller_snapshot=None,
        finalized_at=None,
        events=[],
        payments=[],
    )
    set_committed_value(invoice, "credit_notes", [])
    lines, tax_groups = fill(invoice, computed)
    # Set as loaded, without a collection event per row: nothing here is flushed by the unit of
    # work (the repository writes the rows itself, then attaches them as persistent).
    set_committed_value(invoice, "lines", lines)
    set_committed_value(invoice, "tax_groups", tax_groups)
    lifecycle.record_event(invoice, InvoiceStatus.DRAFT, actor, now)
    if not command.finalize:
        return invoice, None
    issue_date = lifecycle.prepare_finalization(
        organisation, actor, invoice, customer, now, invoice_input=computed.invoice_input
    )
    return invoice, issue_date


def _plain_dict(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def _dump_adjustment(adj: LineAdjustment | NewAdjustment) -> dict[str, Any]:
    return {
        "amount": None if adj.amount is None else str(adj.amount),
        "percent": None if adj.percent is None else str(adj.percent),
        "reason": adj.reason,
        "reason_code": adj.reason_code,
    }


def dump_tax(tax: calc.TaxSpec) -> dict[str, Any]:
    """A tax as stored in adjustments (read back by faktur.invoices.calculation)."""
    return {
        "category": tax.category.value,
        "percent": str(tax.percent),
        "exemption_reason": tax.exemption_reason,
        "exemption_reason_code": tax.exemption_reason_code,
    }


def fill(invoice: Invoice, computed: Computed) -> tuple[list[InvoiceLine], list[InvoiceTaxGroup]]:
    """Set the totals of `computed` on `invoice` and build its line and tax group rows."""
    currency = computed.currency
    minor = calc.to_minor
    invoice.currency = currency
    invoice.prices_include_tax = computed.prices_include_tax
    lines = [
        new_row(
            InvoiceLine,
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            organisation_id=invoice.organisation_id,
            created_at=invoice.updated_at,
            position=position,
            description=line.line.description,
            sku=line.line.sku,
            quantity=line.line.quantity,
            unit_code=line.line.unit_code,
            unit_price=line.line.unit_price,
            tax_rate_id=line.tax_rate.id if line.tax_rate else None,
            tax_category=line.tax.category.value,
            tax_percent=line.tax.percent,
            exemption_reason=line.tax.exemption_reason,
            exemption_reason_code=line.tax.exemption_reason_code,
            allowances=[_dump_adjustment(a) for a in line.line.allowances],
            charges=[_dump_adjustment(c) for c in line.line.charges],
            amount_minor=minor(result.amount, currency),
            allowance_total_minor=minor(result.allowance_total, currency),
            charge_total_minor=minor(result.charge_total, currency),
            net_minor=minor(result.net, currency),
            gross_minor=None if result.gross is None else minor(result.gross, currency),
            period_start=line.line.period_start,
            period_end=line.line.period_end,
            metadata_=dict(line.line.metadata or {}),
            source_kind=line.line.source.kind if line.line.source else None,
            source_id=line.line.source.id if line.line.source else None,
            live=True,
        )
        for position, (line, result) in enumerate(zip(computed.lines, computed.result.lines, strict=True), 1)
    ]
    invoice.adjustments = [
        {
            "kind": adj.adjustment.kind,
            **_dump_adjustment(adj.adjustment),
            "base_amount": None if adj.adjustment.base_amount is None else str(adj.adjustment.base_amount),
            "tax_rate_id": None if adj.adjustment.tax_rate_id is None else str(adj.adjustment.tax_rate_id),
            "tax": dump_tax(adj.tax),
            "computed_amount": str(result.amount),
        }
        for adj, result in zip(computed.adjustments, computed.result.adjustments, strict=True)
    ]
    tax_groups = [
        new_row(
            InvoiceTaxGroup,
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            organisation_id=invoice.organisation_id,
            created_at=invoice.updated_at,
            position=position,
            category=group.category.value,
            percent=group.percent,
            taxable_minor=minor(group.taxable_amount, currency),
            tax_minor=minor(group.tax_amount, currency),
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for position, group in enumerate(computed.result.tax_groups, start=1)
    ]
    totals = computed.result.totals
    invoice.line_net_total_minor = minor(totals.line_net_total, currency)
    invoice.allowance_total_minor = minor(totals.allowance_total, currency)
    invoice.charge_total_minor = minor(totals.charge_total, currency)
    invoice.tax_exclusive_minor = minor(totals.tax_exclusive_total, currency)
    invoice.tax_total_minor = minor(totals.tax_total, currency)
    invoice.total_minor = minor(totals.tax_inclusive_total, currency)
    return lines, tax_groups


def new_row(model: type[_Row], **values: Any) -> _Row:
    """A new mapped object with `values` set without attribute events. Invoice lines and tax
    groups are written with table-level INSERTs, never by the unit of work, so the per-attribute
    change tracking would buy nothing; it was the largest cost of building an invoice in memory."""
    row = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    row.__dict__.update(values)
    return row


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _stored_adjustment(data: Mapping[str, Any]) -> LineAdjustment:
    return LineAdjustment(
        _decimal(data.get("amount")),
        _decimal(data.get("percent")),
        data.get("reason"),
        data.get("reason_code"),
    )


def line_of(row: InvoiceLine) -> NewLine:
    """A stored line as the command that would create it again (its source kept)."""
    tax = None
    if row.tax_rate_id is None:
        tax = calc.TaxSpec(
            calc.TaxCategory(row.tax_category),
            row.tax_percent,
            row.exemption_reason,
            row.exemption_reason_code,
        )
    return NewLine(
        description=row.description,
        quantity=row.quantity,
        unit_price=row.unit_price,
        tax_rate_id=row.tax_rate_id,
        tax=tax,
        sku=row.sku,
        unit_code=row.unit_code,
        period_start=row.period_start,
        period_end=row.period_end,
        allowances=tuple(_stored_adjustment(a) for a in row.allowances),
        charges=tuple(_stored_adjustment(c) for c in row.charges),
        metadata=row.metadata_ or None,
        source=LineSource(row.source_kind, row.source_id) if row.source_kind and row.source_id else None,
    )


def adjustment_of(data: Mapping[str, Any]) -> NewAdjustment:
    """A stored document allowance or charge as the command that would create it again."""
    rate_id = data.get("tax_rate_id")
    tax = data["tax"]
    return NewAdjustment(
        kind=data["kind"],
        amount=_decimal(data.get("amount")),
        percent=_decimal(data.get("percent")),
        base_amount=_decimal(data.get("base_amount")),
        reason=data.get("reason"),
        reason_code=data.get("reason_code"),
        tax_rate_id=uuid.UUID(rate_id) if rate_id else None,
        tax=None
        if rate_id
        else calc.TaxSpec(
            calc.TaxCategory(tax["category"]),
            Decimal(tax["percent"]),
            tax.get("exemption_reason"),
            tax.get("exemption_reason_code"),
        ),
    )
