"""Turn orders (with what their live invoices bill) into response bodies."""

from __future__ import annotations

from faktur import calc
from faktur.orders.schemas import OrderLineOut, OrderOut
from faktur.orders.service import OrderView


def present_order(view: OrderView) -> OrderOut:
    order = view.order
    currency = order.currency

    def money(minor: int) -> str:
        return calc.format_amount(calc.from_minor(minor, currency), currency)

    return OrderOut(
        id=order.id,
        customer_id=order.customer_id,
        currency=currency,
        prices_include_tax=order.prices_include_tax,
        external_reference=order.external_reference,
        metadata=order.metadata_,
        status=view.status,
        subtotal=money(order.net_total_minor),
        tax_total=money(order.tax_total_minor),
        total=money(order.total_minor),
        lines=[
            OrderLineOut(
                id=line.id,
                position=line.position,
                name=line.name,
                sku=line.sku,
                unit_code=line.unit_code,
                unit_price=str(line.unit_price),
                tax_rate_id=line.tax_rate_id,
                tax=None
                if line.tax_rate_id is not None
                else {
                    "category": line.tax_category,
                    "percent": str(line.tax_percent),
                    "exemption_reason": line.exemption_reason,
                    "exemption_reason_code": line.exemption_reason_code,
                },
                discount_percent=None if line.discount_percent is None else str(line.discount_percent),
                discount_amount=money(line.discount_minor),
                discount_reason=line.discount_reason,
                quantity=str(line.quantity),
                invoiced_quantity=str(view.invoiced(line)),
                remaining_quantity=str(view.remaining(line)),
                metadata=line.metadata_,
            )
            for line in order.lines
        ],
        invoice_ids=view.invoice_ids,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
