"""HTTP endpoints of /v1/orders: thin wrappers over orders.service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import Page
from faktur.http.routing import TransactionalRoute
from faktur.invoices.presenters import present_invoice
from faktur.invoices.schemas import InvoiceOut
from faktur.orders import service
from faktur.orders.presenters import present_order
from faktur.orders.schemas import OrderCreate, OrderInvoiceCreate, OrderOut
from faktur.paging import Cursor

router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=TransactionalRoute)


@router.post(
    "",
    status_code=201,
    response_model=OrderOut,
    summary="Create an order",
    description=(
        "Records what a customer ordered: lines with quantity, unit price, tax (a tax rate or inline) "
        "and an optional discount (an amount for the whole line or a percent). The whole order is "
        "priced by the invoice engine, so anything an invoice of it would reject is rejected here "
        "(422). `external_reference` is unique per organisation (409 `order_external_reference_taken`)."
    ),
)
def create_order(
    body: OrderCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> OrderOut:
    return present_order(service.create_order(session, principal.as_actor(), body, now))


@router.get(
    "",
    response_model=Page[OrderOut],
    summary="List orders, newest first",
    description="Cursor paging (`cursor=next_cursor`); `customer_id` narrows to one customer's orders.",
)
def list_orders(
    principal: CurrentPrincipal,
    session: SessionDep,
    customer_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[OrderOut]:
    after = Cursor.decode(cursor) if cursor else None
    views, has_more = service.list_orders(session, principal.organisation_id, limit, after, customer_id)
    next_cursor = Cursor(views[-1].order.created_at, views[-1].order.id).encode() if has_more else None
    return Page(data=[present_order(v) for v in views], has_more=has_more, next_cursor=next_cursor)


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    summary="Get an order with ordered, invoiced and remaining quantities per line",
    description=(
        "`invoiced_quantity` counts the lines of live invoices only: voiding an invoice gives its "
        "quantities back to the order."
    ),
)
def get_order(order_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> OrderOut:
    return present_order(service.get_order(session, principal.organisation_id, order_id))


@router.post(
    "/{order_id}/invoices",
    status_code=201,
    response_model=InvoiceOut,
    summary="Invoice an order: everything that remains, or the quantities given",
    description=(
        "Without `lines`, invoices every remaining quantity; with `lines: [{order_line_id, quantity}]`, "
        "exactly those. Each invoice line carries the order line's price and tax, its share of the line "
        "discount in proportion to the quantity (the invoice that completes a line takes what is left, "
        "so the shares add up to the discount exactly) and `source: {kind: order_line, id}`. The order "
        "is locked while remaining quantities are computed: of two concurrent requests for the same "
        "quantities one succeeds and the other gets 409. Errors: 404 `order_not_found`; 409 "
        "`order_fully_invoiced`; 409 `quantity_exceeds_remaining` (details name the line, the requested "
        "and the remaining quantity); 422 `order_line_not_in_order`.\n\n"
        "```sh\n"
        "# ship 2 of line L1 now, invoiced and issued at once; retry-safe with the key\n"
        'curl -s $API/v1/orders/$ORDER/invoices -H "Authorization: Bearer $KEY" \\\n'
        "  -H 'Content-Type: application/json' -H 'Idempotency-Key: shipment-77' \\\n"
        '  -d \'{"lines": [{"order_line_id": "\'$L1\'", "quantity": "2"}], "finalize": true}\'\n'
        "# the rest later: -d '{\"finalize\": true}'\n"
        "```"
    ),
)
def invoice_order(
    order_id: uuid.UUID,
    body: OrderInvoiceCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> InvoiceOut:
    return present_invoice(service.invoice_order(session, principal.as_actor(), order_id, body, now))
