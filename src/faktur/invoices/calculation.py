"""The bridge between invoice commands or stored rows and the pure engine in faktur.calc.

Every invoice total in faktur is computed here, by faktur.calc, and nowhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from faktur import calc
from faktur.errors import AmountOutOfRange, Unprocessable
from faktur.invoices.domain import LineAdjustment, NewAdjustment, NewLine
from faktur.invoices.errors import InvoiceBreaksTaxRules, MixedTaxInclusivity, PricesIncludeTaxContradicted
from faktur.models import Customer, Invoice, Organisation, TaxRate
from faktur.tax_rates.errors import TaxRateNotFound


@dataclass(frozen=True)
class PreparedLine:
    """A line to create with its tax resolved to a TaxSpec."""

    line: NewLine
    tax: calc.TaxSpec
    tax_rate: TaxRate | None


@dataclass(frozen=True)
class PreparedAdjustment:
    adjustment: NewAdjustment
    tax: calc.TaxSpec


@dataclass(frozen=True)
class Computed:
    currency: str
    prices_include_tax: bool
    lines: list[PreparedLine]
    adjustments: list[PreparedAdjustment]
    result: calc.InvoiceResult
    # What the engine computed from: finalizing a new invoice checks its party rules on it
    # instead of rebuilding it from the invoice's rows.
    invoice_input: calc.InvoiceInput


def _rate_spec(rate: TaxRate) -> calc.TaxSpec:
    return calc.TaxSpec(
        calc.TaxCategory(rate.category), rate.percent, rate.exemption_reason, rate.exemption_reason_code
    )


def referenced_tax_rate_ids(lines: Iterable[NewLine], adjustments: Iterable[NewAdjustment]) -> set[uuid.UUID]:
    ids = {line.tax_rate_id for line in lines if line.tax_rate_id is not None}
    ids |= {adj.tax_rate_id for adj in adjustments if adj.tax_rate_id is not None}
    return ids


def _resolve(
    rate_id: uuid.UUID | None, inline: calc.TaxSpec | None, rates: dict[uuid.UUID, TaxRate], field: str
) -> tuple[calc.TaxSpec, TaxRate | None]:
    if rate_id is None:
        if inline is None:
            raise ValueError(f"{field}: a command gives a tax rate or an inline tax")
        return inline, None
    rate = rates.get(rate_id)
    if rate is None:
        raise TaxRateNotFound(rate_id, field)
    return _rate_spec(rate), rate


def prepare_lines(lines: Sequence[NewLine], rates: dict[uuid.UUID, TaxRate]) -> list[PreparedLine]:
    prepared = []
    for index, line in enumerate(lines):
        spec, rate = _resolve(line.tax_rate_id, line.tax, rates, f"lines[{index}].tax_rate_id")
        prepared.append(PreparedLine(line, spec, rate))
    return prepared


def prepare_adjustments(
    adjustments: Sequence[NewAdjustment], rates: dict[uuid.UUID, TaxRate]
) -> list[PreparedAdjustment]:
    return [
        PreparedAdjustment(adj, _resolve(adj.tax_rate_id, adj.tax, rates, f"adjustments[{i}].tax_rate_id")[0])
        for i, adj in enumerate(adjustments)
    ]


def resolve_prices_include_tax(explicit: bool | None, rates: Iterable[TaxRate]) -> bool:
    flags = {rate.inclusive for rate in rates}
    if len(flags) > 1:
        raise MixedTaxInclusivity()
    derived = flags.pop() if flags else None
    if explicit is None:
        return bool(derived)
    if derived is not None and derived != explicit:
        raise PricesIncludeTaxContradicted(explicit, derived)
    return explicit


def _adjustment(adj: LineAdjustment) -> calc.Adjustment:
    return calc.Adjustment(
        amount=adj.amount, percent=adj.percent, reason=adj.reason, reason_code=adj.reason_code
    )


def build_input(
    currency: str,
    lines: Sequence[PreparedLine],
    adjustments: Sequence[PreparedAdjustment],
    prices_include_tax: bool,
) -> calc.InvoiceInput:
    try:
        return _build_input(currency, lines, adjustments, prices_include_tax)
    except calc.CalcError as exc:
        # The engine checks its inputs as they are built (precision for the currency, one of
        # amount or percent ...) and names the field it refuses.
        raise Unprocessable(
            str(exc), code=exc.code, details=[{"field": exc.field or "lines", "reason": str(exc)}]
        ) from exc


def _build_input(
    currency: str,
    lines: Sequence[PreparedLine],
    adjustments: Sequence[PreparedAdjustment],
    prices_include_tax: bool,
) -> calc.InvoiceInput:
    return calc.InvoiceInput(
        currency=currency,
        lines=tuple(
            calc.LineInput(
                quantity=line.line.quantity,
                unit_price=line.line.unit_price,
                tax=line.tax,
                allowances=tuple(_adjustment(a) for a in line.line.allowances),
                charges=tuple(_adjustment(c) for c in line.line.charges),
            )
            for line in lines
        ),
        adjustments=tuple(
            calc.DocumentAdjustment(
                is_charge=adj.adjustment.kind == "charge",
                tax=adj.tax,
                amount=adj.adjustment.amount,
                percent=adj.adjustment.percent,
                base_amount=adj.adjustment.base_amount,
                reason=adj.adjustment.reason,
                reason_code=adj.adjustment.reason_code,
            )
            for adj in adjustments
        ),
        prices_include_tax=prices_include_tax,
    )


def _stored_adjustment(data: dict[str, Any]) -> calc.Adjustment:
    return calc.Adjustment(
        amount=Decimal(data["amount"]) if data.get("amount") is not None else None,
        percent=Decimal(data["percent"]) if data.get("percent") is not None else None,
        reason=data.get("reason"),
        reason_code=data.get("reason_code"),
    )


def _stored_tax(data: dict[str, Any]) -> calc.TaxSpec:
    return calc.TaxSpec(
        calc.TaxCategory(data["category"]),
        Decimal(data["percent"]),
        data.get("exemption_reason"),
        data.get("exemption_reason_code"),
    )


def input_from_invoice(invoice: Invoice) -> calc.InvoiceInput:
    """Rebuild the engine's input from a stored invoice (used to check and to recompute)."""
    return calc.InvoiceInput(
        currency=invoice.currency,
        lines=tuple(
            calc.LineInput(
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax=calc.TaxSpec(
                    calc.TaxCategory(line.tax_category),
                    line.tax_percent,
                    line.exemption_reason,
                    line.exemption_reason_code,
                ),
                allowances=tuple(_stored_adjustment(a) for a in line.allowances),
                charges=tuple(_stored_adjustment(c) for c in line.charges),
            )
            for line in invoice.lines
        ),
        adjustments=tuple(
            calc.DocumentAdjustment(
                is_charge=adj["kind"] == "charge",
                tax=_stored_tax(adj["tax"]),
                amount=Decimal(adj["amount"]) if adj.get("amount") is not None else None,
                percent=Decimal(adj["percent"]) if adj.get("percent") is not None else None,
                base_amount=Decimal(adj["base_amount"]) if adj.get("base_amount") is not None else None,
                reason=adj.get("reason"),
                reason_code=adj.get("reason_code"),
            )
            for adj in invoice.adjustments
        ),
        prices_include_tax=invoice.prices_include_tax,
    )


