"""The errors of billing: contract periods and ranges, billing runs and their chunks."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from faktur.errors import Conflict, NotFound, Unprocessable

if TYPE_CHECKING:
    from faktur.models import Contract


def _term(contract: Contract) -> str:
    until = f" to {contract.end_date}" if contract.end_date else ""
    return f"(it runs from {contract.start_date}{until}"


class BillingRunNotFound(NotFound):
    """No billing run with this id in the caller's organisation."""

    code = "billing_run_not_found"

    def __init__(self, run_id: uuid.UUID, *, in_organisation: bool = True) -> None:
        super().__init__(f"No billing run {run_id}{' in this organisation' if in_organisation else ''}.")


class BillingRunChunkNotFound(NotFound):
    """The billing run has no chunk with this sequence number."""

    code = "billing_run_chunk_not_found"

    def __init__(self, run_id: uuid.UUID, seq: int) -> None:
        super().__init__(f"No chunk {seq} in billing run {run_id}.")


class AsOfOutOfRange(Unprocessable):
    """A billing run's as_of lies before 1970 or after today."""

    code = "as_of_out_of_range"

    def __init__(self, as_of: date, earliest: date, today: date) -> None:
        super().__init__(
            f"as_of {as_of.isoformat()} is outside {earliest.isoformat()} to today "
            f"({today.isoformat()}, UTC): a billing run invoices periods that are over; run it again "
            "once the period has ended.",
            details=[{"field": "as_of", "reason": f"must lie between {earliest.isoformat()} and today"}],
        )


class DuplicatePeriod(Conflict):
    """The contract's period is already billed by a live invoice."""

    code = "duplicate_period"

    def __init__(self, contract: Contract, period_text: str, invoice_id: uuid.UUID) -> None:
        super().__init__(
            f"The period {period_text} of contract {contract.id} is already billed by invoice "
            f"{invoice_id}; void it first to invoice the period again.",
            details=[
                {
                    "field": "period_start",
                    "reason": "period already invoiced",
                    "existing_invoice_id": str(invoice_id),
                }
            ],
        )


class PeriodOverlapsInvoice(Conflict):
    """Some days of the range asked for are already billed by a live invoice of the contract."""

    code = "period_overlaps_invoice"

    def __init__(
        self, contract: Contract, start: date, end: date, span: tuple[date, date], invoice_id: uuid.UUID
    ) -> None:
        super().__init__(
            f"{start} to {end} (end exclusive) shares days with {span[0]} to {span[1]}, billed by invoice "
            f"{invoice_id} of contract {contract.id}; nothing is invoiced twice: void that invoice first, "
            "or ask for the days it does not bill.",
            details=[
                {
                    "field": "period_start",
                    "reason": "days already invoiced",
                    "existing_invoice_id": str(invoice_id),
                }
            ],
        )


class NothingToBill(Unprocessable):
    """The contract's period has nothing to invoice (flat fees billed in advance, no usage)."""

    code = "nothing_to_bill"

    def __init__(self, contract: Contract, period_text: str) -> None:
        super().__init__(
            f"Nothing to bill for {period_text} of contract {contract.id}: its flat fees were "
            "billed in advance and it has no usage components."
        )


class InvalidPeriodInvoice(Unprocessable):
    """The invoice built for a contract's period is not valid."""

    code = "invalid_period_invoice"

    def __init__(self, contract: Contract, period_text: str, problem: str) -> None:
        super().__init__(f"The invoice of contract {contract.id} for {period_text} is not valid: {problem}.")


class NoCompletedPeriod(Unprocessable):
    """The contract has no billing period that is over yet."""

    code = "no_completed_period"

    def __init__(self, contract: Contract) -> None:
        super().__init__(
            f"Contract {contract.id} has no completed period yet (it starts {contract.start_date}); "
            "give period_start and period_end, or wait for the first period to end."
        )


class NotAContractPeriod(Unprocessable):
    """The dates asked for are not one billing period of the contract's calendar."""

    code = "not_a_contract_period"

    def __init__(self, contract: Contract, start: date, end: date, expected: str) -> None:
        super().__init__(
            f"{start} to {end} (end exclusive) is not a billing period of contract {contract.id}{expected}.",
            details=[{"field": "period_start", "reason": "not a period of the contract's billing calendar"}],
        )


class PeriodNotCompleted(Unprocessable):
    """The period asked for ends after today; usage is billed once the days are over."""

    code = "period_not_completed"

    def __init__(self, end: date, today: date) -> None:
        super().__init__(
            f"The period ends {end}, after today ({today}); usage is billed once the period is over. "
            "Use GET /v1/contracts/{id}/upcoming-invoice to preview it.",
            details=[{"field": "period_end", "reason": "in the future"}],
        )


class RangeNotCompleted(PeriodNotCompleted):
    """The range asked for ends after today."""

    def __init__(self, start: date, end: date, today: date) -> None:
        Unprocessable.__init__(
            self,
            f"{start} to {end} ends after today ({today}); usage is billed once the days are over.",
            details=[{"field": "period_end", "reason": "in the future"}],
        )


class NoRunningPeriod(Conflict):
    """The contract does not run today, so it has no upcoming invoice."""

    code = "no_running_period"

    def __init__(self, contract: Contract, today: date) -> None:
        super().__init__(
            f"Contract {contract.id} is not running on {today} {_term(contract)}); "
            "there is no upcoming invoice."
        )


class OutsideContract(Unprocessable):
    """A date or range asked for lies outside the contract's term."""

    code = "outside_contract"


class RangeOutsideContract(OutsideContract):
    """The range asked for is not within the contract's term."""

    def __init__(self, contract: Contract, start: date, end: date) -> None:
        super().__init__(
            f"{start} to {end} is not within contract {contract.id} {_term(contract)}, end exclusive).",
            details=[{"field": "period_start", "reason": "outside the contract"}],
        )


class DayOutsideContract(OutsideContract):
    """The day asked for is outside the contract's term."""

    def __init__(self, contract: Contract, on: date) -> None:
        super().__init__(
            f"{on} is outside contract {contract.id} {_term(contract)}, end exclusive).",
            details=[{"field": "on", "reason": "outside the contract"}],
        )


class RangeOfInAdvanceContract(Unprocessable):
    """A contract billed in advance is invoiced per whole billing period, not for a range of days."""

    code = "range_of_in_advance_contract"

    def __init__(self, contract: Contract, start: date, cycle_text: str) -> None:
        super().__init__(
            f"Contract {contract.id} bills its flat fees in advance, per whole billing period; invoice one "
            f"of its periods (the one containing {start} is {cycle_text}).",
            details=[{"field": "period_start", "reason": "not a billing period of an in-advance contract"}],
        )
