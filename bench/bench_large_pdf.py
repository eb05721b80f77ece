"""Large draft PDFs: layout time by line count, and a repeated request served from the draft cache.

Plain script, one warm process pinned to one core; wall time (time.perf_counter) and the process's
CPU time (time.process_time, less sensitive to other jobs on a shared machine):

    .venv/bin/python bench/bench_large_pdf.py [--lines 500 1000 2000]

"plain" lines have a name, a short description and an item number; "rich" lines a 220-character
name, a 105-character description and two allowances with reasons (about three times the text).
The cached figure is a second request for an unchanged draft: hashing its snapshot and a lookup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import time
from decimal import Decimal

from pypdf import PdfReader

from faktur.calc import Adjustment, InvoiceInput, LineInput, TaxCategory, TaxSpec
from faktur.documents import InvoiceSnapshot, render_pdf
from faktur.documents.draft_cache import DraftPdfCache
from faktur.documents.factory import LineText, compute_snapshot
from faktur.documents.snapshot import Address, DocumentStatus, Party, SellerParty

VAT = TaxSpec(TaxCategory.S, Decimal(19))
ALLOWANCES = (
    Adjustment(percent=Decimal(5), reason="Loyalty discount for long-standing customers"),
    Adjustment(amount=Decimal(1), reason="Voucher"),
)


def draft(lines: int, rich: bool) -> InvoiceSnapshot:
    inputs = tuple(
        LineInput(Decimal(3), Decimal("19.99"), VAT, ALLOWANCES if rich else ()) for _ in range(lines)
    )
    texts = [
        LineText(
            name=f"Seat {i} " + ("Software licence seat with premium support " * 5 if rich else "licence"),
            description="Monthly subscription " * (5 if rich else 1),
            sku=f"SKU-{i}",
        )
        for i in range(lines)
    ]
    address = Address(
        street_lines=("Friedrichstraße 68",), city="Berlin", postal_code="10117", country_code="DE"
    )
    return compute_snapshot(
        InvoiceInput(currency="EUR", lines=inputs),
        texts,
        status=DocumentStatus.DRAFT,
        issue_date=dt.date(2026, 12, 6),
        due_date=dt.date(2026, 12, 20),
        seller=SellerParty(legal_name="Nordlicht Software GmbH", address=address, vat_id="DE811907980"),
        buyer=Party(legal_name="Brandt & Söhne KG", address=address),
        locale="de",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, nargs="+", default=[500, 1000, 2000])
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    render_pdf(draft(5, False))  # warm: fonts registered
    columns = ("lines", 6), ("kind", 6), ("first (s)", 10), ("CPU (s)", 8), ("cached (ms)", 12), ("pages", 6)
    print(" ".join(f"{name:>{width}}" for name, width in columns))
    for count in args.lines:
        for rich in (False, True):
            invoice = draft(count, rich)
            cache = DraftPdfCache()
            started, cpu = time.perf_counter(), time.process_time()
            pdf = cache.get_or_render(invoice, render_pdf)
            first, cpu = time.perf_counter() - started, time.process_time() - cpu
            started = time.perf_counter()
            cache.get_or_render(invoice, render_pdf)
            cached = time.perf_counter() - started
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            kind = "rich" if rich else "plain"
            print(f"{count:>6} {kind:>6} {first:>10.2f} {cpu:>8.2f} {cached * 1000:>12.1f} {pages:>6}")


if __name__ == "__main__":
    main()
