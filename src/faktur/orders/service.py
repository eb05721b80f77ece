"""Order operations, one function each; guard checks first; services flush, never commit.

Invoicing an order locks the order row, reads what live invoices already bill inside that lock,
and creates the invoice through the invoicing core, so two concurrent requests for the same
remaining quantities produce one invoice and one 409.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from faktur import calc
from faktur.context import Actor
from faktur.customers import service as customers
from faktur.invoices import calculation
from faktur.invoices import service as invoices
from faktur.invoices.domain import InvoiceOrigin, LineAdjustment, LineSource, NewInvoice, NewLine
from faktur.models import Invoice, Order, OrderLine
from faktur.orders import events as order_events
from faktur.orders import repository
from faktur.orders.errors import (
    DiscountExceedsLineAmount,
    DiscountTooPrecise,
    OrderExternalReferenceTaken,
    OrderFullyInvoiced,
    OrderLineNotInOrder,
    OrderNotFound,
    OrderQuantityExceedsRemaining,
    QuantityExceedsRemaining,
)
from faktur.orders.repository import SOURCE_KIND, Billed
from faktur.orders.schemas import OrderCreate, OrderInvoiceCreate, OrderLineIn
from faktur.paging import Cursor

DEFAULT_DISCOUNT_REASON = "Discount"


@dataclass(frozen=True)
class OrderView:
    """An order with what its live invoices bill, per line, and the invoices that billed it."""

    order: Order
    billed: dict[uuid.UUID, Billed]
    invoice_ids: list[uuid.UUID]

    def invoiced(self, line: OrderLine) -> Decimal:
        entry = self.billed.get(line.id)
        return entry.quantity if entry else Decimal(0)

    def remaining(self, line: OrderLine) -> Decimal:
        return line.quantity - self.invoiced(line)

    @property
    def status(self) -> str:
        lines = self.order.lines
        if all(self.remaining(line) <= 0 for line in lines):
            return "invoiced"
        if any(self.invoiced(line) > 0 for line in lines):
            return "partially_invoiced"
        return "open"


def _view(session: Session, organisation_id: uuid.UUID, order: Order) -> OrderView:
    billed = repository.billed(session, organisation_id, [order])
    ids = repository.invoice_ids(session, organisation_id, [order]).get(order.id, [])
    return OrderView(order, billed, ids)


def get_order(session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID) -> OrderView:
    order = repository.get(session, organisation_id, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return _view(session, organisation_id, order)


def list_orders(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    customer_id: uuid.UUID | None,
) -> tuple[list[OrderView], bool]:
    rows = repository.list_page(session, organisation_id, limit, cursor, customer_id)
    page = rows[:limit]
    billed = repository.billed(session, organisation_id, page)
    invoice_ids = repository.invoice_ids(session, organisation_id, page)
    views = [OrderView(order, billed, invoice_ids.get(order.id, [])) for order in page]
    return views, len(rows) > limit


def _tax_spec(line: OrderLine | OrderLineIn) -> calc.TaxSpec | None:
    if isinstance(line, OrderLineIn):
        tax = line.tax
        return (
            None
            if tax is None
            else calc.TaxSpec(tax.category, tax.percent, tax.exemption_reason, tax.exemption_reason_code)
        )
    if line.tax_rate_id is not None:
        return None
    # An order line has a tax rate or an inline tax (create_order checks it).
    assert line.tax_category is not None and line.tax_percent is not None
    return calc.TaxSpec(
        calc.TaxCategory(line.tax_category),
        line.tax_percent,
        line.exemption_reason,
        line.exemption_reason_code,
    )


def _priced_line(line: OrderLineIn) -> NewLine:
    """The whole order line as one invoice line: what the engine checks and totals the order with."""
    allowances = []
    if line.discount is not None:
        allowances.append(
            LineAdjustment(
                amount=line.discount.amount,
                percent=line.discount.percent,
                reason=line.discount.reason or DEFAULT_DISCOUNT_REASON,
            )
        )
    return NewLine(
        description=line.name,
        sku=line.sku,
        quantity=line.quantity,
        unit_code=line.unit_code,
        unit_price=line.unit_price,
        tax_rate_id=line.tax_rate_id,
        tax=_tax_spec(line),
        allowances=tuple(allowances),
    )


def create_order(session: Session, actor: Actor, data: OrderCreate, now: datetime) -> OrderView:
    organisation_id = actor.organisation_id
    customer = customers.get_customer(session, organisation_id, data.customer_id)
    if data.external_reference is not None and repository.external_reference_taken(
        session, organisation_id, data.external_reference
    ):
        raise OrderExternalReferenceTaken(data.external_reference)
    currency = calculation.customer_currency(customer, actor.organisation, data.currency)
    for index, line in enumerate(data.lines):
        amount = line.discount.amount if line.discount else None
        if amount is not None and calc.quantize_money(amount, currency) != amount:
            raise DiscountTooPrecise(index, amount, currency, calc.minor_units(currency))
    # The engine prices the whole order as one invoice: the same checks (tax rates, EN 16931 line
    # rules, currency precision of discount amounts) every later invoice of it would face.
    computed = invoices.compute_content(
        session,
        actor.organisation,
        customer,
        currency=currency,
        prices_include_tax=data.prices_include_tax,
        lines=[_priced_line(line) for line in data.lines],
        adjustments=[],
    )
    for index, result in enumerate(computed.result.lines):
        if result.allowance_total > result.amount:
            raise DiscountExceedsLineAmount(
                index,
                calc.format_amount(result.allowance_total, currency),
                calc.format_amount(result.amount, currency),
            )
    created_at = (data.created_at or now).astimezone(UTC)
    order = Order(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        customer_id=customer.id,
        currency=currency,
        prices_include_tax=data.prices_include_tax,
        external_reference=data.external_reference,
        metadata_=data.metadata or {},
        net_total_minor=calc.to_minor(computed.result.totals.line_net_total, currency),
        tax_total_minor=calc.to_minor(computed.result.totals.tax_total, currency),
        total_minor=calc.to_minor(computed.result.totals.tax_inclusive_total, currency),
        created_at=created_at,
        updated_at=now,
    )
    order.lines = [
        OrderLine(
            id=uuid.uuid4(),
            organisation_id=organisation_id,
            created_at=created_at,
            position=position,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_code=line.unit_code,
            unit_price=line.unit_price,
            tax_rate_id=line.tax_rate_id,
            tax_category=None if line.tax is None else line.tax.category.value,
            tax_percent=None if line.tax is None else line.tax.percent,
            exemption_reason=None if line.tax is None else line.tax.exemption_reason,
            exemption_reason_code=None if line.tax is None else line.tax.exemption_reason_code,
            discount_percent=None if line.discount is None else line.discount.percent,
            discount_minor=calc.to_minor(result.allowance_total, currency),
            discount_reason=None if line.discount is None else line.discount.reason,
            metadata_=line.metadata or {},
        )
        for position, (line, result) in enumerate(
            zip(data.lines, computed.result.lines, strict=True), start=1
        )
    ]
    repository.add(session, order)
    return OrderView(order, {}, [])


def discount_share_minor(
    discount_minor: int, ordered: Decimal, invoiced_before: Decimal, billed_minor: int, quantity: Decimal
) -> int:
    """The discount share (minor units) of invoicing `quantity` more of a line.

    The live shares after this invoice add up to round(discount x invoiced / ordered), so every
    partial invoice carries the discount in proportion to its quantity, and the invoice that
    completes the line takes exactly what is left: the shares of a fully invoiced line always add
    up to the line's discount, whatever was invoiced, voided and invoiced again before.
    """
    if not discount_minor:
        return 0
    left = discount_minor - billed_minor
    invoiced_after = invoiced_before + quantity
    if invoiced_after >= ordered:
        return left
    target = (Decimal(discount_minor) * invoiced_after / ordered).to_integral_value(ROUND_HALF_UP)
    return max(0, min(int(target) - billed_minor, left))


def _requested(order: Order, view: OrderView, data: OrderInvoiceCreate) -> list[tuple[OrderLine, Decimal]]:
    """(order line, quantity to invoice) in line order; raises 422/409 for what cannot be invoiced."""
    if all(view.remaining(line) <= 0 for line in order.lines):
        raise OrderFullyInvoiced(order.id)
    if data.lines is None:
        return [(line, view.remaining(line)) for line in order.lines if view.remaining(line) > 0]
    by_id = {line.id: line for line in order.lines}
    unknown = [
        {
            "field": f"lines[{i}].order_line_id",
            "reason": "not a line of this order",
            "order_line_id": str(r.order_line_id),
        }
        for i, r in enumerate(data.lines)
        if r.order_line_id not in by_id
    ]
    if unknown:
        raise OrderLineNotInOrder(order.id, unknown)
    exceeding = []
    for i, requested in enumerate(data.lines):
        line = by_id[requested.order_line_id]
        remaining = view.remaining(line)
        if requested.quantity > remaining:
            exceeding.append(
                {
                    "field": f"lines[{i}].quantity",
                    "reason": f"requested {requested.quantity}, remaining {remaining}",
                    "order_line_id": str(line.id),
                    "requested_quantity": str(requested.quantity),
                    "remaining_quantity": str(remaining),
                }
            )
    if exceeding:
        raise QuantityExceedsRemaining(exceeding)
    quantities = {r.order_line_id: r.quantity for r in data.lines}
    return [(line, quantities[line.id]) for line in order.lines if line.id in quantities]


@dataclass(frozen=True)
class IssuedItem:
    """An item of an invoice another system issued for an order: which order line it bills is
    found by its SKU, else by its name."""

    sku: str | None
    name: str
    quantity: Decimal


def sources_of_issued_items(
    session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID, items: Sequence[IssuedItem]
) -> list[LineSource | None]:
    """What each item bills of the order, for an import of an invoice issued elsewhere, so that
    it uses up the order's quantities like any invoice of the order. The order is locked as for
    invoice_order; an item beyond what remains of its line is a 409 (nothing is invoiced twice).
    Items that match no order line (shipping, a fee) and credits (quantity <= 0) bill nothing."""
    locked = repository.lock_for_invoicing(session, organisation_id, order_id)
    if locked is None:
        raise OrderNotFound(order_id)
    order, _customer = locked
    view = OrderView(order, repository.billed(session, organisation_id, [order]), [])
    by_sku = {line.sku: line for line in order.lines if line.sku}
    by_name = {line.name: line for line in order.lines}
    wanted: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    sources: list[LineSource | None] = []
    exceeding = []
    for index, item in enumerate(items):
        line = (by_sku.get(item.sku) if item.sku else None) or by_name.get(item.name)
        if line is None or item.quantity <= 0:
            sources.append(None)
            continue
        wanted[line.id] += item.quantity
        remaining = view.remaining(line)
        if wanted[line.id] > remaining:
            exceeding.append(
                {
                    "field": f"lines[{index}].quantity",
                    "reason": f"order line {line.sku or line.name} has {remaining} left to invoice",
                    "order_line_id": str(line.id),
                    "remaining_quantity": str(remaining),
                }
            )
        sources.append(LineSource(SOURCE_KIND, line.id))
    if exceeding:
        raise OrderQuantityExceedsRemaining(order.id, exceeding)
    return sources


def invoice_order(
    session: Session, actor: Actor, order_id: uuid.UUID, data: OrderInvoiceCreate, now: datetime
) -> Invoice:
    """Invoice the given (or all remaining) quantities of an order, exactly once."""
    organisation_id = actor.organisation_id
    locked = repository.lock_for_invoicing(session, organisation_id, order_id)
    if locked is None:
        raise OrderNotFound(order_id)
    order, customer = locked
    view = OrderView(order, repository.billed(session, organisation_id, [order]), [])
    chosen = _requested(order, view, data)
    currency = order.currency
    lines = []
    for line, quantity in chosen:
        entry = view.billed.get(line.id) or Billed()
        share = discount_share_minor(
            line.discount_minor,
            line.quantity,
            entry.quantity,
            calc.to_minor(entry.discount, currency),
            quantity,
        )
        allowances = []
        if share:
            reason = line.discount_reason or DEFAULT_DISCOUNT_REASON
            allowances.append(LineAdjustment(amount=calc.from_minor(share, currency), reason=reason))
        lines.append(
            NewLine(
                description=line.name,
                sku=line.sku,
                quantity=quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                tax_rate_id=line.tax_rate_id,
                tax=_tax_spec(line),
                allowances=tuple(allowances),
                metadata=line.metadata_ or None,
                source=LineSource(SOURCE_KIND, line.id),
            )
        )
    metadata = {**(data.metadata or {}), "order_id": str(order.id)}
    if order.external_reference:
        metadata["order_reference"] = order.external_reference
    command = NewInvoice(
        customer_id=order.customer_id,
        currency=currency,
        prices_include_tax=order.prices_include_tax,
        lines=tuple(lines),
        finalize=data.finalize,
        due_date=data.due_date,
        payment_terms_days=data.payment_terms_days,
        memo=data.memo,
        external_reference=data.external_reference,
        metadata=metadata,
        origin=InvoiceOrigin(source="order"),
    )
    invoice = invoices.create_invoice(session, actor, command, now, customer=customer)
    order_events.record_if_fully_invoiced(session, organisation_id, order.id, now)
    return invoice
