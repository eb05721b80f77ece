"""HTTP endpoints of /v1/contracts (period invoices and usage live in faktur.billing.endpoints)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.orm import Session

from faktur.auth import CurrentPrincipal
from faktur.contracts import service
from faktur.contracts.schemas import ComponentOut, ContractCreate, ContractOut, ContractUpdate, TermsOut
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute
from faktur.models import Contract, ContractComponent
from faktur.usage import repository as usage

router = APIRouter(prefix="/v1/contracts", tags=["contracts"], route_class=TransactionalRoute)


def _component_out(component: ContractComponent, codes: dict[uuid.UUID, str]) -> ComponentOut:
    return ComponentOut(
        id=component.id,
        kind=component.kind,
        name=component.name,
        amount=None if component.amount is None else str(component.amount),
        metric_id=component.metric_id,
        metric_code=codes.get(component.metric_id) if component.metric_id else None,
        charge_model=component.charge_model,
        tax_rate_id=component.tax_rate_id,
        tax=component.tax,
    )


def present_contracts(session: Session, contracts: list[Contract]) -> list[ContractOut]:
    metric_ids = {c.metric_id for contract in contracts for c in contract.components if c.metric_id}
    metrics = usage.metrics_by_id(session, contracts[0].organisation_id, metric_ids) if contracts else {}
    codes = {metric_id: metric.code for metric_id, metric in metrics.items()}
    out = []
    for contract in contracts:
        terms = [
            TermsOut(
                version=version,
                effective_from=effective_from,
                components=[_component_out(c, codes) for c in components],
            )
            for version, effective_from, components in service.terms_versions(contract)
        ]
        out.append(
            ContractOut(
                id=contract.id,
                customer_id=contract.customer_id,
                name=contract.name,
                currency=contract.currency,
                start_date=contract.start_date,
                end_date=contract.end_date,
                billing_interval=contract.billing_interval,
                billing_cycle_start_day=contract.billing_cycle_start_day,
                billing_timing=contract.billing_timing,
                payment_mode=contract.payment_mode,
                payment_terms_days=contract.payment_terms_days,
                metadata=contract.metadata_,
                components=terms[-1].components,
                terms=terms,
                created_at=contract.created_at,
                updated_at=contract.updated_at,
            )
        )
    return out


@router.post("", status_code=201, response_model=ContractOut, summary="Create a contract")
def create_contract(
    body: ContractCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> ContractOut:
    contract = service.create_contract(session, principal.organisation, body, now)
    return present_contracts(session, [contract])[0]


@router.get("", response_model=Page[ContractOut], summary="List contracts, newest first")
def list_contracts(
    principal: CurrentPrincipal,
    session: SessionDep,
    customer_id: uuid.UUID | None = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[ContractOut]:
    rows, has_more = service.list_contracts(
        session, principal.organisation_id, limit, after(cursor), customer_id
    )
    return page(rows, has_more, present_contracts(session, rows))


@router.get("/{contract_id}", response_model=ContractOut, summary="Get a contract")
def get_contract(contract_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> ContractOut:
    contract = service.get_contract(session, principal.organisation_id, contract_id)
    return present_contracts(session, [contract])[0]


@router.patch(
    "/{contract_id}",
    response_model=ContractOut,
    summary="Update a contract; new components start a new terms version",
)
def update_contract(
    contract_id: uuid.UUID,
    body: ContractUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> ContractOut:
    contract = service.update_contract(session, principal.organisation_id, contract_id, body, now)
    return present_contracts(session, [contract])[0]
