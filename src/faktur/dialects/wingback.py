"""Wingback dialect (seed 000): `POST /compat/wingback/v1/c/invoice` with `wb-key` (or the
`app-session` cookie).

Gathers the attachable pending invoice items (optionally of one contract, customer or list of
items) into issued invoices through `faktur.invoice_items.service.invoice_items`, which keeps
every invoice to one contract and one payment mode. Ids are Wingback-style `<Prefix>_<uuid>`:
requests accept any prefix (or a bare UUID), answers name invoices `Inv_<uuid>`.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from faktur.context import Principal
from faktur.contracts import service as contracts
from faktur.customers import service as customers
from faktur.dialects import responses
from faktur.dialects.common import (
    ExactJSONResponse,
    actor,
    authenticate_key,
    core_model,
    rename_by_prefix,
    vendor_fields,
)
from faktur.dialects.errors import WingbackContractOfOtherCustomer
from faktur.errors import FakturError
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.invoice_items import service as items
from faktur.invoice_items.schemas import InvoiceItemsInvoice

PREFIX = "/compat/wingback"
_ID = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*_)?([0-9a-fA-F-]{32,36})$")


def _wingback_id(value: Any) -> uuid.UUID:
    found = _ID.match(value) if isinstance(value, str) and len(value) <= 80 else None
    if found is None:
        raise ValueError("expected an id <Prefix>_<uuid>, e.g. Cust_c40bea18-c0c9-44b1-bd0c-43f5283e1670")
    try:
        return uuid.UUID(found.group(1))
    except ValueError:
        raise ValueError("the part after the prefix is not a UUID") from None


WingbackId = Annotated[uuid.UUID, BeforeValidator(_wingback_id)]


class CreateInvoicesIn(BaseModel):
    # The seed names three fields; anything else is refused, never silently ignored.
    model_config = ConfigDict(extra="forbid")

    contract_id: WingbackId | None = None
    customer_id: WingbackId | None = None
    invoice_item_ids: list[WingbackId] | None = Field(None, max_length=1000)


_rename = rename_by_prefix({"item_ids": "invoice_item_ids"})


def wingback_principal(
    request: Request,
    session: SessionDep,
    wb_key: Annotated[str | None, Header(alias="wb-key")] = None,
    app_session: Annotated[str | None, Cookie(alias="app-session")] = None,
) -> Principal:
    return authenticate_key(request, session, wb_key or app_session, header="wb-key")


router = APIRouter(prefix=PREFIX, tags=["compat: Wingback"], route_class=TransactionalRoute)


@router.post(
    "/v1/c/invoice",
    status_code=201,
    summary="Create invoice(s) (Wingback dialect)",
    responses=responses.WINGBACK,
)
def create_invoices(
    body: CreateInvoicesIn,
    principal: Annotated[Principal, Depends(wingback_principal)],
    session: SessionDep,
    now: NowDep,
) -> ExactJSONResponse:
    organisation_id = principal.organisation_id
    contract_id, customer_id = body.contract_id, body.customer_id
    with vendor_fields(_rename):
        if customer_id is not None:
            customers.get_customer(session, organisation_id, customer_id)
        if contract_id is not None:
            contract = contracts.get_contract(session, organisation_id, contract_id)
            if customer_id is not None and contract.customer_id != customer_id:
                raise WingbackContractOfOtherCustomer(contract_id, customer_id)
        if body.invoice_item_ids == []:
            return ExactJSONResponse([], status_code=200)  # no item asked for: nothing to create
        request = core_model(
            InvoiceItemsInvoice,
            {
                "contract_id": contract_id,
                "customer_id": customer_id,
                "item_ids": body.invoice_item_ids,
                "finalize": True,
            },
        )
        result = items.invoice_items(session, actor(principal), request, now)
    if not result.invoices:
        return ExactJSONResponse([], status_code=200)
    return ExactJSONResponse([f"Inv_{invoice.id}" for invoice in result.invoices], status_code=201)


def render_error(
    request: Request, error: FakturError, validation: RequestValidationError | None
) -> JSONResponse:
    """`{code, message, details}` with Wingback's statuses: unknown ids 404, every other request
    problem (a contract of another customer, malformed bodies) 400; a body over the server's
    size limit stays 413, as every HTTP client and proxy expects."""
    status = error.status if error.status in (401, 404, 413) or error.status >= 500 else 400
    details: list[dict[str, Any]] = [
        {"field": str(d.get("field", "")), "reason": str(d.get("reason", ""))} for d in error.details
    ]
    return JSONResponse(
        {"code": error.code, "message": error.message, "details": details}, status_code=status
    )
