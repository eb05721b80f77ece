"""Usage pricing: charge models that turn a period's units into an amount, and usage aggregation.

Each model is a small immutable strategy object behind one interface (``ChargeModel.price``), in
the manner of Lago's charge models. Amounts come back unrounded and exact; the invoice line rounds
once to the currency's minor unit. Models round-trip through a JSON-safe dict (``to_dict`` /
``charge_model_from_dict``) so they can be stored on a contract component.

Decisions the models share:

* Units are non-negative Decimals and may be fractional (GB-hours, API seconds).
* A tier's bounds are ``(previous up_to, up_to]``; the first tier starts at 0 and the last tier is
  open-ended (``up_to=None``). A unit exactly at ``up_to`` belongs to that tier.
* A tier's flat fee is charged only when some units fall into the tier, so zero units cost zero
  (before any minimum) in every model; this matches Lago.
* ``minimum`` is the minimum charge for the billing period: when the usage amount is below it, the
  charge is the minimum and the breakdown gains a ``MinimumCommitmentLine`` for the difference.
  Prorating the minimum for a partial period is the caller's job (see ``calc.proration``).
* Money and quantities are Decimal (or int, or a numeric string in configuration); floats are
  refused with ``TypeError`` because they are not exact. All arithmetic runs in an unbounded
  Decimal context with ``Inexact`` trapped, so a result is never silently rounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Rounded,
    localcontext,
)
from decimal import ROUND_HALF_UP as _ROUND_HALF_UP
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeAlias

from faktur.calc.errors import CalcError, FloatNotAllowed, NotADecimal

_ZERO = Decimal(0)


class InvalidChargeModel(CalcError, ValueError):
    """A charge model's configuration is not valid (unordered tiers, negative price, ...)."""

    code = "invalid_charge_model"


class InvalidUsageValue(CalcError, ValueError):
    """An event's value of a metric's property cannot be aggregated (not a number written with
    ASCII digits, or not finite): its period cannot be priced."""

    code = "invalid_usage_value"


class ChargeModelKind(StrEnum):
    """The ``model`` key of a stored charge model."""

    PER_UNIT = "per_unit"
    GRADUATED = "graduated"
    VOLUME = "volume"
    PACKAGE = "package"


@dataclass(frozen=True, slots=True)
class TierLine:
    """How one tier of a tiered model contributed to the charge.

    ``from_units`` is the tier's exclusive lower bound (0 for the first tier), ``to_units`` its
    inclusive upper bound (``None`` when open-ended); ``amount = units * unit_price + flat_fee``.
    """

    from_units: Decimal
    to_units: Decimal | None
    units: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class MinimumCommitmentLine:
    """The top-up from the usage amount to the period's minimum charge (``amount = minimum - usage``)."""

    minimum: Decimal
    usage_amount: Decimal
    amount: Decimal
    description: ClassVar[str] = "minimum commitment"


