"""Order-platform ("axim") dialect (seed 004): `POST /compat/axim/invoices` with `accessToken`.

`{"orderId": ...}` invoices every remaining quantity of the order through
`faktur.orders.service.invoice_order` (issued at once); the order is found by its faktur id or
its external reference (the platform's 24-hex ids). Errors are `{success: false, message}`
with the statuses the platform documents (400, 401, 404, 500) and no other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from faktur import calc
from faktur.context import Principal
from faktur.dialects import repository, responses
from faktur.dialects.common import ExactJSONResponse, actor, authenticate_key
from faktur.dialects.errors import AximOrderNotFound, OrderIdRequired
from faktur.errors import FakturError
from faktur.fields import Text
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.models import Invoice, Order
from faktur.orders import service as orders
from faktur.orders.schemas import OrderInvoiceCreate

PREFIX = "/compat/axim"


class InvoiceIn(BaseModel):
    # The seed documents orderId alone: anything else is refused, never silently ignored.
    model_config = ConfigDict(extra="forbid")

    # Optional here so that its absence gets the platform's own message, not a generic one.
    orderId: Annotated[str, Text(200)] | None = None  # the platform's own field name


def _iso_ms(value: datetime) -> str:
    """'2025-12-08T20:43:20.608Z', the platform's timestamp format."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def present(invoice: Invoice, order: Order, principal: Principal) -> dict[str, Any]:
    return {
        "order": order.external_reference or str(order.id),
        "entityId": str(principal.organisation_id),
        "lineItems": [
            {"lineItemId": str(line.source_id), "quantity": line.quantity, "id": str(line.id)}
            for line in invoice.lines
        ],
        "total": calc.from_minor(invoice.total_minor, invoice.currency),
        "createdBy": {"id": str(principal.api_key_id), "name": principal.actor, "type": "api_key"},
        "metaFields": [],
        "createdAt": _iso_ms(invoice.created_at),
        "updatedAt": _iso_ms(invoice.updated_at),
        "id": str(invoice.id),
    }


def axim_principal(
    request: Request,
    session: SessionDep,
    access_token: Annotated[str | None, Header(alias="accessToken")] = None,
) -> Principal:
    token = access_token
    if token and token[:7].lower() == "bearer ":
        token = token[7:]
    return authenticate_key(request, session, token, header="accessToken")


router = APIRouter(prefix=PREFIX, tags=["compat: order platform"], route_class=TransactionalRoute)


@router.post(
    "/invoices",
    status_code=201,
    summary="Create Invoice for an order (order-platform dialect)",
    responses=responses.AXIM,
)
def create_invoice(
    body: InvoiceIn,
    principal: Annotated[Principal, Depends(axim_principal)],
    session: SessionDep,
    now: NowDep,
) -> ExactJSONResponse:
    if not body.orderId:
        raise OrderIdRequired()
    order = repository.find_order(session, principal.organisation_id, body.orderId)
    if order is None:
        raise AximOrderNotFound()
    invoice = orders.invoice_order(
        session, actor(principal), order.id, OrderInvoiceCreate(finalize=True), now
    )
    data = present(invoice, order, principal)
    return ExactJSONResponse(
        {"success": True, "data": data, "message": "Invoice created successfully"}, status_code=201
    )


_MESSAGES = {
    401: "Invalid or missing access token",
    404: "Order not found",
    500: "An error occurred while creating the invoice",
}


_ENDPOINT = f"{PREFIX}/invoices"
# The statuses the platform documents for POST /invoices, besides 201.
_DOCUMENTED = frozenset({400, 401, 404, 500})


def render_error(
    request: Request, error: FakturError, validation: RequestValidationError | None
) -> JSONResponse:
    """`{success: false, message}` with the platform's messages, and only its documented
    statuses: 401, 404 and 500 as such, every other refusal (a bad body, an order with nothing
    left to invoice, a reused Idempotency-Key) a 400 'Validation error: ...' with faktur's reason."""
    status = error.status
    documented = request.method == "POST" and request.url.path == _ENDPOINT
    if status >= 500:
        return JSONResponse({"success": False, "message": _MESSAGES[500]}, status_code=500)
    if documented and status not in _DOCUMENTED:
        status = 400
    if status == 400 or status == 422:
        return JSONResponse(
            {"success": False, "message": f"Validation error: {error.message}"}, status_code=400
        )
    return JSONResponse(
        {"success": False, "message": _MESSAGES.get(status, error.message)}, status_code=status
    )
