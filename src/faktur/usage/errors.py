"""The errors of usage: billable metrics and the events recorded against them.

An event of a batch that cannot be recorded is reported by index with one of the `EventRefused`
codes; a single event is refused with the same code as an error.
"""

from __future__ import annotations

import uuid

from faktur.billing.errors import OutsideContract
from faktur.contracts.errors import ContractNotFound
from faktur.errors import Conflict, FakturError, NotFound, Unprocessable


class MetricNotFound(NotFound):
    """No billable metric with this id (or code) in the caller's organisation."""

    code = "metric_not_found"

    def __init__(self, metric_id: uuid.UUID) -> None:
        super().__init__(f"No metric {metric_id} in this organisation.")


class MetricCodeNotFound(MetricNotFound):
    """A contract component names a metric code the organisation has not created."""

    def __init__(self, metric_code: str, field: str) -> None:
        NotFound.__init__(
            self,
            f"No metric with code {metric_code!r}; create it with POST /v1/metrics first.",
            details=[{"field": field, "reason": "unknown metric"}],
        )


class MetricCodeTaken(Conflict):
    """Another metric of the organisation has this code."""

    code = "metric_code_taken"

    def __init__(self, metric_code: str) -> None:
        super().__init__(
            f"A metric with code {metric_code!r} already exists; codes are unique per organisation.",
            details=[{"field": "code", "reason": "already used"}],
        )


class EventRefused(FakturError):
    """A usage event that cannot be recorded; the subclass's code says why."""

    def __init__(self, reason: str, field: str | None) -> None:
        super().__init__(
            f"The event cannot be recorded: {reason}.", details=[{"field": field or "body", "reason": reason}]
        )


class InvalidEvent(EventRefused, Unprocessable):
    """A usage event does not match the event schema."""

    code = "invalid_event"


class EventMetricNotFound(EventRefused, NotFound):
    """A usage event names a metric code the organisation has not created."""

    code = MetricNotFound.code


class EventContractNotFound(EventRefused, NotFound):
    """A usage event names a contract that is not in the organisation."""

    code = ContractNotFound.code


class EventOutsideContract(EventRefused, Unprocessable):
    """A usage event's timestamp is outside its contract's term."""

    code = OutsideContract.code


class EventWithoutContract(EventRefused, Unprocessable):
    """A usage event's customer has no contract running on the event's day."""

    code = "no_contract"


class EventContractAmbiguous(EventRefused, Unprocessable):
    """Several of the customer's contracts charge the event's metric on its day; give contract_id."""

    code = "ambiguous_contract"


class InvalidEventProperty(EventRefused, Unprocessable):
    """The property the metric aggregates is missing from the event or not a number."""

    code = "invalid_property"


EVENT_REFUSALS: dict[str, type[EventRefused]] = {
    refusal.code: refusal
    for refusal in (
        InvalidEvent,
        EventMetricNotFound,
        EventContractNotFound,
        EventOutsideContract,
        EventWithoutContract,
        EventContractAmbiguous,
        InvalidEventProperty,
    )
}
