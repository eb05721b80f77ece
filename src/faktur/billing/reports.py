"""What a contract has used: a period's units per metric, and late events of invoiced periods."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from faktur.billing import service
from faktur.billing.errors import DayOutsideContract
from faktur.billing.lines import units_of
from faktur.billing.schemas import ContractUsageOut, LateEventOut, MetricUsageOut, PeriodOut
from faktur.contracts import repository as contracts_repo
from faktur.contracts import service as contracts
from faktur.models import UsageEvent
from faktur.usage import billing_repository as billed
from faktur.usage import repository as usage


def contract_usage(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, on: date
) -> ContractUsageOut:
    """Usage of the period containing `on`, and every late event (kept, billed on the next invoice)."""
    contract = contracts.get_contract(session, organisation_id, contract_id)
    try:
        period = service.contract_period(contract, on)
    except ValueError:
        raise DayOutsideContract(contract, on) from None
    invoiced = contracts_repo.live_invoice_periods(session, organisation_id, [contract.id])[contract.id]
    rows = billed.contract_events(
        session,
        organisation_id,
        [contract.id],
        service.midnight(period.end),
        unbilled_only=False,
        since=service.midnight(period.start),
    )
    by_metric: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        by_metric[row.metric_id].append(row.value)
    metric_ids = {c.metric_id for c in contract.components if c.metric_id} | set(by_metric)
    metrics = usage.metrics_by_id(session, organisation_id, metric_ids)
    usage_out = [
        MetricUsageOut(
            metric_code=metric.code,
            aggregation=metric.aggregation,
            units=format(
                units_of(
                    service.MetricTerms(metric.id, metric.code, metric.aggregation, metric.property),
                    by_metric.get(metric.id, []),
                ),
                "f",
            ),
            events=len(by_metric.get(metric.id, [])),
        )
        for metric in sorted(metrics.values(), key=lambda m: m.code)
    ]
    late = []
    for event in _unbilled_events(session, organisation_id, contract.id):
        try:
            home = service.contract_period(contract, event.timestamp.date())
        except ValueError:
            continue
        if (home.start, home.end) in invoiced:
            metric = metrics.get(event.metric_id)
            late.append(
                LateEventOut(
                    transaction_id=event.transaction_id,
                    metric_code=metric.code if metric else str(event.metric_id),
                    timestamp=event.timestamp,
                    period=PeriodOut(
                        start=home.start, end=home.end, invoice_id=invoiced[(home.start, home.end)]
                    ),
                    received_at=event.created_at,
                )
            )
    return ContractUsageOut(
        contract_id=contract.id,
        period=PeriodOut(
            start=period.start, end=period.end, invoice_id=invoiced.get((period.start, period.end))
        ),
        usage=usage_out,
        late_events=late,
    )


def _unbilled_events(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID
) -> list[UsageEvent]:
    return billed.unbilled_events(session, organisation_id, contract_id, limit=1000)
