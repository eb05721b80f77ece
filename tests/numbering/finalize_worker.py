"""Finalize the given draft invoices, one transaction each: run as a separate OS process by
test_concurrent_numbering.py to prove gapless numbering across processes.

    finalize_worker.py [--busy-timeout-ms N] DATABASE_URL ORGANISATION_ID INVOICE_ID...
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime

from faktur.context import Actor
from faktur.db import make_engine, make_session_factory, session_scope
from faktur.invoices import service
from faktur.models import Organisation


def main(url: str, organisation_id: str, invoice_ids: list[str], busy_timeout_ms: int = 30_000) -> None:
    engine = make_engine(url, pool_size=2, busy_timeout_ms=busy_timeout_ms)
    factory = make_session_factory(engine)
    for invoice_id in invoice_ids:
        with session_scope(factory) as session:
            organisation = session.get(Organisation, uuid.UUID(organisation_id))
            assert organisation is not None
            actor = Actor(organisation, "worker")
            service.finalize_invoice(session, actor, uuid.UUID(invoice_id), datetime.now(UTC))
    engine.dispose()


if __name__ == "__main__":
    args = sys.argv[1:]
    timeout = 30_000
    if args[0] == "--busy-timeout-ms":
        timeout, args = int(args[1]), args[2:]
    main(args[0], args[1], args[2:], timeout)
