"""iw-erp dialect (seed 003): `POST /compat/iw-erp/api/invoice/invoices`.

Authenticated by `x-session-token`, `x-iw-jwt-token` (what inwendo's own client sends, "Jwt token
internal" in the seed) or `Authorization: Bearer`; the body is `{"invoice": {...}}` and the answer
the seed's full invoice object (integer `id` and `number`, netto/brutto/tax values, status history
fields ...). With `number_string`, `number` or `manual_number_prefix`/`manual_number` the invoice
is numbered by the caller through `faktur.invoices.imports`, otherwise by faktur's numbering.
Every field of the invoice object is either honoured or refused (400, the field named): those
faktur computes or has no notion of may only be left out or null. The header
`x-iw-convert-to-camel-case: 1` answers in camelCase; requests are accepted in either.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from sqlalchemy.orm import Session

from faktur import calc
from faktur.context import Principal
from faktur.credit_notes import service as credit_notes
from faktur.credit_notes.domain import NewCreditNote
from faktur.customers import service as customers
from faktur.dialects import repository, responses
from faktur.dialects.common import (
    ExactJSONResponse,
    JsonNumber,
    NonNegativeJsonInteger,
    actor,
    authenticate_key,
    core_model,
    error_details,
    rename_by_prefix,
    rename_line_fields,
    vendor_fields,
)
from faktur.errors import FakturError
from faktur.fields import BusinessDatetime, CurrencyCode, Percent, Text, UnitCode
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.invoices import commands, imports, payments, service
from faktur.invoices.domain import NewPayment
from faktur.invoices.schemas import InvoiceCreate, InvoiceStatus
from faktur.models import Invoice
from faktur.models.dialect import DialectInvoice
from faktur.numbering.format import sequence_of

PREFIX = "/compat/iw-erp"
DIALECT = "iw-erp"

# faktur status -> iw-erp status; iw-erp calls a void invoice "cancelled".
STATUSES = {
    InvoiceStatus.DRAFT.value: "draft",
    InvoiceStatus.OPEN.value: "open",
    InvoiceStatus.PAID.value: "paid",
    InvoiceStatus.VOID.value: "cancelled",
    InvoiceStatus.UNCOLLECTIBLE.value: "uncollectible",
}


class _In(BaseModel):
    # Either spelling is accepted (the client's camel-case switch changes what it sends); a
    # field no model here names is refused, never silently ignored.
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


@dataclass(frozen=True)
class _Refused(GroupedMetadata):
    """A field of iw-erp's invoice object that faktur computes or has no notion of: it may be
    left out, null, or the value faktur answers anyway (`default`); anything else is refused.
    Grouped metadata of an `Annotated[Any, ...]` field, so a type checker sees a plain field."""

    reason: str
    default: Any = None

    def __iter__(self) -> Iterator[object]:
        yield BeforeValidator(self._check)
        yield Field(description=f"Refused: {self.reason}")

    def _check(self, value: Any) -> Any:
        default = self.default
        if value is None or (default is not None and value == default and type(value) is type(default)):
            return None
        raise ValueError(self.reason)


_COMPUTED = "computed by faktur; leave it out"
_UNKNOWN = "faktur has no such record; leave it out"


class TaxIn(_In):
    value: Percent = Field(description="Rate in percent, e.g. 19")
    category: Literal["S", "Z", "E", "AE", "K", "G", "O", "L", "M"] = "S"
    exemption_reason: Annotated[str, Text(300)] | None = None


class ItemIn(_In):
    name: Annotated[str, Text(1000, 1)]
    quantity: JsonNumber = Decimal(1)
    price: JsonNumber = Field(description="Netto price per unit")
    unit: UnitCode = "C62"
    tax: TaxIn | None = Field(None, description="Defaults to the invoice's tax")


class BuyerIn(_In):
    id: uuid.UUID = Field(description="A faktur customer id")


def _goal_days(value: Any) -> Any:
    # iw-erp's payment goal is an object with the days; a bare number of days is accepted too.
    if isinstance(value, dict):
        return value.get("days")
    return value


GoalDays = Annotated[int, Field(strict=True, ge=0, le=3650), BeforeValidator(_goal_days)]


class InvoiceIn(_In):
    buyer: BuyerIn
    items: list[ItemIn] = Field(min_length=1, max_length=2000)
    name: Annotated[str, Text(200)] | None = None
    message: Annotated[str, Text(5000)] | None = None
    currency: CurrencyCode | None = None
    tax: TaxIn | None = None
    payment_goal: GoalDays | None = Field(None, description='{"days": 14} or 14')
    manual_number_prefix: Annotated[str, Text(50)] | None = None
    manual_number: NonNegativeJsonInteger | None = None
    status: Literal["draft", "open", "paid", "cancelled"] = "open"
    payment_date: BusinessDatetime | None = Field(None, description="With status paid: when it was paid")
    cancel_text: Annotated[str, Text(500)] | None = None
    linked_number: Annotated[str, Text(200)] | None = None
    linked_number_title: Annotated[str, Text(200)] | None = None
    due_date: BusinessDatetime | None = Field(None, description="Kept with its time of day")
    number: NonNegativeJsonInteger | None = Field(None, description="Caller's number")
    number_string: Annotated[str, Text(imports.MAX_NUMBER_LENGTH, 1)] | None = Field(
        None, description="Caller's full number"
    )
    number_date: BusinessDatetime | None = Field(None, description="Issue date of a caller-numbered invoice")
    # The rest of the seed's invoice object: computed by faktur, or records faktur does not keep.
    id: Annotated[Any, _Refused(_COMPUTED)] = None
    token: Annotated[Any, _Refused(_COMPUTED)] = None
    generation_date: Annotated[Any, _Refused("set by faktur when the invoice is created; leave it out")] = (
        None
    )
    netto_value: Annotated[Any, _Refused("computed by faktur from the items; leave it out")] = None
    brutto_value: Annotated[Any, _Refused("computed by faktur from the items; leave it out")] = None
    tax_value: Annotated[Any, _Refused("computed by faktur from the items; leave it out")] = None
    previous_status: Annotated[Any, _Refused(_COMPUTED)] = None
    status_updated: Annotated[Any, _Refused(_COMPUTED)] = None
    search_string: Annotated[Any, _Refused(_COMPUTED)] = None
    last_pdf_export: Annotated[Any, _Refused(_COMPUTED)] = None
    last_status_export: Annotated[Any, _Refused(_COMPUTED)] = None
    cancel_date: Annotated[Any, _Refused("a cancellation is dated when faktur makes it; leave it out")] = None
    archived: Annotated[Any, _Refused("faktur does not archive invoices", default=False)] = None
    is_payment_date_from_ext_service: Annotated[
        Any, _Refused("faktur records payments itself", default=False)
    ] = None
    direct_debit_exported: Annotated[Any, _Refused("faktur exports no direct debits", default=False)] = None
    time_reports: Annotated[Any, _Refused(_UNKNOWN, default=[])] = None
    offer: Annotated[Any, _Refused(_UNKNOWN)] = None
    base_booking_group: Annotated[Any, _Refused(_UNKNOWN)] = None
    accounting_type: Annotated[Any, _Refused(_UNKNOWN)] = None
    payment_type: Annotated[Any, _Refused(_UNKNOWN)] = None
    payment_provider_status: Annotated[Any, _Refused(_UNKNOWN)] = None
    payment_provider_reference: Annotated[Any, _Refused(_UNKNOWN)] = None
    payment_provider_transaction_reference: Annotated[Any, _Refused(_UNKNOWN)] = None
    base_event_sign_up: Annotated[Any, _Refused(_UNKNOWN)] = None
    base_booking: Annotated[Any, _Refused(_UNKNOWN)] = None
    base_event_sign_up_group: Annotated[Any, _Refused(_UNKNOWN)] = None
    person_log_book_entry: Annotated[Any, _Refused(_UNKNOWN)] = None
    billing_payment_profile: Annotated[Any, _Refused(_UNKNOWN)] = None

    @model_validator(mode="after")
    def _check(self) -> InvoiceIn:
        if self.manual_number_prefix is not None and self.manual_number is None and self.number is None:
            raise ValueError("manual_number_prefix needs manual_number (or number)")
        if None not in (self.manual_number, self.number) and self.manual_number != self.number:
            raise ValueError("number and manual_number differ: give one of them")
        if self.caller_number is not None:
            if self.status == "draft":
                raise ValueError("a draft has no number yet: leave out the number or give another status")
            # `number` alone is the number's integer part (815 of RE-2025-0815); with the manual
            # fields, prefix and number must make number_string.
            manual = self.manual_number is not None or self.manual_number_prefix is not None
            composed = self.composed_number
            if self.number_string is not None and manual and composed != self.number_string:
                raise ValueError(
                    f"number_string {self.number_string!r} is not the prefix and number {composed!r}"
                )
        elif self.number_date is not None:
            raise ValueError(
                "number_date needs a caller's number: faktur dates its automatic numbers when it issues them"
            )
        if self.payment_date is not None and self.status != "paid":
            raise ValueError("payment_date needs status paid")
        if self.tax is None and any(item.tax is None for item in self.items):
            raise ValueError("give tax for the invoice or for every item")
        return self

    @property
    def composed_number(self) -> str | None:
        """manual_number_prefix + the number, when a number is given."""
        given = self.manual_number if self.manual_number is not None else self.number
        return None if given is None else f"{self.manual_number_prefix or ''}{given}"

    @property
    def caller_number(self) -> str | None:
        """The invoice number the caller gives, if any."""
        return self.number_string if self.number_string is not None else self.composed_number


class CreateInvoiceIn(_In):
    invoice: InvoiceIn


_rename = rename_by_prefix(
    {
        "number": "invoice.manual_number",
        "customer_id": "invoice.buyer.id",
        "currency": "invoice.currency",
        "memo": "invoice.message",
        "payment_terms_days": "invoice.payment_goal",
        "due_date": "invoice.due_date",
        "external_reference": "invoice.linked_number",
        "status": "invoice.status",
    }
)
_rename_lines = rename_line_fields(
    "invoice.items", {"description": "name", "unit_price": "price", "unit_code": "unit", "tax": "tax"}
)


def _tax(tax: TaxIn | None) -> dict[str, Any]:
    assert tax is not None  # InvoiceIn refuses an item without tax when the invoice has none
    reason = tax.exemption_reason
    return {"category": tax.category, "percent": tax.value, "exemption_reason": reason}


def _core_invoice(body: InvoiceIn, finalize: bool) -> InvoiceCreate:
    default_tax = body.tax
    return core_model(
        InvoiceCreate,
        {
            "customer_id": body.buyer.id,
            "currency": body.currency,
            "memo": body.message,
            "payment_terms_days": body.payment_goal,
            "due_date": body.due_date.astimezone(UTC).date() if body.due_date else None,
            "external_reference": body.linked_number,
            "finalize": finalize,
            "lines": [
                {
                    "description": item.name,
                    "quantity": item.quantity,
                    "unit_price": item.price,
                    "unit_code": item.unit,
                    "tax": _tax(item.tax or default_tax),
                }
                for item in body.items
            ],
        },
    )


def _create(session: Session, principal: Principal, body: InvoiceIn, now: datetime) -> Invoice:
    who = actor(principal)
    paid_on = body.payment_date.astimezone(UTC).date() if body.payment_date else now.date()
    if body.caller_number is not None:
        data = imports.InvoiceImport(
            invoice=commands.new_invoice(_core_invoice(body, finalize=False)),
            number=body.caller_number,
            issue_date=body.number_date.astimezone(UTC).date() if body.number_date else now.date(),
            paid_in_full=body.status == "paid",
            paid_on=paid_on,
            payment_method=DIALECT,
        )
        invoice = imports.import_invoice(session, who, data, now)
    else:
        command = commands.new_invoice(_core_invoice(body, finalize=body.status != "draft"))
        invoice = service.create_invoice(session, who, command, now)
        if body.status == "paid" and invoice.status != InvoiceStatus.PAID.value:
            amount = calc.from_minor(invoice.total_minor, invoice.currency)
            payment = NewPayment(amount=amount, paid_on=paid_on, method=DIALECT)
            invoice = payments.record_payment(session, who, invoice.id, payment, now)
    if body.status == "cancelled":
        # iw-erp's cancellation is a full cancellation credit note (a "Stornorechnung"): the
        # invoice is void, and cancel_date and cancel_text are the credit note's.
        cancellation = NewCreditNote(memo=body.cancel_text)
        invoice = credit_notes.void_invoice(session, who, invoice.id, cancellation, now, body.cancel_text)
    return invoice


def _timestamp(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.combine(value, time(), UTC)
    return moment.astimezone(UTC).isoformat()


def _instant(value: datetime | None) -> str | None:
    """A given date-time kept as given (in UTC), time of day included."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def _money(minor: int, currency: str) -> Decimal:
    return calc.from_minor(minor, currency)