BreakdownLine: TypeAlias = TierLine | MinimumCommitmentLine


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The price of a period's usage: ``amount`` is unrounded and equals the sum of the breakdown
    for tiered models; per-unit and package models only list a minimum-commitment line, if any.
    """

    units: Decimal
    usage_amount: Decimal
    amount: Decimal
    breakdown: tuple[BreakdownLine, ...] = ()

    @property
    def minimum_adjustment(self) -> Decimal:
        """What the minimum charge added on top of the usage amount (zero when it did not apply)."""
        return self.amount - self.usage_amount


class ChargeModel(Protocol):
    """A usage pricing strategy."""

    @property
    def minimum(self) -> Decimal | None: ...

    def price(self, units: Decimal) -> ChargeResult:
        """The charge for ``units`` used in one billing period."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (numbers as strings); ``charge_model_from_dict`` turns it back into the model."""
        ...


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier: units up to ``up_to`` (inclusive; ``None`` = no upper bound) at ``unit_price``,
    plus ``flat_fee`` once when units reach the tier."""

    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = _ZERO

    def __post_init__(self) -> None:
        if self.up_to is not None:
            object.__setattr__(self, "up_to", _config_decimal(self.up_to, "up_to"))
            if self.up_to <= 0:
                raise InvalidChargeModel(f"tier up_to must be greater than 0, got {self.up_to}")
        object.__setattr__(self, "unit_price", _non_negative(self.unit_price, "unit_price"))
        object.__setattr__(self, "flat_fee", _non_negative(self.flat_fee, "flat_fee"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "up_to": None if self.up_to is None else _text(self.up_to),
            "unit_price": _text(self.unit_price),
            "flat_fee": _text(self.flat_fee),
        }


@dataclass(frozen=True, slots=True)
class PerUnit:
    """Every unit at the same price (Lago's "standard" model)."""

    unit_price: Decimal
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit_price", _non_negative(self.unit_price, "unit_price"))
        _init_minimum(self)

    def price(self, units: Decimal) -> ChargeResult:
        units = _units(units)
        with _exact():
            return _finish(units, units * self.unit_price, (), self.minimum)

    def to_dict(self) -> dict[str, Any]:
        return _with_minimum(
            {"model": ChargeModelKind.PER_UNIT.value, "unit_price": _text(self.unit_price)}, self
        )


@dataclass(frozen=True, slots=True)
class Graduated:
    """Each tier's units at that tier's price: the first 100 at 0.10, the next 900 at 0.08, ..."""

    tiers: Sequence[Tier]
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", _validated_tiers(self.tiers))
        _init_minimum(self)

    def price(self, units: Decimal) -> ChargeResult:
        units = _units(units)
        lines: list[TierLine] = []
        lower = _ZERO
        with _exact():
            for tier in self.tiers:
                if units <= lower:
                    break
                upper = tier.up_to
                in_tier = (units if upper is None else min(units, upper)) - lower
                amount = in_tier * tier.unit_price + tier.flat_fee
                lines.append(TierLine(lower, upper, in_tier, tier.unit_price, tier.flat_fee, amount))
                if upper is None:
                    break
                lower = upper
            return _finish(units, sum((line.amount for line in lines), _ZERO), tuple(lines), self.minimum)

    def to_dict(self) -> dict[str, Any]:
        return _with_minimum(
            {"model": ChargeModelKind.GRADUATED.value, "tiers": [tier.to_dict() for tier in self.tiers]}, self
        )


@dataclass(frozen=True, slots=True)
class Volume:
    """All units at the price of the tier the total falls into, plus that tier's flat fee.

    Unlike graduated pricing the charge can drop when usage crosses a boundary (with a boundary at
    1000, 1001 units at 0.05 cost less than 1000 at 0.08); that is the model's point, not a bug.
    """

    tiers: Sequence[Tier]
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", _validated_tiers(self.tiers))
        _init_minimum(self)

    def price(self, units: Decimal) -> ChargeResult:
        units = _units(units)
        if units == 0:
            return _finish(units, _ZERO, (), self.minimum)
        lower = _ZERO
        for tier in self.tiers:
            if tier.up_to is None or units <= tier.up_to:
                break
            lower = tier.up_to
        with _exact():
            amount = units * tier.unit_price + tier.flat_fee
            line = TierLine(lower, tier.up_to, units, tier.unit_price, tier.flat_fee, amount)
            return _finish(units, amount, (line,), self.minimum)

    def to_dict(self) -> dict[str, Any]:
        return _with_minimum(
            {"model": ChargeModelKind.VOLUME.value, "tiers": [tier.to_dict() for tier in self.tiers]}, self
        )


@dataclass(frozen=True, slots=True)
class Package:
    """A price per started block of ``package_size`` units, after ``free_units`` free ones.

    A partial block costs a whole one: 101 units in blocks of 100 are two blocks.
    """

    package_size: int
    package_price: Decimal
    free_units: Decimal = _ZERO
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        size = self.package_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"package_size must be an int, got {type(size).__name__}")
        if size < 1:
            raise InvalidChargeModel(f"package_size must be at least 1, got {size}")
        object.__setattr__(self, "package_price", _non_negative(self.package_price, "package_price"))
        object.__setattr__(self, "free_units", _non_negative(self.free_units, "free_units"))
        _init_minimum(self)

    def packages(self, units: Decimal) -> Decimal:
        """How many blocks ``units`` are billed as (partial blocks round up)."""
        units = _units(units)
        with _exact():
            billable = max(units - self.free_units, _ZERO)
            whole, rest = divmod(billable, Decimal(self.package_size))
            return whole + (1 if rest else 0)

    def price(self, units: Decimal) -> ChargeResult:
        units = _units(units)
        with _exact():
            return _finish(units, self.packages(units) * self.package_price, (), self.minimum)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "model": ChargeModelKind.PACKAGE.value,
            "package_size": self.package_size,
            "package_price": _text(self.package_price),
            "free_units": _text(self.free_units),
        }
        return _with_minimum(data, self)


