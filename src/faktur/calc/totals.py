"""Invoice arithmetic per EN 16931: line nets, VAT breakdown per (category, rate) and totals.

Rounding happens only where the standard puts it: each line amount round(quantity x unit price),
each allowance or charge, and each VAT group's tax (once per group, never per line). Totals are
sums of those rounded parts, so BR-CO-10..16 hold exactly. Everything else is exact Decimal
arithmetic in MONEY_CONTEXT, independent of the caller's decimal context.

Tax-inclusive prices (`prices_include_tax=True`) keep the gross the customer saw: per group the
gross G is the sum of the rounded line grosses (and document charges minus allowances, which are
gross too in this mode); tax = round(G x rate / (100 + rate)); net = G - tax. Each item's net is
round(gross x 100 / (100 + rate)) and the residual minor units, at most about one per item, go one
by one to the items with the largest absolute gross, ties broken by the items' values (never their
position), so the group's item nets add up to its net exactly and reordering lines changes nothing.
Because the tax is taken from the gross, round(net x rate / 100) can differ from it by one minor
unit (e.g. at high rates); BR-CO-17 in the EN 16931 schematron tolerates this (it allows +-1).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from operator import itemgetter

from faktur.calc.currency import currency_info
from faktur.calc.decimals import HUNDRED, MONEY_CONTEXT, canonical_percent
from faktur.calc.errors import ConflictingExemptionReasons
from faktur.calc.model import (
    DEFAULT_EXEMPTIONS,
    AdjustmentResult,
    DocumentAdjustment,
    InvoiceInput,
    InvoiceResult,
    LineInput,
    LineResult,
    TaxCategory,
    TaxGroup,
    TaxSpec,
    Totals,
)

_CATEGORY_ORDER = {category: position for position, category in enumerate(TaxCategory)}
_GroupKey = tuple[TaxCategory, Decimal]


def compute_invoice(invoice: InvoiceInput) -> InvoiceResult:
    """Compute lines, VAT breakdown and totals; raises CalcError if the input is inconsistent
    (different exemption reasons within one VAT group). EN 16931 category rules are checked
    separately by `line_rule_violations` / `party_rule_violations`, so drafts can be priced."""
    with localcontext(MONEY_CONTEXT):
        if invoice.prices_include_tax:
            return _compute_inclusive(invoice)
        return _compute_exclusive(invoice)


def _line_parts(
    line: LineInput, quantum: Decimal, zero: Decimal
) -> tuple[Decimal, tuple[Decimal, ...], Decimal, tuple[Decimal, ...], Decimal]:
    amount = (line.quantity * line.unit_price).quantize(quantum, ROUND_HALF_UP)
    if not amount:
        amount = zero  # 0 x -5 is -0, which must not print as "-0.00"
    allowance_amounts: tuple[Decimal, ...] = ()
    allowance_total = zero
    if line.allowances:
        allowance_amounts = tuple(
            _rounded(a.amount, a.percent, amount, quantum, zero) for a in line.allowances
        )
        allowance_total = sum(allowance_amounts, zero)
    charge_amounts: tuple[Decimal, ...] = ()
    charge_total = zero
    if line.charges:
        charge_amounts = tuple(_rounded(c.amount, c.percent, amount, quantum, zero) for c in line.charges)
        charge_total = sum(charge_amounts, zero)
    return amount, allowance_amounts, allowance_total, charge_amounts, charge_total


def _rounded(
    amount: Decimal | None, percent: Decimal | None, base: Decimal | None, quantum: Decimal, zero: Decimal
) -> Decimal:
    # A fixed amount is already exact in the currency (InvoiceInput checked); quantize only gives
    # it the canonical exponent ("5" -> "5.00"). A percentage is rounded once, here.
    if amount is not None:
        value = amount.quantize(quantum, ROUND_HALF_UP)
    else:
        # Adjustment and DocumentAdjustment refuse a percentage without its base on construction.
        assert percent is not None and base is not None
        value = (base * percent / HUNDRED).quantize(quantum, ROUND_HALF_UP)
    return value if value else zero


def _doc_amount(doc: DocumentAdjustment, quantum: Decimal, zero: Decimal) -> Decimal:
    return _rounded(doc.amount, doc.percent, doc.base_amount, quantum, zero)


def _doc_result(
    doc: DocumentAdjustment, amount: Decimal, gross: Decimal | None, quantum: Decimal, zero: Decimal
) -> AdjustmentResult:
    base = doc.base_amount
    if base is not None:
        base = base.quantize(quantum, ROUND_HALF_UP) + zero  # canonical exponent, never -0
    return AdjustmentResult(
        doc.is_charge, amount, doc.tax, gross, base, doc.percent, doc.reason, doc.reason_code
    )


def _exemption(category: TaxCategory, specs: list[TaxSpec]) -> tuple[str | None, str | None]:
    """The one exemption reason and code of a group; lines that leave them out inherit them, and a
    group where none gives one states its category's default (`DEFAULT_EXEMPTIONS`), if any."""
    if not specs:
        return DEFAULT_EXEMPTIONS.get(category, (None, None))
    reasons = sorted({s.exemption_reason for s in specs if s.exemption_reason is not None})
    codes = sorted({s.exemption_reason_code for s in specs if s.exemption_reason_code is not None})
    if len(reasons) > 1 or len(codes) > 1:
        raise ConflictingExemptionReasons(
            f"VAT category {category.value} has conflicting exemption reasons "
            f"{reasons + codes}; an invoice states one reason per category",
            field="tax.exemption_reason",
        )
    return (reasons[0] if reasons else None), (codes[0] if codes else None)


