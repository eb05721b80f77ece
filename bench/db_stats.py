"""Planner statistics for benchmark databases seeded in bulk just before the timed part.

A table filled with 1,000,000 rows a second ago has no statistics yet: PostgreSQL's planner then
guesses (e.g. a few thousand events for an organisation that has a million) and may pick a plan
no production database would run, where autovacuum analyses a table long before its month of
usage is billed. Benchmarks call this after seeding, outside the clock.
"""

from __future__ import annotations

from sqlalchemy import Engine, text


def refresh_statistics(engine: Engine) -> None:
    """VACUUM ANALYZE on PostgreSQL (statistics, visibility map, hint bits), ANALYZE on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
