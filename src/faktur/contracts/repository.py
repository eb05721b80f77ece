"""SQL for contracts and their components, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from faktur.models import Contract, ContractComponent, Invoice
from faktur.paging import Cursor
from faktur.sql import newest_first


def _contracts(organisation_id: uuid.UUID) -> Select[Contract]:
    """Contracts of the organisation with their components, loaded by a second query that is
    scoped by organisation too, so it runs on the (organisation, contract) index: without that
    criterion it scanned every organisation's components (a third of locking a billing chunk)."""
    return (
        select(Contract)
        .where(Contract.organisation_id == organisation_id)
        .options(selectinload(Contract.components.and_(ContractComponent.organisation_id == organisation_id)))
    )


def get(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, *, for_update: bool = False
) -> Contract | None:
    stmt = _contracts(organisation_id).where(Contract.id == contract_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def get_many(
    session: Session,
    organisation_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    *,
    for_update: bool = False,
) -> list[Contract]:
    stmt = _contracts(organisation_id).where(Contract.id.in_(list(contract_ids))).order_by(Contract.id)
    if for_update:
        # Ordered by id, so two runners locking overlapping chunks cannot deadlock.
        stmt = stmt.with_for_update()
    return list(session.execute(stmt).scalars())


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    customer_id: uuid.UUID | None = None,
) -> list[Contract]:
    stmt = _contracts(organisation_id)
    if customer_id is not None:
        stmt = stmt.where(Contract.customer_id == customer_id)
    stmt = newest_first(stmt, Contract, cursor, limit)
    return list(session.execute(stmt).scalars())


def ids_started_before(session: Session, organisation_id: uuid.UUID, day: date) -> list[uuid.UUID]:
    """Contracts that may have a period completed by `day` (they started before it), by id."""
    stmt = (
        select(Contract.id)
        .where(Contract.organisation_id == organisation_id, Contract.start_date < day)
        .order_by(Contract.id)
    )
    return list(session.execute(stmt).scalars())


def live_invoice_periods(
    session: Session, organisation_id: uuid.UUID, contract_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[tuple[date, date], uuid.UUID]]:
    """For each contract, its non-void period invoices: (period_start, period_end) -> invoice id."""
    found: dict[uuid.UUID, dict[tuple[date, date], uuid.UUID]] = {cid: {} for cid in contract_ids}
    if not contract_ids:
        return found
    stmt = select(Invoice.contract_id, Invoice.period_start, Invoice.period_end, Invoice.id).where(
        Invoice.organisation_id == organisation_id,
        Invoice.contract_id.in_(list(contract_ids)),
        Invoice.status != "void",
    )
    for contract_id, start, end, invoice_id in session.execute(stmt):
        # Contract billing sets contract_id only together with the period (the unique key of one
        # live invoice per contract period), so neither is None here.
        assert contract_id is not None and start is not None and end is not None
        found.setdefault(contract_id, {})[(start, end)] = invoice_id
    return found


def add(session: Session, contract: Contract) -> None:
    session.add(contract)
    session.flush()
