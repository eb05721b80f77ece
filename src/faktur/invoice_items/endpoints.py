"""HTTP endpoints of /v1/invoice-items: thin wrappers over invoice_items.service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import Page
from faktur.http.routing import TransactionalRoute
from faktur.invoice_items import service
from faktur.invoice_items.schemas import (
    InvoiceItemCreate,
    InvoiceItemOut,
    InvoiceItemsInvoice,
    InvoiceItemsInvoiced,
    SkippedItemOut,
)
from faktur.invoice_items.service import ItemView
from faktur.invoices.presenters import present_invoice
from faktur.invoices.service import get_invoices
from faktur.paging import Cursor

router = APIRouter(prefix="/v1/invoice-items", tags=["invoice items"], route_class=TransactionalRoute)


def present_item(view: ItemView) -> InvoiceItemOut:
    item = view.item
    return InvoiceItemOut(
        id=item.id,
        customer_id=item.customer_id,
        contract_id=item.contract_id,
        status=view.status,
        invoice_id=view.invoice_id,
        currency=item.currency,
        payment_mode=item.payment_mode,
        description=item.description,
        sku=item.sku,
        quantity=str(item.quantity),
        unit_code=item.unit_code,
        unit_price=str(item.unit_price),
        amount=service.item_amount(item),
        tax_rate_id=item.tax_rate_id,
        tax=None
        if item.tax_rate_id is not None
        else {
            "category": item.tax_category,
            "percent": str(item.tax_percent),
            "exemption_reason": item.exemption_reason,
            "exemption_reason_code": item.exemption_reason_code,
        },
        prices_include_tax=item.prices_include_tax,
        period_start=item.period_start,
        period_end=item.period_end,
        metadata=item.metadata_,
        created_at=item.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=InvoiceItemOut,
    summary="Create a pending invoice item",
    description=(
        "A charge that waits to be invoiced: customer, optional contract, description, quantity, unit "
        "price, tax (a tax rate or inline), optional service period, currency and `payment_mode` "
        "(`automatic` or `manual`). It is priced by the invoice engine at once, so whatever an invoice "
        "would refuse is refused here (4xx)."
    ),
)
def create_item(
    body: InvoiceItemCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> InvoiceItemOut:
    return present_item(service.create_item(session, principal.as_actor(), body, now))


@router.get(
    "",
    response_model=Page[InvoiceItemOut],
    summary="List invoice items, newest first",
    description="`attachable=true` lists the pending items a gather would take; cursor paging.",
)
def list_items(
    principal: CurrentPrincipal,
    session: SessionDep,
    attachable: Annotated[
        bool | None, Query(description="true: only pending items (on no live invoice); false: only invoiced")
    ] = None,
    customer_id: uuid.UUID | None = None,
    contract_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[InvoiceItemOut]:
    after = Cursor.decode(cursor) if cursor else None
    views, has_more = service.list_items(
        session,
        principal.organisation_id,
        limit,
        after,
        customer_id=customer_id,
        contract_id=contract_id,
        attachable=attachable,
    )
    next_cursor = Cursor(views[-1].item.created_at, views[-1].item.id).encode() if has_more else None
    return Page(data=[present_item(v) for v in views], has_more=has_more, next_cursor=next_cursor)


@router.get(
    "/{item_id}",
    response_model=InvoiceItemOut,
    summary="Get an invoice item",
    description="`status` is pending or invoiced; `invoice_id` names the live invoice billing it.",
)
def get_item(item_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> InvoiceItemOut:
    return present_item(service.get_item(session, principal.organisation_id, item_id))


@router.delete(
    "/{item_id}",
    status_code=204,
    summary="Delete a pending invoice item",
    description="Only while pending: an item on a live invoice is a 409 `invoice_item_invoiced`.",
)
def delete_item(item_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Response:
    service.delete_item(session, principal.organisation_id, item_id)
    return Response(status_code=204)


@router.post(
    "/invoice",
    status_code=201,
    response_model=InvoiceItemsInvoiced,
    summary="Gather attachable items into invoices",
    description=(
        "Takes the attachable items in scope (`item_ids`, else those of `customer_id` and/or "
        "`contract_id`, else the whole organisation) and creates one invoice per (customer, contract, "
        "currency, payment mode); automatic-payment items never share an invoice with manual ones, nor "
        "tax-inclusive with tax-exclusive ones. Each invoice line references its item (`source: "
        "{kind: invoice_item, id}`), and an item is on at most one live invoice: concurrent gathers "
        "over the same items create each invoice once. Answers 201 with the invoices, or 200 with an "
        "empty list when nothing is attachable. Unknown ids (or another organisation's) are a 404 "
        "naming them; ids already invoiced are skipped and listed in `skipped`. Voiding an invoice, or "
        "crediting an item's line in full, makes the item attachable again.\n\n"
        "```sh\n"
        "# invoice everything pending for one customer, issued at once\n"
        'curl -s $API/v1/invoice-items/invoice -H "Authorization: Bearer $KEY" \\\n'
        "  -H 'Content-Type: application/json' -H 'Idempotency-Key: run-2026-06' \\\n"
        '  -d \'{"customer_id": "\'$CUSTOMER\'", "finalize": true}\'\n'
        "```"
    ),
)
def invoice_items(
    body: InvoiceItemsInvoice, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> Response:
    result = service.invoice_items(session, principal.as_actor(), body, now)
    created = get_invoices(session, principal.organisation_id, [invoice.id for invoice in result.invoices])
    out = InvoiceItemsInvoiced(
        invoices=[present_invoice(invoice) for invoice in created],
        skipped=[
            SkippedItemOut(item_id=s.item_id, reason=s.reason, invoice_id=s.invoice_id)
            for s in result.skipped
        ],
    )
    # 201 when invoices were created, 200 when there was nothing to invoice.
    return Response(
        out.model_dump_json(), status_code=201 if out.invoices else 200, media_type="application/json"
    )
