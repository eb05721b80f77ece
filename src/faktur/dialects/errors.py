"""The errors only the compatibility APIs answer with, in the words (and statuses) of their vendors.

Where a vendor's refusal means what a core code means, the class takes the core code, so a code
keeps one meaning across the APIs.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from faktur.billing.errors import OutsideContract
from faktur.contracts.errors import ContractOfOtherCustomer
from faktur.errors import FakturError, InvalidRequest, NotFound, Unprocessable
from faktur.invoices.errors import InvoiceNotFound
from faktur.orders.errors import OrderNotFound


class VendorRequestInvalid(InvalidRequest):
    """A vendor's request, translated, is not a valid core request (a 400, as the vendors answer)."""

    status = 400


class OrderIdRequired(Unprocessable):
    """Axim: the request names no orderId."""

    status = 400

    def __init__(self) -> None:
        super().__init__("orderId is required", details=[{"field": "orderId"}])


class AximOrderNotFound(NotFound):
    """Axim: no order with this orderId."""

    code = OrderNotFound.code

    def __init__(self) -> None:
        super().__init__("Order not found")


class WingbackContractOfOtherCustomer(FakturError):
    """Wingback: the contract belongs to another customer than the one given."""

    code = ContractOfOtherCustomer.code

    def __init__(self, contract_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        super().__init__(
            f"Contract Contr_{contract_id} belongs to another customer than Cust_{customer_id}.",
            details=[{"field": "contract_id", "reason": "belongs to another customer"}],
        )


class InvalidTimestamp(FakturError):
    """WizCommerce: a timestamp is not one the vendor's format allows."""

    code = "invalid_timestamp"

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(reason, details=[{"field": field, "reason": reason}])


class WizcommerceOrderNotFound(NotFound):
    """WizCommerce: no order with this faktur id or external reference."""

    code = OrderNotFound.code

    def __init__(self, order_id: str) -> None:
        super().__init__(
            f"No order {order_id} in this organisation (give its faktur id or external reference).",
            details=[{"field": "order_id", "reason": "unknown order"}],
        )


class UpdatedAtBeforeOrder(FakturError):
    """WizCommerce: an invoice's updated_at is not later than its order's creation."""

    code = "updated_at_before_order"

    def __init__(self, updated_text: str, created_text: str) -> None:
        super().__init__(
            f"updated_at {updated_text} must be later than the order's creation, {created_text}.",
            details=[{"field": "updated_at", "reason": "must be later than the order creation date"}],
        )


class ZenskarInvoiceNotOfContract(NotFound):
    """Zenskar: the invoice is not one of the contract given."""

    code = InvoiceNotFound.code

    def __init__(self, invoice_id: uuid.UUID, contract_id: uuid.UUID) -> None:
        super().__init__(
            f"Invoice {invoice_id} is not an invoice of contract {contract_id}.",
            details=[{"field": "contract_id", "loc": ["query", "contract_id"], "reason": "not its contract"}],
        )


class ZenskarProblem(Unprocessable):
    """Zenskar: a refusal whose `loc` is given exactly (the renderer otherwise derives it from `field`)."""

    def __init__(self, message: str, loc: list[str | int]) -> None:
        super().__init__(message, details=[{"field": loc[-1], "loc": loc}])

    @classmethod
    def of(cls, error: FakturError, loc: list[str | int]) -> ZenskarProblem:
        """A core error (its code and message) refused at `loc`."""
        problem = cls(error.message, loc)
        problem.code = error.code
        return problem


class ZenskarMissing(Unprocessable):
    """Zenskar: required values are absent (FastAPI's `missing`, one entry per name)."""

    code = "missing"

    def __init__(self, names: list[str], where: str, message: str) -> None:
        details: list[dict[str, Any]] = [
            {"field": name, "loc": [where, name], "reason": "Field required"} for name in names
        ]
        super().__init__(message, details=details)


class OrganisationMismatch(ZenskarProblem):
    """Zenskar: the `organisation` header is not the API key's organisation id."""

    code = "organisation_mismatch"

    def __init__(self, organisation_id: uuid.UUID) -> None:
        super().__init__(
            f"The 'organisation' header must be the API key's organisation id, {organisation_id}.",
            ["header", "organisation"],
        )


class DateOutOfRange(ZenskarProblem):
    """Zenskar: to_date lies at or after the year 10000."""

    code = "date_out_of_range"

    def __init__(self) -> None:
        super().__init__("to_date must be before the year 10000.", ["body", "to_date"])


class BoundsReversed(ZenskarProblem):
    """Zenskar: from_date is not before to_date (pydantic's `value_error`, as Zenskar answers)."""

    code = "value_error"

    def __init__(self) -> None:
        super().__init__("from_date must be before to_date (to_date is exclusive).", ["body", "to_date"])


class NotTheContractCycle(ZenskarProblem):
    """Zenskar: a missing bound can be snapped only to the contract's own billing cycle day."""

    code = "not_the_contract_cycle"

    def __init__(self, contract_id: uuid.UUID, cycle_day: int) -> None:
        super().__init__(
            f"The billing cycle of contract {contract_id} starts on day {cycle_day} "
            "of the month; a missing bound can only be snapped to that cycle.",
            ["body", "billing_cycle_start_day"],
        )


class ZenskarOutsideContract(ZenskarProblem):
    """Zenskar: the day given is outside the contract's term."""

    code = OutsideContract.code

    def __init__(
        self, contract_id: uuid.UUID, known: date, start: date, end: date | None, field: str
    ) -> None:
        until = f", ends {end}" if end else ""
        super().__init__(
            f"{known} is outside contract {contract_id} (it starts {start}{until}).",
            ["body", field],
        )


class ZenskarContractOfOtherCustomer(ZenskarProblem):
    """Zenskar: the contract belongs to another customer than customer_id."""

    code = ContractOfOtherCustomer.code

    def __init__(self, contract_id: uuid.UUID, owner_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        super().__init__(
            f"Contract {contract_id} belongs to customer {owner_id}, not {customer_id}.",
            ["body", "customer_id"],
        )


class DuplicateInvoice(ZenskarProblem):
    """Zenskar: check_duplicate_invoice is set and an invoice already bills the period."""

    code = "duplicate_invoice"

    def __init__(self, existing: Any, start: date, end: date, contract_id: uuid.UUID) -> None:
        super().__init__(
            f"Invoice {existing} already bills {start} to {end} of contract {contract_id}.",
            ["body", "check_duplicate_invoice"],
        )


class SendEmailNotAvailable(ZenskarProblem):
    """Zenskar: faktur does not e-mail invoices, so send_email=true is refused."""

    code = "send_email_not_available"

    def __init__(self) -> None:
        super().__init__(
            "faktur does not e-mail invoices; approve with send_email=false and send it yourself "
            "(GET /v1/invoices/{id}/pdf).",
            ["query", "send_email"],
        )
