"""Micro-benchmark of faktur.calc: invoices per second on one core, with same-run baselines.

Run: .venv/bin/python bench/bench_calc.py

Each figure is the best of several repeats (the least disturbed by other load). The baselines,
measured in the same run over the same lines, make ratios meaningful on a noisy machine:
"naive sum" is sum(round(qty x price)) with no VAT, no validation and no result objects;
"construct" is building the validated inputs that compute_invoice takes.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from faktur.calc import (  # after the path tweak, so the script runs from a checkout
    Adjustment,
    InvoiceInput,
    LineInput,
    TaxCategory,
    TaxSpec,
    compute_invoice,
)

D = Decimal
S19 = TaxSpec(TaxCategory.S, D("19"))
S7 = TaxSpec(TaxCategory.S, D("7"))
CENT = D("0.01")
REPEATS = 7


def raw_lines(count: int) -> list[tuple[Decimal, Decimal, TaxSpec, tuple[Adjustment, ...]]]:
    """Realistic mix: two rates, fractional quantities, 6-decimal prices, an allowance on every 5th."""
    rows = []
    for i in range(count):
        quantity = D(i % 7 + 1) + D(i % 4) / 4
        price = D(1999 + 37 * i).scaleb(-2) if i % 3 else D(123457 + i).scaleb(-6)
        allowances = (Adjustment(percent=D(10), reason="Volume discount"),) if i % 5 == 4 else ()
        rows.append((quantity, price, S19 if i % 2 else S7, allowances))
    return rows


def build(
    rows: list[tuple[Decimal, Decimal, TaxSpec, tuple[Adjustment, ...]]], inclusive: bool
) -> InvoiceInput:
    return InvoiceInput(
        "EUR",
        tuple(LineInput(q, p, tax, allowances) for q, p, tax, allowances in rows),
        prices_include_tax=inclusive,
    )


def naive_sum(invoice: InvoiceInput) -> Decimal:
    return sum(
        [(line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP) for line in invoice.lines], D(0)
    )


def per_call(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """(best, median) seconds per call over REPEATS timed batches of `calls` calls."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return min(samples), statistics.median(samples)


def report(label: str, fn: Callable[[], object], calls: int, baseline: float | None = None) -> float:
    best, median = per_call(fn, calls)
    ratio = f"  {best / baseline:5.1f}x naive" if baseline else ""
    print(f"  {label:<34} {best * 1e6:9.1f} us  {1 / best:>10,.0f}/s  (median {median * 1e6:.1f} us){ratio}")
    return best


def main() -> None:
    print(f"faktur.calc benchmark  Python {platform.python_version()}  {platform.machine()}  one core")
    for size, calls in ((5, 20_000), (500, 200)):
        rows = raw_lines(size)
        exclusive = build(rows, inclusive=False)
        inclusive = build(rows, inclusive=True)
        print(f"\n{size} lines, 2 VAT rates (7 % and 19 %), EUR:")
        naive = report("baseline: naive sum of qty x price", lambda inv=exclusive: naive_sum(inv), calls)
        report("baseline: construct inputs", lambda r=rows: build(r, inclusive=False), calls, naive)
        report("compute_invoice, exclusive", lambda inv=exclusive: compute_invoice(inv), calls, naive)
        report("compute_invoice, tax inclusive", lambda inv=inclusive: compute_invoice(inv), calls, naive)
        report(
            "construct + compute, exclusive",
            lambda r=rows: compute_invoice(build(r, inclusive=False)),
            calls,
            naive,
        )


if __name__ == "__main__":
    main()
