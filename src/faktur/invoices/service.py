"""Invoice operations, one function each; guard checks first; services flush, never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from faktur import calc, decided_last
from faktur.balance.service import apply_balance
from faktur.customers import service as customers
from faktur.errors import Conflict, NotFound, Unprocessable
from faktur.http.pagination import Cursor
from faktur.invoices import calculation, repository
from faktur.invoices.calculation import PreparedAdjustment, PreparedLine
from faktur.invoices.lifecycle import can_transition, sources_of
from faktur.invoices.repository import InvoiceFilters
from faktur.invoices.schemas import (
    DeliverToIn,
    DocumentAdjustmentIn,
    InvoiceCreate,
    InvoiceLineIn,
    InvoiceStatus,
    InvoiceUpdate,
    PaymentCreate,
)
from faktur.invoices.snapshots import customer_snapshot, seller_snapshot
from faktur.models import (
    Customer,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceTaxGroup,
    Organisation,
    Payment,
    TaxRate,
)
from faktur.numbering.service import number_invoice
from faktur.payment_means import PaymentMethod
from faktur.tax_rates import repository as tax_rates

_Row = TypeVar("_Row")


@dataclass(frozen=True)
class Actor:
    """Who acts: the organisation acted for and the name recorded in the status history."""

    organisation: Organisation
    name: str

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id


@dataclass(frozen=True)
class LineSource:
    """What an invoice line bills, for callers that invoice records (orders, items, contracts)."""

    kind: str
    id: uuid.UUID


@dataclass(frozen=True)
class InvoiceOrigin:
    source: str = "api"
    contract_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class Computed:
    currency: str
    prices_include_tax: bool
    lines: list[PreparedLine]
    adjustments: list[PreparedAdjustment]
    result: calc.InvoiceResult
    # What the engine computed from: finalizing a new invoice checks its party rules on it
    # instead of rebuilding it from the invoice's rows.
    invoice_input: calc.InvoiceInput


def get_invoice(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID, *, for_update: bool = False
) -> Invoice:
    invoice = repository.get(session, organisation_id, invoice_id, for_update=for_update)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id} in this organisation.", code="invoice_not_found")
    return invoice


def get_invoices(
    session: Session, organisation_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]
) -> list[Invoice]:
    """Invoices by id, in the order given (unknown ids and other organisations' are left out)."""
    return repository.get_many(session, organisation_id, invoice_ids)


def list_invoices(
    session: Session, organisation_id: uuid.UUID, filters: InvoiceFilters, limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], bool]:
    rows = repository.list_page(session, organisation_id, filters, limit, cursor)
    return rows[:limit], len(rows) > limit


def compute_content(
    session: Session,
    organisation: Organisation,
    customer: Customer,
    *,
    currency: str | None,
    prices_include_tax: bool | None,
    lines: Sequence[InvoiceLineIn],
    adjustments: Sequence[DocumentAdjustmentIn],
) -> Computed:
    """Resolve taxes and compute every amount; raises 4xx errors for anything the engine rejects."""
    referenced = calculation.referenced_tax_rate_ids(lines, adjustments)
    rates = tax_rates.get_many(session, organisation.id, referenced)
    return compute_with_rates(
        organisation,
        customer,
        rates,
        currency=currency,
        prices_include_tax=prices_include_tax,
        lines=lines,
        adjustments=adjustments,
    )


def compute_with_rates(
    organisation: Organisation,
    customer: Customer,
    rates: dict[uuid.UUID, TaxRate],
    *,
    currency: str | None,
    prices_include_tax: bool | None,
    lines: Sequence[InvoiceLineIn],
    adjustments: Sequence[DocumentAdjustmentIn],
) -> Computed:
    """compute_content with the organisation's tax rates already loaded (`rates` may hold more
    than the content references; batches load the rates of all their invoices at once)."""
    prepared_lines = calculation.prepare_lines(lines, rates)
    prepared_adjustments = calculation.prepare_adjustments(adjustments, rates)
    used = calculation.referenced_tax_rate_ids(lines, adjustments)
    inclusive = calculation.resolve_prices_include_tax(
        prices_include_tax, [rate for rate_id, rate in rates.items() if rate_id in used]
    )
    chosen_currency = calculation.customer_currency(customer, organisation, currency)
    invoice_input = calculation.build_input(chosen_currency, prepared_lines, prepared_adjustments, inclusive)
    calculation.check_line_rules(invoice_input)
    result = calculation.compute(invoice_input)
    return Computed(chosen_currency, inclusive, prepared_lines, prepared_adjustments, result, invoice_input)


