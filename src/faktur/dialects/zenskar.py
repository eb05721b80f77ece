"""Zenskar dialect (seed 001): `POST /compat/zenskar/invoices/generate_invoice` with `x-api-key`
and `organisation` (the key's organisation id), and the calls Zenskar's official client (its MCP
server, zenskar/mcp-zenskar) makes after it: read an invoice, its generation status, approve it.

Generates a draft for any range of days of a contract: a billing period through
`faktur.billing.service.invoice_contract_period`, any other range through
`faktur.billing.ranges` (prorated by the same planner). Zenskar's server is a FastAPI
application: every problem with a generate request, whatever its cause (a bad key, an unknown
contract, days already billed), is a 422 `{"detail": [{"loc", "msg", "type"}]}`, the only error its
document names. Dates are read as Pydantic reads them there: ISO 8601 (a naive time is UTC) or
Unix seconds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from faktur import calc
from faktur.auth import authenticate
from faktur.billing import ranges
from faktur.billing import service as billing
from faktur.billing.errors import DuplicatePeriod
from faktur.context import Principal
from faktur.contracts import service as contracts
from faktur.dialects import responses
from faktur.dialects.common import ExactJSONResponse, actor, rename_by_prefix, validation_messages
from faktur.dialects.errors import (
    BoundsReversed,
    DateOutOfRange,
    DuplicateInvoice,
    NotTheContractCycle,
    OrganisationMismatch,
    SendEmailNotAvailable,
    ZenskarContractOfOtherCustomer,
    ZenskarInvoiceNotOfContract,
    ZenskarMissing,
    ZenskarOutsideContract,
    ZenskarProblem,
)
from faktur.errors import Conflict, FakturError, NotFound, Unauthorized
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.invoices import service as invoices
from faktur.invoices.domain import payment_status
from faktur.invoices.schemas import InvoiceStatus, PaymentStatus
from faktur.models import Contract, Invoice

PREFIX = "/compat/zenskar"


def _in_utc(value: datetime) -> datetime:
    # Zenskar's server treats a time without a zone as UTC; the periods are UTC calendar days.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant lies outside the years 1 to 9999 in UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]


class GenerateInvoiceIn(BaseModel):
    """GenerateInvoiceRequestSchema of Zenskar's API reference. The bounds may be left out (or null) only with
    `billing_cycle_start_day`, which then snaps the missing one to the billing cycle. Fields the
    schema does not name are refused, never silently ignored."""

    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    contract_id: uuid.UUID
    from_date: UtcDateTime | None = None
    to_date: UtcDateTime | None = None
    check_duplicate_invoice: bool | None = None
    bill_for_date: UtcDateTime | None = None
    billing_cycle_start_day: Annotated[int, Field(ge=1, le=31)] | None = None


def zenskar_principal(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Header(alias="x-api-key")] = None,
    organisation: Annotated[str | None, Header(alias="organisation")] = None,
) -> Principal:
    """The key's principal, once `organisation` names the key's organisation."""
    missing = [name for name, value in (("x-api-key", api_key), ("organisation", organisation)) if not value]
    if missing:
        raise ZenskarMissing(
            missing,
            "header",
            "Send the faktur API key in 'x-api-key' and its organisation id in 'organisation'.",
        )
    try:
        principal = authenticate(request, session, api_key)
    except Unauthorized as error:
        raise ZenskarProblem.of(error, ["header", "x-api-key"]) from None
    if (organisation or "").strip().lower() != str(principal.organisation_id):
        raise OrganisationMismatch(principal.organisation_id)
    return principal


def _day_until(value: datetime) -> date:
    """The first UTC day an exclusive bound no longer covers: the bound's day at midnight, the
    next day otherwise (`to_date` 23:59:59 still covers its day)."""
    if value.timetz().replace(tzinfo=None) == time(0):
        return value.date()
    try:
        return value.date() + timedelta(days=1)
    except OverflowError:
        raise DateOutOfRange() from None


def _check_bounds(body: GenerateInvoiceIn) -> None:
    """The seed requires both bounds; one may be left out only for billing_cycle_start_day to snap."""
    missing = [name for name in ("from_date", "to_date") if getattr(body, name) is None]
    if len(missing) == 2 or (missing and body.billing_cycle_start_day is None):
        raise ZenskarMissing(
            missing, "body", f"Give {' and '.join(missing)}, or one bound and billing_cycle_start_day."
        )
    if body.from_date is not None and body.to_date is not None and body.from_date >= body.to_date:
        raise BoundsReversed()


def _snap(contract: Contract, body: GenerateInvoiceIn) -> tuple[date, date]:
    """The requested days [start, end); a missing bound is the edge of the contract's billing
    period at the other one, when `billing_cycle_start_day` is the contract's cycle day."""
    start = body.from_date.date() if body.from_date is not None else None
    end = _day_until(body.to_date) if body.to_date is not None else None
    if start is not None and end is not None:
        return start, end
    if body.billing_cycle_start_day != contract.billing_cycle_start_day:
        raise NotTheContractCycle(contract.id, contract.billing_cycle_start_day)
    if start is not None:
        known, field = start, "from_date"
    else:
        assert end is not None  # one bound is given, checked above
        known, field = end - timedelta(days=1), "to_date"
    try:
        period = billing.contract_period(contract, known)
    except (ValueError, OverflowError):
        raise ZenskarOutsideContract(
            contract.id, known, contract.start_date, contract.end_date, field
        ) from None
    return period.start, period.end