def present(invoice: Invoice, row: DialectInvoice) -> dict[str, Any]:
    """Every field of the seed's 200 answer; those faktur has no notion of are null or empty."""
    currency = invoice.currency
    attributes = row.attributes
    events = invoice.events
    last = events[-1] if events else None
    void_event = next((e for e in reversed(events) if e.to_status == InvoiceStatus.VOID.value), None)
    # A finalized invoice is cancelled by a full cancellation credit note: the cancellation's date
    # and text are the credit note's (a draft voided natively has only its status event).
    cancellation = next((n for n in reversed(invoice.credit_notes) if n.full_cancellation), None)
    if invoice.status != InvoiceStatus.VOID.value:
        cancel_date, cancel_text = None, None
    elif cancellation is not None:
        cancel_date, cancel_text = _timestamp(cancellation.created_at), cancellation.memo
    else:
        cancel_date = _timestamp(void_event.created_at) if void_event else None
        cancel_text = void_event.reason if void_event else None
    groups = [
        {
            "category": group.category,
            "value": group.percent,
            "netto_value": _money(group.taxable_minor, currency),
            "tax_value": _money(group.tax_minor, currency),
        }
        for group in invoice.tax_groups
    ]
    single = groups[0] if len(groups) == 1 else None
    buyer = invoice.customer_snapshot or {}
    number_string = invoice.number
    payment_date = max((p.paid_on for p in invoice.payments), default=None)
    return {
        "id": row.public_id,
        "token": str(invoice.id),
        "number": attributes.get("number"),
        "manual_number_prefix": attributes.get("manual_number_prefix"),
        "manual_number": attributes.get("manual_number"),
        "number_string": number_string,
        "generation_date": _timestamp(invoice.created_at),
        "number_date": attributes.get("number_date") or _timestamp(invoice.finalized_at),
        "message": invoice.memo,
        "currency": currency,
        "name": attributes.get("name"),
        "due_date": attributes.get("due_date") or _timestamp(invoice.due_date),
        "netto_value": _money(invoice.tax_exclusive_minor, currency),
        "brutto_value": _money(invoice.total_minor, currency),
        "tax_value": _money(invoice.tax_total_minor, currency),
        "tax": {
            "value": single["value"] if single else None,
            "category": single["category"] if single else None,
            "groups": groups,
        },
        "linked_number_title": attributes.get("linked_number_title"),
        "linked_number": invoice.external_reference,
        "status": STATUSES[invoice.status],
        "previous_status": STATUSES[last.from_status] if last and last.from_status else None,
        "status_updated": _timestamp(last.created_at) if last else None,
        "archived": False,
        "last_pdf_export": None,
        "last_status_export": None,
        "base_booking_group": None,
        "search_string": " ".join(
            part for part in (number_string, attributes.get("name"), buyer.get("name")) if part
        ),
        "accounting_type": None,
        "payment_type": None,
        "payment_goal": {"days": invoice.payment_terms_days}
        if invoice.payment_terms_days is not None
        else None,
        "items": [
            {
                "id": line.position,
                "token": str(line.id),
                "name": line.description,
                "quantity": line.quantity,
                "unit": line.unit_code,
                "price": line.unit_price,
                "netto_value": _money(line.net_minor, currency),
                "tax": {"value": line.tax_percent, "category": line.tax_category},
            }
            for line in invoice.lines
        ],
        "buyer": {
            key: buyer.get(key)
            for key in ("id", "name", "email", "address_line1", "postal_code", "city", "country", "vat_id")
        },
        "payment_date": attributes.get("payment_date") or _timestamp(payment_date),
        "is_payment_date_from_ext_service": False,
        "direct_debit_exported": False,
        "offer": None,
        "time_reports": [],
        "payment_provider_status": None,
        "payment_provider_reference": None,
        "payment_provider_transaction_reference": None,
        "cancel_date": cancel_date,
        "cancel_text": cancel_text,
        "base_event_sign_up": None,
        "base_booking": None,
        "base_event_sign_up_group": None,
        "person_log_book_entry": None,
        "billing_payment_profile": None,
    }


