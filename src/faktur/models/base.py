"""Declarative base and the columns every tenant-owned table shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, MetaData, Table, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faktur.models.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The Table a model maps, for Core statements. SQLAlchemy types `__table__` as any FromClause
    (a model may map a join or a select); every faktur model maps one table."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} maps {table!r}, not a table")
    return table


class TenantOwned:
    """Every row belongs to an organisation; every query filters on it. The primary key is
    (organisation_id, id): the organisation is the shard key (docs/scaling.md), so a row is found
    by `session.get(Model, (organisation_id, id))`."""

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


def tenant_reference(table: str, column: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A reference to a row of the same organisation: (organisation_id, `column`) ->
    `table`(organisation_id, id). With the organisation in every key, both rows live on one shard."""
    return ForeignKeyConstraint(
        ["organisation_id", column], [f"{table}.organisation_id", f"{table}.id"], ondelete=ondelete
    )