_MODEL_KEYS: dict[ChargeModelKind, tuple[frozenset[str], frozenset[str]]] = {
    # model: (required keys, optional keys), besides "model" and "minimum"
    ChargeModelKind.PER_UNIT: (frozenset({"unit_price"}), frozenset()),
    ChargeModelKind.GRADUATED: (frozenset({"tiers"}), frozenset()),
    ChargeModelKind.VOLUME: (frozenset({"tiers"}), frozenset()),
    ChargeModelKind.PACKAGE: (frozenset({"package_size", "package_price"}), frozenset({"free_units"})),
}


def charge_model_from_dict(data: Mapping[str, Any]) -> PerUnit | Graduated | Volume | Package:
    """Build a charge model from stored JSON-like configuration.

    ``{"model": "graduated", "tiers": [{"up_to": "100", "unit_price": "0.10"},
    {"up_to": null, "unit_price": "0.08", "flat_fee": "5"}], "minimum": "10.00"}``

    Numbers may be strings, ints or Decimals; floats raise ``TypeError``. Unknown keys are refused
    (a misspelt ``"minimun"`` must not silently drop a minimum charge).
    """
    if not isinstance(data, Mapping):
        raise InvalidChargeModel(f"charge model must be an object, got {type(data).__name__}")
    try:
        kind = ChargeModelKind(data.get("model", ""))
    except ValueError:
        choices = ", ".join(k.value for k in ChargeModelKind)
        raise InvalidChargeModel(
            f"unknown charge model {data.get('model')!r}; expected one of {choices}"
        ) from None
    required, optional = _MODEL_KEYS[kind]
    _check_keys(data, required, optional | {"model", "minimum"}, f"{kind.value} charge model")
    minimum = None if data.get("minimum") is None else _config_decimal(data["minimum"], "minimum")
    if kind is ChargeModelKind.PER_UNIT:
        return PerUnit(_config_decimal(data["unit_price"], "unit_price"), minimum=minimum)
    if kind is ChargeModelKind.PACKAGE:
        return Package(
            package_size=_package_size(data["package_size"]),
            package_price=_config_decimal(data["package_price"], "package_price"),
            free_units=_config_decimal(data.get("free_units", _ZERO), "free_units"),
            minimum=minimum,
        )
    tiers = _tiers_from_config(data["tiers"])
    if kind is ChargeModelKind.GRADUATED:
        return Graduated(tiers, minimum=minimum)
    return Volume(tiers, minimum=minimum)


# --- usage aggregation ------------------------------------------------------------------------


class AggregationKind(StrEnum):
    """How a billable metric turns a period's events into units."""

    SUM = "sum"
    COUNT = "count"
    MAX = "max"
    UNIQUE_COUNT = "unique_count"