def zenskar_status(invoice: Invoice) -> str:
    """Zenskar's words for an invoice's state: a finalized invoice is 'approved' until paid."""
    if invoice.status == InvoiceStatus.OPEN.value:
        paid = payment_status(invoice.payable_minor, invoice.amount_paid_minor)
        return "partially_paid" if paid is PaymentStatus.PARTIALLY_PAID else "approved"
    return {"draft": "draft", "paid": "paid", "void": "void"}.get(invoice.status, invoice.status)


def present(invoice: Invoice, *, duplicate: bool = False, line_items: bool = False) -> dict[str, Any]:
    currency = invoice.currency

    def amount(minor: int) -> Any:
        return calc.from_minor(minor, currency)

    def midnight(day: date | None) -> str | None:
        return billing.midnight(day).isoformat().replace("+00:00", "Z") if day is not None else None

    data: dict[str, Any] = {
        "id": str(invoice.id),
        "customer_id": str(invoice.customer_id),
        "contract_id": str(invoice.contract_id) if invoice.contract_id else None,
        "status": zenskar_status(invoice),
        "invoice_number": invoice.number,
        "invoice_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "from_date": midnight(invoice.period_start),
        "to_date": midnight(invoice.period_end),
        "currency": currency,
        "amount_without_tax": amount(invoice.tax_exclusive_minor),
        "tax_amount": amount(invoice.tax_total_minor),
        "total_amount": amount(invoice.total_minor),
        "amount_paid": amount(invoice.amount_paid_minor),
        "amount_due": amount(invoice.amount_due_minor),
        "is_duplicate": duplicate,
    }
    if line_items:
        data["line_items"] = [
            {
                "id": str(line.id),
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount_without_tax": amount(line.net_minor),
                "tax_percent": line.tax_percent,
                "from_date": midnight(line.period_start),
                "to_date": midnight(line.period_end),
            }
            for line in invoice.lines
        ]
    return data


_ENDPOINT = f"{PREFIX}/invoices/generate_invoice"
router = APIRouter(prefix=PREFIX, tags=["compat: Zenskar"], route_class=TransactionalRoute)


@router.post(
    "/invoices/generate_invoice", summary="Generate an invoice (Zenskar dialect)", responses=responses.ZENSKAR
)
def generate_invoice(
    body: GenerateInvoiceIn,
    principal: Annotated[Principal, Depends(zenskar_principal)],
    session: SessionDep,
    now: NowDep,
    # Documented by the seed (an integer or null); one version is spoken, so it changes nothing.
    apiversion: Annotated[int | None, Header()] = None,
) -> ExactJSONResponse:
    _check_bounds(body)
    try:
        contract = contracts.get_contract(session, principal.organisation_id, body.contract_id)
    except NotFound as error:
        raise ZenskarProblem.of(error, ["body", "contract_id"]) from None
    if contract.customer_id != body.customer_id:
        raise ZenskarContractOfOtherCustomer(contract.id, contract.customer_id, body.customer_id)
    start, end = _snap(contract, body)
    bill_for = body.bill_for_date.date() if body.bill_for_date is not None else None
    try:
        invoice = _generate(session, principal, contract, start, end, bill_for, now)
    except Conflict as error:
        existing = next((d.get("existing_invoice_id") for d in error.details), None)
        if error.code != DuplicatePeriod.code or existing is None:
            raise
        if body.check_duplicate_invoice:
            # The check the seed documents: a duplicate in the same billing period is refused.
            raise DuplicateInvoice(existing, start, end, contract.id) from None
        # Unchecked, Zenskar would make a second invoice; faktur never bills days twice and
        # answers the period's invoice instead (README, "differs from the vendor").
        found = invoices.get_invoice(session, principal.organisation_id, uuid.UUID(existing))
        return ExactJSONResponse(present(found, duplicate=True))
    return ExactJSONResponse(present(invoice))


def _generate(
    session: SessionDep,
    principal: Principal,
    contract: Contract,
    start: date,
    end: date,
    bill_for: date | None,
    now: datetime,
) -> Invoice:
    """A draft for [start, end): the engine's own period invoice when that is one of the
    contract's billing periods, otherwise an invoice for the range of days."""
    try:
        period = billing.contract_period(contract, start)
    except ValueError:
        period = None
    if period is not None and (period.start, period.end) == (start, end):
        return billing.invoice_contract_period(
            session, actor(principal), contract.id, start, end, now, bill_for_date=bill_for, finalize=False
        )
    return ranges.invoice_contract_range(
        session, actor(principal), contract.id, start, end, now, bill_for_date=bill_for
    )


