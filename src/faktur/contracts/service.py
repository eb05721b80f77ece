"""Operations on contracts (services flush, never commit)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from faktur.contracts import repository
from faktur.contracts.errors import (
    ContractEndBeforeInvoicedPeriod,
    ContractEndNotAfterStart,
    ContractNotFound,
    TermsEffectiveFromTooEarly,
)
from faktur.contracts.schemas import ComponentIn, ContractCreate, ContractUpdate, UsageComponentIn
from faktur.customers import service as customers
from faktur.errors import FieldCannotBeCleared
from faktur.models import Contract, ContractComponent, Organisation
from faktur.paging import Cursor
from faktur.tax_rates import repository as tax_rates
from faktur.tax_rates.errors import TaxRateNotFound
from faktur.usage import repository as usage
from faktur.usage.errors import MetricCodeNotFound


def get_contract(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, *, for_update: bool = False
) -> Contract:
    contract = repository.get(session, organisation_id, contract_id, for_update=for_update)
    if contract is None:
        raise ContractNotFound(contract_id)
    return contract


def list_contracts(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    customer_id: uuid.UUID | None,
) -> tuple[list[Contract], bool]:
    rows = repository.list_page(session, organisation_id, limit, cursor, customer_id)
    return rows[:limit], len(rows) > limit


def terms_versions(contract: Contract) -> list[tuple[int, date, list[ContractComponent]]]:
    """(version, effective_from, components) of every terms version, oldest first."""
    versions: dict[int, tuple[date, list[ContractComponent]]] = {}
    for component in contract.components:
        versions.setdefault(component.terms_version, (component.effective_from, []))[1].append(component)
    return [(version, start, comps) for version, (start, comps) in sorted(versions.items())]


def components_on(contract: Contract, day: date) -> list[ContractComponent]:
    """The components of the terms in effect on `day` (the first version before it took effect)."""
    versions = terms_versions(contract)
    chosen = versions[0][2]
    for _version, effective_from, components in versions:
        if effective_from <= day:
            chosen = components
    return chosen


def _build_components(
    session: Session,
    organisation_id: uuid.UUID,
    items: Sequence[ComponentIn],
    contract_id: uuid.UUID,
    version: int,
    effective_from: date,
    now: datetime,
) -> list[ContractComponent]:
    codes = {item.metric_code for item in items if isinstance(item, UsageComponentIn)}
    metrics = usage.metrics_by_code(session, organisation_id, codes)
    rate_ids = {item.tax_rate_id for item in items if item.tax_rate_id is not None}
    rates = tax_rates.get_many(session, organisation_id, rate_ids)
    built = []
    for position, item in enumerate(items):
        if item.tax_rate_id is not None and item.tax_rate_id not in rates:
            raise TaxRateNotFound(item.tax_rate_id, f"components[{position}].tax_rate_id")
        metric_id = None
        charge_model = None
        amount = None
        if isinstance(item, UsageComponentIn):
            metric = metrics.get(item.metric_code)
            if metric is None:
                raise MetricCodeNotFound(item.metric_code, f"components[{position}].metric_code")
            metric_id, charge_model = metric.id, item.charge_model
        else:
            amount = item.amount
        built.append(
            ContractComponent(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                created_at=now,
                contract_id=contract_id,
                terms_version=version,
                effective_from=effective_from,
                position=position,
                kind=item.kind,
                name=item.name,
                amount=amount,
                metric_id=metric_id,
                charge_model=charge_model,
                tax_rate_id=item.tax_rate_id,
                tax=None if item.tax is None else item.tax.model_dump(mode="json"),
            )
        )
    return built


def create_contract(
    session: Session, organisation: Organisation, data: ContractCreate, now: datetime
) -> Contract:
    customer = customers.get_customer(session, organisation.id, data.customer_id)
    contract_id = uuid.uuid4()
    components = _build_components(
        session, organisation.id, data.components, contract_id, 1, data.start_date, now
    )
    contract = Contract(
        id=contract_id,
        organisation_id=organisation.id,
        created_at=now,
        updated_at=now,
        customer_id=customer.id,
        name=data.name,
        currency=data.currency or customer.currency or organisation.default_currency,
        start_date=data.start_date,
        end_date=data.end_date,
        billing_interval=data.billing_interval.value,
        billing_cycle_start_day=data.billing_cycle_start_day or data.start_date.day,
        billing_timing=data.billing_timing.value,
        payment_mode=data.payment_mode.value,
        payment_terms_days=data.payment_terms_days,
        metadata_=data.metadata or {},
        components=components,
    )
    repository.add(session, contract)
    return contract


def update_contract(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, data: ContractUpdate, now: datetime
) -> Contract:
    contract = get_contract(session, organisation_id, contract_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    if "end_date" in changes:
        _check_new_end(session, contract, data.end_date)
        contract.end_date = data.end_date
    if data.components is not None and data.terms_effective_from is not None:
        versions = terms_versions(contract)
        latest_version, latest_from, _ = versions[-1]
        if data.terms_effective_from <= latest_from:
            raise TermsEffectiveFromTooEarly(latest_from)
        contract.components.extend(
            _build_components(
                session,
                organisation_id,
                data.components,
                contract.id,
                latest_version + 1,
                data.terms_effective_from,
                now,
            )
        )
    for name in ("name", "payment_terms_days"):
        if name in changes:
            setattr(contract, name, changes[name])
    if "payment_mode" in changes:
        if data.payment_mode is None:
            raise FieldCannotBeCleared("payment_mode", reason="null")
        contract.payment_mode = data.payment_mode.value
    if "metadata" in changes:
        contract.metadata_ = data.metadata or {}
    contract.updated_at = now
    session.flush()
    return contract


def _check_new_end(session: Session, contract: Contract, end: date | None) -> None:
    if end is None:
        return
    if end <= contract.start_date:
        raise ContractEndNotAfterStart(contract.start_date)
    invoiced = repository.live_invoice_periods(session, contract.organisation_id, [contract.id])[contract.id]
    latest_end = max((period_end for _, period_end in invoiced), default=None)
    if latest_end is not None and end < latest_end:
        raise ContractEndBeforeInvoicedPeriod(latest_end)