def _dump_adjustment(adj: Any) -> dict[str, Any]:
    return {
        "amount": None if adj.amount is None else str(adj.amount),
        "percent": None if adj.percent is None else str(adj.percent),
        "reason": adj.reason,
        "reason_code": adj.reason_code,
    }


def _dump_tax(tax: calc.TaxSpec) -> dict[str, Any]:
    return {
        "category": tax.category.value,
        "percent": str(tax.percent),
        "exemption_reason": tax.exemption_reason,
        "exemption_reason_code": tax.exemption_reason_code,
    }


def _apply(
    session: Session, invoice: Invoice, computed: Computed, sources: Sequence[LineSource | None] | None = None
) -> None:
    """Replace the lines, tax groups and totals of a stored draft with `computed`."""
    lines, tax_groups = _fill(invoice, computed, sources)
    _replace_children(session, invoice, lines, tax_groups)


def _fill(
    invoice: Invoice, computed: Computed, sources: Sequence[LineSource | None] | None = None
) -> tuple[list[InvoiceLine], list[InvoiceTaxGroup]]:
    """Set the totals of `computed` on `invoice` and build its line and tax group rows."""
    currency = computed.currency
    line_sources = list(sources) if sources is not None else [None] * len(computed.lines)
    minor = calc.to_minor
    invoice.currency = currency
    invoice.prices_include_tax = computed.prices_include_tax
    lines = [
        _new_row(
            InvoiceLine,
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            organisation_id=invoice.organisation_id,
            created_at=invoice.updated_at,
            position=position,
            description=line.payload.description,
            sku=line.payload.sku,
            quantity=line.payload.quantity,
            unit_code=line.payload.unit_code,
            unit_price=line.payload.unit_price,
            tax_rate_id=line.tax_rate.id if line.tax_rate else None,
            tax_category=line.tax.category.value,
            tax_percent=line.tax.percent,
            exemption_reason=line.tax.exemption_reason,
            exemption_reason_code=line.tax.exemption_reason_code,
            allowances=[_dump_adjustment(a) for a in line.payload.allowances],
            charges=[_dump_adjustment(c) for c in line.payload.charges],
            amount_minor=minor(result.amount, currency),
            allowance_total_minor=minor(result.allowance_total, currency),
            charge_total_minor=minor(result.charge_total, currency),
            net_minor=minor(result.net, currency),
            gross_minor=None if result.gross is None else minor(result.gross, currency),
            period_start=line.payload.period_start,
            period_end=line.payload.period_end,
            metadata_=line.payload.metadata or {},
            source_kind=source.kind if source else None,
            source_id=source.id if source else None,
            live=True,
        )
        for position, (line, result, source) in enumerate(
            zip(computed.lines, computed.result.lines, line_sources, strict=True), start=1
        )
    ]
    invoice.adjustments = [
        {
            "kind": adj.payload.kind,
            **_dump_adjustment(adj.payload),
            "base_amount": None if adj.payload.base_amount is None else str(adj.payload.base_amount),
            "tax_rate_id": None if adj.payload.tax_rate_id is None else str(adj.payload.tax_rate_id),
            "tax": _dump_tax(adj.tax),
            "computed_amount": str(result.amount),
        }
        for adj, result in zip(computed.adjustments, computed.result.adjustments, strict=True)
    ]
    tax_groups = [
        _new_row(
            InvoiceTaxGroup,
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            organisation_id=invoice.organisation_id,
            created_at=invoice.updated_at,
            position=position,
            category=group.category.value,
            percent=group.percent,
            taxable_minor=minor(group.taxable_amount, currency),
            tax_minor=minor(group.tax_amount, currency),
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for position, group in enumerate(computed.result.tax_groups, start=1)
    ]
    totals = computed.result.totals
    invoice.line_net_total_minor = minor(totals.line_net_total, currency)
    invoice.allowance_total_minor = minor(totals.allowance_total, currency)
    invoice.charge_total_minor = minor(totals.charge_total, currency)
    invoice.tax_exclusive_minor = minor(totals.tax_exclusive_total, currency)
    invoice.tax_total_minor = minor(totals.tax_total, currency)
    invoice.total_minor = minor(totals.tax_inclusive_total, currency)
    return lines, tax_groups


def _new_row(model: type[_Row], **values: Any) -> _Row:
    """A new mapped object with `values` set without attribute events. Invoice lines and tax
    groups are written with table-level INSERTs, never by the unit of work, so the per-attribute
    change tracking would buy nothing; it was the largest cost of building an invoice in memory."""
    row = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    row.__dict__.update(values)
    return row  # type: ignore[no-any-return]


def _replace_children(
    session: Session, invoice: Invoice, lines: list[InvoiceLine], tax_groups: list[InvoiceTaxGroup]
) -> None:
    """Store a draft's new lines and tax groups with one bulk INSERT each, then hand the same
    objects to the invoice as its loaded collections."""
    for old in [*invoice.lines, *invoice.tax_groups]:
        session.expunge(old)
    repository.delete_lines_and_tax_groups(session, invoice.organisation_id, invoice.id)
    repository.insert_rows(session, InvoiceLine, [_row(line) for line in lines])
    repository.insert_rows(session, InvoiceTaxGroup, [_row(group) for group in tax_groups])
    set_committed_value(invoice, "lines", lines)
    set_committed_value(invoice, "tax_groups", tax_groups)


def _insert_new(session: Session, invoice: Invoice) -> None:
    """Store a new invoice and its children with one bulk INSERT per table, then attach the
    same objects to the session as persistent rows. The unit of work would otherwise spend
    more time on these few rows than everything else in creating an invoice."""
    for model, rows in table_rows(invoice):
        repository.insert_rows(session, model, rows)
    for row in (invoice, *invoice.lines, *invoice.tax_groups, *invoice.events):
        make_transient_to_detached(row)
    session.add(invoice)


def table_rows(invoice: Invoice) -> list[tuple[type, list[dict[str, Any]]]]:
    """The rows a new invoice is stored as, per table in insert order (parents first), as
    column-keyed dicts for table-level INSERTs."""
    return [
        (Invoice, [_row(invoice)]),
        (InvoiceLine, [_row(line) for line in invoice.lines]),
        (InvoiceTaxGroup, [_row(group) for group in invoice.tax_groups]),
        (InvoiceEvent, [_row(event) for event in invoice.events]),
    ]


@cache
def _column_keys(model: type) -> tuple[tuple[str, str], ...]:
    """(column name, attribute name) of a mapped class; looked up once per class."""
    return tuple((attr.columns[0].key, attr.key) for attr in sa_inspect(model).column_attrs)


def _row(obj: object) -> dict[str, Any]:
    """Column name -> value of a mapped object, for a table-level INSERT."""
    values = obj.__dict__  # loaded attributes of a new object: every column was set on it
    return {column: values.get(attr) for column, attr in _column_keys(type(obj))}


def _record_event(
    invoice: Invoice,
    to_status: InvoiceStatus,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    from_status = None if not invoice.events else invoice.status
    event = InvoiceEvent(
        id=uuid.uuid4(),
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        sequence=len(invoice.events) + 1,
        from_status=from_status,
        to_status=to_status.value,
        actor=actor,
        reason=reason,
    )
    # Appending to a stored invoice's collection cascades the event into its session.
    invoice.events.append(event)
    invoice.status = to_status.value
    invoice.updated_at = now


def _transition(
    invoice: Invoice,
    target: InvoiceStatus,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    current = InvoiceStatus(invoice.status)
    if not can_transition(current, target):
        label = invoice.number or str(invoice.id)
        raise Conflict(
            f"Invoice {label} is {current.value}; it cannot become {target.value} "
            f"(only {' or '.join(sources_of(target)) or 'no'} invoices can).",
            code="invalid_status_transition",
            details=[
                {
                    "field": "status",
                    "reason": f"current status is {current.value}",
                    "current_status": current.value,
                }
            ],
        )
    _record_event(invoice, target, actor, now, reason)


def create_invoice(
    session: Session,
    actor: Actor,
    data: InvoiceCreate,
    now: datetime,
    *,
    origin: InvoiceOrigin | None = None,
    line_sources: Sequence[LineSource | None] | None = None,
    number: str | None = None,
    customer: Customer | None = None,
) -> Invoice:
    """Create a draft (and finalize it if asked). Callers that invoice records pass `origin`
    and one `line_sources` entry per line; the database refuses what would bill twice.
    Batch runs that finalize pass `number` from a block they reserved in this transaction.
    A caller that loaded `data.customer_id`'s row of this organisation already passes it as
    `customer`. Many invoices at once: faktur.invoices.batch.create_invoices."""
    if customer is None or customer.id != data.customer_id:
        customer = customers.get_customer(session, actor.organisation_id, data.customer_id)
    computed = compute_content(
        session,
        actor.organisation,
        customer,
        currency=data.currency,
        prices_include_tax=data.prices_include_tax,
        lines=data.lines,
        adjustments=data.adjustments or [],
    )
    invoice, issue_date = build_invoice(actor, data, customer, computed, now, origin, line_sources)
    if issue_date is not None and number is not None:
        invoice.number = number
    _insert_new(session, invoice)
    if issue_date is not None and number is None:
        _take_number(session, actor.organisation, invoice, issue_date)
    return invoice


def _take_number(session: Session, organisation: Organisation, invoice: Invoice, issue_date: date) -> None:
    """Number an issued invoice whose rows are already written. The counter row this locks stays
    locked until commit and concurrent finalizations of the organisation queue on it, so these
    are the transaction's last statements. Where the request lets numbers be decided last, the
    invoice carries a stand-in until its response is rendered (faktur.decided_last)."""

    def assign() -> str:
        number = number_invoice(session, organisation, invoice.id, issue_date, invoice.series)
        set_committed_value(invoice, "number", number)
        return number

    if decided_last.enabled(session):
        set_committed_value(invoice, "number", decided_last.defer(session, assign))
    else:
        assign()


def build_invoice(
    actor: Actor,
    data: InvoiceCreate,
    customer: Customer,
    computed: Computed,
    now: datetime,
    origin: InvoiceOrigin | None = None,
    line_sources: Sequence[LineSource | None] | None = None,
) -> tuple[Invoice, date | None]:
    """A new invoice with its lines, tax groups and status events, built in memory (nothing is
    added to a session), and issued if `data.finalize`: then the issue date is returned and the
    caller assigns the number, last, just before storing the rows."""
    origin = origin or InvoiceOrigin()
    invoice = Invoice(
        id=uuid.uuid4(),
        organisation_id=actor.organisation_id,
        customer_id=customer.id,
        series="default",
        status=InvoiceStatus.DRAFT.value,
        due_date=data.due_date,
        payment_terms_days=data.payment_terms_days,
        memo=data.memo,
        metadata_=data.metadata or {},
        external_reference=data.external_reference,
        buyer_reference=data.buyer_reference,
        customer_snapshot=customer_snapshot(customer),
        amount_paid_minor=0,
        created_at=now,
        updated_at=now,
        source=origin.source,
        contract_id=origin.contract_id,
        period_start=origin.period_start or data.period_start,
        period_end=origin.period_end or data.period_end,
        delivery_date=data.delivery_date,
        deliver_to=_stored_deliver_to(data.deliver_to),
        payment_means=data.payment_means.stored() if data.payment_means else None,
        prepaid_minor=0,
        number=None,
        issue_date=None,
        seller_snapshot=None,
        finalized_at=None,
        events=[],
        payments=[],
    )
    lines, tax_groups = _fill(invoice, computed, line_sources)
    # Set as loaded, without a collection event per row: nothing here is flushed by the unit of
    # work (create_invoice writes the rows itself, then attaches them as persistent).
    set_committed_value(invoice, "lines", lines)
    set_committed_value(invoice, "tax_groups", tax_groups)
    _record_event(invoice, InvoiceStatus.DRAFT, actor.name, now)
    if not data.finalize:
        return invoice, None
    return invoice, prepare_finalization(actor, invoice, customer, now, invoice_input=computed.invoice_input)


def preview_invoice(session: Session, actor: Actor, data: InvoiceCreate) -> tuple[Customer, Computed]:
    customer = customers.get_customer(session, actor.organisation_id, data.customer_id)
    computed = compute_content(
        session,
        actor.organisation,
        customer,
        currency=data.currency,
        prices_include_tax=data.prices_include_tax,
        lines=data.lines,
        adjustments=data.adjustments or [],
    )
    return customer, computed


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT.value:
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}; only drafts can be edited. "
            "Correct a finalized invoice with a credit note.",
            code="invoice_not_draft",
            details=[
                {
                    "field": "status",
                    "reason": f"current status is {invoice.status}",
                    "current_status": invoice.status,
                }
            ],
        )


def update_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, data: InvoiceUpdate, now: datetime
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    _require_draft(invoice)
    sources = [
        LineSource(line.source_kind, line.source_id) if line.source_id else None for line in invoice.lines
    ]
    if data.lines is not None and any(sources):
        raise Conflict(
            f"The lines of draft {invoice.id} bill {invoice.source} records and cannot be replaced; "
            "void it and invoice the records again, or edit the other fields.",
            code="invoice_lines_locked",
            details=[{"field": "lines", "reason": "lines come from records"}],
        )
    changes = data.model_dump(exclude_unset=True)
    customer_id = data.customer_id or invoice.customer_id
    customer = customers.get_customer(session, actor.organisation_id, customer_id)
    lines = data.lines if data.lines is not None else [_line_payload(line) for line in invoice.lines]
    adjustments = (
        data.adjustments
        if data.adjustments is not None
        else [DocumentAdjustmentIn.model_validate(_adj_payload(a)) for a in invoice.adjustments]
    )
    computed = compute_content(
        session,
        actor.organisation,
        customer,
        currency=data.currency or ("currency" not in changes and invoice.currency) or None,
        prices_include_tax=data.prices_include_tax
        if "prices_include_tax" in changes
        else invoice.prices_include_tax,
        lines=lines,
        adjustments=adjustments,
    )
    for field in (
        "due_date",
        "payment_terms_days",
        "memo",
        "external_reference",
        "buyer_reference",
        "delivery_date",
    ):
        if field in changes:
            setattr(invoice, field, changes[field])
    if "period_start" in changes or "period_end" in changes:
        _require_own_period(invoice)
        invoice.period_start, invoice.period_end = data.period_start, data.period_end
    if "deliver_to" in changes:
        invoice.deliver_to = _stored_deliver_to(data.deliver_to)
    if "payment_means" in changes:
        invoice.payment_means = data.payment_means.stored() if data.payment_means else None
    if "metadata" in changes:
        invoice.metadata_ = data.metadata or {}
    invoice.customer_id = customer.id
    invoice.customer_snapshot = customer_snapshot(customer)
    invoice.updated_at = now
    _apply(session, invoice, computed, sources if data.lines is None else None)
    session.flush()
    return invoice


def _stored_deliver_to(deliver_to: DeliverToIn | None) -> dict[str, Any] | None:
    return deliver_to.model_dump(mode="json", exclude_none=True) if deliver_to else None


def _require_own_period(invoice: Invoice) -> None:
    """A contract's period invoice keeps the period it bills (one live invoice per contract and period)."""
    if invoice.contract_id is not None:
        raise Conflict(
            f"Draft {invoice.id} bills contract {invoice.contract_id} for its period "
            f"{invoice.period_start} to {invoice.period_end}; that period cannot be changed.",
            code="invoice_period_locked",
            details=[{"field": "period_start", "reason": "set by the contract"}],
        )


def _line_payload(line: InvoiceLine) -> InvoiceLineIn:
    tax = {
        "category": line.tax_category,
        "percent": line.tax_percent,
        "exemption_reason": line.exemption_reason,
        "exemption_reason_code": line.exemption_reason_code,
    }
    return InvoiceLineIn.model_validate(
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate_id": line.tax_rate_id,
            "tax": None if line.tax_rate_id else tax,
            "sku": line.sku,
            "unit_code": line.unit_code,
            "period_start": line.period_start,
            "period_end": line.period_end,
            "allowances": [_decimal_fields(a) for a in line.allowances],
            "charges": [_decimal_fields(c) for c in line.charges],
            "metadata": line.metadata_ or None,
        }
    )


