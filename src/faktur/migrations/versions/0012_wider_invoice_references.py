"""invoice numbers, external references and line SKUs up to 255 characters (WizCommerce's limits)

PostgreSQL widens the VARCHAR columns in place (no table rewrite). SQLite never enforces a
VARCHAR length, so nothing stored changes there; only the declared type in the schema text is
updated, in place, as SQLite documents for schema changes that leave the stored content alone
(https://sqlite.org/lang_altertable.html, "making other kinds of table schema changes"). A copy
of the table (Alembic's batch mode) is avoided on purpose: dropping the old `invoices` with
foreign keys on would cascade-delete the rows that reference it.

Revision ID: 0012
Revises: 0011
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, length before, length after)
WIDENED = [
    ("invoices", "number", 100, 255),
    ("invoices", "external_reference", 200, 255),
    ("invoice_lines", "sku", 100, 255),
]


def _sqlite_declared_length(table: str, changes: list[tuple[str, int, int]]) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    for column, before, after in changes:
        pattern = re.compile(rf'((?:^|[\s(,])"?{column}"?\s+VARCHAR\(){before}\)', re.MULTILINE)
        sql, count = pattern.subn(rf"\g<1>{after})", sql)
        if count != 1:
            raise RuntimeError(f"{table}.{column} is not declared VARCHAR({before}) in this database")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _change(widen: bool) -> None:
    by_table: dict[str, list[tuple[str, int, int]]] = {}
    for table, column, before, after in WIDENED:
        old, new = (before, after) if widen else (after, before)
        by_table.setdefault(table, []).append((column, old, new))
    if op.get_bind().dialect.name == "sqlite":
        for table, changes in by_table.items():
            _sqlite_declared_length(table, changes)
        return
    # Narrowing (downgrade) fails on PostgreSQL if a longer value is stored: nothing is cut short.
    for table, changes in by_table.items():
        for column, old, new in changes:
            op.alter_column(table, column, existing_type=sa.String(old), type_=sa.String(new))


def upgrade() -> None:
    _change(widen=True)


def downgrade() -> None:
    _change(widen=False)
