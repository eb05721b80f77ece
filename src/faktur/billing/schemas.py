"""Request and response bodies of period invoices, contract usage and billing runs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PeriodInvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_start: date | None = Field(None, description="Default: the last completed period by the anchor")
    period_end: date | None = Field(None, description="Exclusive end of the period")
    bill_for_date: date | None = Field(
        None, description="Which terms version applies; default the period start"
    )
    check_duplicate: bool = Field(True, description="Look for a live invoice of the period before creating")
    finalize: bool = Field(False, description="Number and issue the invoice at once")

    @model_validator(mode="after")
    def _both_or_neither(self) -> PeriodInvoiceCreate:
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("give both period_start and period_end, or neither")
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start (the end is exclusive)")
        return self


class PeriodOut(BaseModel):
    start: date
    end: date = Field(description="Exclusive")
    invoice_id: uuid.UUID | None = Field(None, description="The live invoice of this period, if any")


class MetricUsageOut(BaseModel):
    metric_code: str
    aggregation: str
    units: str
    events: int


class LateEventOut(BaseModel):
    transaction_id: str
    metric_code: str
    timestamp: datetime
    period: PeriodOut = Field(description="The invoiced period the event belongs to")
    received_at: datetime


class ContractUsageOut(BaseModel):
    contract_id: uuid.UUID
    period: PeriodOut
    usage: list[MetricUsageOut]
    late_events: list[LateEventOut] = Field(
        description="Events of invoiced periods not on their invoice; billed on the next invoice"
    )


class BillingRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(
        description="Invoice every period completed by this day (end <= as_of); from 1970-01-01 to "
        "today (UTC): a period is invoiced once it is over"
    )


class RunFailureOut(BaseModel):
    contract_id: uuid.UUID
    code: str
    reason: str


class BillingRunOut(BaseModel):
    id: uuid.UUID
    as_of: date
    status: str = Field(description="running or completed")
    contracts_total: int
    contracts_done: int
    chunks_total: int
    chunks_done: int
    invoices_created: int
    failures_count: int
    failures: list[RunFailureOut]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    executor: str | None = Field(
        description="Who executes the run: `queue` (the `faktur worker` processes), or "
        "`<kind>@<host>:<pid>:<id>` for one process (`serve`, `bill`, `run`); null until one takes it"
    )
    heartbeat_at: datetime | None = Field(description="When the executor last showed it is alive")
    lease_expires_at: datetime | None = Field(
        description="While running: when another executor may take the run over if this one stays silent"
    )
