"""Credit note operations, one function each; services flush, never commit.

Issuing locks the invoice row first (SELECT ... FOR UPDATE on PostgreSQL; a SQLite writer holds
the database's write lock already), so concurrent credit notes of one invoice run one after the
other and each sees what the others credited. Then, in this order: the credit note is computed
(faktur.credit_notes.calculation) and written, the invoice updated (credited amounts, amount due,
void when fully credited), the customer's balance credited (its row locked after the invoice's),
and the credit note's number taken last from the organisation's credit-note counter, which stays
locked until COMMIT.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from faktur import calc
from faktur.balance.service import credit_from_credit_note
from faktur.context import Actor
from faktur.credit_notes import calculation, repository, rows
from faktur.credit_notes.calculation import ComputedCreditNote, SettledAmounts
from faktur.credit_notes.domain import NewCreditNote
from faktur.credit_notes.errors import CreditExceedsRemaining, CreditNoteNotFound, InvoiceNotFinal
from faktur.credit_notes.presenters import present_credit_note
from faktur.credit_notes.repository import CreditNoteFilters
from faktur.customers import service as customers
from faktur.events.service import record_events
from faktur.events.types import EventType
from faktur.invoices import events as invoice_events
from faktur.invoices import lifecycle
from faktur.invoices import service as invoices
from faktur.invoices.domain import InvoiceStatus
from faktur.invoices.snapshots import customer_snapshot, seller_snapshot
from faktur.models import CreditNote, Invoice
from faktur.numbering.service import next_credit_note_number
from faktur.paging import Cursor
from faktur.tax_rates import repository as tax_rates

CREDITABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value, InvoiceStatus.UNCOLLECTIBLE.value)


def get_credit_note(session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID) -> CreditNote:
    note = repository.get(session, organisation_id, credit_note_id)
    if note is None:
        raise CreditNoteNotFound(credit_note_id)
    return note


def list_credit_notes(
    session: Session,
    organisation_id: uuid.UUID,
    filters: CreditNoteFilters,
    limit: int,
    cursor: Cursor | None,
) -> tuple[list[CreditNote], bool]:
    found = repository.list_page(session, organisation_id, filters, limit, cursor)
    return found[:limit], len(found) > limit


def _require_creditable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.DRAFT.value:
        raise InvoiceNotFinal(invoice.id, invoice.status)
    if invoice.status not in CREDITABLE:
        currency = invoice.currency
        raise CreditExceedsRemaining(
            f"Invoice {invoice.number} is {invoice.status}; nothing of it is left to credit.",
            [
                {
                    "field": "status",
                    "reason": f"the invoice is {invoice.status}",
                    "current_status": invoice.status,
                    "remaining_amount": calc.format_amount(calc.from_minor(0, currency), currency),
                }
            ],
        )


def _compute(
    session: Session, actor: Actor, invoice: Invoice, command: NewCreditNote, now: datetime, *, strict: bool
) -> tuple[CreditNote, ComputedCreditNote, SettledAmounts]:
    """Check and compute the credit note of `command` for `invoice` and build its rows in memory."""
    _require_creditable(invoice)
    earlier = repository.of_invoice(session, actor.organisation_id, invoice.id)
    credited = calculation.credited_so_far(invoice, earlier)
    rates = tax_rates.get_many(session, actor.organisation_id, calculation.referenced_tax_rate_ids(command))
    computed = calculation.compute_credit_note(invoice, credited, command, rates)
    calculation.check_total(invoice, computed)
    total_minor = calc.to_minor(computed.total, invoice.currency)
    beyond_total = max(total_minor - (invoice.total_minor - invoice.credited_minor), 0)
    settled = calculation.settle(
        invoice, total_minor, command.settlement, strict=strict, rounding_minor=beyond_total
    )
    note = rows.build_credit_note(
        invoice,
        computed,
        settled,
        command,
        actor=actor.name,
        customer_snapshot=_frozen_customer(session, actor, invoice),
        seller_snapshot=dict(invoice.seller_snapshot or seller_snapshot(actor.organisation)),
        now=now,
    )
    return note, computed, settled


def _frozen_customer(session: Session, actor: Actor, invoice: Invoice) -> dict[str, Any]:
    """A correction is between the parties of the invoice it corrects: the credit note keeps the
    parties as frozen on the invoice (its documents show those too), not as they are now."""
    if invoice.customer_snapshot:
        return dict(invoice.customer_snapshot)
    return customer_snapshot(customers.get_customer(session, actor.organisation_id, invoice.customer_id))


def preview_credit_note(
    session: Session, actor: Actor, invoice_id: uuid.UUID, command: NewCreditNote, now: datetime
) -> tuple[CreditNote, Invoice, int]:
    """The credit note `command` would issue, computed and checked, nothing stored; and the
    amount still to settle by refund or balance credit (minor units)."""
    invoice = invoices.get_invoice(session, actor.organisation_id, invoice_id)
    note, _, settled = _compute(session, actor, invoice, command, now, strict=False)
    return note, invoice, settled.unsettled


def issue_credit_note(
    session: Session,
    actor: Actor,
    invoice_id: uuid.UUID,
    command: NewCreditNote,
    now: datetime,
    *,
    void_reason: str | None = None,
) -> tuple[CreditNote, Invoice]:
    """Issue the credit note `command` asks for (see the module docstring for the order of
    locks); `void_reason` is recorded in the history when it voids the invoice."""
    invoice = invoices.get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    note, computed, settled = _compute(session, actor, invoice, command, now, strict=True)
    repository.add(session, note)
    # What a line billed (order quantities, a pending item) is given back as it is credited: the
    # order repository subtracts credited quantities; a line credited in full is no longer live.
    notes = repository.of_invoice(session, actor.organisation_id, invoice.id)
    done = calculation.fully_credited_lines(invoice, calculation.credited_so_far(invoice, notes))
    for line in invoice.lines:
        if line.id in done:
            line.live = False
    invoice.credited_minor += note.total_minor
    invoice.credited_against_due_minor += settled.due_reduction
    invoice.updated_at = now
    invoice_types: tuple[EventType, ...] = ()
    status_event = None
    if calculation.fully_credited(invoice, computed):
        # Nothing is due on a fully credited invoice, also when its completing credit note
        # credited a few units less than was left (BR-CO-17's rounding; see calculation).
        invoice.credited_against_due_minor = max(
            invoice.credited_against_due_minor, invoice.total_minor - invoice.amount_paid_minor
        )
        lifecycle.record_event(invoice, InvoiceStatus.VOID, actor.name, now, void_reason)
        status_event = invoice.events[-1]
        # Like voiding: what the lines billed (order quantities, pending items) is given back.
        for line in invoice.lines:
            line.live = False
        invoice_types = (EventType.INVOICE_VOIDED,)
    elif (
        invoice.status in (InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value)
        and settled.due_reduction
        and invoice.amount_due_minor == 0
    ):
        lifecycle.transition(invoice, InvoiceStatus.PAID, actor.name, now, None)
        status_event = invoice.events[-1]
        invoice_types = (EventType.INVOICE_PAID,)
    if settled.balance_credit:
        credit_from_credit_note(
            session, invoice, note.id, settled.balance_credit, "Credited by a credit note", now
        )
    session.flush()
    presented = present_credit_note(note, invoice)
    # Last: the organisation's credit-note counter row stays locked until COMMIT.
    number = next_credit_note_number(session, actor.organisation, note.issue_date)
    repository.write_number(session, actor.organisation_id, note.id, number)
    note.number = number
    if status_event is not None:
        what = "fully credited" if status_event.to_status == InvoiceStatus.VOID.value else "settled"
        label = f"{what} by credit note {number}"
        status_event.reason = f"{void_reason}; {label}" if void_reason else label
    session.flush()
    # The invoice lists its credit notes (a read-only relationship): load them again.
    session.expire(invoice, ["credit_notes"])
    record_events(
        session,
        actor.organisation_id,
        [EventType.CREDIT_NOTE_ISSUED],
        presented.model_copy(update={"number": number}),
        now=now,
    )
    invoice_events.record(session, invoice, now, *invoice_types)
    return note, invoice


def void_invoice(
    session: Session,
    actor: Actor,
    invoice_id: uuid.UUID,
    command: NewCreditNote,
    now: datetime,
    reason: str | None,
) -> Invoice:
    """Void an invoice: a draft (or an invoice that cannot be voided) as before; a finalized
    invoice by a credit note for everything left of it (`command` has no lines), which may refund
    or credit to the balance what was paid."""
    invoice = invoices.get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    if invoice.status not in CREDITABLE:
        return invoices.void_invoice(session, actor, invoice_id, now, reason)
    _, voided = issue_credit_note(session, actor, invoice_id, command, now, void_reason=reason)
    return voided
