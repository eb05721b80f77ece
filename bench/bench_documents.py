"""Documents throughput: one-page invoice as PDF, Factur-X, UBL and CII, beside WeasyPrint (HTML -> PDF).

Plain script, one warm process pinned to one core, time.perf_counter:

    .venv/bin/python bench/bench_documents.py [--seconds 3]

Targets per core: PDF >= 40/s, Factur-X >= 20/s, UBL and CII >= 500/s each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from decimal import Decimal
from html import escape

from faktur.calc import InvoiceInput, LineInput, TaxCategory, TaxSpec
from faktur.documents import InvoiceSnapshot, render_cii, render_facturx, render_pdf, render_ubl
from faktur.documents.factory import LineText, compute_snapshot
from faktur.documents.snapshot import Address, Party, SellerParty

TARGETS = {"pdf": 40.0, "factur-x": 20.0, "ubl": 500.0, "cii": 500.0}


def one_page_invoice() -> InvoiceSnapshot:
    vat19, vat7 = TaxSpec(TaxCategory.S, Decimal(19)), TaxSpec(TaxCategory.S, Decimal(7))
    lines = [
        LineInput(Decimal(index % 5 + 1), Decimal(f"{40 + index * 7}.50"), vat19 if index % 3 else vat7)
        for index in range(8)
    ]
    texts = [
        LineText(name=f"Service package {i + 1}", description="Monthly subscription", sku=f"SP-{i + 1:03d}")
        for i in range(8)
    ]
    return compute_snapshot(
        InvoiceInput(currency="EUR", lines=tuple(lines)),
        texts,
        number="RE-2024-00042",
        issue_date=dt.date(2024, 5, 2),
        due_date=dt.date(2024, 5, 16),
        buyer_reference="04011000-12345-34",
        seller=SellerParty(
            legal_name="Nordlicht Software GmbH",
            address=Address(
                street_lines=("Friedrichstraße 68",), city="Berlin", postal_code="10117", country_code="DE"
            ),
            vat_id="DE811907980",
            electronic_address="DE811907980",
            electronic_address_scheme="9930",
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
        ),
        buyer=Party(
            legal_name="Brandt & Söhne KG",
            address=Address(
                street_lines=("Königsallee 12",), city="Düsseldorf", postal_code="40212", country_code="DE"
            ),
            electronic_address="rechnung@brandt.example",
            electronic_address_scheme="EM",
        ),
        locale="de",
    )


def invoice_html(invoice: InvoiceSnapshot) -> str:
    """The same invoice as a typical HTML template a Python shop would feed to WeasyPrint."""
    rows = "".join(
        f"<tr><td>{line.id}</td><td><b>{escape(line.name)}</b><br>"
        f"<small>{escape(line.description or '')}</small></td>"
        f"<td class=n>{line.quantity}</td><td class=n>{line.unit_price} €</td>"
        f"<td class=n>{line.tax.percent} %</td><td class=n>{line.net_amount} €</td></tr>"
        for line in invoice.lines
    )
    totals = invoice.totals
    return f"""<!doctype html><html lang="de"><head><meta charset="utf-8"><style>
      @page {{ size: A4; margin: 18mm 20mm 30mm; @bottom-right {{ content: "Seite " counter(page) " von "
        counter(pages); font-size: 7pt; }} }}
      body {{ font-family: sans-serif; font-size: 9pt; }} h1 {{ text-align: right; color: #1c3a60; }}
      table {{ width: 100%; border-collapse: collapse; }} th {{ background: #eff1f5; text-align: left; }}
      td, th {{ padding: 4px; border-bottom: 0.5px solid #ccd; }} .n {{ text-align: right; }}
    </style></head><body>
      <h1>Rechnung</h1><p><b>{escape(invoice.buyer.legal_name)}</b><br>Königsallee 12<br>40212 Düsseldorf</p>
      <p>Rechnungsnummer {invoice.number}<br>Rechnungsdatum {invoice.issue_date}</p>
      <table><tr><th>Pos.</th><th>Beschreibung</th><th>Menge</th><th>Einzelpreis</th><th>USt.</th>
      <th>Betrag</th></tr>{rows}</table>
      <table style="width: 45%; margin-left: 55%"><tr><td>Summe netto</td>
      <td class=n>{totals.tax_exclusive_total} €</td></tr>
      <tr><td>USt.</td><td class=n>{totals.tax_total} €</td></tr><tr><td><b>Zahlbetrag</b></td>
      <td class=n><b>{totals.amount_due} €</b></td></tr></table>
      <p>Bitte überweisen Sie den Betrag auf IBAN {invoice.seller.iban}.</p></body></html>"""


def per_second(render: Callable[[], object], seconds: float) -> float:
    render()  # warm: fonts registered, stylesheets parsed, caches filled
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        render()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per format")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    invoice = one_page_invoice()
    results = {
        "pdf": per_second(lambda: render_pdf(invoice), args.seconds),
        "factur-x": per_second(lambda: render_facturx(invoice), args.seconds),
        "ubl": per_second(lambda: render_ubl(invoice), args.seconds),
        "cii": per_second(lambda: render_cii(invoice), args.seconds),
    }
    try:
        from weasyprint import HTML

        html = invoice_html(invoice)
        results["weasyprint (html -> pdf)"] = per_second(lambda: HTML(string=html).write_pdf(), args.seconds)
    except ImportError:
        print("weasyprint not installed (pip install '.[bench]'): skipping the comparison")
    print(f"{'format':<26}{'per second':>12}{'target':>10}")
    for name, rate in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (" ok" if rate >= target else " BELOW TARGET")
        print(f"{name:<26}{rate:>12.1f}{'' if target is None else f'{target:>10.0f}'}{verdict}")


if __name__ == "__main__":
    main()