def _decimal_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: Decimal(v) if k in ("amount", "percent", "base_amount") and v is not None else v
        for k, v in data.items()
    }


def _adj_payload(data: dict[str, Any]) -> dict[str, Any]:
    payload = _decimal_fields({k: v for k, v in data.items() if k != "computed_amount"})
    if payload.get("tax_rate_id"):
        payload["tax"] = None
    else:
        payload["tax_rate_id"] = None
        payload["tax"] = _decimal_fields(payload["tax"])
    return payload


def finalize_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, *, number: str | None = None
) -> Invoice:
    """Number, snapshot and issue a draft, in the caller's transaction (rules 2-4).

    Batch runs pass `number` from a block they reserved with next_invoice_numbers in the same
    transaction; everyone else gets the next number here.
    """
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    _require_draft(invoice)
    customer = customers.get_customer(session, actor.organisation_id, invoice.customer_id)
    return _finalize(session, actor, invoice, customer, now, number)


def _finalize(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    customer: Customer,
    now: datetime,
    number: str | None = None,
) -> Invoice:
    """Finalize a stored draft: issue it, write that, and only then take its number."""
    issue_date = prepare_finalization(actor, invoice, customer, now)
    apply_balance(session, invoice, actor.name, now)
    if number is not None:
        invoice.number = number
    session.flush()
    if number is None:
        _take_number(session, actor.organisation, invoice, issue_date)
    return invoice


