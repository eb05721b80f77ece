"""What each dialect answers, for the OpenAPI document: the vendors' success and error shapes.

The dialects build their answers as exact JSON (`ExactJSONResponse`), so FastAPI cannot see their
shape; these models describe it, and each route declares them with its statuses. They document,
they never serialise: amounts are exact decimals written as JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]


# What FastAPI's `responses=` takes: per status, the OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]


def _answer(model: type[BaseModel] | Any, description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


# Wingback (000)


class WingbackError(BaseModel):
    code: str = Field(description="faktur's error code, e.g. invoice_item_not_found")
    message: str = Field(description="What went wrong, for a person")
    details: list[dict[str, str]] = Field(description="Fields at fault: {field, reason}")


WINGBACK: Responses = {
    200: _answer(list[str], "Nothing was attachable: `[]`"),
    201: _answer(list[str], "The ids of the issued invoices, `Inv_<uuid>`"),
    400: _answer(WingbackError, "A request problem (a malformed body or id, items of another customer)"),
    401: _answer(WingbackError, "No wb-key (or app-session cookie), or an unknown or revoked key"),
    404: _answer(WingbackError, "An id names nothing in the organisation"),
}


# Zenskar (001)


class ZenskarLineItem(BaseModel):
    id: str = Field(description="The faktur invoice line id")
    description: str = Field(description="What is billed on the line")
    quantity: Number = Field(description="Quantity billed")
    unit_price: Number = Field(description="Price per unit, without tax")
    amount_without_tax: Number = Field(description="The line's amount without tax")
    tax_percent: Number = Field(description="VAT rate in percent")
    from_date: str | None = Field(description="Start of the days the line bills, midnight UTC")
    to_date: str | None = Field(description="Exclusive end of the days the line bills, midnight UTC")


class ZenskarInvoice(BaseModel):
    id: str = Field(description="The faktur invoice id")
    customer_id: str = Field(description="The customer billed")
    contract_id: str | None = Field(description="The contract billed (null for an invoice of no contract)")
    status: str = Field(
        description="draft, approved (finalized, unpaid), partially_paid, paid or void; a generated "
        "invoice is a draft unless it is the period's live one (is_duplicate)"
    )
    invoice_number: str | None = Field(description="Number, once finalized; null for a draft")
    invoice_date: str | None = Field(description="Issue date, once finalized")
    due_date: str | None = Field(description="When payment is due, once finalized")
    from_date: str | None = Field(description="Period start, midnight UTC (ISO 8601, Z)")
    to_date: str | None = Field(description="Exclusive period end, midnight UTC (ISO 8601, Z)")
    currency: str = Field(description="ISO 4217 currency code")
    amount_without_tax: Number = Field(description="Total without tax")
    tax_amount: Number = Field(description="Tax")
    total_amount: Number = Field(description="Total with tax")
    amount_paid: Number = Field(description="Payments recorded so far")
    amount_due: Number = Field(
        description="What remains to be paid: total_amount less amount_paid and less what credit notes "
        "took off it (never below 0)"
    )
    is_duplicate: bool = Field(description="True when the period's existing live invoice is answered")
    line_items: list[ZenskarLineItem] | None = Field(
        None, description="The invoice's lines; only with include_line_items=true"
    )


class ZenskarGenerationStatus(BaseModel):
    invoice_id: str = Field(description="The faktur invoice id")
    contract_id: str | None = Field(description="The contract billed")
    generation_status: Literal["completed"] = Field(
        description="Always completed: faktur generates an invoice within the generate request"
    )
    invoice_status: str = Field(description="The invoice's status, as in ZenskarInvoice.status")


class ZenskarProblem(BaseModel):
    loc: list[str | int] = Field(description='Where, e.g. ["body", "contract_id"] or ["header", "x-api-key"]')
    msg: str = Field(description="What is wrong, for a person")
    type: str = Field(description="faktur's error code, e.g. not_a_contract_period")


class ZenskarValidationError(BaseModel):
    detail: list[ZenskarProblem] = Field(description="The problems of the request")


ZENSKAR: Responses = {
    200: _answer(ZenskarInvoice, "The period's draft invoice (or its live one, is_duplicate: true)"),
    422: _answer(
        ZenskarValidationError, "Every request problem, credentials too (Zenskar documents no other error)"
    ),
}

# The calls of Zenskar's client after generating keep faktur's statuses, in Zenskar's error shape.
_ZENSKAR_NOT_FOUND = _answer(
    ZenskarValidationError, "No such invoice in the organisation (invoice_not_found)"
)
_ZENSKAR_INVALID = _answer(
    ZenskarValidationError,
    "A request problem: missing or wrong x-api-key or organisation header, a malformed id or parameter",
)

ZENSKAR_GET_INVOICE: Responses = {
    200: _answer(ZenskarInvoice, "The invoice (with its lines when include_line_items=true)"),
    404: _ZENSKAR_NOT_FOUND,
    422: _ZENSKAR_INVALID,
}

ZENSKAR_GENERATION_STATUS: Responses = {
    200: _answer(ZenskarGenerationStatus, "Generation is complete once the invoice exists"),
    404: _answer(
        ZenskarValidationError, "No such invoice in the organisation, or it is not an invoice of contract_id"
    ),
    422: _ZENSKAR_INVALID,
}

ZENSKAR_APPROVE: Responses = {
    200: _answer(ZenskarInvoice, "The finalized invoice: numbered, dated, status approved"),
    400: _answer(ZenskarValidationError, "The body is not JSON (malformed_json)"),
    404: _ZENSKAR_NOT_FOUND,
    409: _answer(ZenskarValidationError, "The invoice is no longer a draft (invoice_not_draft)"),
    422: _answer(
        ZenskarValidationError,
        "A request problem (credentials, send_email=true, unknown body fields), or the invoice cannot be "
        "finalized as it stands, e.g. invoice_has_no_lines",
    ),
}


# WizCommerce (002)


class WizCommerceItem(BaseModel):
    id: str = Field(description="The faktur invoice line id")
    reference_id: str = Field(description="The shop's id of the item")
    name: str = Field(description="What was sold")
    product_id: str = Field(description="Article number (sku)")
    quantity: int = Field(description="Whole units")
    amount: Number = Field(description="Amount per unit")
    item_total: Number = Field(description="quantity x amount")


class WizCommerceInvoice(BaseModel):
    model_config = ConfigDict(title="WizCommerceInvoice")

    id: str = Field(description="The faktur invoice id")
    reference_id: str = Field(description="The shop's id of the invoice")
    order_id: str = Field(description="The order as given")
    invoice_number: str = Field(description="The shop's invoice number")
    total_amount: Number = Field(description="Total")
    paid_amount: Number = Field(description="Amount paid")
    status: Literal["PAID", "PENDING", "PARTIALLY_PAID", "OVERPAID"] = Field(description="Payment status")
    due_date: str | None = Field(None, description="Due date, midnight UTC")
    remarks: str | None = Field(None, description="Free text, when given")
    url: str | None = Field(None, description="The shop's link, when given")
    created_at: str = Field(description="Issue date and time (ISO 8601)")
    updated_at: str = Field(description="Last change (ISO 8601)")
    items: list[WizCommerceItem] = Field(description="The invoiced items")


class WizCommerceCreated(BaseModel):
    data: WizCommerceInvoice = Field(description="The imported invoice")


class WizCommerceError(BaseModel):
    code: str = Field(description="faktur's error code")
    message: str = Field(description="What went wrong, for a person")
    details: list[dict[str, str]] = Field(description="Fields at fault: {field, reason}")


WIZCOMMERCE: Responses = {
    201: _answer(WizCommerceCreated, "The imported invoice"),
    400: _answer(WizCommerceError, "A request problem: fields, amounts or status that do not add up"),
    401: _answer(WizCommerceError, "No X-API-Key, or an unknown or revoked key"),
    404: _answer(WizCommerceError, "No such order in the organisation"),
}


# iw-erp (003)


class IwErpTax(BaseModel):
    value: Number | None = Field(description="Rate in percent when the invoice has one rate")
    category: str | None = Field(description="EN 16931 category when the invoice has one rate")
    groups: list[dict[str, Any]] = Field(description="Per rate: category, value, netto_value, tax_value")


class IwErpItem(BaseModel):
    id: int = Field(description="Position, from 1")
    token: str = Field(description="The faktur line id")
    name: str = Field(description="What is invoiced")
    quantity: Number = Field(description="Quantity")
    unit: str = Field(description="UN/ECE Rec 20 unit code")
    price: Number = Field(description="Netto price per unit")
    netto_value: Number = Field(description="Netto amount of the item")
    tax: dict[str, Any] = Field(description="Rate (value) and category")


class IwErpInvoice(BaseModel):
    """Keys are snake_case, or camelCase with `x-iw-convert-to-camel-case: 1`."""

    id: int = Field(description="The invoice's iw-erp id (per organisation)")
    token: str = Field(description="The faktur invoice id")
    number: int | None = Field(description="The manual number, when given")
    manual_number_prefix: str | None = Field(description="Text before the manual number")
    manual_number: int | None = Field(description="The manual number")
    number_string: str | None = Field(description="The full invoice number")
    generation_date: str | None = Field(description="When it was created")
    number_date: str | None = Field(description="When it was numbered")
    message: str | None = Field(description="Free text")
    currency: str = Field(description="ISO 4217 currency code")
    name: str | None = Field(description="Title of the invoice")
    due_date: str | None = Field(description="When payment is due")
    netto_value: Number = Field(description="Total without tax")
    brutto_value: Number = Field(description="Total with tax")
    tax_value: Number = Field(description="Tax")
    tax: IwErpTax = Field(description="Tax rate(s)")
    linked_number_title: str | None = Field(description="What the linked number is")
    linked_number: str | None = Field(description="A number of another document")
    status: str = Field(description="draft, open, paid or cancelled")
    previous_status: str | None = Field(description="Status before the last change")
    status_updated: str | None = Field(description="When the status last changed")
    archived: bool = Field(description="Always false")
    last_pdf_export: str | None = Field(description="Always null (not tracked)")
    last_status_export: str | None = Field(description="Always null (not tracked)")
    base_booking_group: str | None = Field(description="Always null (not tracked)")
    search_string: str = Field(description="Number, name and buyer, for searching")
    accounting_type: str | None = Field(description="Always null (not tracked)")
    payment_type: str | None = Field(description="Always null (not tracked)")
    payment_goal: dict[str, int] | None = Field(description='{"days": N}: payment terms')
    items: list[IwErpItem] = Field(description="The invoice items")
    buyer: dict[str, Any] = Field(description="The buyer's details as invoiced")
    payment_date: str | None = Field(description="When it was paid, if paid")


class IwErpError(BaseModel):
    code: int = Field(description="The HTTP status again")
    message: str = Field(description="What went wrong, for a person")
    errors: list[dict[str, str]] = Field(description="Fields at fault: {field, message}")


IW_ERP: Responses = {
    200: _answer(IwErpInvoice, "The created invoice"),
    400: _answer(IwErpError, "A request problem (faktur's 422s are 400s here)"),
    401: _answer(IwErpError, "No x-session-token or Bearer key, or an unknown or revoked one"),
    404: _answer(IwErpError, "The buyer is not a customer of the organisation"),
    409: _answer(IwErpError, "The manual number is taken, or the Idempotency-Key was used with another body"),
}


# order platform (004)


class AximLineItem(BaseModel):
    lineItemId: str = Field(description="The order line invoiced")
    quantity: Number = Field(description="Quantity invoiced")
    id: str = Field(description="The invoice line id")


class AximInvoice(BaseModel):
    order: str = Field(description="The order: its external reference, else its faktur id")
    entityId: str = Field(description="The organisation id")
    lineItems: list[AximLineItem] = Field(description="What was invoiced, per order line")
    total: Number = Field(description="Total with tax")
    createdBy: dict[str, str] = Field(description="The API key that created it: {id, name, type}")
    metaFields: list[Any] = Field(description="Always empty")
    createdAt: str = Field(description="Creation time (ISO 8601, milliseconds, Z)")
    updatedAt: str = Field(description="Last change (ISO 8601, milliseconds, Z)")
    id: str = Field(description="The faktur invoice id")


class AximCreated(BaseModel):
    success: Literal[True] = Field(description="Always true here")
    data: AximInvoice = Field(description="The invoice")
    message: str = Field(description="Invoice created successfully")


class AximError(BaseModel):
    success: Literal[False] = Field(description="Always false here")
    message: str = Field(description="What went wrong")


AXIM: Responses = {
    201: _answer(AximCreated, "The invoice of everything that remained of the order"),
    400: _answer(AximError, "Validation error: ..."),
    401: _answer(AximError, "Invalid or missing access token"),
    404: _answer(AximError, "Order not found"),
    409: _answer(AximError, "Nothing remains to invoice, or the Idempotency-Key was used with another body"),
}
