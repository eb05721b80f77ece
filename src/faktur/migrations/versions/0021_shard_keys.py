"""shard keys: every primary key and unique key of a tenant table includes organisation_id

Primary keys become (organisation_id, id); a reference to another tenant table becomes
(organisation_id, x_id) -> x(organisation_id, id), so both rows are of one organisation, and on
one Citus shard (docs/scaling.md, "Sharding by organisation"). events are keyed by
(organisation_id, id) and keep `seq` as a plain column, unique per organisation (on PostgreSQL its
sequence stays the column default); webhook deliveries are keyed by (organisation_id, id) the same
way. The hosted page's token is unique per organisation. api_keys stay as they are: a reference
table, looked up by hash before any organisation is known.

PostgreSQL: the old references are dropped first, then the keys replaced, then the new references
made. SQLite: each table is rebuilt once in batch mode, with foreign keys off while migrations run
(faktur/migrations/env.py), so that dropping an old table cascades nowhere.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG_ID = ["organisation_id", "id"]
_OVERDUE = "type = 'invoice.overdue'"


@dataclass(frozen=True)
class Reference:
    """`column` refers to the row of `table` (by its column `key`) of the same organisation."""

    column: str
    table: str
    ondelete: str | None = None
    key: str = "id"

    def old_name(self, table: str) -> str:
        return f"fk_{table}_{self.column}_{self.table}"

    def new_name(self, table: str) -> str:
        return f"fk_{table}_organisation_id_{self.table}"


@dataclass(frozen=True)
class Idx:
    name: str
    columns: list[str]
    unique: bool = False
    where: str | None = None

    def options(self) -> dict[str, Any]:
        if self.where is None:
            return {}
        return {"sqlite_where": sa.text(self.where), "postgresql_where": sa.text(self.where)}


@dataclass(frozen=True)
class Change:
    old_pk: list[str] | None = None  # None: the primary key already starts with organisation_id
    references: list[Reference] = field(default_factory=list)
    old_indexes: list[Idx] = field(default_factory=list)
    new_indexes: list[Idx] = field(default_factory=list)
    old_unique_constraints: list[Idx] = field(default_factory=list)


def _cascade(column: str, table: str) -> Reference:
    return Reference(column, table, "CASCADE")


# In an order that creates every referred key before its references (PostgreSQL).
CHANGES: dict[str, Change] = {
    "billable_metrics": Change(["id"]),
    "billing_runs": Change(["id"]),
    "customers": Change(["id"]),
    "tax_rates": Change(["id"]),
    "webhook_endpoints": Change(["id"]),
    "billing_run_chunks": Change(["id"], [_cascade("run_id", "billing_runs")]),
    "billing_run_failures": Change(["id"], [_cascade("run_id", "billing_runs")]),
    "contracts": Change(["id"], [Reference("customer_id", "customers")]),
    "invoice_items": Change(
        ["id"], [Reference("customer_id", "customers"), Reference("tax_rate_id", "tax_rates")]
    ),
    "invoices": Change(
        ["id"],
        [Reference("customer_id", "customers")],
        old_indexes=[Idx("uq_invoices_hosted_token_sha256", ["hosted_token_sha256"], unique=True)],
        new_indexes=[
            Idx(
                "uq_invoices_org_hosted_token_sha256",
                ["organisation_id", "hosted_token_sha256"],
                unique=True,
            )
        ],
    ),
    "orders": Change(["id"], [Reference("customer_id", "customers")]),
    "events": Change(
        ["seq"],
        old_unique_constraints=[Idx("uq_events_id", ["id"], unique=True)],
        old_indexes=[
            Idx("ix_events_org_seq", ["organisation_id", "seq"]),
            Idx("uq_events_overdue_object", ["object_id"], unique=True, where=_OVERDUE),
        ],
        new_indexes=[
            Idx("uq_events_org_seq", ["organisation_id", "seq"], unique=True),
            Idx("ix_events_seq", ["seq"]),
            Idx("uq_events_overdue_object", ["organisation_id", "object_id"], unique=True, where=_OVERDUE),
        ],
    ),
    "webhook_deliveries": Change(
        ["id"],
        [_cascade("endpoint_id", "webhook_endpoints"), Reference("event_seq", "events", "CASCADE", "seq")],
    ),
    "contract_components": Change(
        ["id"],
        [
            _cascade("contract_id", "contracts"),
            Reference("metric_id", "billable_metrics"),
            Reference("tax_rate_id", "tax_rates"),
        ],
    ),
    "customer_balance_transactions": Change(
        ["id"], [_cascade("customer_id", "customers"), _cascade("invoice_id", "invoices")]
    ),
    "dialect_invoices": Change(["id"], [_cascade("invoice_id", "invoices")]),
    "invoice_documents": Change(["id"], [_cascade("invoice_id", "invoices")]),
    "invoice_events": Change(["id"], [_cascade("invoice_id", "invoices")]),
    "invoice_lines": Change(
        ["id"], [_cascade("invoice_id", "invoices"), Reference("tax_rate_id", "tax_rates")]
    ),
    "invoice_tax_groups": Change(["id"], [_cascade("invoice_id", "invoices")]),
    "order_lines": Change(["id"], [_cascade("order_id", "orders"), Reference("tax_rate_id", "tax_rates")]),
    "payments": Change(["id"], [_cascade("invoice_id", "invoices")]),
    "usage_coverages": Change(
        ["id"], [Reference("invoice_id", "invoices"), _cascade("contract_id", "contracts")]
    ),
    "usage_events": Change(
        ["id"], [_cascade("contract_id", "contracts"), Reference("metric_id", "billable_metrics")]
    ),
    "webhook_attempts": Change(
        ["id"], [_cascade("endpoint_id", "webhook_endpoints"), _cascade("delivery_id", "webhook_deliveries")]
    ),
    "invoice_sends": Change(["id"], [_cascade("invoice_id", "invoices")]),
    # Keyed by organisation already (credit notes, balances): only their references change.
    "credit_notes": Change(
        None, [Reference("invoice_id", "invoices"), Reference("customer_id", "customers")]
    ),
    "credit_note_lines": Change(None, [_cascade("invoice_line_id", "invoice_lines")]),
    "customer_balances": Change(None, [_cascade("customer_id", "customers")]),
}


class _Table:
    """The operations of this migration on one table, through alembic's `op` (PostgreSQL) or
    a batch of the table (SQLite), which spell them differently."""

    def __init__(self, name: str, batch: BatchOperations | None = None) -> None:
        self.name, self.batch = name, batch

    def drop_constraint(self, name: str, type_: str) -> None:
        if self.batch is not None:
            self.batch.drop_constraint(name, type_=type_)
        else:
            op.drop_constraint(name, self.name, type_=type_)

    def create_primary_key(self, columns: list[str]) -> None:
        if self.batch is not None:
            self.batch.create_primary_key(f"pk_{self.name}", columns)
        else:
            op.create_primary_key(f"pk_{self.name}", self.name, columns)

    def create_unique_constraint(self, index: Idx) -> None:
        if self.batch is not None:
            self.batch.create_unique_constraint(index.name, index.columns)
        else:
            op.create_unique_constraint(index.name, self.name, index.columns)

    def drop_index(self, index: Idx) -> None:
        if self.batch is not None:
            self.batch.drop_index(index.name)
        else:
            op.drop_index(index.name, table_name=self.name)

    def create_index(self, index: Idx) -> None:
        if self.batch is not None:
            self.batch.create_index(index.name, index.columns, unique=index.unique, **index.options())
        else:
            op.create_index(index.name, self.name, index.columns, unique=index.unique, **index.options())

    def create_reference(self, name: str, columns: list[str], ref: Reference) -> None:
        remote = ["organisation_id", ref.key] if len(columns) == 2 else [ref.key]
        if self.batch is not None:
            self.batch.create_foreign_key(name, ref.table, columns, remote, ondelete=ref.ondelete)
        else:
            op.create_foreign_key(name, self.name, ref.table, columns, remote, ondelete=ref.ondelete)


def _rekey(table: _Table, change: Change, *, up: bool) -> None:
    """Replace the keys (primary, unique) of one table, references aside."""
    dropped, created = (
        (change.old_indexes, change.new_indexes) if up else (change.new_indexes, change.old_indexes)
    )
    for index in dropped:
        table.drop_index(index)
    if not up:
        for index in change.old_unique_constraints:
            table.create_unique_constraint(index)
    if change.old_pk is not None:
        table.drop_constraint(f"pk_{table.name}", "primary")
        table.create_primary_key(ORG_ID if up else change.old_pk)
    if up:
        for index in change.old_unique_constraints:
            table.drop_constraint(index.name, "unique")
    for index in created:
        table.create_index(index)


def _drop_references(table: _Table, change: Change, *, up: bool) -> None:
    for ref in change.references:
        table.drop_constraint(ref.old_name(table.name) if up else ref.new_name(table.name), "foreignkey")


def _create_references(table: _Table, change: Change, *, up: bool) -> None:
    for ref in change.references:
        if up:
            table.create_reference(ref.new_name(table.name), ["organisation_id", ref.column], ref)
        else:
            table.create_reference(ref.old_name(table.name), [ref.column], ref)


def _migrate(*, up: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, change in CHANGES.items():
            with op.batch_alter_table(name, recreate="always") as batch:
                table = _Table(name, batch)
                _drop_references(table, change, up=up)
                _rekey(table, change, up=up)
                _create_references(table, change, up=up)
        return
    order = list(CHANGES.items()) if up else list(reversed(CHANGES.items()))
    for name, change in order:
        _drop_references(_Table(name), change, up=up)
    for name, change in order:
        _rekey(_Table(name), change, up=up)
    for name, change in order:
        _create_references(_Table(name), change, up=up)


def upgrade() -> None:
    _migrate(up=True)


def downgrade() -> None:
    _migrate(up=False)