def _group_sort_key(group: TaxGroup) -> tuple[int, Decimal]:
    return _CATEGORY_ORDER[group.category], group.percent


def _totals(
    invoice: InvoiceInput,
    line_results: list[LineResult],
    adjustment_results: list[AdjustmentResult],
    tax_groups: list[TaxGroup],
    quantum: Decimal,
    zero: Decimal,
) -> Totals:
    line_net_total = sum([line.net for line in line_results], zero)
    allowance_total = zero
    charge_total = zero
    for adjustment in adjustment_results:
        if adjustment.is_charge:
            charge_total += adjustment.amount
        else:
            allowance_total += adjustment.amount
    tax_exclusive_total = line_net_total - allowance_total + charge_total
    tax_total = sum([group.tax_amount for group in tax_groups], zero)
    tax_inclusive_total = tax_exclusive_total + tax_total
    # Adding the canonical zero turns a caller's Decimal("-0") into "0.00" and gives the exponent.
    paid_amount = invoice.paid_amount.quantize(quantum) + zero
    rounding_amount = invoice.rounding_amount.quantize(quantum) + zero
    return Totals(
        line_net_total,
        allowance_total,
        charge_total,
        tax_exclusive_total,
        tax_total,
        tax_inclusive_total,
        paid_amount,
        rounding_amount,
        tax_inclusive_total - paid_amount + rounding_amount,
    )


def _compute_exclusive(invoice: InvoiceInput) -> InvoiceResult:
    info = currency_info(invoice.currency)
    quantum, zero = info.quantum, info.zero
    # key -> [taxable amount, tax specs that carry an exemption reason]
    groups: dict[_GroupKey, list] = {}
    line_results: list[LineResult] = []
    for line in invoice.lines:
        amount, allowance_amounts, allowance_total, charge_amounts, charge_total = _line_parts(
            line, quantum, zero
        )
        net = amount - allowance_total + charge_total
        tax = line.tax
        key = (tax.category, tax.percent)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [zero, []]
        group[0] += net
        if tax.exemption_reason is not None or tax.exemption_reason_code is not None:
            group[1].append(tax)
        line_results.append(
            LineResult(
                amount, allowance_total, charge_total, net, None, tax, allowance_amounts, charge_amounts
            )
        )

    adjustment_results: list[AdjustmentResult] = []
    for doc in invoice.adjustments:
        amount = _doc_amount(doc, quantum, zero)
        tax = doc.tax
        key = (tax.category, tax.percent)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [zero, []]
        group[0] += amount if doc.is_charge else -amount
        if tax.exemption_reason is not None or tax.exemption_reason_code is not None:
            group[1].append(tax)
        adjustment_results.append(_doc_result(doc, amount, None, quantum, zero))

    tax_groups: list[TaxGroup] = []
    for (category, percent), (taxable, specs) in groups.items():
        tax_amount = (taxable * percent / HUNDRED).quantize(quantum, ROUND_HALF_UP)
        reason, reason_code = _exemption(category, specs)
        tax_groups.append(
            TaxGroup(
                category,
                canonical_percent(percent),
                taxable,
                tax_amount if tax_amount else zero,
                reason,
                reason_code,
            )
        )
    tax_groups.sort(key=_group_sort_key)
    totals = _totals(invoice, line_results, adjustment_results, tax_groups, quantum, zero)
    return InvoiceResult(
        invoice.currency, tuple(line_results), tuple(adjustment_results), tuple(tax_groups), totals
    )


class _Item:
    """A line or document adjustment inside one tax-inclusive group, waiting for its net share."""

    __slots__ = ("gross", "kind", "net", "source")

    def __init__(self, gross: Decimal, kind: int, source: LineInput | DocumentAdjustment) -> None:
        self.gross = gross  # signed: document allowances are negative
        self.net = gross
        self.kind = kind  # 0 line, 1 document adjustment: lines take residual cents first on ties
        self.source = source

    def allocation_key(self) -> tuple[Decimal, Decimal, int]:
        # Largest gross first; values only, never positions, so line order cannot matter.
        return -abs(self.gross), -self.gross, self.kind

    def tie_key(self) -> str:
        # Equal gross: the item's full value decides (identical items are interchangeable, so
        # which of them gets the cent is invisible). repr is costly, so only ties pay for it.
        return repr(self.source)


