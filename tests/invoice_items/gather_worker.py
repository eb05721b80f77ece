"""Gather pending invoice items in one transaction and print what it did as JSON: run as a
separate OS process by test_gather_concurrency.py to prove exactly-once attachment across
processes. Arguments: database URL, organisation id, then optionally the item ids to gather."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime

from faktur.context import Actor
from faktur.db import make_engine, make_session_factory, session_scope
from faktur.invoice_items import service
from faktur.invoice_items.schemas import InvoiceItemsInvoice
from faktur.models import Organisation


def main(url: str, organisation_id: str, item_ids: list[str]) -> None:
    engine = make_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        organisation = session.get(Organisation, uuid.UUID(organisation_id))
        assert organisation is not None
        body = InvoiceItemsInvoice(item_ids=[uuid.UUID(i) for i in item_ids] or None, finalize=True)
        result = service.invoice_items(session, Actor(organisation, "worker"), body, datetime.now(UTC))
        report = {
            "invoices": [str(invoice.id) for invoice in result.invoices],
            "skipped": [str(s.item_id) for s in result.skipped],
        }
    engine.dispose()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
