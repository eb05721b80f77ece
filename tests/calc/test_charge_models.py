"""Charge models and usage aggregation: hand-computed tables, validation, dict round trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faktur.calc.charge_models import (
    AggregationKind,
    ChargeModel,
    Graduated,
    InvalidChargeModel,
    InvalidUsageValue,
    MinimumCommitmentLine,
    Package,
    PerUnit,
    Tier,
    TierLine,
    Volume,
    aggregate,
    aggregate_values,
    charge_model_from_dict,
)
from faktur.calc.errors import CalcError, FloatNotAllowed, NotADecimal

D = Decimal

# 0-100 at 0.10; 100-1000 at 0.08 plus 5 flat; above 1000 at 0.05 plus 10 flat.
TIERS = [
    Tier(D("100"), D("0.10")),
    Tier(D("1000"), D("0.08"), flat_fee=D("5")),
    Tier(None, D("0.05"), flat_fee=D("10")),
]


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (D("0"), D("0")),  # 0 x 0.25
        (D("1"), D("0.25")),  # 1 x 0.25
        (D("10"), D("2.50")),  # 10 x 0.25
        (D("2.5"), D("0.625")),  # 2.5 x 0.25, left unrounded for the line to round
        (D("1000000.001"), D("250000.00025")),  # 1000000.001 x 0.25
    ],
)
def test_per_unit(units: Decimal, expected: Decimal) -> None:
    result = PerUnit(D("0.25")).price(units)
    assert result.amount == expected
    assert result.usage_amount == expected
    assert result.breakdown == ()


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (D("0"), D("0")),  # no tier reached: no flat fee either
        (D("50"), D("5.00")),  # 50 x 0.10
        (D("100"), D("10.00")),  # exactly at up_to: 100 x 0.10, still the first tier only
        (D("101"), D("15.08")),  # 10.00 + (1 x 0.08 + 5)
        (D("100.5"), D("15.04")),  # 10.00 + (0.5 x 0.08 + 5)
        (D("1000"), D("87.00")),  # 10.00 + (900 x 0.08 + 5 = 77.00)
        (D("1001"), D("97.05")),  # 87.00 + (1 x 0.05 + 10)
        (D("2500"), D("172.00")),  # 87.00 + (1500 x 0.05 + 10 = 85.00)
        (D("0.5"), D("0.05")),  # 0.5 x 0.10
    ],
)
def test_graduated(units: Decimal, expected: Decimal) -> None:
    result = Graduated(TIERS).price(units)
    assert result.amount == expected
    assert sum((line.amount for line in result.breakdown), D(0)) == expected
    assert sum((line.units for line in result.breakdown if isinstance(line, TierLine)), D(0)) == units


def test_graduated_breakdown_names_each_tier_used() -> None:
    result = Graduated(TIERS).price(D("1001"))
    assert result.breakdown == (
        TierLine(D("0"), D("100"), D("100"), D("0.10"), D("0"), D("10.00")),
        TierLine(D("100"), D("1000"), D("900"), D("0.08"), D("5"), D("77.00")),
        TierLine(D("1000"), None, D("1"), D("0.05"), D("10"), D("10.05")),
    )


def test_graduated_breakdown_stops_at_the_tier_reached() -> None:
    # Exactly at the first up_to: the second tier (and its flat fee) is not entered.
    assert Graduated(TIERS).price(D("100")).breakdown == (
        TierLine(D("0"), D("100"), D("100"), D("0.10"), D("0"), D("10.00")),
    )


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (D("0"), D("0")),  # nothing used, no tier's flat fee
        (D("0.5"), D("0.05")),  # 0.5 x 0.10
        (D("50"), D("5.00")),  # 50 x 0.10
        (D("100"), D("10.00")),  # exactly at up_to: all 100 at the first tier's 0.10
        (D("100.5"), D("13.04")),  # 100.5 x 0.08 + 5
        (D("101"), D("13.08")),  # 101 x 0.08 + 5
        (D("1000"), D("85.00")),  # 1000 x 0.08 + 5
        (D("1001"), D("60.05")),  # 1001 x 0.05 + 10: cheaper than 1000, by design
    ],
)
def test_volume(units: Decimal, expected: Decimal) -> None:
    result = Volume(TIERS).price(units)
    assert result.amount == expected
    assert sum((line.amount for line in result.breakdown), D(0)) == expected


def test_volume_breakdown_is_the_single_tier_the_total_falls_into() -> None:
    assert Volume(TIERS).price(D("101")).breakdown == (
        TierLine(D("100"), D("1000"), D("101"), D("0.08"), D("5"), D("13.08")),
    )
    assert Volume(TIERS).price(D("0")).breakdown == ()


@pytest.mark.parametrize(
    ("model", "units", "expected"),
    [
        (Package(100, D("5.00")), D("0"), D("0")),  # 0 blocks
        (Package(100, D("5.00")), D("0.5"), D("5.00")),  # a started block is a block: 1 x 5.00
        (Package(100, D("5.00")), D("1"), D("5.00")),  # 1 block
        (Package(100, D("5.00")), D("100"), D("5.00")),  # exactly one full block
        (Package(100, D("5.00")), D("101"), D("10.00")),  # one over: 2 blocks
        (Package(100, D("5.00")), D("250"), D("15.00")),  # 3 blocks
        (Package(100, D("5.00"), free_units=D("50")), D("50"), D("0")),  # all free
        (Package(100, D("5.00"), free_units=D("50")), D("50.5"), D("5.00")),  # 0.5 billable: 1 block
        (Package(100, D("5.00"), free_units=D("50")), D("150"), D("5.00")),  # 100 billable: 1 block
        (Package(100, D("5.00"), free_units=D("50")), D("151"), D("10.00")),  # 101 billable: 2 blocks
        (Package(1, D("0.30")), D("7"), D("2.10")),  # size 1 is per unit: 7 x 0.30
    ],
)
def test_package(model: Package, units: Decimal, expected: Decimal) -> None:
    assert model.price(units).amount == expected


@pytest.mark.parametrize(
    ("model", "units", "usage", "expected"),
    [
        (PerUnit(D("0.25"), minimum=D("5.00")), D("10"), D("2.50"), D("5.00")),  # 2.50 < 5.00
        (PerUnit(D("0.25"), minimum=D("5.00")), D("30"), D("7.50"), D("7.50")),  # above: no top-up
        (PerUnit(D("0.25"), minimum=D("5.00")), D("20"), D("5.00"), D("5.00")),  # equal: no top-up
        (Graduated(TIERS, minimum=D("20")), D("50"), D("5.00"), D("20")),  # 5.00 < 20
        (Graduated(TIERS, minimum=D("20")), D("0"), D("0"), D("20")),  # no usage still owes 20
        (Volume(TIERS, minimum=D("70")), D("1001"), D("60.05"), D("70")),  # 60.05 < 70
        (Package(10, D("2.00"), minimum=D("7.00")), D("25"), D("6.00"), D("7.00")),  # 3 x 2.00 < 7
    ],
)
def test_minimum_charge(model: ChargeModel, units: Decimal, usage: Decimal, expected: Decimal) -> None:
    result = model.price(units)
    assert result.usage_amount == usage
    assert result.amount == expected
    assert result.minimum_adjustment == expected - usage
    top_ups = [line for line in result.breakdown if isinstance(line, MinimumCommitmentLine)]
    if expected > usage:
        assert top_ups == [MinimumCommitmentLine(model.minimum, usage, expected - usage)]
        assert top_ups[0].description == "minimum commitment"
        assert result.breakdown[-1] is top_ups[0]
    else:
        assert top_ups == []


def test_tiered_breakdown_with_minimum_adds_up_to_the_amount() -> None:
    result = Graduated(TIERS, minimum=D("20")).price(D("101"))  # 15.08 + 4.92 top-up
    assert [line.amount for line in result.breakdown] == [D("10.00"), D("5.08"), D("4.92")]
    assert sum((line.amount for line in result.breakdown), D(0)) == result.amount == D("20")


def test_products_are_exact_beyond_28_digits() -> None:
    # 123456789012345.123456 x 0.123456789 = 123456789012345123456 x 123456789 / 10**15
    # = 15241578751714610301686342784 / 10**15: 29 significant digits, which the default
    # 28-digit context would silently round to ...4278.
    result = PerUnit(D("0.123456789")).price(D("123456789012345.123456"))
    assert result.amount == D("15241578751714.610301686342784")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Graduated([]), "at least one tier"),
        (lambda: Graduated([Tier(D("100"), D("1"))]), "last tier must be open-ended"),
        (lambda: Graduated([Tier(None, D("1")), Tier(None, D("1"))]), "only the last tier"),
        (
            lambda: Volume([Tier(D("100"), D("1")), Tier(D("50"), D("1")), Tier(None, D("1"))]),
            "tiers must ascend",
        ),
        (
            lambda: Volume([Tier(D("100"), D("1")), Tier(D("100"), D("1")), Tier(None, D("1"))]),
            "tiers must ascend",
        ),
        (lambda: Tier(D("0"), D("1")), "greater than 0"),
        (lambda: Tier(D("10"), D("-0.01")), "unit_price must not be negative"),
        (lambda: Tier(None, D("1"), flat_fee=D("-5")), "flat_fee must not be negative"),
        (lambda: PerUnit(D("-1")), "unit_price must not be negative"),
        (lambda: PerUnit(D("1"), minimum=D("-1")), "minimum must not be negative"),
        (lambda: Package(0, D("1")), "package_size must be at least 1"),
        (lambda: Package(10, D("-1")), "package_price must not be negative"),
        (lambda: Package(10, D("1"), free_units=D("-1")), "free_units must not be negative"),
        (lambda: PerUnit("ten"), "unit_price must be a number"),
        (lambda: PerUnit(D("NaN")), "must be a finite number"),
    ],
)
def test_invalid_models_are_refused_with_a_clear_message(build: Any, message: str) -> None:
    with pytest.raises(InvalidChargeModel, match=message) as raised:
        build()
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, CalcError)
    assert raised.value.code == "invalid_charge_model"


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(FloatNotAllowed):
        PerUnit(0.1)
    with pytest.raises(FloatNotAllowed):
        PerUnit(D("0.1")).price(1.5)
    with pytest.raises(FloatNotAllowed):
        Tier(100.0, D("1"))
    assert issubclass(FloatNotAllowed, TypeError)


def test_package_size_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="package_size must be an int"):
        Package(D("10"), D("1"))


def test_negative_units_are_refused() -> None:
    with pytest.raises(ValueError, match="units must not be negative"):
        Graduated(TIERS).price(D("-1"))


@pytest.mark.parametrize(
    "model",
    [
        PerUnit(D("0.25")),
        PerUnit(D("0.25"), minimum=D("10.00")),
        Graduated(TIERS, minimum=D("10.00")),
        Volume(TIERS),
        Package(100, D("5.00"), free_units=D("50"), minimum=D("1E+1")),
    ],
)
def test_to_dict_round_trips(model: ChargeModel) -> None:
    data = model.to_dict()
    assert charge_model_from_dict(data) == model
    assert all(not isinstance(value, float) for value in data.values())


def test_from_dict_reads_stored_config() -> None:
    model = charge_model_from_dict(
        {
            "model": "graduated",
            "tiers": [
                {"up_to": "100", "unit_price": "0.10"},
                {"up_to": 1000, "unit_price": D("0.08"), "flat_fee": "5"},
                {"up_to": None, "unit_price": "0.05", "flat_fee": "10"},
            ],
            "minimum": "10.00",
        }
    )
    assert model == Graduated(TIERS, minimum=D("10.00"))
    assert model.to_dict() == {
        "model": "graduated",
        "tiers": [
            {"up_to": "100", "unit_price": "0.10", "flat_fee": "0"},
            {"up_to": "1000", "unit_price": "0.08", "flat_fee": "5"},
            {"up_to": None, "unit_price": "0.05", "flat_fee": "10"},
        ],
        "minimum": "10.00",
    }


def test_to_dict_writes_fixed_point_text() -> None:
    assert PerUnit(D("1E+2"), minimum=D("1E-7")).to_dict() == {
        "model": "per_unit",
        "unit_price": "100",
        "minimum": "0.0000001",
    }


def test_from_dict_package_size_accepts_a_whole_number_string() -> None:
    assert charge_model_from_dict(
        {"model": "package", "package_size": "10", "package_price": "1"}
    ) == Package(10, D("1"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model": "percentage", "rate": "1"}, "unknown charge model 'percentage'"),
        ({"unit_price": "1"}, "unknown charge model None"),
        ({"model": "per_unit"}, "missing unit_price"),
        ({"model": "per_unit", "unit_price": "1", "minimun": "5"}, "unknown keys: minimun"),
        ({"model": "graduated", "tiers": "0-100"}, "tiers must be a list"),
        ({"model": "graduated", "tiers": [{"unit_price": "1"}]}, r"tiers\[0\] is missing up_to"),
        (
            {"model": "volume", "tiers": [{"up_to": None, "unit_price": "-1"}]},
            r"tiers\[0\]: unit_price must not",
        ),
        (
            {"model": "volume", "tiers": [{"up_to": None, "unit_price": "one"}]},
            r"tiers\[0\].unit_price must be a",
        ),
        ({"model": "package", "package_size": "10.5", "package_price": "1"}, "whole number"),
        ({"model": "package", "package_size": "0", "package_price": "1"}, "at least 1"),
        (["per_unit"], "must be an object"),
    ],
)
def test_from_dict_refuses_bad_config(data: Any, message: str) -> None:
    with pytest.raises(InvalidChargeModel, match=message):
        charge_model_from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"model": "per_unit", "unit_price": 0.1},
        {"model": "per_unit", "unit_price": "1", "minimum": 10.0},
        {"model": "volume", "tiers": [{"up_to": None, "unit_price": 0.05}]},
        {"model": "package", "package_size": 10.0, "package_price": "1"},
    ],
)
def test_from_dict_refuses_floats(data: dict[str, Any]) -> None:
    with pytest.raises(FloatNotAllowed):
        charge_model_from_dict(data)


# --- aggregation ---

EVENTS: list[dict[str, Any]] = [
    {"bytes": "10", "user": "a"},
    {"bytes": 5, "user": "b"},
    {"bytes": D("2.5"), "user": "a"},
    {"user": "c"},  # no bytes: carries no quantity
    {"bytes": None, "user": 1},  # null bytes: same
]


@pytest.mark.parametrize(
    ("kind", "prop", "expected"),
    [
        (AggregationKind.COUNT, None, D(5)),  # five events, whatever their properties
        (AggregationKind.SUM, "bytes", D("17.5")),  # 10 + 5 + 2.5
        (AggregationKind.MAX, "bytes", D("10")),  # max(10, 5, 2.5)
        (AggregationKind.UNIQUE_COUNT, "user", D(4)),  # "a", "b", "c", 1
        ("sum", "bytes", D("17.5")),  # the kind's string value works too
        (AggregationKind.MAX, "missing", D(0)),  # no values: 0
        (AggregationKind.SUM, "missing", D(0)),
    ],
)
def test_aggregate(kind: AggregationKind | str, prop: str | None, expected: Decimal) -> None:
    assert aggregate(kind, EVENTS, prop) == expected


def test_unique_count_compares_numbers_as_numbers_and_strings_as_strings() -> None:
    # 1 and 1.0 are one number; "1" is a different (string) value.
    events = [{"v": 1}, {"v": D("1.0")}, {"v": "1"}, {"v": "1"}]
    assert aggregate(AggregationKind.UNIQUE_COUNT, events, "v") == D(2)


def test_aggregate_accepts_any_iterable_once() -> None:
    assert aggregate(AggregationKind.SUM, (event for event in EVENTS), "bytes") == D("17.5")


def test_sum_is_exact_beyond_28_digits() -> None:
    # 10^30 + 0.000001 has 37 significant digits; the default context would drop the tail.
    events = [{"n": "1E+30"}, {"n": "0.000001"}]
    assert aggregate(AggregationKind.SUM, events, "n") == D("1000000000000000000000000000000.000001")


def test_aggregate_refuses_floats_and_garbage() -> None:
    with pytest.raises(FloatNotAllowed):
        aggregate(AggregationKind.SUM, [{"n": 1.5}], "n")
    with pytest.raises(FloatNotAllowed):
        aggregate(AggregationKind.UNIQUE_COUNT, [{"n": 1.5}], "n")
    with pytest.raises(ValueError, match="must be a number"):
        aggregate(AggregationKind.MAX, [{"n": "lots"}], "n")
    with pytest.raises(TypeError, match="bool"):
        aggregate(AggregationKind.SUM, [{"n": True}], "n")


@pytest.mark.parametrize(
    ("value", "error", "code"),
    [
        ("1_000", InvalidUsageValue, "invalid_usage_value"),
        ("\uff11\uff12", InvalidUsageValue, "invalid_usage_value"),
        ("NaN", InvalidUsageValue, "invalid_usage_value"),
        (True, NotADecimal, "not_a_decimal"),
        ([1], NotADecimal, "not_a_decimal"),
    ],
    ids=["underscore", "full-width", "nan", "bool", "list"],
)
def test_a_value_that_cannot_be_aggregated_is_a_calc_error_with_a_code(
    value: object, error: type[CalcError], code: str
) -> None:
    # Billing records calc's own errors as a contract's failure (anything else is a bug).
    for kind in ("sum", "max", "unique_count"):
        if kind == "unique_count" and isinstance(value, str):
            continue  # strings are distinct values there
        with pytest.raises(error) as raised:
            aggregate_values(kind, [value], "gb")
        assert raised.value.code == code
        assert "gb" in raised.value.message


def test_aggregate_needs_a_property_except_for_count() -> None:
    with pytest.raises(ValueError, match="needs a property name"):
        aggregate(AggregationKind.SUM, EVENTS)


# --- properties ---

prices = st.decimals(min_value=0, max_value=1000, places=4)


@st.composite
def tier_lists(draw: st.DrawFn) -> list[Tier]:
    bounds = sorted(draw(st.sets(st.decimals(min_value=D("0.5"), max_value=10_000, places=2), max_size=5)))
    ups: list[Decimal | None] = [*bounds, None]
    return [Tier(up_to, draw(prices), flat_fee=draw(prices)) for up_to in ups]


units_values = st.decimals(min_value=0, max_value=20_000, places=3)


@given(tier_lists(), units_values, units_values)
def test_graduated_price_never_falls_as_units_grow(tiers: list[Tier], a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    model = Graduated(tiers)
    assert model.price(low).amount <= model.price(high).amount


@given(tier_lists(), units_values)
def test_graduated_breakdown_accounts_for_every_unit_and_cent(tiers: list[Tier], units: Decimal) -> None:
    result = Graduated(tiers).price(units)
    lines = [line for line in result.breakdown if isinstance(line, TierLine)]
    assert sum((line.units for line in lines), D(0)) == units
    assert sum((line.amount for line in lines), D(0)) == result.amount


@given(tier_lists(), st.one_of(st.none(), prices), st.sampled_from([Graduated, Volume]))
def test_tiered_models_round_trip_through_dicts(
    tiers: list[Tier], minimum: Decimal | None, model_class: type[Graduated] | type[Volume]
) -> None:
    model = model_class(tiers, minimum=minimum)
    assert charge_model_from_dict(model.to_dict()) == model


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("count", [None, "3", None], D(3)),
        ("sum", ["1.5", None, "2", 3], D("6.5")),
        ("max", [None, "1.5", "10", "9.99"], D(10)),
        ("max", [None, None], D(0)),
        ("unique_count", ["a", "a", None, "b", "1", D("1.0"), 1], D(4)),
    ],
    ids=["count", "sum", "max", "max-empty", "unique"],
)
def test_aggregate_values_follows_the_rules_of_aggregate(
    kind: str, values: list[object], expected: Decimal
) -> None:
    assert aggregate_values(kind, values, "v") == expected
    assert aggregate(kind, [{"v": v} for v in values], "v") == expected
    with pytest.raises(TypeError):
        aggregate_values("sum", [True], "v")