def _allocation_order(items: list[_Item], needed: int) -> list[_Item]:
    """Items by descending absolute gross; runs of equal keys that the residual reaches are
    re-sorted by value, so the order never depends on input positions."""
    keyed = sorted([(item.allocation_key(), item) for item in items], key=itemgetter(0))
    ordered = [item for _, item in keyed]
    start = 0
    while start < needed:
        key = keyed[start][0]
        end = start + 1
        while end < len(keyed) and keyed[end][0] == key:
            end += 1
        if end - start > 1:
            ordered[start:end] = sorted(ordered[start:end], key=_Item.tie_key)
        start = end
    return ordered


def _allocate_nets(
    items: list[_Item], net_total: Decimal, percent: Decimal, quantum: Decimal, zero: Decimal
) -> None:
    divisor = HUNDRED + percent
    allocated = zero
    for item in items:
        net = (item.gross * HUNDRED / divisor).quantize(quantum, ROUND_HALF_UP)
        item.net = net if net else zero
        allocated += item.net
    residual_steps = int((net_total - allocated) / quantum)
    if not residual_steps:
        return
    step = quantum if residual_steps > 0 else -quantum
    # Each item's rounding is off by at most half a unit and the group's tax by another half, so
    # the residual is at most (len(items) + 1) / 2 units and one pass over the items suffices.
    needed = abs(residual_steps)
    if needed > len(items):
        raise AssertionError(f"residual of {needed} units over {len(items)} items")
    for item in _allocation_order(items, needed)[:needed]:
        net = item.net + step
        item.net = net if net else zero


def _compute_inclusive(invoice: InvoiceInput) -> InvoiceResult:
    info = currency_info(invoice.currency)
    quantum, zero = info.quantum, info.zero
    # key -> [gross total, items, tax specs that carry an exemption reason]
    groups: dict[_GroupKey, list] = {}
    line_parts = []
    line_items: list[_Item] = []
    for line in invoice.lines:
        parts = _line_parts(line, quantum, zero)
        amount, _, allowance_total, _, charge_total = parts
        gross = amount - allowance_total + charge_total
        item = _Item(gross, 0, line)
        tax = line.tax
        key = (tax.category, tax.percent)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [zero, [], []]
        group[0] += gross
        group[1].append(item)
        if tax.exemption_reason is not None or tax.exemption_reason_code is not None:
            group[2].append(tax)
        line_parts.append(parts)
        line_items.append(item)

    doc_items: list[tuple[DocumentAdjustment, Decimal, _Item]] = []
    for doc in invoice.adjustments:
        amount = _doc_amount(doc, quantum, zero)
        signed = amount if doc.is_charge else zero - amount
        item = _Item(signed, 1, doc)
        tax = doc.tax
        key = (tax.category, tax.percent)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [zero, [], []]
        group[0] += signed
        group[1].append(item)
        if tax.exemption_reason is not None or tax.exemption_reason_code is not None:
            group[2].append(tax)
        doc_items.append((doc, amount, item))

    tax_groups: list[TaxGroup] = []
    for (category, percent), (gross_total, items, specs) in groups.items():
        if percent:
            tax_amount = (gross_total * percent / (HUNDRED + percent)).quantize(quantum, ROUND_HALF_UP)
            if not tax_amount:
                tax_amount = zero
            net_total = gross_total - tax_amount
            _allocate_nets(items, net_total, percent, quantum, zero)
        else:
            tax_amount = zero
            net_total = gross_total  # items keep net == gross
        reason, reason_code = _exemption(category, specs)
        tax_groups.append(
            TaxGroup(category, canonical_percent(percent), net_total, tax_amount, reason, reason_code)
        )
    tax_groups.sort(key=_group_sort_key)

    line_results = [
        LineResult(amount, allowance_total, charge_total, item.net, item.gross, line.tax, allowances, charges)
        for line, (amount, allowances, allowance_total, charges, charge_total), item in zip(
            invoice.lines, line_parts, line_items, strict=True
        )
    ]
    adjustment_results = [
        _doc_result(doc, item.net if doc.is_charge else zero - item.net, gross, quantum, zero)
        for doc, gross, item in doc_items
    ]
    totals = _totals(invoice, line_results, adjustment_results, tax_groups, quantum, zero)
    return InvoiceResult(
        invoice.currency, tuple(line_results), tuple(adjustment_results), tuple(tax_groups), totals
    )