def prepare_finalization(
    actor: Actor,
    invoice: Invoice,
    customer: Customer,
    now: datetime,
    *,
    issue_date: date | None = None,
    check_party_rules: bool = True,
    reason: str | None = None,
    invoice_input: calc.InvoiceInput | None = None,
) -> date:
    """Check and issue `invoice` in memory (snapshots, dates, status); returns the issue date.
    The caller assigns the number, last. Imports of invoices issued elsewhere pass their own
    issue date and skip the party checks, which the issuing system already made. A new invoice
    passes the engine input its rows were computed from (`invoice_input`)."""
    if not invoice.lines:
        raise Unprocessable(
            "An invoice needs at least one line to be finalized.",
            code="invoice_has_no_lines",
            details=[{"field": "lines", "reason": "empty"}],
        )
    if invoice.total_minor < 0:
        raise Unprocessable(
            "The invoice total is negative; issue a credit note for the original invoice instead.",
            code="negative_total",
        )
    organisation = actor.organisation
    snapshot = customer_snapshot(customer)
    if check_party_rules:
        checked = invoice_input or calculation.input_from_invoice(invoice)
        calculation.check_party_rules(checked, organisation, snapshot, invoice)
        _check_payment_means(invoice, organisation, customer)
    issue_date = issue_date or now.date()
    invoice.customer_snapshot = snapshot
    invoice.seller_snapshot = seller_snapshot(organisation)
    invoice.buyer_reference = invoice.buyer_reference or customer.buyer_reference
    invoice.issue_date = issue_date
    if invoice.due_date is None:
        terms = invoice.payment_terms_days
        invoice.payment_terms_days = organisation.payment_terms_days if terms is None else terms
        invoice.due_date = issue_date + timedelta(days=invoice.payment_terms_days)
    elif invoice.due_date < issue_date:
        raise Unprocessable(
            f"The due date {invoice.due_date} is before the issue date {issue_date}.",
            code="due_date_before_issue_date",
            details=[{"field": "due_date", "reason": "before the issue date"}],
        )
    invoice.finalized_at = now
    _transition(invoice, InvoiceStatus.OPEN, actor.name, now, reason)
    if invoice.total_minor == 0:
        _transition(invoice, InvoiceStatus.PAID, actor.name, now, "nothing to pay")
    return issue_date


