"""The Alembic migrations are the only source of schema: migrated to head, a database has exactly the
tables, columns, types, indexes and constraints that the ORM models declare (autogenerate finds nothing)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from faktur.models import Base


def _faktur_objects(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # procrastinate's tables (PostgreSQL) are the task library's own schema, applied as its SQL ships.
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    return not (table_name or "").startswith("procrastinate_")


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _faktur_objects}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrated_primary_keys_equal_the_models(engine: Engine) -> None:
    """Autogenerate does not compare primary keys: the columns of each, in order, compared here."""
    inspector = inspect(engine)
    migrated = {
        table: inspector.get_pk_constraint(table)["constrained_columns"] for table in Base.metadata.tables
    }
    declared = {
        name: [column.name for column in table.primary_key.columns]
        for name, table in Base.metadata.tables.items()
    }
    assert migrated == declared