def aggregate(
    kind: AggregationKind | str,
    events_properties: Iterable[Mapping[str, Any]],
    property_name: str | None = None,
) -> Decimal:
    """The units of a period's events: one properties mapping per event.

    * ``count``: the number of events (``property_name`` is not used).
    * ``sum`` / ``max``: of the numeric property; ``max`` of no values is 0.
    * ``unique_count``: the number of distinct values of the property. Strings compare as strings,
      numbers as numbers (``1`` and ``Decimal("1.0")`` are one value, ``"1"`` is another).

    Events without the property (or with it set to null) carry no quantity and are skipped, as in
    Lago. Numeric values may be ints, Decimals or numeric strings; a float or bool raises
    ``TypeError``, an unparseable string ``ValueError``. Sums are exact, whatever their size.
    """
    kind = AggregationKind(kind)
    if kind is AggregationKind.COUNT:
        return Decimal(sum(1 for _ in events_properties))
    if not property_name:
        raise ValueError(f"{kind.value} aggregation needs a property name")
    return aggregate_values(kind, [props.get(property_name) for props in events_properties], property_name)


def aggregate_values(
    kind: AggregationKind | str, values: Sequence[Any], property_name: str = "value"
) -> Decimal:
    """The units of a period's events from each event's value of the metric's property (None
    where the event has none): the rules of `aggregate`, for callers that extracted the property
    already (the database does it for billing). ``count`` counts every event, values unused."""
    kind = AggregationKind(kind)
    if kind is AggregationKind.COUNT:
        return Decimal(len(values))
    present = (value for value in values if value is not None)
    if kind is AggregationKind.UNIQUE_COUNT:
        return Decimal(len({_distinct_key(value, property_name) for value in present}))
    numbers = (_decimal(value, property_name, InvalidUsageValue) for value in present)
    if kind is AggregationKind.MAX:
        return max(numbers, default=_ZERO)
    with _exact():
        return sum(numbers, _ZERO)


# --- helpers ----------------------------------------------------------------------------------


def _exact() -> AbstractContextManager[Context]:
    # Unbounded precision with every rounding trapped: sums and products of Decimals are exact, and
    # anything that would have to round (it should never happen here) fails loudly instead.
    return localcontext(
        Context(
            prec=MAX_PREC,
            Emax=MAX_EMAX,
            Emin=MIN_EMIN,
            rounding=_ROUND_HALF_UP,
            traps=[InvalidOperation, Inexact, Rounded],
        )
    )


def _finish(
    units: Decimal, usage_amount: Decimal, lines: tuple[TierLine, ...], minimum: Decimal | None
) -> ChargeResult:
    if minimum is not None and usage_amount < minimum:
        top_up = MinimumCommitmentLine(minimum, usage_amount, minimum - usage_amount)
        return ChargeResult(units, usage_amount, minimum, (*lines, top_up))
    return ChargeResult(units, usage_amount, usage_amount, lines)


def _units(units: object) -> Decimal:
    value = _decimal(units, "units", ValueError)
    if value < 0:
        raise ValueError(f"units must not be negative, got {value}")
    return value


_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _decimal(value: object, name: str, error: type[ValueError]) -> Decimal:
    """An exact Decimal from a Decimal, int or numeric string; floats and bools are refused."""
    if isinstance(value, float):
        raise FloatNotAllowed(f"{name} is the float {value!r}; use a Decimal or a numeric string", field=name)
    if isinstance(value, bool):
        raise NotADecimal(f"{name} must be a Decimal, int or numeric string, not a bool", field=name)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        # ASCII digits only: Decimal() alone also reads "1_000" and full-width or Arabic-Indic digits.
        if not _NUMBER_TEXT.fullmatch(value.strip()):
            raise error(f"{name} must be a number written with ASCII digits, got {value[:40]!r}")
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise error(f"{name} must be a number, got {value!r}") from None
    else:
        raise NotADecimal(
            f"{name} must be a Decimal, int or numeric string, got {type(value).__name__}", field=name
        )
    if not number.is_finite():
        raise error(f"{name} must be a finite number, got {value!r}")
    return number