def _check_payment_means(invoice: Invoice, organisation: Organisation, customer: Customer) -> None:
    """A SEPA direct debit can only be collected in euro by a seller with a creditor identifier."""
    means = invoice.payment_means or customer.payment_means
    if not means or means.get("method") != PaymentMethod.SEPA_DIRECT_DEBIT.value:
        return
    field = "payment_means" if invoice.payment_means else "customer.payment_means"
    if not organisation.sepa_creditor_id:
        raise Unprocessable(
            "The invoice is to be paid by SEPA direct debit, but the organisation has no SEPA creditor "
            "identifier (EN 16931 BT-90); set sepa_creditor_id with PATCH /v1/organisation.",
            code="sepa_creditor_id_missing",
            details=[{"field": "organisation.sepa_creditor_id", "reason": "needed for direct debit"}],
        )
    if invoice.currency != "EUR":
        raise Unprocessable(
            f"A SEPA direct debit is collected in EUR; this invoice is in {invoice.currency}. "
            "Choose another payment means or invoice in EUR.",
            code="direct_debit_currency",
            details=[{"field": field, "reason": "SEPA direct debit needs EUR"}],
        )


def void_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, reason: str | None
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    if (
        invoice.status in (InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value)
        and invoice.amount_paid_minor
    ):
        raise Conflict(
            f"Invoice {invoice.number} has payments recorded; "
            "refund them or issue a credit note instead of voiding.",
            code="invoice_has_payments",
        )
    _transition(invoice, InvoiceStatus.VOID, actor.name, now, reason)
    # Release what the lines billed: order quantities and pending items become invoiceable again.
    for line in invoice.lines:
        line.live = False
    session.flush()
    return invoice


