"""Ready to shard by organisation (docs/scaling.md): in the migrated database, every primary key and
every unique constraint or unique index of a tenant table (one with organisation_id) includes
organisation_id, and every reference between tenant tables carries it on both sides. The schema
is read from the database itself, not from the models."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import Inspector

# Tables with organisation_id that are not distributed by it, and why. Keep this short.
EXEMPT = {
    # Authentication finds a key by the hash of the secret a client sends, before any organisation
    # is known: a Citus reference table (a few rows per organisation, copied to every node).
    "api_keys": "reference table: looked up by key hash before the organisation is known",
}


def _own_tables(inspector: Inspector) -> list[str]:
    # procrastinate's tables (PostgreSQL) are the task library's own schema.
    return [t for t in inspector.get_table_names() if not t.startswith(("procrastinate_", "alembic_"))]


def tenant_tables(inspector: Inspector) -> list[str]:
    return [
        table
        for table in _own_tables(inspector)
        if "organisation_id" in {column["name"] for column in inspector.get_columns(table)}
    ]


def shard_key_violations(inspector: Inspector, table: str, tenants: set[str]) -> list[str]:
    """What in the table's keys and references leaves out organisation_id."""
    found: list[str] = []
    primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
    if "organisation_id" not in primary_key:
        found.append(f"primary key {primary_key}")
    for unique in inspector.get_unique_constraints(table):
        if "organisation_id" not in unique["column_names"]:
            found.append(f"unique constraint {unique['name']} {unique['column_names']}")
    for index in inspector.get_indexes(table):
        if index["unique"] and "organisation_id" not in index["column_names"]:
            found.append(f"unique index {index['name']} {index['column_names']}")
    for reference in inspector.get_foreign_keys(table):
        if reference["referred_table"] not in tenants:
            continue
        pairs = dict(zip(reference["constrained_columns"], reference["referred_columns"], strict=True))
        if pairs.get("organisation_id") != "organisation_id":
            found.append(f"reference {reference['name']} {pairs} to {reference['referred_table']}")
    return found


def test_every_key_of_a_tenant_table_includes_the_organisation(engine: Engine) -> None:
    inspector = inspect(engine)
    tenants = tenant_tables(inspector)
    assert {"invoices", "invoice_lines", "events", "customers", "credit_notes"} <= set(tenants)
    violations = {
        table: found
        for table in tenants
        if table not in EXEMPT and (found := shard_key_violations(inspector, table, set(tenants)))
    }
    assert violations == {}


def test_the_exemptions_are_still_needed(engine: Engine) -> None:
    """An exempt table that became compliant leaves the list."""
    inspector = inspect(engine)
    tenants = set(tenant_tables(inspector))
    assert set(EXEMPT) <= tenants
    for table in EXEMPT:
        assert shard_key_violations(inspector, table, tenants), f"{table} complies: take it off EXEMPT"


def test_the_walk_finds_keys_without_the_organisation() -> None:
    """The check itself: a table keyed by id alone, with a unique code and a reference by id."""
    scratch = create_engine("sqlite://")
    with scratch.begin() as conn:
        conn.execute(
            text("CREATE TABLE parents (organisation_id TEXT, id TEXT, PRIMARY KEY (organisation_id, id))")
        )
        conn.execute(
            text(
                "CREATE TABLE children (id TEXT PRIMARY KEY, organisation_id TEXT, code TEXT UNIQUE,"
                " parent_id TEXT REFERENCES parents (id))"
            )
        )
        conn.execute(text("CREATE UNIQUE INDEX uq_children_code_again ON children (code)"))
    inspector = inspect(scratch)
    assert shard_key_violations(inspector, "parents", {"parents", "children"}) == []
    found = shard_key_violations(inspector, "children", {"parents", "children"})
    scratch.dispose()
    assert [problem.split()[0] for problem in found] == ["primary", "unique", "unique", "reference"]