def compute(invoice_input: calc.InvoiceInput) -> calc.InvoiceResult:
    try:
        result = calc.compute_invoice(invoice_input)
    except calc.CalcError as exc:
        raise Unprocessable(str(exc), code=exc.code) from exc
    check_amounts_in_range(result)
    return result


# Every amount faktur stores, renders or prints stays below 10^15 (the engine's input limit):
# each quantity and price may be within its own limit while their product or sum is not.
AMOUNT_LIMIT = Decimal(10) ** 15


def _out_of_range(field: str, what: str, value: Decimal, currency: str) -> AmountOutOfRange:
    return AmountOutOfRange(field, what, value, currency)


def check_amounts_in_range(result: calc.InvoiceResult) -> None:
    """Raise 422 amount_out_of_range naming the line (or the lines' sum) that reaches 10^15."""
    for index, line in enumerate(result.lines):
        gross = line.gross or Decimal(0)
        for value in (line.amount, line.net, gross, line.allowance_total, line.charge_total):
            if abs(value) >= AMOUNT_LIMIT:
                raise _out_of_range(
                    f"lines[{index}]", f"line {index + 1}'s amount", Decimal(value), result.currency
                )
    for index, adjustment in enumerate(result.adjustments):
        if abs(adjustment.amount) >= AMOUNT_LIMIT or abs(adjustment.gross or Decimal(0)) >= AMOUNT_LIMIT:
            raise _out_of_range(
                f"adjustments[{index}]", f"adjustment {index + 1}", adjustment.amount, result.currency
            )
    amounts = [*result.totals, *(g.taxable_amount for g in result.tax_groups)]
    amounts += [g.tax_amount for g in result.tax_groups]
    largest = max((abs(value) for value in amounts), default=Decimal(0))
    if largest >= AMOUNT_LIMIT:
        raise _out_of_range("lines", "the invoice total", largest, result.currency)


