"""Customer credit balance operations: manual adjustments and applying credit to an invoice.

Every change locks the balance row of (organisation, customer, currency) first, so concurrent
changes queue and none spends credit another already spent; the database refuses a negative
balance as a last line. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from faktur import calc
from faktur.balance import repository
from faktur.balance.errors import AmountPrecision, InsufficientBalance, ZeroAmount
from faktur.customers import service as customers
from faktur.invoices.schemas import InvoiceStatus
from faktur.models import (
    Customer,
    CustomerBalance,
    CustomerBalanceTransaction,
    Invoice,
    InvoiceEvent,
    Organisation,
    Payment,
)
from faktur.paging import Cursor

MANUAL_ADJUSTMENT = "manual_adjustment"
APPLIED_TO_INVOICE = "applied_to_invoice"
CREDIT_NOTE = "credit_note"
# The method of the payment that records credit applied to an invoice.
BALANCE_PAYMENT_METHOD = "customer_balance"


@dataclass(frozen=True)
class BalanceAdjustment:
    """A manual change of a customer's balance: `amount` > 0 credits, < 0 debits; `currency`
    None means the customer's currency, else the organisation's default."""

    customer_id: uuid.UUID
    amount: Decimal
    currency: str | None
    description: str


def get_balances(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID
) -> tuple[Customer, list[CustomerBalance]]:
    customer = customers.get_customer(session, organisation_id, customer_id)
    return customer, repository.balances(session, organisation_id, customer.id)


def list_transactions(
    session: Session,
    organisation_id: uuid.UUID,
    customer_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    currency: str | None = None,
) -> tuple[list[CustomerBalanceTransaction], bool]:
    customers.get_customer(session, organisation_id, customer_id)
    rows = repository.list_transactions(session, organisation_id, customer_id, limit, cursor, currency)
    return rows[:limit], len(rows) > limit


def adjust_balance(
    session: Session, organisation: Organisation, command: BalanceAdjustment, now: datetime
) -> CustomerBalanceTransaction:
    """Credit or debit the customer's balance by hand; a debit never takes it below zero."""
    customer = customers.get_customer(session, organisation.id, command.customer_id)
    currency = command.currency or customer.currency or organisation.default_currency
    amount_minor = _minor(command.amount, currency)
    repository.ensure_balance(session, organisation.id, customer.id, currency, now)
    balance = repository.lock_balance(session, organisation.id, customer.id, currency)
    if balance is None:  # pragma: no cover - ensure_balance created it in this transaction
        raise LookupError(f"the balance row of customer {customer.id} in {currency} is missing")
    if balance.balance_minor + amount_minor < 0:
        available = calc.from_minor(balance.balance_minor, currency)
        raise InsufficientBalance(
            f"The customer has {available} {currency} to their credit; a debit of {-command.amount} "
            f"{currency} would make the balance negative. Debit at most {available}.",
            details=[
                {
                    "field": "amount",
                    "reason": "larger than the available balance",
                    "requested": str(-command.amount),
                    "available": str(available),
                    "currency": currency,
                }
            ],
        )
    return _post(session, balance, amount_minor, MANUAL_ADJUSTMENT, command.description, None, now)


def credit_from_credit_note(
    session: Session,
    invoice: Invoice,
    credit_note_id: uuid.UUID,
    amount_minor: int,
    description: str,
    now: datetime,
) -> CustomerBalanceTransaction:
    """Credit `amount_minor` of a credit note of `invoice` to its customer's balance in its
    currency (the balance row locked after the invoice's, before any number counter)."""
    organisation_id, customer_id, currency = invoice.organisation_id, invoice.customer_id, invoice.currency
    repository.ensure_balance(session, organisation_id, customer_id, currency, now)
    balance = repository.lock_balance(session, organisation_id, customer_id, currency)
    if balance is None:  # pragma: no cover - ensure_balance created it in this transaction
        raise LookupError(f"the balance row of customer {customer_id} in {currency} is missing")
    return _post(session, balance, amount_minor, CREDIT_NOTE, description, invoice.id, now, credit_note_id)


def apply_balance(session: Session, invoice: Invoice, actor: str, now: datetime) -> int:
    """Apply the available balance of the invoice's customer in its currency to the stored invoice
    being finalized (`POST /finalize`), up to its amount due; returns what was applied (minor
    units, 0 when nothing).

    It is recorded as a payment from the balance (method customer_balance) and as the prepaid
    amount that the e-invoice states (BT-113) and deducts from the amount due (BT-115). Call it
    after the invoice is issued and before it takes its number, so the balance row is locked
    before the number counter (always in that order) and neither lock is held longer than needed.
    """
    if _due(invoice) <= 0:
        return 0
    balance = repository.lock_balance(session, invoice.organisation_id, invoice.customer_id, invoice.currency)
    if balance is None or balance.balance_minor <= 0:
        return 0
    transaction, payment = _pay_from(balance, invoice, actor, now)
    repository.add_transaction(session, transaction)
    session.add(payment)
    session.flush()
    return -transaction.amount_minor


