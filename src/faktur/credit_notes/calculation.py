"""What a credit note credits, computed from the invoice, what its earlier credit notes credited
and the command. Pure: no session, no SQL.

Every credit note is an engine input (faktur.calc) with the invoice's currency and price mode, so
its lines, VAT breakdown (tax rounded once per group) and totals follow the same rules as
invoices:

- a quantity credit is `quantity x unit price` of the invoice line; a line with allowances or
  charges gets its share of them pro rata (one allowance or charge on the credit line), and the
  last remaining quantity takes exactly what is left of the line's amount;
- a price reduction is one unit at `amount`; a custom line is priced as given;
- a full cancellation repeats every line not credited yet exactly as invoiced, and credits the
  remainder of the others;
- the credit note that credits the last of every line (it *completes* the invoice) also credits
  the invoice's document-level allowances and charges, and takes off, per VAT category and rate,
  what earlier custom lines credited (one document-level allowance each): custom lines credit no
  invoice line, so without it the rest of the lines would credit them a second time. On a
  tax-exclusive invoice its VAT per
  group is what the invoice's group had left (the earlier credit notes rounded theirs on their
  own), so the credit notes of a fully credited invoice add up to its total exactly, to the minor
  unit; except where that would put the group's VAT one currency unit or more from its exact
  value (EN 16931 BR-CO-17 and the categories' -09 rules allow less than one unit): then it takes
  the value within that tolerance nearest to what was left. That happens only in currencies
  without decimals (JPY, KRW, ...) after several partial credit notes, and then the credit notes
  add up to the invoice's total give or take a few units (`rounding_minor`); the completing
  credit note still voids the invoice (see faktur.credit_notes.service).

The amount of a line counted against the invoice line is its net (its gross on a tax-inclusive
invoice), as the invoice line's own net_minor (gross_minor).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from faktur import calc
from faktur.credit_notes.domain import (
    AmountCredit,
    CreditLineKind,
    CustomCredit,
    NewCreditNote,
    QuantityCredit,
    Settlement,
)
from faktur.credit_notes.errors import (
    CreditExceedsRemaining,
    CreditLineNotCreditable,
    CreditLineUnknown,
    CreditNoteNotPositive,
    CreditSettlementMismatch,
    CreditTaxNotOnInvoice,
)
from faktur.errors import AmountTooPrecise
from faktur.invoices.calculation import check_amounts_in_range, input_from_invoice
from faktur.invoices.rows import dump_tax
from faktur.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, TaxRate

PRO_RATA_REASON = "Share of the invoice line's allowances and charges"
REMAINDER_REASON = "Remainder of the invoice line"
CUSTOM_CREDITED_REASON = "Credited earlier by custom lines"


@dataclass(frozen=True)
class PlannedLine:
    """One credit-note line before the engine priced it."""

    kind: CreditLineKind
    invoice_line: InvoiceLine | None
    credited_quantity: Decimal
    description: str
    sku: str | None
    unit_code: str
    input: calc.LineInput


@dataclass(frozen=True)
class Credited:
    """What the earlier credit notes of an invoice credited, per invoice line and per VAT group."""

    quantity: Mapping[uuid.UUID, Decimal] = field(default_factory=dict)
    amount_minor: Mapping[uuid.UUID, int] = field(default_factory=dict)
    tax_minor: Mapping[tuple[str, Decimal], int] = field(default_factory=dict)
    adjustments_credited: bool = False
    count: int = 0
    # What custom lines credited (net, gross on a tax-inclusive invoice), per VAT category and rate.
    custom: Mapping[tuple[str, Decimal], tuple[calc.TaxSpec, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ComputedCreditNote:
    currency: str
    prices_include_tax: bool
    full_cancellation: bool
    lines: tuple[PlannedLine, ...]
    # The invoice's stored document adjustments when this credit note credits them, else ().
    adjustments: tuple[dict[str, object], ...]
    result: calc.InvoiceResult
    # It credits the last of every invoice line: the invoice is fully credited by it.
    completes: bool = False
    # On a completing credit note: its VAT minus what the invoice's groups had left, in minor units
    # (0 unless BR-CO-17's tolerance kept it from taking exactly what was left).
    rounding_minor: int = 0

    @property
    def total(self) -> Decimal:
        return self.result.totals.tax_inclusive_total


def credited_so_far(invoice: Invoice, notes: Sequence[CreditNote]) -> Credited:
    """Sum what `notes` (the invoice's stored credit notes, with lines and VAT groups) credited."""
    quantity: dict[uuid.UUID, Decimal] = {}
    amount: dict[uuid.UUID, int] = {}
    tax: dict[tuple[str, Decimal], int] = {}
    custom: dict[tuple[str, Decimal], tuple[calc.TaxSpec, int]] = {}
    adjustments = False
    for note in notes:
        adjustments = adjustments or bool(note.adjustments)
        for line in note.lines:
            if line.invoice_line_id is None:
                spec = _tax_of(line)
                custom_key = (spec.category.value, spec.percent.normalize())
                earlier = custom.get(custom_key, (spec, 0))[1]
                custom[custom_key] = (spec, earlier + _priced(line, invoice.prices_include_tax))
                continue
            key = line.invoice_line_id
            quantity[key] = quantity.get(key, Decimal(0)) + line.credited_quantity
            amount[key] = amount.get(key, 0) + _priced(line, invoice.prices_include_tax)
        for group in note.tax_groups:
            group_key = (group.category, Decimal(group.percent))
            tax[group_key] = tax.get(group_key, 0) + group.tax_minor
    return Credited(quantity, amount, tax, adjustments, len(notes), custom)


def _priced(line: InvoiceLine | CreditNoteLine, inclusive: bool) -> int:
    if inclusive and line.gross_minor is not None:
        return line.gross_minor
    return line.net_minor


def _tax_of(line: InvoiceLine | CreditNoteLine) -> calc.TaxSpec:
    return calc.TaxSpec(
        calc.TaxCategory(line.tax_category),
        line.tax_percent,
        line.exemption_reason,
        line.exemption_reason_code,
    )


def _minor(value: Decimal, currency: str) -> int:
    return calc.to_minor(value, currency)


def _money(minor: int, currency: str) -> Decimal:
    return calc.from_minor(minor, currency)


def _text(minor: int, currency: str) -> str:
    return calc.format_amount(calc.from_minor(minor, currency), currency)


class _Remaining:
    """What is left to credit per invoice line while a command's lines are planned."""

    def __init__(self, invoice: Invoice, credited: Credited) -> None:
        self.inclusive = invoice.prices_include_tax
        self.currency = invoice.currency
        self.quantity = {
            line.id: line.quantity - credited.quantity.get(line.id, Decimal(0)) for line in invoice.lines
        }
        self.amount = {
            line.id: _priced(line, self.inclusive) - credited.amount_minor.get(line.id, 0)
            for line in invoice.lines
        }
        self.untouched = {line.id for line in invoice.lines if line.id not in credited.amount_minor}

    def exhausted(self) -> bool:
        return all(q == 0 for q in self.quantity.values()) and all(a == 0 for a in self.amount.values())

    def take(self, line: InvoiceLine, field_: str, quantity: Decimal, amount_minor: int) -> None:
        left_q, left_a = self.quantity[line.id], self.amount[line.id]
        if quantity > left_q or amount_minor > left_a:
            detail = {
                "field": field_,
                "reason": "more than is left to credit on this invoice line",
                "invoice_line_id": str(line.id),
                "line": line.position,
                "requested_quantity": str(quantity),
                "remaining_quantity": str(left_q),
                "requested_amount": _text(amount_minor, self.currency),
                "remaining_amount": _text(left_a, self.currency),
            }
            raise CreditExceedsRemaining(
                f"Line {line.position} ({line.description!r}) has {left_q} left to credit "
                f"({_text(left_a, self.currency)} {self.currency}); this credit note asks for {quantity} "
                f"({_text(amount_minor, self.currency)} {self.currency}).",
                [detail],
            )
        self.quantity[line.id] = left_q - quantity
        self.amount[line.id] = left_a - amount_minor
        self.untouched.discard(line.id)


def _line_priced_minor(line_input: calc.LineInput, currency: str, inclusive: bool) -> int:
    """What a credit line amounts to against its invoice line (net, or gross when inclusive)."""
    single = calc.compute_invoice(
        calc.InvoiceInput(currency=currency, lines=(line_input,), prices_include_tax=inclusive)
    )
    [result] = single.lines
    value = result.gross if inclusive and result.gross is not None else result.net
    return _minor(value, currency)


def _priced_line(
    line: InvoiceLine, quantity: Decimal, target_minor: int | None, currency: str, reason: str
) -> calc.LineInput:
    """`quantity` of `line` at its unit price; with `target_minor`, one allowance or charge makes
    the line amount to exactly that."""
    plain = calc.LineInput(quantity=quantity, unit_price=line.unit_price, tax=_tax_of(line))
    if target_minor is None:
        return plain
    amount_minor = _minor(
        (quantity * line.unit_price).quantize(calc.currency_info(currency).quantum, ROUND_HALF_UP), currency
    )
    difference = amount_minor - target_minor
    if difference == 0:
        return plain
    adjustment = calc.Adjustment(amount=_money(abs(difference), currency), reason=reason)
    if difference > 0:
        return calc.LineInput(
            quantity=quantity, unit_price=line.unit_price, tax=_tax_of(line), allowances=(adjustment,)
        )
    return calc.LineInput(
        quantity=quantity, unit_price=line.unit_price, tax=_tax_of(line), charges=(adjustment,)
    )


def _positive(line: InvoiceLine, inclusive: bool) -> bool:
    return line.quantity > 0 and _priced(line, inclusive) > 0


def _plan_quantity(
    invoice: Invoice, line: InvoiceLine, quantity: Decimal, remaining: _Remaining, field_: str
) -> PlannedLine:
    currency, inclusive = invoice.currency, invoice.prices_include_tax
    if not _positive(line, inclusive):
        raise CreditLineNotCreditable(field_, line.id)
    left = remaining.quantity[line.id]
    if quantity == left:
        target: int | None = remaining.amount[line.id]
        reason = REMAINDER_REASON
    elif line.allowances or line.charges:
        priced = _priced(line, inclusive)
        target = _minor(
            (_money(priced, currency) * quantity / line.quantity).quantize(
                calc.currency_info(currency).quantum, ROUND_HALF_UP
            ),
            currency,
        )
        reason = PRO_RATA_REASON
    else:
        target, reason = None, ""
    line_input = _priced_line(line, quantity, target, currency, reason)
    remaining.take(line, field_, quantity, _line_priced_minor(line_input, currency, inclusive))
    return PlannedLine(
        CreditLineKind.QUANTITY, line, quantity, line.description, line.sku, line.unit_code, line_input
    )


def _plan_amount(
    invoice: Invoice, line: InvoiceLine, amount: Decimal, remaining: _Remaining, field_: str
) -> PlannedLine:
    currency = invoice.currency
    if not _positive(line, invoice.prices_include_tax):
        raise CreditLineNotCreditable(field_, line.id)
    _check_amount(amount, currency, f"{field_}.amount")
    line_input = calc.LineInput(quantity=Decimal(1), unit_price=amount, tax=_tax_of(line))
    remaining.take(line, field_, Decimal(0), _minor(amount, currency))
    return PlannedLine(
        CreditLineKind.AMOUNT,
        line,
        Decimal(0),
        f"Price reduction: {line.description}"[:1000],
        line.sku,
        "C62",
        line_input,
    )


def _check_amount(amount: Decimal, currency: str, field_: str) -> None:
    if amount <= 0 or calc.quantize_money(amount, currency) != amount:
        raise AmountTooPrecise(
            f"{amount} is not a positive amount in {currency} "
            f"({calc.minor_units(currency)} decimals at most).",
            details=[{"field": field_, "reason": "must be above 0 with the currency's decimals"}],
        )


def _used_taxes(invoice: Invoice) -> dict[tuple[str, Decimal], calc.TaxSpec]:
    used: dict[tuple[str, Decimal], calc.TaxSpec] = {}
    for line in invoice.lines:
        used.setdefault((line.tax_category, Decimal(line.tax_percent).normalize()), _tax_of(line))
    for group in invoice.tax_groups:
        key = (group.category, Decimal(group.percent).normalize())
        used[key] = calc.TaxSpec(
            calc.TaxCategory(group.category),
            group.percent,
            group.exemption_reason,
            group.exemption_reason_code,
        )
    return used


def _plan_custom(
    invoice: Invoice, credit: CustomCredit, rates: Mapping[uuid.UUID, TaxRate], field_: str
) -> PlannedLine:
    if credit.tax is not None:
        spec = credit.tax
        tax_field = f"{field_}.tax"
    else:
        rate = rates.get(credit.tax_rate_id) if credit.tax_rate_id else None
        if rate is None:
            raise CreditTaxNotOnInvoice(f"{field_}.tax_rate_id", "?", "?", _used_labels(invoice))
        spec = calc.TaxSpec(
            calc.TaxCategory(rate.category), rate.percent, rate.exemption_reason, rate.exemption_reason_code
        )
        tax_field = f"{field_}.tax_rate_id"
    used = _used_taxes(invoice).get((spec.category.value, spec.percent.normalize()))
    if used is None:
        raise CreditTaxNotOnInvoice(tax_field, spec.category.value, str(spec.percent), _used_labels(invoice))
    # The invoice's exemption reason, unless the line states the same one itself.
    tax = calc.TaxSpec(
        used.category,
        used.percent,
        spec.exemption_reason or used.exemption_reason,
        spec.exemption_reason_code or used.exemption_reason_code,
    )
    line_input = calc.LineInput(quantity=credit.quantity, unit_price=credit.unit_price, tax=tax)
    return PlannedLine(
        CreditLineKind.CUSTOM, None, Decimal(0), credit.description, credit.sku, credit.unit_code, line_input
    )


def _used_labels(invoice: Invoice) -> list[str]:
    return sorted(f"{category} {percent}" for category, percent in _used_taxes(invoice))


def _plan_full(invoice: Invoice, remaining: _Remaining) -> list[PlannedLine]:
    """Every line not credited yet as invoiced; the remainder of the others."""
    currency, inclusive = invoice.currency, invoice.prices_include_tax
    planned = []
    stored_inputs = input_from_invoice(invoice).lines
    for line, stored in zip(invoice.lines, stored_inputs, strict=True):
        if line.id in remaining.untouched:
            remaining.take(line, "lines", remaining.quantity[line.id], remaining.amount[line.id])
            planned.append(
                PlannedLine(
                    CreditLineKind.FULL,
                    line,
                    line.quantity,
                    line.description,
                    line.sku,
                    line.unit_code,
                    stored,
                )
            )
            continue
        left_q, left_a = remaining.quantity[line.id], remaining.amount[line.id]
        if left_q <= 0 and left_a <= 0:
            continue
        if left_q > 0:
            line_input = _priced_line(line, left_q, left_a, currency, REMAINDER_REASON)
            unit_code = line.unit_code
        else:
            line_input = calc.LineInput(
                quantity=Decimal(1), unit_price=_money(left_a, currency), tax=_tax_of(line)
            )
            unit_code = "C62"
        remaining.take(
            line, "lines", max(left_q, Decimal(0)), _line_priced_minor(line_input, currency, inclusive)
        )
        planned.append(
            PlannedLine(
                CreditLineKind.FULL,
                line,
                max(left_q, Decimal(0)),
                line.description,
                line.sku,
                unit_code,
                line_input,
            )
        )
    return planned


def compute_credit_note(
    invoice: Invoice,
    credited: Credited,
    command: NewCreditNote,
    rates: Mapping[uuid.UUID, TaxRate],
) -> ComputedCreditNote:
    """Plan and price the credit note `command` asks for; raises the 4xx errors of credit notes
    (unknown lines, more than is left, taxes the invoice did not use, nothing credited)."""
    currency = invoice.currency
    remaining = _Remaining(invoice, credited)
    by_id = {line.id: line for line in invoice.lines}
    planned: list[PlannedLine] = []
    if command.full_cancellation:
        planned = _plan_full(invoice, remaining)
    for index, credit in enumerate(command.lines):
        field_ = f"lines[{index}]"
        if isinstance(credit, CustomCredit):
            planned.append(_plan_custom(invoice, credit, rates, field_))
            continue
        line = by_id.get(credit.invoice_line_id)
        if line is None:
            raise CreditLineUnknown(f"{field_}.invoice_line_id", credit.invoice_line_id)
        if isinstance(credit, QuantityCredit):
            planned.append(_plan_quantity(invoice, line, credit.quantity, remaining, field_))
        elif isinstance(credit, AmountCredit):
            planned.append(_plan_amount(invoice, line, credit.amount, remaining, field_))
    completes = remaining.exhausted()
    stored_adjustments: tuple[dict[str, object], ...] = ()
    adjustment_inputs: tuple[calc.DocumentAdjustment, ...] = ()
    if completes and not credited.adjustments_credited and invoice.adjustments:
        stored_adjustments = tuple(dict(a) for a in invoice.adjustments)
        adjustment_inputs = input_from_invoice(invoice).adjustments
    if completes and credited.custom:
        custom_inputs, custom_stored = _custom_credited(credited, currency)
        adjustment_inputs += custom_inputs
        stored_adjustments += custom_stored
    result = calc.compute_invoice(
        calc.InvoiceInput(
            currency=currency,
            lines=tuple(p.input for p in planned),
            adjustments=adjustment_inputs,
            prices_include_tax=invoice.prices_include_tax,
        )
    )
    check_amounts_in_range(result)
    if completes and credited.custom:
        _check_groups_not_negative(result, currency)
    rounding_minor = 0
    if completes and credited.count and not invoice.prices_include_tax:
        result, rounding_minor = _settle_last_cents(invoice, credited, result)
    if not planned or result.totals.tax_inclusive_total <= 0:
        raise CreditNoteNotPositive(calc.format_amount(result.totals.tax_inclusive_total, currency), currency)
    return ComputedCreditNote(
        currency,
        invoice.prices_include_tax,
        command.full_cancellation,
        tuple(planned),
        stored_adjustments,
        result,
        completes,
        rounding_minor,
    )


def _custom_credited(
    credited: Credited, currency: str
) -> tuple[tuple[calc.DocumentAdjustment, ...], tuple[dict[str, object], ...]]:
    """What earlier custom lines credited, as document-level allowances at their VAT categories and
    rates (engine inputs, and as stored on the credit note, in the form of an invoice's adjustments)."""
    inputs: list[calc.DocumentAdjustment] = []
    stored: list[dict[str, object]] = []
    for spec, minor in credited.custom.values():
        if minor <= 0:
            continue
        amount = _money(minor, currency)
        inputs.append(
            calc.DocumentAdjustment(is_charge=False, tax=spec, amount=amount, reason=CUSTOM_CREDITED_REASON)
        )
        stored.append(
            {
                "kind": "allowance",
                "amount": str(amount),
                "percent": None,
                "reason": CUSTOM_CREDITED_REASON,
                "reason_code": None,
                "base_amount": None,
                "tax_rate_id": None,
                "tax": dump_tax(spec),
                "computed_amount": str(amount),
            }
        )
    return tuple(inputs), tuple(stored)


def _check_groups_not_negative(result: calc.InvoiceResult, currency: str) -> None:
    """Earlier custom lines at one VAT rate may have credited more than the invoice's lines at that
    rate have left; the rest cannot then be credited line by line."""
    for group in result.tax_groups:
        if group.taxable_amount < 0:
            label = f"{group.category.value} {group.percent}"
            raise CreditExceedsRemaining(
                f"Earlier custom credit-note lines at {label} % credited more than the invoice's lines at "
                f"that rate have left ({calc.format_amount(-group.taxable_amount, currency)} {currency} "
                f"more): credit what is left of the invoice with custom lines instead.",
                [
                    {
                        "field": "lines",
                        "reason": "earlier custom lines credited more than is left at this VAT rate",
                        "tax_category": group.category.value,
                        "tax_percent": str(group.percent),
                    }
                ],
            )


def _settle_last_cents(
    invoice: Invoice, credited: Credited, result: calc.InvoiceResult
) -> tuple[calc.InvoiceResult, int]:
    """The last credit note of a tax-exclusive invoice takes, per VAT group, the tax the group
    had left (the earlier credit notes rounded theirs on their own; at most a minor unit per
    earlier credit note), as near to it as BR-CO-17's tolerance allows. Returns the result and
    how far its VAT is from what was left (minor units, positive: more)."""
    currency = invoice.currency
    left = {
        (g.category, Decimal(g.percent).normalize()): g.tax_minor
        - sum(
            v
            for (c, p), v in credited.tax_minor.items()
            if c == g.category and p.normalize() == Decimal(g.percent).normalize()
        )
        for g in invoice.tax_groups
    }
    groups = []
    rounding = 0
    for group in result.tax_groups:
        tax_minor = _minor(group.tax_amount, currency)
        wanted = left.get((group.category.value, group.percent.normalize()))
        if wanted is not None and wanted != tax_minor and abs(wanted - tax_minor) <= credited.count:
            taken = within_tax_tolerance(wanted, group.taxable_amount, group.percent, currency)
            rounding += taken - wanted
            group = group._replace(tax_amount=_money(taken, currency))
        groups.append(group)
    tax_total = sum((g.tax_amount for g in groups), Decimal(0)) + calc.currency_info(currency).zero
    totals = result.totals
    inclusive_total = totals.tax_exclusive_total + tax_total
    totals = totals._replace(
        tax_total=tax_total,
        tax_inclusive_total=inclusive_total,
        amount_due=inclusive_total - totals.paid_amount + totals.rounding_amount,
    )
    return result._replace(tax_groups=tuple(groups), totals=totals), rounding


def within_tax_tolerance(wanted_minor: int, taxable: Decimal, percent: Decimal, currency: str) -> int:
    """`wanted_minor` as a group's VAT, or the value nearest to it that EN 16931 accepts for
    `taxable` at `percent`: BR-CO-17 (and BR-S-09, BR-AA-09, ...) want |VAT - taxable x percent /
    100| below one currency unit, the product taken exactly and rounded to two decimals; both
    are kept here. Exact Decimal arithmetic, in minor units."""
    scale = Decimal(10) ** calc.minor_units(currency)
    exact = taxable * percent / 100
    rounded = exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    # Integers v (minor units) with low < v < high, both references within one unit (`scale`).
    high = min(exact, rounded) * scale + scale
    low = max(exact, rounded) * scale - scale
    highest = int(high.to_integral_value(rounding="ROUND_CEILING")) - 1
    lowest = int(low.to_integral_value(rounding="ROUND_FLOOR")) + 1
    return max(min(wanted_minor, highest), lowest)


def check_total(invoice: Invoice, computed: ComputedCreditNote) -> None:
    """The credit notes of an invoice never credit more than its total."""
    currency = invoice.currency
    requested = _minor(computed.total, currency)
    left = invoice.total_minor - invoice.credited_minor
    # A completing credit note may pass the total by the rounding BR-CO-17 forced on its VAT.
    if requested - max(computed.rounding_minor, 0) > left:
        raise CreditExceedsRemaining(
            f"Invoice {invoice.number} has {_text(left, currency)} {currency} left to credit of its total "
            f"{_text(invoice.total_minor, currency)}; this credit note would credit "
            f"{_text(requested, currency)}.",
            [
                {
                    "field": "total",
                    "reason": "more than is left to credit on the invoice",
                    "requested_amount": _text(requested, currency),
                    "remaining_amount": _text(left, currency),
                }
            ],
        )


def referenced_tax_rate_ids(command: NewCreditNote) -> set[uuid.UUID]:
    return {c.tax_rate_id for c in command.lines if isinstance(c, CustomCredit) and c.tax_rate_id}


def fully_credited_lines(invoice: Invoice, credited: Credited) -> set[uuid.UUID]:
    """The invoice's lines with nothing left to credit: all of their quantity and amount."""
    remaining = _Remaining(invoice, credited)
    return {
        line.id
        for line in invoice.lines
        if remaining.quantity[line.id] <= 0 and remaining.amount[line.id] <= 0
    }


def fully_credited(invoice: Invoice, computed: ComputedCreditNote) -> bool:
    """Whether the credit note `computed` (already counted in `invoice.credited_minor`) leaves
    nothing of the invoice: it credits the last of every line (its total may then differ from what
    was left by `rounding_minor`), or the credit notes reached the invoice's total."""
    return computed.completes or invoice.credited_minor >= invoice.total_minor


@dataclass(frozen=True)
class SettledAmounts:
    """How a credit note's total is settled, in minor units: due_reduction + refund + balance_credit
    == total when complete; `unsettled` is what neither the amount due nor the request took."""

    due_reduction: int
    refund: int
    balance_credit: int
    unsettled: int


def settle(
    invoice: Invoice,
    total_minor: int,
    settlement: Settlement,
    *,
    strict: bool = True,
    rounding_minor: int = 0,
) -> SettledAmounts:
    """The part of the credit up to the invoice's amount due reduces it; the request settles the
    rest by refund and/or balance credit, exactly (422 with the amounts otherwise, when `strict`).
    `rounding_minor`: what a completing credit note credits beyond the invoice's total (the
    rounding BR-CO-17 forced on its VAT); it is taken off the amount due, never refunded."""
    currency = invoice.currency
    reduction = min(total_minor, invoice.amount_due_minor + rounding_minor)
    beyond = total_minor - reduction
    refund = credit = 0
    if settlement.refund_amount is not None:
        _check_settlement_amount(settlement.refund_amount, currency, "refund_amount")
        refund = _minor(settlement.refund_amount, currency)
    if settlement.credit_amount is not None:
        _check_settlement_amount(settlement.credit_amount, currency, "credit_amount")
        credit = _minor(settlement.credit_amount, currency)
    unsettled = beyond - refund - credit
    if strict and unsettled != 0:
        detail = {
            "field": "refund_amount" if settlement.refund_amount is not None else "credit_amount",
            "reason": "refund_amount + credit_amount must equal the credit beyond the amount due",
            "credit_total": _text(total_minor, currency),
            "reduces_amount_due": _text(reduction, currency),
            "to_refund_or_credit": _text(beyond, currency),
            "given": _text(refund + credit, currency),
        }
        raise CreditSettlementMismatch(
            f"Invoice {invoice.number} is {invoice.status} with {_text(invoice.amount_due_minor, currency)} "
            f"{currency} due; the credit note credits {_text(total_minor, currency)} {currency}: "
            f"{_text(reduction, currency)} reduce the invoice's amount due and "
            f"{_text(beyond, currency)} must be "
            f"refunded (refund_amount) or credited to the customer's balance (credit_amount); the request "
            f"gives {_text(refund + credit, currency)}.",
            [detail],
        )
    return SettledAmounts(reduction, refund, credit, unsettled)


def _check_settlement_amount(amount: Decimal, currency: str, field_: str) -> None:
    if amount < 0 or calc.quantize_money(amount, currency) != amount:
        raise AmountTooPrecise(
            f"{field_} {amount} is not an amount in {currency} "
            f"({calc.minor_units(currency)} decimals at most, not negative).",
            details=[{"field": field_, "reason": "not negative, with the currency's decimals"}],
        )
