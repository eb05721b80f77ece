"""Request bodies of /v1/invoices mapped to the core's commands (faktur.invoices.domain).

The endpoints, and the dialects that speak in these bodies, call one function each; nothing
below the mapping sees a request schema.
"""

from __future__ import annotations

from collections.abc import Sequence

from faktur import calc
from faktur.invoices.domain import (
    InvoiceEdit,
    InvoiceOrigin,
    LineAdjustment,
    LineSource,
    NewAdjustment,
    NewInvoice,
    NewLine,
    NewPayment,
)
from faktur.invoices.schemas import (
    AdjustmentIn,
    DeliverToIn,
    DocumentAdjustmentIn,
    InvoiceCreate,
    InvoiceLineIn,
    InvoiceUpdate,
    PaymentCreate,
    TaxIn,
)
from faktur.payment_means import PaymentMeansIn


def tax_spec(tax: TaxIn) -> calc.TaxSpec:
    return calc.TaxSpec(tax.category, tax.percent, tax.exemption_reason, tax.exemption_reason_code)


def line_adjustment(adj: AdjustmentIn) -> LineAdjustment:
    return LineAdjustment(adj.amount, adj.percent, adj.reason, adj.reason_code)


def new_line(line: InvoiceLineIn, source: LineSource | None = None) -> NewLine:
    return NewLine(
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax_rate_id=line.tax_rate_id,
        tax=None if line.tax is None else tax_spec(line.tax),
        sku=line.sku,
        unit_code=line.unit_code,
        period_start=line.period_start,
        period_end=line.period_end,
        allowances=tuple(line_adjustment(a) for a in line.allowances),
        charges=tuple(line_adjustment(c) for c in line.charges),
        metadata=line.metadata,
        source=source,
    )


def new_adjustment(adj: DocumentAdjustmentIn) -> NewAdjustment:
    return NewAdjustment(
        kind=adj.kind,
        amount=adj.amount,
        percent=adj.percent,
        base_amount=adj.base_amount,
        reason=adj.reason,
        reason_code=adj.reason_code,
        tax_rate_id=adj.tax_rate_id,
        tax=None if adj.tax is None else tax_spec(adj.tax),
    )


def stored_deliver_to(deliver_to: DeliverToIn | None) -> dict[str, object] | None:
    return deliver_to.model_dump(mode="json", exclude_none=True) if deliver_to else None


def stored_payment_means(means: PaymentMeansIn | None) -> dict[str, object] | None:
    return means.stored() if means else None


def new_invoice(
    body: InvoiceCreate,
    *,
    origin: InvoiceOrigin | None = None,
    line_sources: Sequence[LineSource | None] | None = None,
) -> NewInvoice:
    """The command of a create body; callers that invoice records pass the origin and one
    source per line."""
    sources = list(line_sources) if line_sources is not None else [None] * len(body.lines)
    return NewInvoice(
        customer_id=body.customer_id,
        lines=tuple(new_line(line, source) for line, source in zip(body.lines, sources, strict=True)),
        finalize=body.finalize,
        currency=body.currency,
        prices_include_tax=body.prices_include_tax,
        due_date=body.due_date,
        payment_terms_days=body.payment_terms_days,
        memo=body.memo,
        metadata=body.metadata,
        external_reference=body.external_reference,
        buyer_reference=body.buyer_reference,
        adjustments=tuple(new_adjustment(a) for a in body.adjustments or []),
        delivery_date=body.delivery_date,
        period_start=body.period_start,
        period_end=body.period_end,
        deliver_to=stored_deliver_to(body.deliver_to),
        payment_means=stored_payment_means(body.payment_means),
        origin=origin or InvoiceOrigin(),
    )


def invoice_edit(body: InvoiceUpdate) -> InvoiceEdit:
    """The command of a PATCH body: the fields it sets, and their values."""
    return InvoiceEdit(
        given=frozenset(body.model_fields_set),
        customer_id=body.customer_id,
        lines=None if body.lines is None else tuple(new_line(line) for line in body.lines),
        currency=body.currency,
        prices_include_tax=body.prices_include_tax,
        due_date=body.due_date,
        payment_terms_days=body.payment_terms_days,
        memo=body.memo,
        metadata=body.metadata,
        external_reference=body.external_reference,
        buyer_reference=body.buyer_reference,
        adjustments=None if body.adjustments is None else tuple(new_adjustment(a) for a in body.adjustments),
        delivery_date=body.delivery_date,
        period_start=body.period_start,
        period_end=body.period_end,
        deliver_to=stored_deliver_to(body.deliver_to),
        payment_means=stored_payment_means(body.payment_means),
    )


def new_payment(body: PaymentCreate) -> NewPayment:
    return NewPayment(amount=body.amount, paid_on=body.paid_on, method=body.method, reference=body.reference)
