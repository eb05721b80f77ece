"""WizCommerce dialect (seed 002): `POST /compat/wizcommerce/v1/invoices` with `X-API-Key`.

A WizCommerce invoice is an import: an invoice the shop already issued for an order, with its
own number, amounts, payments and status, stored as given. It becomes a faktur invoice through
`faktur.invoices.imports` (what the items do not explain of the totals becomes an explicit
charge or allowance; the number is unique per organisation) and uses up the order's quantities
through `faktur.orders.service`; this module only translates fields, statuses and errors.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from faktur import calc
from faktur.context import Principal
from faktur.dialects import repository, responses
from faktur.dialects.common import (
    ExactJSONResponse,
    JsonInteger,
    JsonNumber,
    NonNegativeJsonNumber,
    actor,
    authenticate_key,
    core_model,
    error_details,
    parse_timestamp,
    rename_by_prefix,
    rename_line_fields,
    utc_z,
    vendor_fields,
)
from faktur.dialects.errors import InvalidTimestamp, UpdatedAtBeforeOrder, WizcommerceOrderNotFound
from faktur.errors import FakturError
from faktur.fields import Text
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.invoices import commands, imports
from faktur.invoices.domain import payment_status
from faktur.invoices.schemas import InvoiceCreate, PaymentStatus, TaxIn
from faktur.models import Invoice, InvoiceLine, Order
from faktur.models.dialect import DialectInvoice
from faktur.orders import service as orders

PREFIX = "/compat/wizcommerce"
DIALECT = "wizcommerce"
# WizCommerce sends no tax breakdown: its amounts are what the buyer pays. The lines are
# therefore "not subject to VAT" (EN 16931 category O, VATEX-EU-O), which keeps totals as given.
_TAX = {
    "category": "O",
    "percent": "0",
    "exemption_reason": "Not subject to VAT",
    "exemption_reason_code": "VATEX-EU-O",
}

# The seed's statuses, and UNPAID, which WizCommerce's TypeScript SDK sends.
Status = Literal["PAID", "PENDING", "PARTIALLY_PAID", "OVERPAID", "UNPAID"]
PAYMENT_TO_STATUS = {
    PaymentStatus.PAID: "PAID",
    PaymentStatus.UNPAID: "PENDING",
    PaymentStatus.PARTIALLY_PAID: "PARTIALLY_PAID",
    PaymentStatus.OVERPAID: "OVERPAID",
}
# Fields the SDK sends on items beyond the seed's; kept on the line and answered back.
_SDK_ITEM_FIELDS = ("description", "discount", "rate", "item_total")


class ItemIn(BaseModel):
    """An invoice item: dtos.InvoiceItemCreateRequest of WizCommerce's API reference, plus the item
    fields of its TypeScript SDK. Anything else is refused: nothing a client sends is silently ignored."""

    model_config = ConfigDict(extra="forbid")

    reference_id: Annotated[str, Text(255)]
    sku: Annotated[str, Text(255)]
    quantity: JsonInteger
    amount: JsonNumber = Field(description="Amount per unit (the SDK's rate stands for it if absent)")
    name: Annotated[str, Text(255)]
    description: Annotated[str, Text(500)] | None = Field(
        None, description="SDK: a longer text about the item"
    )
    discount: NonNegativeJsonNumber | None = Field(
        None, description="SDK: discount on the item's whole quantity"
    )
    rate: JsonNumber | None = Field(None, description="SDK: amount per unit (must equal amount if both)")
    item_total: JsonNumber | None = Field(None, description="SDK: the item's total as invoiced")

    @model_validator(mode="before")
    @classmethod
    def _rate_stands_for_amount(cls, data: Any) -> Any:
        if isinstance(data, dict) and "amount" not in data and "rate" in data:
            return {**data, "amount": data["rate"]}
        return data

    @model_validator(mode="after")
    def _rate_is_amount(self) -> ItemIn:
        if self.rate is not None and self.amount != self.rate:
            raise ValueError("rate and amount are both the amount per unit and must be equal")
        return self


class InvoiceIn(BaseModel):
    """An invoice: dtos.InvoiceCreateRequest of WizCommerce's API reference (every limit as documented
    there); unknown fields refused."""

    model_config = ConfigDict(extra="forbid")

    reference_id: Annotated[str, Text(255)]
    order_id: Annotated[str, Text(255)]
    invoice_number: Annotated[str, Text(imports.MAX_NUMBER_LENGTH)]
    total_amount: JsonNumber
    paid_amount: NonNegativeJsonNumber
    status: Status | None = None
    due_date: Annotated[str, Text(64)]
    remarks: Annotated[str, Text(255)] | None = None
    url: Annotated[str, Text(100_000)] | None = None
    created_at: Annotated[str, Text(64)] | None = None
    updated_at: Annotated[str, Text(64)] | None = None
    items: list[ItemIn] = Field(max_length=2000)


_rename_core = rename_by_prefix(
    {
        "number": "invoice_number",
        "total": "total_amount",
        "amount_paid": "paid_amount",
        "payment_status": "status",
        "external_reference": "reference_id",
        "memo": "remarks",
        "customer_id": "order_id",
        "currency": "order_id",
    }
)
_rename_lines = rename_line_fields(
    "items",
    {
        "description": "name",
        "unit_price": "amount",
        "quantity": "quantity",
        "sku": "sku",
        "tax": "amount",
        "allowances": "discount",
        "total": "item_total",
    },
)


def _rename(field: str) -> str:
    return _rename_lines(_rename_core(field))


def _timestamp(value: str, field: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InvalidTimestamp(str(exc), field) from None


def _linked_order(session: SessionDep, principal: Principal, order_id: str) -> Order:
    order = repository.find_order(session, principal.organisation_id, order_id)
    if order is None:
        raise WizcommerceOrderNotFound(order_id)
    return order


def _line(item: ItemIn) -> dict[str, Any]:
    metadata = {"reference_id": item.reference_id, "name": item.name}
    for key in _SDK_ITEM_FIELDS:
        value = getattr(item, key)
        if value is not None:
            metadata[key] = str(value)
    return {
        # faktur's line needs a name: an empty one is shown by the SKU or reference (kept as given).
        "description": item.name or item.sku or item.reference_id or "Item",
        "quantity": item.quantity,
        "unit_price": item.amount,
        "sku": item.sku or None,
        "tax": _TAX,
        "allowances": [{"amount": item.discount, "reason": "Discount"}] if item.discount else [],
        "metadata": metadata,
    }


def _import(
    session: SessionDep, principal: Principal, body: InvoiceIn, order: Order, now: datetime
) -> imports.InvoiceImport:
    due = _timestamp(body.due_date, "due_date")
    created = _timestamp(body.created_at, "created_at") if body.created_at else None
    updated = _timestamp(body.updated_at, "updated_at") if body.updated_at else now
    if updated <= order.created_at:
        raise UpdatedAtBeforeOrder(utc_z(updated), utc_z(order.created_at))
    body_in = core_model(
        InvoiceCreate,
        {
            "customer_id": order.customer_id,
            "currency": order.currency,
            "due_date": due.date(),
            "memo": body.remarks or None,
            "external_reference": body.reference_id or None,
            "lines": [_line(item) for item in body.items],
        },
    )
    issued = [orders.IssuedItem(item.sku or None, item.name, Decimal(item.quantity)) for item in body.items]
    sources = orders.sources_of_issued_items(session, principal.organisation_id, order.id, issued)
    return imports.InvoiceImport(
        invoice=commands.new_invoice(body_in, line_sources=sources),
        number=body.invoice_number,
        # Issued when the shop says; without created_at, today, or the due date if that is
        # earlier (an invoice is issued by the time it falls due).
        issue_date=created.date() if created else min(now.date(), due.date()),
        amount_paid=body.paid_amount,
        payment_method="wizcommerce",
        expected_total=body.total_amount,
        balance_tax=commands.tax_spec(TaxIn.model_validate(_TAX)),
        line_totals=[item.item_total for item in body.items],
    )


def present(invoice: Invoice, row: DialectInvoice) -> dict[str, Any]:
    """The seed's dtos.InvoiceResponse; absent optional values are left out, as Go's omitempty does.
    The status is the one the shop gave (else derived from the amounts), due_date its instant."""
    currency = invoice.currency

    def money(minor: int) -> Decimal:
        return calc.from_minor(minor, currency)

    def item(line: InvoiceLine) -> dict[str, Any]:
        given = line.metadata_
        data: dict[str, Any] = {
            "id": str(line.id),
            "reference_id": given["reference_id"],
            "name": given.get("name", line.description),
            "product_id": line.sku or "",
            "quantity": int(line.quantity),
            "amount": line.unit_price,
            "item_total": money(line.net_minor),
        }
        if "description" in given:
            data["description"] = given["description"]
        for key in ("discount", "rate"):
            if key in given:
                data[key] = Decimal(given[key])
        return data

    attributes = row.attributes
    # Derived from what is left to pay: credit notes take their part off the amount due.
    derived = PAYMENT_TO_STATUS[payment_status(invoice.payable_minor, invoice.amount_paid_minor)]
    due = attributes.get("due_date")
    if due is None and invoice.due_date is not None:
        due = utc_z(datetime.combine(invoice.due_date, time(), UTC))
    data: dict[str, Any] = {
        "id": str(invoice.id),
        "reference_id": invoice.external_reference or "",
        "order_id": attributes["order_id"],
        "invoice_number": invoice.number,
        "total_amount": money(invoice.total_minor),
        "paid_amount": money(invoice.amount_paid_minor),
        "status": attributes.get("status") or derived,
        "due_date": due,
        "remarks": invoice.memo,
        "url": attributes.get("url"),
        "created_at": attributes["created_at"],
        "updated_at": attributes["updated_at"],
        # Lines made from the shop's items; an import without items has one un-itemized line.
        "items": [item(line) for line in invoice.lines if "reference_id" in line.metadata_],
    }
    return {key: value for key, value in data.items() if value is not None}


def wizcommerce_principal(
    request: Request,
    session: SessionDep,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> Principal:
    return authenticate_key(request, session, x_api_key, header="X-API-Key")


router = APIRouter(prefix=PREFIX, tags=["compat: WizCommerce"], route_class=TransactionalRoute)


@router.post(
    "/v1/invoices",
    status_code=201,
    summary="Create Invoice (WizCommerce dialect: an import)",
    responses=responses.WIZCOMMERCE,
)
def create_invoice(
    body: InvoiceIn,
    principal: Annotated[Principal, Depends(wizcommerce_principal)],
    session: SessionDep,
    now: NowDep,
) -> ExactJSONResponse:
    order = _linked_order(session, principal, body.order_id)
    with vendor_fields(_rename):
        data = _import(session, principal, body, order, now)
        invoice = imports.import_invoice(session, actor(principal), data, now)
    row = DialectInvoice(
        id=uuid.uuid4(),
        organisation_id=principal.organisation_id,
        created_at=now,
        invoice_id=invoice.id,
        dialect=DIALECT,
        attributes={
            "order_id": body.order_id,
            "linked_order": str(order.id),
            "url": body.url,
            "status": body.status,
            "due_date": utc_z(_timestamp(body.due_date, "due_date")),
            "created_at": utc_z(_timestamp(body.created_at, "created_at")) if body.created_at else utc_z(now),
            "updated_at": utc_z(_timestamp(body.updated_at, "updated_at")) if body.updated_at else utc_z(now),
        },
    )
    repository.add(session, row)
    return ExactJSONResponse({"data": present(invoice, row)}, status_code=201)


_STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def render_error(
    request: Request, error: FakturError, validation: RequestValidationError | None
) -> JSONResponse:
    """`errors.HttpError` of the seed: {code, message, details: [{field, reason}]}; every request
    problem that is not 401/403/404 is a 400, server trouble a 500, as the seed documents."""
    if error.status in _STATUS_CODES:
        status = error.status
    elif error.status >= 500:
        status = 500
    else:
        status = 400
    body = {"code": error.code, "message": error.message, "details": error_details(error)}
    return JSONResponse(body, status_code=status)
