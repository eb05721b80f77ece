"""SQL for customer balances and their ledger, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from faktur.models import CustomerBalance, CustomerBalanceTransaction
from faktur.paging import Cursor
from faktur.sql import insert_ignoring_conflicts, newest_first


def ensure_balance(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID, currency: str, now: datetime
) -> None:
    """Create the customer's balance row in `currency` at 0 unless it exists (a concurrent creator
    of the same row is waited for, never an error)."""
    insert_ignoring_conflicts(
        session,
        CustomerBalance,
        {
            "organisation_id": organisation_id,
            "customer_id": customer_id,
            "currency": currency,
            "balance_minor": 0,
            "created_at": now,
            "updated_at": now,
        },
    )


def lock_balance(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID, currency: str
) -> CustomerBalance | None:
    """The balance row, locked until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL;
    a SQLite writer holds the database's write lock already), read fresh from the database."""
    stmt = (
        select(CustomerBalance)
        .where(
            CustomerBalance.organisation_id == organisation_id,
            CustomerBalance.customer_id == customer_id,
            CustomerBalance.currency == currency,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


# Built once: every finalization asks it (faktur.balance.service.apply_to_new_invoices).
_AVAILABLE = (
    select(CustomerBalance)
    .where(
        CustomerBalance.organisation_id == bindparam("organisation_id"),
        tuple_(CustomerBalance.customer_id, CustomerBalance.currency).in_(bindparam("keys", expanding=True)),
        CustomerBalance.balance_minor > 0,
    )
    .order_by(CustomerBalance.customer_id, CustomerBalance.currency)
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_available(
    session: Session, organisation_id: uuid.UUID, keys: Collection[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], CustomerBalance]:
    """The balance rows of these (customer, currency) pairs that hold credit, locked until the
    transaction ends in (customer, currency) order, read fresh; a row without credit is neither
    returned nor locked. One statement, whatever the number of pairs: a batch whose customers
    have no credit costs this one indexed read and locks nothing. (A row another transaction is
    spending is waited for and then read again: it is left out if that spent it all.)"""
    rows = session.execute(_AVAILABLE, {"organisation_id": organisation_id, "keys": sorted(keys)}).scalars()
    return {(row.customer_id, row.currency): row for row in rows}


def add_transactions(session: Session, transactions: Collection[CustomerBalanceTransaction]) -> None:
    session.add_all(transactions)
    session.flush()


def balances(session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID) -> list[CustomerBalance]:
    stmt = (
        select(CustomerBalance)
        .where(CustomerBalance.organisation_id == organisation_id, CustomerBalance.customer_id == customer_id)
        .order_by(CustomerBalance.currency)
    )
    return list(session.execute(stmt).scalars())


def add_transaction(session: Session, transaction: CustomerBalanceTransaction) -> None:
    session.add(transaction)


def list_transactions(
    session: Session,
    organisation_id: uuid.UUID,
    customer_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    currency: str | None = None,
) -> list[CustomerBalanceTransaction]:
    stmt = select(CustomerBalanceTransaction).where(
        CustomerBalanceTransaction.organisation_id == organisation_id,
        CustomerBalanceTransaction.customer_id == customer_id,
    )
    if currency is not None:
        stmt = stmt.where(CustomerBalanceTransaction.currency == currency)
    return list(session.execute(newest_first(stmt, CustomerBalanceTransaction, cursor, limit)).scalars())


def transactions_of_invoice(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID
) -> list[CustomerBalanceTransaction]:
    stmt = (
        select(CustomerBalanceTransaction)
        .where(
            CustomerBalanceTransaction.organisation_id == organisation_id,
            CustomerBalanceTransaction.invoice_id == invoice_id,
        )
        .order_by(CustomerBalanceTransaction.created_at)
    )
    return list(session.execute(stmt).scalars())