def camel_case(value: Any) -> Any:
    """Keys in camelCase at every depth, for `x-iw-convert-to-camel-case: 1`."""
    if isinstance(value, dict):
        return {to_camel(key): camel_case(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_case(item) for item in value]
    return value


_bearer = HTTPBearer(auto_error=False)


def iw_erp_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_session_token: Annotated[str | None, Header(alias="x-session-token")] = None,
    x_iw_jwt_token: Annotated[str | None, Header(alias="x-iw-jwt-token")] = None,
) -> Principal:
    token = x_session_token or x_iw_jwt_token or (credentials.credentials if credentials else None)
    return authenticate_key(request, session, token, header="x-session-token")


router = APIRouter(prefix=PREFIX, tags=["compat: iw-erp"], route_class=TransactionalRoute)


@router.post(
    "/api/invoice/invoices", summary="Creates a single Invoice (iw-erp dialect)", responses=responses.IW_ERP
)
def create_invoice(
    body: CreateInvoiceIn,
    principal: Annotated[Principal, Depends(iw_erp_principal)],
    session: SessionDep,
    now: NowDep,
    iw_build_id: Annotated[str | None, Query(alias="iw-build-id", max_length=200)] = None,
    iw_package_id: Annotated[str | None, Query(alias="iw-package-id", max_length=200)] = None,
    camel: Annotated[str | None, Header(alias="x-iw-convert-to-camel-case")] = None,
) -> ExactJSONResponse:
    invoice_in = body.invoice
    with vendor_fields(lambda field: _rename_lines(_rename(field))):
        customers.get_customer(session, principal.organisation_id, invoice_in.buyer.id)
        invoice = _create(session, principal, invoice_in, now)
    number = invoice.number if invoice_in.caller_number is None else None  # faktur's own number
    row = DialectInvoice(
        id=uuid.uuid4(),
        organisation_id=principal.organisation_id,
        created_at=now,
        invoice_id=invoice.id,
        dialect=DIALECT,
        public_id=repository.next_public_id(session, principal.organisation_id, DIALECT),
        attributes={
            "name": invoice_in.name,
            "manual_number_prefix": invoice_in.manual_number_prefix,
            "manual_number": invoice_in.manual_number,
            "number": (
                sequence_of(principal.organisation.number_format, number)
                if number is not None
                else invoice_in.manual_number
                if invoice_in.manual_number is not None
                else invoice_in.number
            ),
            "linked_number_title": invoice_in.linked_number_title,
            "due_date": _instant(invoice_in.due_date),
            "payment_date": _instant(invoice_in.payment_date),
            "number_date": _instant(invoice_in.number_date),
            "iw_build_id": iw_build_id,
            "iw_package_id": iw_package_id,
        },
    )
    repository.add(session, row)
    data = present(invoice, row)
    return ExactJSONResponse(camel_case(data) if (camel or "").strip() == "1" else data)


def render_error(
    request: Request, error: FakturError, validation: RequestValidationError | None
) -> JSONResponse:
    """iw-erp's error object: the HTTP status as `code`, a message and the fields at fault;
    request validation is a 400 there, not faktur's 422."""
    status = 400 if error.status == 422 else error.status
    errors = [{"field": d["field"], "message": d["reason"]} for d in error_details(error)]
    return JSONResponse({"code": status, "message": error.message, "errors": errors}, status_code=status)
