"""HTTP endpoints of a customer's credit balance: /v1/customers/{id}/balance and its ledger."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from faktur import calc
from faktur.auth import CurrentPrincipal
from faktur.balance import service
from faktur.balance.schemas import (
    BalanceTransactionCreate,
    BalanceTransactionOut,
    CurrencyBalanceOut,
    CustomerBalanceOut,
)
from faktur.fields import CurrencyCode
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import Page
from faktur.http.routing import TransactionalRoute
from faktur.models import CustomerBalanceTransaction
from faktur.paging import Cursor

router = APIRouter(prefix="/v1/customers", tags=["customer balance"], route_class=TransactionalRoute)


def _transaction_out(row: CustomerBalanceTransaction) -> BalanceTransactionOut:
    return BalanceTransactionOut(
        id=row.id,
        customer_id=row.customer_id,
        currency=row.currency,
        kind=row.kind,
        amount=str(calc.from_minor(row.amount_minor, row.currency)),
        balance_after=str(calc.from_minor(row.balance_after_minor, row.currency)),
        description=row.description,
        invoice_id=row.invoice_id,
        credit_note_id=row.credit_note_id,
        created_at=row.created_at,
    )


@router.get(
    "/{customer_id}/balance",
    response_model=CustomerBalanceOut,
    summary="The customer's credit balance, per currency",
)
def get_balance(
    customer_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> CustomerBalanceOut:
    customer, balances = service.get_balances(session, principal.organisation_id, customer_id)
    return CustomerBalanceOut(
        customer_id=customer.id,
        balances=[
            CurrencyBalanceOut(
                currency=b.currency,
                amount=str(calc.from_minor(b.balance_minor, b.currency)),
                updated_at=b.updated_at,
            )
            for b in balances
        ],
    )


@router.get(
    "/{customer_id}/balance-transactions",
    response_model=Page[BalanceTransactionOut],
    summary="The customer's balance ledger, newest first",
)
def list_balance_transactions(
    customer_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
) -> Page[BalanceTransactionOut]:
    after = Cursor.decode(cursor) if cursor else None
    rows, has_more = service.list_transactions(
        session, principal.organisation_id, customer_id, limit, after, currency
    )
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode() if has_more else None
    return Page(data=[_transaction_out(r) for r in rows], has_more=has_more, next_cursor=next_cursor)


@router.post(
    "/{customer_id}/balance-transactions",
    status_code=201,
    response_model=BalanceTransactionOut,
    summary="Credit or debit the customer's balance by hand",
)
def create_balance_transaction(
    customer_id: uuid.UUID,
    body: BalanceTransactionCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> BalanceTransactionOut:
    command = service.BalanceAdjustment(
        customer_id=customer_id, amount=body.amount, currency=body.currency, description=body.description
    )
    return _transaction_out(service.adjust_balance(session, principal.organisation, command, now))