def _details(violations: Iterable[calc.RuleViolation]) -> list[dict[str, Any]]:
    return [{"field": v.field or "invoice", "reason": v.message, "rule": v.rule} for v in violations]


def raise_for_violations(violations: Sequence[calc.RuleViolation], what: str) -> None:
    if violations:
        raise InvoiceBreaksTaxRules(what, [v.message for v in violations], _details(violations))


# A draft may have no lines yet; finalization refuses it with its own error (invoice_has_no_lines).
_DRAFT_EXEMPT_RULES = frozenset({"BR-16"})


def check_line_rules(invoice_input: calc.InvoiceInput) -> None:
    violations = [v for v in calc.line_rule_violations(invoice_input) if v.rule not in _DRAFT_EXEMPT_RULES]
    raise_for_violations(violations, "invoice")


# The engine names the delivery facts after EN 16931 groups; the invoice API names its own fields.
_API_FIELDS = {"delivery.date": "delivery_date", "delivery.country": "deliver_to.country"}


def parties(
    organisation: Organisation, customer_snapshot: dict[str, Any], invoice: Invoice | None = None
) -> calc.Parties:
    deliver_to = (invoice.deliver_to if invoice is not None else None) or {}
    delivery_given = invoice is not None and bool(
        invoice.delivery_date or invoice.period_start or invoice.period_end
    )
    return calc.Parties(
        seller_vat_id=organisation.vat_id,
        buyer_vat_id=customer_snapshot.get("vat_id"),
        seller_tax_registration_id=organisation.tax_registration_id,
        buyer_legal_registration_id=customer_snapshot.get("legal_registration_id"),
        seller_country=organisation.country,
        buyer_country=customer_snapshot.get("country"),
        deliver_to_country=deliver_to.get("country"),
        delivery_date_or_period_given=delivery_given,
    )


def check_party_rules(
    invoice_input: calc.InvoiceInput,
    organisation: Organisation,
    customer: dict[str, Any],
    invoice: Invoice | None = None,
) -> None:
    violations = calc.line_rule_violations(invoice_input) + calc.party_rule_violations(
        invoice_input, parties(organisation, customer, invoice)
    )
    renamed = [replace(v, field=_API_FIELDS.get(v.field or "", v.field)) for v in violations]
    raise_for_violations(renamed, "invoice")


def tax_spec_violations(
    category: calc.TaxCategory, percent: Decimal, reason: str | None, reason_code: str | None
) -> list[dict[str, Any]]:
    """Rule violations of a tax rate on its own, reported against the tax rate's fields."""
    probe = calc.InvoiceInput(
        currency="EUR",
        lines=(calc.LineInput(Decimal(1), Decimal(1), calc.TaxSpec(category, percent, reason, reason_code)),),
    )
    details = []
    for violation in calc.line_rule_violations(probe):
        field = (violation.field or "").rsplit(".", 1)[-1] or "category"
        details.append({"field": field, "reason": violation.message, "rule": violation.rule})
    return details


def customer_currency(customer: Customer, organisation: Organisation, explicit: str | None) -> str:
    return explicit or customer.currency or organisation.default_currency


def compute_with_rates(
    organisation: Organisation,
    customer: Customer,
    rates: dict[uuid.UUID, TaxRate],
    *,
    currency: str | None,
    prices_include_tax: bool | None,
    lines: Sequence[NewLine],
    adjustments: Sequence[NewAdjustment],
) -> Computed:
    """Resolve taxes and compute every amount from the organisation's tax rates (`rates` may hold
    more than the content references); raises 4xx errors for anything the engine rejects."""
    prepared_lines = prepare_lines(lines, rates)
    prepared_adjustments = prepare_adjustments(adjustments, rates)
    used = referenced_tax_rate_ids(lines, adjustments)
    inclusive = resolve_prices_include_tax(
        prices_include_tax, [rate for rate_id, rate in rates.items() if rate_id in used]
    )
    chosen_currency = customer_currency(customer, organisation, currency)
    invoice_input = build_input(chosen_currency, prepared_lines, prepared_adjustments, inclusive)
    check_line_rules(invoice_input)
    result = compute(invoice_input)
    return Computed(chosen_currency, inclusive, prepared_lines, prepared_adjustments, result, invoice_input)
