"""The errors of contracts: lookup, terms and the end date."""

from __future__ import annotations

import uuid
from datetime import date

from faktur.errors import Conflict, NotFound, Unprocessable


class ContractNotFound(NotFound):
    """No contract with this id in the caller's organisation."""

    code = "contract_not_found"

    def __init__(self, contract_id: uuid.UUID, *, field: str | None = None) -> None:
        super().__init__(
            f"No contract {contract_id} in this organisation.",
            details=None if field is None else [{"field": field, "reason": "unknown contract"}],
        )


class ContractOfOtherCustomer(Unprocessable):
    """The contract given belongs to another customer than the one given."""

    code = "contract_of_other_customer"

    def __init__(self, contract_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        super().__init__(
            f"Contract {contract_id} belongs to another customer than {customer_id}.",
            details=[{"field": "contract_id", "reason": "the contract's customer is not customer_id"}],
        )


class TermsEffectiveFromTooEarly(Unprocessable):
    """New contract terms must take effect after the current ones."""

    code = "terms_effective_from_too_early"

    def __init__(self, latest_from: date) -> None:
        super().__init__(
            f"New terms must take effect after the current ones (from {latest_from}).",
            details=[{"field": "terms_effective_from", "reason": f"must be after {latest_from}"}],
        )


class ContractEndNotAfterStart(Unprocessable):
    """A contract's end date must be after its start date (the end is exclusive)."""

    def __init__(self, start_date: date) -> None:
        super().__init__(
            f"end_date must be after the contract start {start_date} (the end is exclusive).",
            details=[{"field": "end_date", "reason": "not after start_date"}],
        )


class ContractEndBeforeInvoicedPeriod(Conflict):
    """The contract cannot end before a period that is already invoiced."""

    code = "contract_end_before_invoiced_period"

    def __init__(self, latest_end: date) -> None:
        super().__init__(
            f"Periods up to {latest_end} are already invoiced; the contract cannot end before that. "
            "Void those invoices first.",
            details=[{"field": "end_date", "reason": f"before {latest_end}"}],
        )