def mark_uncollectible(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, reason: str | None
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    _transition(invoice, InvoiceStatus.UNCOLLECTIBLE, actor.name, now, reason)
    session.flush()
    return invoice


def record_payment(
    session: Session, actor: Actor, invoice_id: uuid.UUID, data: PaymentCreate, now: datetime
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    payable = (InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value, InvoiceStatus.PAID.value)
    if invoice.status not in payable:
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}; payments can be recorded only on "
            "open, uncollectible or paid invoices.",
            code="invoice_not_payable",
            details=[
                {
                    "field": "status",
                    "reason": f"current status is {invoice.status}",
                    "current_status": invoice.status,
                }
            ],
        )
    if data.amount <= 0:
        raise Unprocessable(
            "A payment amount must be positive.", details=[{"field": "amount", "reason": "must be > 0"}]
        )
    if calc.quantize_money(data.amount, invoice.currency) != data.amount:
        raise Unprocessable(
            f"{data.amount} has more decimals than {invoice.currency} allows "
            f"({calc.minor_units(invoice.currency)}).",
            code="amount_precision",
            details=[{"field": "amount", "reason": "too many decimals for the currency"}],
        )
    amount_minor = calc.to_minor(data.amount, invoice.currency)
    payment = Payment(
        id=uuid.uuid4(),
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        amount_minor=amount_minor,
        paid_on=data.paid_on or now.date(),
        method=data.method,
        reference=data.reference,
    )
    session.add(payment)
    invoice.payments.append(payment)
    invoice.amount_paid_minor += amount_minor
    invoice.updated_at = now
    if invoice.status != InvoiceStatus.PAID.value and invoice.amount_paid_minor >= invoice.total_minor:
        _transition(invoice, InvoiceStatus.PAID, actor.name, now, "paid in full")
    session.flush()
    return invoice