def _config_decimal(value: object, name: str) -> Decimal:
    return _decimal(value, name, InvalidChargeModel)


def _non_negative(value: object, name: str) -> Decimal:
    number = _config_decimal(value, name)
    if number < 0:
        raise InvalidChargeModel(f"{name} must not be negative, got {number}", field=name)
    return number


def _init_minimum(model: PerUnit | Graduated | Volume | Package) -> None:
    if model.minimum is not None:
        object.__setattr__(model, "minimum", _non_negative(model.minimum, "minimum"))


def _with_minimum(data: dict[str, Any], model: ChargeModel) -> dict[str, Any]:
    if model.minimum is not None:
        data["minimum"] = _text(model.minimum)
    return data


def _text(value: Decimal) -> str:
    # Fixed-point text, never "1E+2": stored config is read by people too.
    return format(value, "f")


def _validated_tiers(tiers: Sequence[Tier]) -> tuple[Tier, ...]:
    if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Iterable):
        raise InvalidChargeModel("tiers must be a list of Tier")
    tiers = tuple(tiers)
    if not tiers:
        raise InvalidChargeModel("a tiered charge model needs at least one tier")
    for position, tier in enumerate(tiers):
        if not isinstance(tier, Tier):
            raise InvalidChargeModel(f"tiers[{position}] must be a Tier, got {type(tier).__name__}")
    *bounded, last = tiers
    if last.up_to is not None:
        raise InvalidChargeModel(
            f"the last tier must be open-ended (up_to=None), got up_to={last.up_to}; "
            "otherwise usage above it would have no price"
        )
    previous = _ZERO
    for position, tier in enumerate(bounded):
        if tier.up_to is None:
            raise InvalidChargeModel(f"only the last tier may be open-ended; tiers[{position}] has no up_to")
        if tier.up_to <= previous:
            raise InvalidChargeModel(
                f"tiers must ascend: tiers[{position}].up_to={tier.up_to} "
                f"is not above the previous up_to {previous}"
            )
        previous = tier.up_to
    return tiers


def _tiers_from_config(config: object) -> list[Tier]:
    if not isinstance(config, list):
        raise InvalidChargeModel(f"tiers must be a list, got {type(config).__name__}")
    tiers = []
    for position, item in enumerate(config):
        where = f"tiers[{position}]"
        if not isinstance(item, Mapping):
            raise InvalidChargeModel(f"{where} must be an object, got {type(item).__name__}")
        _check_keys(item, frozenset({"up_to", "unit_price"}), frozenset({"flat_fee"}), where)
        up_to = item["up_to"]
        up_to = None if up_to is None else _config_decimal(up_to, f"{where}.up_to")
        unit_price = _config_decimal(item["unit_price"], f"{where}.unit_price")
        flat_fee = _config_decimal(item.get("flat_fee", _ZERO), f"{where}.flat_fee")
        try:
            tiers.append(Tier(up_to, unit_price, flat_fee))
        except InvalidChargeModel as exc:
            raise InvalidChargeModel(f"{where}: {exc.message}", field=where) from None
    return tiers


def _package_size(value: object) -> int:
    number = _config_decimal(value, "package_size")
    if number != number.to_integral_value():
        raise InvalidChargeModel(f"package_size must be a whole number, got {value!r}")
    return int(number)


def _check_keys(
    data: Mapping[str, Any], required: frozenset[str], allowed: frozenset[str], where: str
) -> None:
    missing = sorted(required - data.keys())
    if missing:
        raise InvalidChargeModel(f"{where} is missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in data.keys() - required - allowed)
    if unknown:
        raise InvalidChargeModel(f"{where} has unknown keys: {', '.join(unknown)}")


def _distinct_key(value: object, name: str) -> str | Decimal:
    if isinstance(value, str):
        return value
    return _decimal(value, name, InvalidUsageValue)
