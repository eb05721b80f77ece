"""The lines of a contract's period invoice, from its components and its usage: values in, values out.

Every amount comes from faktur.calc: proration (calc.proration), charge models and aggregation
(calc.charge_models), rounding (calc.quantize_money). A line says what it bills in its
description (component, period, quantity, tier) and in its metadata.

How usage becomes lines (each line is quantity x unit price, rounded once, per EN 16931):

* per unit: one line, units x unit price;
* package: one line, packages x package price (the units are in the description);
* graduated and volume: one line per tier reached, tier units x tier price, and a line for a
  tier's flat fee when it has one;
* a minimum charge above the usage amount: one "minimum commitment" line for the top-up.
  For a partial period the minimum is prorated by days;
* zero usage: one line of quantity 0, so the invoice still says the usage was measured.

When a quantity cannot be a line quantity (more than 6 decimals), the line is 1 x the rounded
amount and the units are given in the description.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from faktur import calc
from faktur.calc.charge_models import (
    ChargeResult,
    MinimumCommitmentLine,
    Package,
    PerUnit,
    TierLine,
    aggregate_values,
    charge_model_from_dict,
)
from faktur.calc.periods import Period
from faktur.calc.proration import prorate, prorate_money
from faktur.invoices.domain import LineSource, NewLine

_QUANTITY_LIMIT = Decimal("1000000000000")


@dataclass(frozen=True)
class ComponentTerms:
    """One price component as the line builder needs it (detached from the ORM)."""

    id: uuid.UUID
    kind: str  # flat, one_off, usage
    name: str
    amount: Decimal | None
    metric_id: uuid.UUID | None
    charge_model: Mapping[str, Any] | None
    tax_rate_id: uuid.UUID | None
    tax: Mapping[str, Any] | None


@dataclass(frozen=True)
class MetricTerms:
    id: uuid.UUID
    code: str
    aggregation: str
    property: str | None


@dataclass(frozen=True)
class PlannedLine:
    """An invoice line (the invoicing core's command, its source the component) and the
    component it bills."""

    line: NewLine
    component_id: uuid.UUID


SOURCE_KIND = "contract_component"


def tax_spec(tax: Mapping[str, Any]) -> calc.TaxSpec:
    """A component's stored inline tax as the engine's tax spec."""
    return calc.TaxSpec(
        calc.TaxCategory(tax["category"]),
        Decimal(str(tax["percent"])),
        tax.get("exemption_reason"),
        tax.get("exemption_reason_code"),
    )


def _canonical(value: Decimal) -> Decimal:
    """1E+3 as 1000 and -0 as 0, as request amounts are stored and shown (faktur.fields)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        value = value.quantize(Decimal(1))
    return value.copy_abs() if value.is_zero() else value


def span_text(period: Period | tuple[date, date]) -> str:
    """'2024-01-01 to 2024-01-31': the days covered, last day inclusive, for people to read."""
    start, end = (period.start, period.end) if isinstance(period, Period) else period
    return f"{start.isoformat()} to {(end - timedelta(days=1)).isoformat()}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _money(value: Decimal, currency: str) -> str:
    return calc.format_amount(calc.quantize_money(value, currency), currency)


def _fits_quantity(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -6 and abs(value) <= _QUANTITY_LIMIT


def _line(
    component: ComponentTerms,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    period: Period,
    metadata: dict[str, str],
) -> PlannedLine:
    line = NewLine(
        description=description[:1000],
        quantity=_canonical(quantity),
        unit_price=_canonical(unit_price),
        tax_rate_id=component.tax_rate_id,
        tax=None if component.tax_rate_id is not None else tax_spec(component.tax or {}),
        period_start=period.start,
        period_end=period.end,
        metadata={"component": component.name[:500], "component_kind": component.kind, **metadata},
        source=LineSource(SOURCE_KIND, component.id),
    )
    return PlannedLine(line, component.id)


def flat_line(component: ComponentTerms, period: Period, currency: str, *, in_advance: bool) -> PlannedLine:
    """A flat fee for `period`, prorated by days when the period is partial."""
    assert component.amount is not None
    timing = "in advance" if in_advance else "in arrears"
    metadata = {"billed": timing.replace(" ", "_")}
    if period.partial:
        price = prorate_money(component.amount, period, None, currency)
        prorated = f"{period.days}/{period.cycle.days} days"
        metadata["prorated"] = prorated
        description = f"{component.name}, {span_text(period)} (prorated {prorated}, {timing})"
    else:
        price = component.amount
        description = f"{component.name}, {span_text(period)} ({timing})"
    return _line(component, description, Decimal(1), price, period, metadata)


def one_off_line(component: ComponentTerms, period: Period) -> PlannedLine:
    assert component.amount is not None
    return _line(
        component, f"{component.name} (one-off)", Decimal(1), component.amount, period, {"billed": "once"}
    )


def charge_model_for(component: ComponentTerms, period: Period) -> Any:
    """The component's charge model, its minimum prorated by days for a partial period."""
    assert component.charge_model is not None
    config = dict(component.charge_model)
    if period.partial and config.get("minimum") is not None:
        config["minimum"] = format(prorate(Decimal(config["minimum"]), period), "f")
    return charge_model_from_dict(config)


def units_of(metric: MetricTerms, values: Sequence[Any]) -> Decimal:
    """The units of events given by their values of the metric's property (None: not set)."""
    return aggregate_values(metric.aggregation, values, metric.property or "value")


def usage_lines(
    component: ComponentTerms,
    metric: MetricTerms,
    period: Period,
    values: Sequence[Any],
    currency: str,
) -> list[PlannedLine]:
    """The lines of a usage component for `period`; `values` holds one entry per event: its value
    of the metric's property (None where it has none)."""
    units = units_of(metric, values)
    model = charge_model_for(component, period)
    result: ChargeResult = model.price(units)
    where = span_text(period)
    base = {"metric": metric.code, "units": _number(units), "events": str(len(values))}
    lines: list[PlannedLine] = []

    def add(
        description: str, quantity: Decimal, unit_price: Decimal, amount: Decimal, extra: dict[str, str]
    ) -> None:
        if _fits_quantity(quantity) and _fits_quantity(unit_price):
            lines.append(_line(component, description, quantity, unit_price, period, {**base, **extra}))
        else:
            rounded = calc.quantize_money(amount, currency)
            text = f"{description} ({_number(quantity)} x {_number(unit_price)})"
            lines.append(_line(component, text, Decimal(1), rounded, period, {**base, **extra}))

    if isinstance(model, PerUnit):
        add(
            f"{component.name}: {_number(units)} {metric.code}, {where}",
            units,
            model.unit_price,
            result.usage_amount,
            {"charge_model": "per_unit"},
        )
    elif isinstance(model, Package):
        packages = model.packages(units)
        free = f", {_number(model.free_units)} free" if model.free_units else ""
        add(
            f"{component.name}: {_number(units)} {metric.code} in {_number(packages)} packages of "
            f"{model.package_size}{free}, {where}",
            packages,
            model.package_price,
            result.usage_amount,
            {"charge_model": "package", "packages": _number(packages)},
        )
    else:
        kind = model.to_dict()["model"]
        tiers = [line for line in result.breakdown if isinstance(line, TierLine)]
        if not tiers:
            first = model.tiers[0]
            add(
                f"{component.name}: 0 {metric.code}, {where}",
                Decimal(0),
                first.unit_price,
                Decimal(0),
                {"charge_model": kind},
            )
        for tier in tiers:
            number = next(i for i, t in enumerate(model.tiers, start=1) if t.up_to == tier.to_units)
            upper = "and above" if tier.to_units is None else f"up to {_number(tier.to_units)}"
            bounds = f"over {_number(tier.from_units)} {upper}"
            tier_meta = {
                "charge_model": kind,
                "tier": str(number),
                "tier_from": _number(tier.from_units),
                "tier_to": "" if tier.to_units is None else _number(tier.to_units),
            }
            label = f"{component.name}, tier {number} ({bounds})"
            if kind == "volume":
                label = f"{component.name}: all {_number(units)} {metric.code} at tier {number} ({bounds})"
            add(
                f"{label}: {_number(tier.units)} {metric.code}, {where}",
                tier.units,
                tier.unit_price,
                tier.units * tier.unit_price,
                tier_meta,
            )
            if tier.flat_fee:
                add(
                    f"{component.name}, tier {number} flat fee, {where}",
                    Decimal(1),
                    tier.flat_fee,
                    tier.flat_fee,
                    {**tier_meta, "tier_flat_fee": "true"},
                )
    for extra in result.breakdown:
        if isinstance(extra, MinimumCommitmentLine):
            top_up = calc.quantize_money(extra.amount, currency)
            lines.append(
                _line(
                    component,
                    f"{component.name}: minimum commitment {_money(extra.minimum, currency)}"
                    f" (usage {_money(extra.usage_amount, currency)}), {where}",
                    Decimal(1),
                    top_up,
                    period,
                    {**base, "minimum_commitment": "true"},
                )
            )
    return lines


def late_usage_line(
    component: ComponentTerms,
    metric: MetricTerms,
    period: Period,
    billed: Sequence[Any],
    late: Sequence[Any],
    currency: str,
) -> PlannedLine:
    """An adjustment for events of an invoiced `period` that arrived after its invoice.

    It charges what the period costs with the late events minus what it cost without them, so
    tiers and minimums come out as if the events had been on time. `billed` and `late` hold the
    events' values of the metric's property, as in `usage_lines`.
    """
    model = charge_model_for(component, period)
    before_units = units_of(metric, billed)
    after_units = units_of(metric, [*billed, *late])
    difference = model.price(after_units).amount - model.price(before_units).amount
    amount = calc.quantize_money(difference, currency)
    description = (
        f"Late usage adjustment: {component.name}, {span_text(period)}: {len(late)} events reported after "
        f"invoicing, {_number(before_units)} -> {_number(after_units)} {metric.code}"
    )
    metadata = {
        "metric": metric.code,
        "late_usage": "true",
        "late_events": str(len(late)),
        "units_before": _number(before_units),
        "units_after": _number(after_units),
    }
    # A price is never negative in EN 16931 (BR-27): an adjustment that lowers the charge (e.g. a
    # volume tier reached late) is a quantity of -1 at the positive amount.
    quantity = Decimal(-1) if amount < 0 else Decimal(1)
    return _line(component, description, quantity, abs(amount), period, metadata)
