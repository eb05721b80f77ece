"""Build an `InvoiceSnapshot` from a `faktur.calc` computation, so a document's numbers are the engine's.

The engine computes; this module only copies its results into the snapshot and adds the wording (names,
reasons, parties). For tax-inclusive invoices the XML formats need net figures per line (EN 16931 knows
only net prices), so the net unit price and the net line allowances/charges are derived here from the
engine's net line amount; the gross figures the customer saw stay on the snapshot for the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from faktur.calc import (
    Adjustment,
    InvoiceInput,
    InvoiceResult,
    LineInput,
    LineResult,
    TaxSpec,
    compute_invoice,
    currency_info,
)
from faktur.documents.snapshot import (
    DocumentAdjustment,
    InvoiceLineSnapshot,
    InvoiceSnapshot,
    LineAdjustment,
    TaxBreakdown,
    TaxCategoryCode,
    TaxInfo,
    Totals,
)

# Net unit prices derived from inclusive prices keep this many decimals (EN 16931 sets no limit);
# the error against the rounded line net stays far below a cent for any realistic quantity.
NET_PRICE_DECIMALS = 6
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class LineText:
    """What a line says, beside its numbers: the words and codes the engine does not know."""

    name: str
    description: str | None = None
    sku: str | None = None
    unit_code: str = "C62"
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    id: str | None = None


def _tax(spec: TaxSpec) -> TaxInfo:
    category = TaxCategoryCode(spec.category.value)
    percent = None if category == TaxCategoryCode.NOT_SUBJECT else spec.percent
    return TaxInfo(category=category, percent=percent)


def _to_net(gross: Decimal, percent: Decimal, quantum: Decimal) -> Decimal:
    return (gross * _HUNDRED / (_HUNDRED + percent)).quantize(quantum, ROUND_HALF_UP)


def _line_adjustments(
    line: LineInput, result: LineResult, inclusive: bool, quantum: Decimal
) -> tuple[LineAdjustment, ...]:
    percent = line.tax.percent
    adjustments = []
    pairs: list[tuple[bool, Adjustment, Decimal]] = [
        *((False, a, amount) for a, amount in zip(line.allowances, result.allowance_amounts, strict=True)),
        *((True, c, amount) for c, amount in zip(line.charges, result.charge_amounts, strict=True)),
    ]
    for is_charge, adjustment, amount in pairs:
        base = result.amount if adjustment.percent is not None else None
        adjustments.append(
            LineAdjustment(
                is_charge=is_charge,
                amount=_to_net(amount, percent, quantum) if inclusive else amount,
                base_amount=(_to_net(base, percent, quantum) if inclusive else base)
                if base is not None
                else None,
                percent=adjustment.percent,
                reason=adjustment.reason,
                reason_code=adjustment.reason_code,
                gross_amount=amount if inclusive else None,
            )
        )
    return tuple(adjustments)


def _net_unit_price(line: LineInput, result: LineResult, adjustments: Sequence[LineAdjustment]) -> Decimal:
    allowances = sum((a.amount for a in adjustments if not a.is_charge), Decimal(0))
    charges = sum((a.amount for a in adjustments if a.is_charge), Decimal(0))
    if not line.quantity:
        return abs(line.unit_price)
    price = (result.net + allowances - charges) / line.quantity
    return price.quantize(Decimal(1).scaleb(-NET_PRICE_DECIMALS), ROUND_HALF_UP).normalize() + Decimal(0)


def snapshot_from_calc(
    invoice: InvoiceInput,
    result: InvoiceResult,
    texts: Sequence[LineText],
    **fields: Any,
) -> InvoiceSnapshot:
    """An `InvoiceSnapshot` whose lines, VAT breakdown and totals are the engine's `result`.

    `texts` gives each line's words, in line order; `fields` are the remaining snapshot fields
    (number, dates, parties, references, locale, ...).
    """
    if len(texts) != len(invoice.lines):
        raise ValueError("one LineText per invoice line")
    quantum = currency_info(invoice.currency).quantum
    inclusive = invoice.prices_include_tax
    lines = []
    for position, (line, line_result, text) in enumerate(
        zip(invoice.lines, result.lines, texts, strict=True), 1
    ):
        adjustments = _line_adjustments(line, line_result, inclusive, quantum)
        quantity = line.quantity
        unit_price = _net_unit_price(line, line_result, adjustments) if inclusive else line.unit_price
        gross_unit_price = line.unit_price if inclusive else None
        if unit_price < 0:
            # An item price is never negative in EN 16931 (BR-27): a negative price is shown as the
            # same amount, a negative quantity at the positive price (how a correction is written).
            quantity, unit_price = _ZERO - quantity, _ZERO - unit_price
            gross_unit_price = None if gross_unit_price is None else _ZERO - gross_unit_price
        lines.append(
            InvoiceLineSnapshot(
                id=text.id or str(position),
                sku=text.sku,
                name=text.name,
                description=text.description,
                quantity=quantity,
                unit_code=text.unit_code,
                unit_price=unit_price,
                adjustments=adjustments,
                net_amount=line_result.net,
                tax=_tax(line.tax),
                gross_unit_price=gross_unit_price,
                gross_amount=line_result.gross if inclusive else None,
                period_start=text.period_start,
                period_end=text.period_end,
            )
        )
    document_adjustments = []
    for adjustment in result.adjustments:
        base = adjustment.base_amount
        if inclusive and base is not None:
            base = _to_net(base, adjustment.tax.percent, quantum)
        document_adjustments.append(
            DocumentAdjustment(
                is_charge=adjustment.is_charge,
                amount=adjustment.amount,
                base_amount=base,
                percent=adjustment.percent,
                reason=adjustment.reason,
                reason_code=adjustment.reason_code,
                tax=_tax(adjustment.tax),
                gross_amount=adjustment.gross,
            )
        )
    breakdown = tuple(
        TaxBreakdown(
            category=TaxCategoryCode(group.category.value),
            percent=None if group.category.value == "O" else group.percent,
            taxable_amount=group.taxable_amount,
            tax_amount=group.tax_amount,
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for group in result.tax_groups
    )
    totals = Totals(**result.totals._asdict())
    return InvoiceSnapshot(
        currency=invoice.currency,
        lines=tuple(lines),
        adjustments=tuple(document_adjustments),
        tax_breakdown=breakdown,
        totals=totals,
        prices_include_tax=inclusive,
        **fields,
    )


def compute_snapshot(invoice: InvoiceInput, texts: Sequence[LineText], **fields: Any) -> InvoiceSnapshot:
    """Run the engine on `invoice` and snapshot the result."""
    return snapshot_from_calc(invoice, compute_invoice(invoice), texts, **fields)
