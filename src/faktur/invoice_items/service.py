"""Pending invoice item operations, one function each; services flush, never commit.

Gathering locks the candidate items in id order, re-checks after the lock that no live invoice
line bills them, and creates one invoice per (customer, contract, currency, payment mode) in one
batch of the invoicing core (faktur.invoices.batch); concurrent gathers over the same items
therefore create each invoice once, and the unique index on live item lines would refuse a
second attachment anyway.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur import calc
from faktur.context import Actor
from faktur.contracts import repository as contracts
from faktur.contracts.errors import ContractNotFound, ContractOfOtherCustomer
from faktur.customers import service as customers
from faktur.errors import FakturError
from faktur.invoice_items import repository
from faktur.invoice_items.errors import (
    InvoiceItemInvoiced,
    InvoiceItemNotFound,
    InvoiceItemOutOfScope,
    InvoiceItemsNotFound,
)
from faktur.invoice_items.repository import SOURCE_KIND
from faktur.invoice_items.schemas import InvoiceItemCreate, InvoiceItemsInvoice
from faktur.invoices import calculation
from faktur.invoices import service as invoices
from faktur.invoices.batch import CreatedInvoice, InvoiceRequest, create_invoices
from faktur.invoices.domain import InvoiceOrigin, LineSource, NewInvoice, NewLine
from faktur.models import InvoiceItem
from faktur.paging import Cursor
from faktur.tax_rates import repository as tax_rates


@dataclass(frozen=True)
class ItemView:
    item: InvoiceItem
    invoice_id: uuid.UUID | None

    @property
    def status(self) -> str:
        return "pending" if self.invoice_id is None else "invoiced"


@dataclass(frozen=True)
class Skipped:
    item_id: uuid.UUID
    reason: str
    invoice_id: uuid.UUID | None


@dataclass(frozen=True)
class GatherResult:
    # What was stored, not ORM objects (see faktur.invoices.batch); load them to show them.
    invoices: list[CreatedInvoice]
    skipped: list[Skipped]


# Items that may share an invoice: same buyer, contract, currency and payment mode, and the same
# tax inclusivity (an EN 16931 invoice states prices either with or without tax).
GroupKey = tuple[uuid.UUID, uuid.UUID | None, str, str, bool]


def get_item(session: Session, organisation_id: uuid.UUID, item_id: uuid.UUID) -> ItemView:
    item = repository.get(session, organisation_id, item_id)
    if item is None:
        raise InvoiceItemNotFound(item_id)
    return ItemView(item, repository.live_invoices(session, organisation_id, [item.id]).get(item.id))


def list_items(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    *,
    customer_id: uuid.UUID | None,
    contract_id: uuid.UUID | None,
    attachable: bool | None,
) -> tuple[list[ItemView], bool]:
    rows = repository.list_page(
        session,
        organisation_id,
        limit,
        cursor,
        customer_id=customer_id,
        contract_id=contract_id,
        attachable=attachable,
    )
    page = rows[:limit]
    billed = repository.live_invoices(session, organisation_id, [item.id for item in page]) if page else {}
    return [ItemView(item, billed.get(item.id)) for item in page], len(rows) > limit


def _line(item: InvoiceItem) -> NewLine:
    """A stored item as an invoice line billing it (the item was checked and priced when it was
    created, so nothing here is validated again)."""
    tax = None
    if item.tax_rate_id is None:
        # An item has a tax rate or an inline tax (create_item).
        assert item.tax_category is not None and item.tax_percent is not None
        tax = calc.TaxSpec(
            calc.TaxCategory(item.tax_category),
            item.tax_percent,
            item.exemption_reason,
            item.exemption_reason_code,
        )
    return NewLine(
        description=item.description,
        sku=item.sku,
        quantity=item.quantity,
        unit_code=item.unit_code,
        unit_price=item.unit_price,
        tax_rate_id=item.tax_rate_id,
        tax=tax,
        period_start=item.period_start,
        period_end=item.period_end,
        metadata=item.metadata_ or None,
        source=LineSource(SOURCE_KIND, item.id),
    )


def _check_contract(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    """The item's contract is one of this organisation's, and of the item's customer."""
    contract = contracts.get(session, organisation_id, contract_id)
    if contract is None:
        raise ContractNotFound(contract_id, field="contract_id")
    if contract.customer_id != customer_id:
        raise ContractOfOtherCustomer(contract_id, customer_id)


def create_item(session: Session, actor: Actor, data: InvoiceItemCreate, now: datetime) -> ItemView:
    organisation_id = actor.organisation_id
    customer = customers.get_customer(session, organisation_id, data.customer_id)
    if data.contract_id is not None:
        _check_contract(session, organisation_id, data.contract_id, customer.id)
    currency = calculation.customer_currency(customer, actor.organisation, data.currency)
    inclusive = False
    if data.tax_rate_id is not None:
        rate = tax_rates.get_many(session, organisation_id, [data.tax_rate_id]).get(data.tax_rate_id)
        inclusive = bool(rate and rate.inclusive)
    item = InvoiceItem(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        customer_id=customer.id,
        contract_id=data.contract_id,
        currency=currency,
        payment_mode=data.payment_mode.value,
        description=data.description,
        sku=data.sku,
        quantity=data.quantity,
        unit_code=data.unit_code,
        unit_price=data.unit_price,
        tax_rate_id=data.tax_rate_id,
        tax_category=None if data.tax is None else data.tax.category.value,
        tax_percent=None if data.tax is None else data.tax.percent,
        exemption_reason=None if data.tax is None else data.tax.exemption_reason,
        exemption_reason_code=None if data.tax is None else data.tax.exemption_reason_code,
        prices_include_tax=inclusive,
        period_start=data.period_start,
        period_end=data.period_end,
        metadata_=data.metadata or {},
    )
    # Price the item as a one-line invoice now, so a gather never meets an item the engine refuses
    # (unknown tax rate, EN 16931 category rules, amounts out of range).
    try:
        invoices.compute_content(
            session,
            actor.organisation,
            customer,
            currency=currency,
            prices_include_tax=inclusive,
            lines=[_line(item)],
            adjustments=[],
        )
    except FakturError as error:
        # The one-line invoice's fields are the item's own: 'lines[0].tax' is 'tax'.
        error.details = [{**d, "field": _item_field(str(d.get("field", "")))} for d in error.details]
        raise
    repository.add(session, item)
    return ItemView(item, None)


