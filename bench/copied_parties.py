"""The customers and tax rates of one organisation copied to another with the same ids, for the
baselines that copy invoice rows between organisations with bare INSERTs: an invoice's references
carry its organisation (docs/scaling.md), so the copy refers to the copied parties."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, delete, insert, select

from faktur.models import Customer, TaxRate
from faktur.models.base import table_of

PARTIES = (Customer, TaxRate)


def copy_parties(conn: Connection, source: uuid.UUID, target: uuid.UUID) -> None:
    for model in PARTIES:
        table = table_of(model)
        rows = conn.execute(select(table).where(table.c.organisation_id == source)).mappings()
        copies = [{**row, "organisation_id": target} for row in rows]
        if copies:
            conn.execute(insert(table), copies)


def delete_parties(conn: Connection, organisation_id: uuid.UUID) -> None:
    for model in PARTIES:
        table = table_of(model)
        conn.execute(delete(table).where(table.c.organisation_id == organisation_id))