def _invoice(session: SessionDep, principal: Principal, invoice_id: uuid.UUID) -> Invoice:
    return invoices.get_invoice(session, principal.organisation_id, invoice_id)


@router.get(
    "/invoices/invoice_generation_status/{invoice_id}",
    summary="Invoice generation status (Zenskar)",
    responses=responses.ZENSKAR_GENERATION_STATUS,
)
def invoice_generation_status(
    invoice_id: uuid.UUID,
    principal: Annotated[Principal, Depends(zenskar_principal)],
    session: SessionDep,
    contract_id: Annotated[uuid.UUID | None, Query()] = None,
    apiversion: Annotated[int | None, Header()] = None,
) -> ExactJSONResponse:
    """faktur generates an invoice within the request: once its id is known, generation is done."""
    invoice = _invoice(session, principal, invoice_id)
    if contract_id is not None and invoice.contract_id != contract_id:
        raise ZenskarInvoiceNotOfContract(invoice_id, contract_id)
    return ExactJSONResponse(
        {
            "invoice_id": str(invoice.id),
            "contract_id": str(invoice.contract_id) if invoice.contract_id else None,
            "generation_status": "completed",
            "invoice_status": zenskar_status(invoice),
        }
    )


@router.get(
    "/invoices/{invoice_id}", summary="Get an invoice (Zenskar)", responses=responses.ZENSKAR_GET_INVOICE
)
def get_invoice(
    invoice_id: uuid.UUID,
    principal: Annotated[Principal, Depends(zenskar_principal)],
    session: SessionDep,
    include_line_items: Annotated[bool, Query()] = False,
    apiversion: Annotated[int | None, Header()] = None,
) -> ExactJSONResponse:
    return ExactJSONResponse(present(_invoice(session, principal, invoice_id), line_items=include_line_items))


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_duplicate_invoice: bool | None = Field(
        None,
        description="Accepted for Zenskar's client; always holds in faktur, whose generation never "
        "lets two live invoices bill the same day of a contract",
    )


@router.patch(
    "/invoices/{invoice_id}/approve",
    summary="Approve (finalize) an invoice (Zenskar)",
    responses=responses.ZENSKAR_APPROVE,
)
def approve_invoice(
    invoice_id: uuid.UUID,
    principal: Annotated[Principal, Depends(zenskar_principal)],
    session: SessionDep,
    now: NowDep,
    body: ApproveIn | None = None,
    send_email: Annotated[bool, Query()] = False,
    apiversion: Annotated[int | None, Header()] = None,
) -> ExactJSONResponse:
    """Finalize the draft: numbered, dated and immutable. `check_duplicate_invoice` holds always
    (one live invoice bills a day of a contract); faktur sends no e-mail, so `send_email=true` is
    refused rather than ignored."""
    if send_email:
        raise SendEmailNotAvailable()
    invoice = invoices.finalize_invoice(session, actor(principal), invoice_id, now)
    return ExactJSONResponse(present(invoice))


# Core field names in Zenskar's words: the period of the billing service is from_date/to_date.
_rename = rename_by_prefix({"period_start": "from_date", "period_end": "to_date"})


def _location(detail: dict[str, Any]) -> list[Any]:
    if isinstance(detail.get("loc"), list):
        return list(detail["loc"])
    field = str(detail.get("field", ""))
    return ["body", _rename(field)] if field else ["body"]


def render_error(
    request: Request, error: FakturError, validation: RequestValidationError | None
) -> JSONResponse:
    """FastAPI's `HTTPValidationError`, reduced to the seed's {loc, msg, type}: 422 for every
    request problem (authentication included), since that is the only error the seed documents;
    an unknown path or method keeps its 404/405, and server trouble its 5xx."""
    if validation is not None:
        detail = [
            {"loc": list(loc), "msg": msg, "type": kind} for loc, msg, kind in validation_messages(validation)
        ]
    elif error.details:
        # A core error's sentence says more than its short per-field reason; ours carry their own.
        detail = [
            {"loc": _location(d), "msg": str(d.get("reason") or error.message), "type": error.code}
            if "loc" in d or len(error.details) > 1
            else {"loc": _location(d), "msg": error.message, "type": error.code}
            for d in error.details
        ]
    else:
        detail = [{"loc": ["body"], "msg": error.message, "type": error.code}]
    documented = request.method == "POST" and request.url.path == _ENDPOINT
    # The client's follow-up calls (not in the seed) keep faktur's status: 404, 409 ...
    status = error.status if error.status >= 500 or not documented else 422
    return JSONResponse({"detail": detail}, status_code=status)