def _item_field(field: str) -> str:
    if field in ("lines", "lines[0]"):
        return "unit_price"  # the amount: quantity x unit_price
    return field.removeprefix("lines[0].")


def delete_item(session: Session, organisation_id: uuid.UUID, item_id: uuid.UUID) -> None:
    """Delete a pending item; an invoiced one is part of an invoice and stays (409)."""
    item = repository.get(session, organisation_id, item_id, for_update=True)
    if item is None:
        raise InvoiceItemNotFound(item_id)
    invoice_id = repository.live_invoices(session, organisation_id, [item.id]).get(item.id)
    if invoice_id is not None:
        raise InvoiceItemInvoiced(item_id, invoice_id)
    session.expunge(item)
    repository.delete_item(session, organisation_id, item_id)


def _check_requested(session: Session, organisation_id: uuid.UUID, data: InvoiceItemsInvoice) -> None:
    assert data.item_ids is not None
    found = repository.existing_ids(session, organisation_id, data.item_ids)
    unknown = [(i, item_id) for i, item_id in enumerate(data.item_ids) if item_id not in found]
    if unknown:
        raise InvoiceItemsNotFound(unknown)


def _scope_mismatch(items: list[InvoiceItem], data: InvoiceItemsInvoice) -> None:
    index = {item_id: i for i, item_id in enumerate(data.item_ids or [])}
    wrong = [
        item
        for item in items
        if (data.customer_id is not None and item.customer_id != data.customer_id)
        or (data.contract_id is not None and item.contract_id != data.contract_id)
    ]
    if wrong:
        raise InvoiceItemOutOfScope([(index[item.id], item.id) for item in wrong])


def invoice_items(session: Session, actor: Actor, data: InvoiceItemsInvoice, now: datetime) -> GatherResult:
    """Gather the attachable items in scope into invoices, each item at most once."""
    organisation_id = actor.organisation_id
    if data.customer_id is not None:
        customers.get_customer(session, organisation_id, data.customer_id)
    if data.item_ids is not None:
        _check_requested(session, organisation_id, data)
    # In scope when no ids are given; with ids, scope is checked below so a mismatch is an error.
    locked = repository.lock_attachable(
        session,
        organisation_id,
        customer_id=None if data.item_ids else data.customer_id,
        contract_id=None if data.item_ids else data.contract_id,
        ids=data.item_ids,
    )
    if data.item_ids is not None:
        _scope_mismatch(locked, data)
    # After the lock: a concurrent gather that held these rows has committed its invoice lines.
    attached = repository.live_invoices(session, organisation_id, [item.id for item in locked])
    skipped = [Skipped(item_id, "already_invoiced", invoice_id) for item_id, invoice_id in attached.items()]
    if data.item_ids is not None:
        locked_ids = {item.id for item in locked}
        earlier = repository.live_invoices(
            session, organisation_id, [i for i in data.item_ids if i not in locked_ids]
        )
        skipped += [
            Skipped(item_id, "already_invoiced", invoice_id) for item_id, invoice_id in earlier.items()
        ]
        order = {item_id: i for i, item_id in enumerate(data.item_ids)}
        skipped.sort(key=lambda s: order[s.item_id])
    groups: dict[GroupKey, list[InvoiceItem]] = defaultdict(list)
    for item in locked:
        if item.id not in attached:
            key = (
                item.customer_id,
                item.contract_id,
                item.currency,
                item.payment_mode,
                item.prices_include_tax,
            )
            groups[key].append(item)
    keys = sorted(groups, key=lambda k: (str(k[0]), str(k[1] or ""), k[2], k[3], k[4]))
    requests = [
        _group_request(key, sorted(groups[key], key=lambda i: (i.created_at, i.id)), data) for key in keys
    ]
    # One batch for the whole gather: all-or-nothing, the first refused group fails the call.
    return GatherResult(create_invoices(session, actor, requests, now), skipped)


def _group_request(key: GroupKey, items: list[InvoiceItem], data: InvoiceItemsInvoice) -> InvoiceRequest:
    customer_id, contract_id, currency, payment_mode, inclusive = key
    # invoices.contract_id stays empty: with the period it is the natural key of contract billing
    # (one live invoice per contract period); the items' contract is recorded in the metadata.
    metadata = {"payment_mode": payment_mode}
    if contract_id is not None:
        metadata["contract_id"] = str(contract_id)
    command = NewInvoice(
        customer_id=customer_id,
        currency=currency,
        prices_include_tax=inclusive,
        lines=tuple(_line(item) for item in items),
        finalize=data.finalize,
        due_date=data.due_date,
        payment_terms_days=data.payment_terms_days,
        memo=data.memo,
        metadata=metadata,
        origin=InvoiceOrigin(source="invoice_items"),
    )
    return InvoiceRequest(command)


def item_amount(item: InvoiceItem) -> str:
    return calc.format_amount(
        calc.quantize_money(item.quantity * item.unit_price, item.currency), item.currency
    )