def apply_to_new_invoices(
    session: Session,
    invoices: Sequence[Invoice],
    actor: str,
    now: datetime,
    *,
    without_credit: Collection[uuid.UUID] = (),
) -> list[CustomerBalanceTransaction]:
    """Apply the customers' available balances to new invoices of one organisation that are issued
    in memory and not written yet (faktur.invoices.batch: create with finalize, billing runs,
    orders, pending items), in order, each up to its amount due, as `apply_balance` does.

    The invoices get their balance payment (written with them: `invoice.payments`), prepaid
    amount and status (paid when the balance covers them); the balance rows are changed in the
    session. The ledger transactions returned name the invoices: write them with
    `record_applied` once the invoices are. One statement for the whole batch, which locks only
    the balance rows that hold credit (before the number counter, as everywhere). Customers in
    `without_credit` were read in this transaction holding none and are not looked up again
    (faktur.customers.repository.get_for_invoicing): no statement at all when that is all of them."""
    due = [invoice for invoice in invoices if _due(invoice) > 0 and invoice.customer_id not in without_credit]
    if not due:
        return []
    keys = {(invoice.customer_id, invoice.currency) for invoice in due}
    available = repository.lock_available(session, due[0].organisation_id, keys)
    ledger: list[CustomerBalanceTransaction] = []
    for invoice in due:
        balance = available.get((invoice.customer_id, invoice.currency))
        if balance is not None and balance.balance_minor > 0:
            transaction, _ = _pay_from(balance, invoice, actor, now)
            ledger.append(transaction)
    return ledger


def record_applied(session: Session, ledger: Sequence[CustomerBalanceTransaction]) -> None:
    """Write the ledger transactions of `apply_to_new_invoices`, after their invoices."""
    if ledger:
        repository.add_transactions(session, ledger)


def _due(invoice: Invoice) -> int:
    """What an invoice being finalized still owes (0 unless it is open)."""
    if invoice.status != InvoiceStatus.OPEN.value:
        return 0
    return invoice.amount_due_minor


def _pay_from(
    balance: CustomerBalance, invoice: Invoice, actor: str, now: datetime
) -> tuple[CustomerBalanceTransaction, Payment]:
    """Pay what the locked `balance` can of the invoice, in memory: the ledger transaction (not
    added to the session) and the payment (on `invoice.payments`)."""
    applied = min(balance.balance_minor, _due(invoice))
    transaction = _change(
        balance, -applied, APPLIED_TO_INVOICE, "Applied to an invoice at finalization", invoice.id, now
    )
    payment = Payment(
        id=uuid.uuid4(),
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        amount_minor=applied,
        paid_on=now.date(),
        method=BALANCE_PAYMENT_METHOD,
        reference=str(transaction.id),
    )
    invoice.payments.append(payment)
    invoice.amount_paid_minor += applied
    invoice.prepaid_minor += applied
    invoice.updated_at = now
    if invoice.amount_due_minor <= 0:
        _record_paid(invoice, actor, now)
    return transaction, payment


def _record_paid(invoice: Invoice, actor: str, now: datetime) -> None:
    """open -> paid in the invoice's status history (an open invoice may always become paid)."""
    invoice.events.append(
        InvoiceEvent(
            id=uuid.uuid4(),
            organisation_id=invoice.organisation_id,
            invoice_id=invoice.id,
            created_at=now,
            sequence=len(invoice.events) + 1,
            from_status=invoice.status,
            to_status=InvoiceStatus.PAID.value,
            actor=actor,
            reason="paid from the customer's credit balance",
        )
    )
    invoice.status = InvoiceStatus.PAID.value


def _post(
    session: Session,
    balance: CustomerBalance,
    amount_minor: int,
    kind: str,
    description: str | None,
    invoice_id: uuid.UUID | None,
    now: datetime,
    credit_note_id: uuid.UUID | None = None,
) -> CustomerBalanceTransaction:
    """Change the locked `balance` by `amount_minor` and write the ledger transaction for it."""
    transaction = _change(balance, amount_minor, kind, description, invoice_id, now, credit_note_id)
    repository.add_transaction(session, transaction)
    session.flush()
    return transaction


def _change(
    balance: CustomerBalance,
    amount_minor: int,
    kind: str,
    description: str | None,
    invoice_id: uuid.UUID | None,
    now: datetime,
    credit_note_id: uuid.UUID | None = None,
) -> CustomerBalanceTransaction:
    """Change the locked `balance` by `amount_minor`; the ledger transaction for it, not added."""
    balance.balance_minor += amount_minor
    balance.updated_at = now
    return CustomerBalanceTransaction(
        id=uuid.uuid4(),
        organisation_id=balance.organisation_id,
        customer_id=balance.customer_id,
        currency=balance.currency,
        kind=kind,
        amount_minor=amount_minor,
        balance_after_minor=balance.balance_minor,
        description=description,
        invoice_id=invoice_id,
        credit_note_id=credit_note_id,
        created_at=now,
    )


def _minor(amount: Decimal, currency: str) -> int:
    if amount == 0:
        raise ZeroAmount(
            "An adjustment of 0 changes nothing; give a positive amount to credit the customer or a "
            "negative one to debit.",
            details=[{"field": "amount", "reason": "must not be 0"}],
        )
    if calc.quantize_money(amount, currency) != amount:
        raise AmountPrecision(
            f"{amount} has more decimals than {currency} allows ({calc.minor_units(currency)}).",
            details=[{"field": "amount", "reason": "too many decimals for the currency"}],
        )
    return calc.to_minor(amount, currency)
