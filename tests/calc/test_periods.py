"""Billing periods: anchor clamping, partial first and last periods, end-exclusive semantics."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faktur.calc.periods import (
    BillingInterval,
    Period,
    anchored_date,
    cycle_containing,
    last_completed_period,
    next_period_start,
    period_containing,
    periods_between,
)

MONTH, QUARTER, YEAR = BillingInterval.MONTH, BillingInterval.QUARTER, BillingInterval.YEAR
d = date


def full(start: date, end: date) -> Period:
    return Period(start, end)


def part(start: date, end: date, cycle_start: date, cycle_end: date) -> Period:
    return Period(start, end, full=Period(cycle_start, cycle_end))


@pytest.mark.parametrize(
    ("year", "month", "anchor", "expected"),
    [
        (2023, 1, 31, d(2023, 1, 31)),
        (2023, 2, 31, d(2023, 2, 28)),  # clamped to February's last day
        (2024, 2, 31, d(2024, 2, 29)),  # leap year
        (2024, 2, 30, d(2024, 2, 29)),
        (2023, 2, 29, d(2023, 2, 28)),
        (2024, 4, 31, d(2024, 4, 30)),
        (2024, 4, 15, d(2024, 4, 15)),
        (2024, 12, 1, d(2024, 12, 1)),
    ],
)
def test_anchored_date_clamps_to_the_last_day_of_short_months(
    year: int, month: int, anchor: int, expected: date
) -> None:
    assert anchored_date(year, month, anchor) == expected


CASES = [
    pytest.param(
        d(2024, 1, 1), None, 1, MONTH, d(2024, 4, 1),
        [
            full(d(2024, 1, 1), d(2024, 2, 1)),
            full(d(2024, 2, 1), d(2024, 3, 1)),
            full(d(2024, 3, 1), d(2024, 4, 1)),
        ],
        id="anchor-1-start-on-anchor-three-months-behind",
    ),
    pytest.param(
        d(2024, 1, 1), None, 1, MONTH, d(2024, 3, 31),
        [full(d(2024, 1, 1), d(2024, 2, 1)), full(d(2024, 2, 1), d(2024, 3, 1))],
        id="anchor-1-march-not-completed-on-its-last-day",
    ),
    pytest.param(
        d(2024, 1, 20), d(2024, 4, 3), 15, MONTH, d(2024, 4, 10),
        [
            part(d(2024, 1, 20), d(2024, 2, 15), d(2024, 1, 15), d(2024, 2, 15)),
            full(d(2024, 2, 15), d(2024, 3, 15)),
            part(d(2024, 3, 15), d(2024, 4, 3), d(2024, 3, 15), d(2024, 4, 15)),
        ],
        id="anchor-15-off-anchor-start-and-mid-period-end",
    ),
    pytest.param(
        d(2024, 1, 15), None, 15, MONTH, d(2024, 3, 15),
        [full(d(2024, 1, 15), d(2024, 2, 15)), full(d(2024, 2, 15), d(2024, 3, 15))],
        id="anchor-15-start-on-anchor",
    ),
    pytest.param(
        d(2023, 2, 28), None, 28, MONTH, d(2023, 5, 1),
        [full(d(2023, 2, 28), d(2023, 3, 28)), full(d(2023, 3, 28), d(2023, 4, 28))],
        id="anchor-28-never-clamps",
    ),
    pytest.param(
        d(2023, 3, 1), None, 28, MONTH, d(2023, 4, 28),
        [
            part(d(2023, 3, 1), d(2023, 3, 28), d(2023, 2, 28), d(2023, 3, 28)),
            full(d(2023, 3, 28), d(2023, 4, 28)),
        ],
        id="anchor-28-off-anchor-start",
    ),
    pytest.param(
        d(2023, 1, 31), None, 31, MONTH, d(2023, 6, 1),
        [
            full(d(2023, 1, 31), d(2023, 2, 28)),  # clamped in February ...
            full(d(2023, 2, 28), d(2023, 3, 31)),  # ... and back to the 31st in March, no drift
            full(d(2023, 3, 31), d(2023, 4, 30)),
            full(d(2023, 4, 30), d(2023, 5, 31)),
        ],
        id="anchor-31-clamps-per-month-without-drift",
    ),
    pytest.param(
        d(2024, 1, 31), None, 31, MONTH, d(2024, 3, 31),
        [full(d(2024, 1, 31), d(2024, 2, 29)), full(d(2024, 2, 29), d(2024, 3, 31))],
        id="anchor-31-leap-february",
    ),
    pytest.param(
        d(2023, 2, 28), None, 31, MONTH, d(2023, 3, 31),
        [full(d(2023, 2, 28), d(2023, 3, 31))],
        id="anchor-31-start-on-clamped-anchor-is-not-partial",
    ),
    pytest.param(
        d(2023, 2, 10), None, 31, MONTH, d(2023, 3, 31),
        [
            part(d(2023, 2, 10), d(2023, 2, 28), d(2023, 1, 31), d(2023, 2, 28)),
            full(d(2023, 2, 28), d(2023, 3, 31)),
        ],
        id="anchor-31-off-anchor-start-in-february",
    ),
    pytest.param(
        d(2024, 1, 1), d(2024, 3, 1), 1, MONTH, d(2030, 1, 1),
        [full(d(2024, 1, 1), d(2024, 2, 1)), full(d(2024, 2, 1), d(2024, 3, 1))],
        id="contract-ending-on-a-boundary-has-no-partial-tail",
    ),
    pytest.param(
        d(2024, 1, 10), d(2024, 1, 20), 1, MONTH, d(2024, 1, 20),
        [part(d(2024, 1, 10), d(2024, 1, 20), d(2024, 1, 1), d(2024, 2, 1))],
        id="contract-inside-one-cycle",
    ),
    pytest.param(d(2024, 1, 10), None, 1, MONTH, d(2024, 1, 31), [], id="nothing-completed-yet"),
    pytest.param(d(2024, 1, 10), None, 1, MONTH, d(2023, 12, 1), [], id="until-before-contract-start"),
    pytest.param(
        d(2024, 2, 10), None, 1, QUARTER, d(2024, 11, 1),
        [
            part(d(2024, 2, 10), d(2024, 5, 1), d(2024, 2, 1), d(2024, 5, 1)),
            full(d(2024, 5, 1), d(2024, 8, 1)),
            full(d(2024, 8, 1), d(2024, 11, 1)),
        ],
        id="quarterly-grid-on-the-start-month",
    ),
    pytest.param(
        d(2024, 2, 10), None, 20, QUARTER, d(2024, 5, 20),
        [
            part(d(2024, 2, 10), d(2024, 2, 20), d(2023, 11, 20), d(2024, 2, 20)),
            full(d(2024, 2, 20), d(2024, 5, 20)),
        ],
        id="quarterly-start-before-the-anchor-day-gives-a-stub",
    ),
    pytest.param(
        d(2024, 1, 31), None, 31, QUARTER, d(2025, 1, 31),
        [
            full(d(2024, 1, 31), d(2024, 4, 30)),
            full(d(2024, 4, 30), d(2024, 7, 31)),
            full(d(2024, 7, 31), d(2024, 10, 31)),
            full(d(2024, 10, 31), d(2025, 1, 31)),
        ],
        id="quarterly-anchor-31",
    ),
    pytest.param(
        d(2024, 2, 29), None, 29, YEAR, d(2028, 3, 1),
        [
            full(d(2024, 2, 29), d(2025, 2, 28)),
            full(d(2025, 2, 28), d(2026, 2, 28)),
            full(d(2026, 2, 28), d(2027, 2, 28)),
            full(d(2027, 2, 28), d(2028, 2, 29)),
        ],
        id="yearly-leap-day-anchor",
    ),
    pytest.param(
        d(2024, 3, 15), d(2026, 6, 1), 1, YEAR, d(2030, 1, 1),
        [
            part(d(2024, 3, 15), d(2025, 3, 1), d(2024, 3, 1), d(2025, 3, 1)),
            full(d(2025, 3, 1), d(2026, 3, 1)),
            part(d(2026, 3, 1), d(2026, 6, 1), d(2026, 3, 1), d(2027, 3, 1)),
        ],
        id="yearly-partial-both-ends",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("start", "end", "anchor", "interval", "until", "expected"), CASES)
def test_periods_between_lists_every_completed_period(
    start: date, end: date | None, anchor: int, interval: BillingInterval, until: date, expected: list[Period]
) -> None:
    assert periods_between(start, end, anchor, interval, until) == expected


@pytest.mark.parametrize(("start", "end", "anchor", "interval", "until", "expected"), CASES)
def test_last_completed_period_is_the_last_of_periods_between(
    start: date, end: date | None, anchor: int, interval: BillingInterval, until: date, expected: list[Period]
) -> None:
    assert last_completed_period(start, end, anchor, interval, until) == (expected[-1] if expected else None)


def test_a_period_is_completed_on_its_exclusive_end_date() -> None:
    # January 2024 ends (exclusively) on Feb 1: billable on Feb 1, not on Jan 31.
    assert periods_between(d(2024, 1, 1), None, 1, MONTH, d(2024, 1, 31)) == []
    assert periods_between(d(2024, 1, 1), None, 1, MONTH, d(2024, 2, 1)) == [
        full(d(2024, 1, 1), d(2024, 2, 1))
    ]


def test_period_contains_its_start_but_not_its_end() -> None:
    january = full(d(2024, 1, 1), d(2024, 2, 1))
    assert d(2024, 1, 1) in january
    assert d(2024, 1, 31) in january
    assert d(2024, 2, 1) not in january
    assert january.days == 31


def test_partial_period_exposes_its_cycle() -> None:
    period = part(d(2024, 1, 20), d(2024, 2, 15), d(2024, 1, 15), d(2024, 2, 15))
    assert period.partial
    assert period.days == 26
    assert period.cycle == full(d(2024, 1, 15), d(2024, 2, 15))
    assert period.cycle.days == 31
    assert not period.cycle.partial
    assert period.cycle.cycle is period.cycle


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (d(2024, 1, 20), part(d(2024, 1, 20), d(2024, 2, 15), d(2024, 1, 15), d(2024, 2, 15))),
        (d(2024, 2, 14), part(d(2024, 1, 20), d(2024, 2, 15), d(2024, 1, 15), d(2024, 2, 15))),
        (d(2024, 2, 15), full(d(2024, 2, 15), d(2024, 3, 15))),  # a boundary starts the next period
        (d(2024, 4, 2), part(d(2024, 3, 15), d(2024, 4, 3), d(2024, 3, 15), d(2024, 4, 15))),
    ],
)
def test_period_containing_cuts_the_cycle_to_the_contract(on: date, expected: Period) -> None:
    assert period_containing(d(2024, 1, 20), 15, MONTH, on, contract_end=d(2024, 4, 3)) == expected


@pytest.mark.parametrize("on", [d(2024, 1, 19), d(2024, 4, 3), d(2024, 5, 1)])
def test_period_containing_refuses_days_outside_the_contract(on: date) -> None:
    with pytest.raises(ValueError, match="outside the contract"):
        period_containing(d(2024, 1, 20), 15, MONTH, on, contract_end=d(2024, 4, 3))


def test_cycle_containing_extends_the_grid_before_the_contract_start() -> None:
    assert cycle_containing(d(2024, 2, 10), 20, QUARTER, d(2024, 2, 10)) == full(
        d(2023, 11, 20), d(2024, 2, 20)
    )
    assert cycle_containing(d(2024, 3, 31), 31, MONTH, d(2023, 2, 28)) == full(d(2023, 2, 28), d(2023, 3, 31))


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (d(2024, 1, 30), d(2024, 1, 31)),
        (d(2024, 1, 31), d(2024, 2, 29)),  # strictly after: a boundary day gives the next one
        (d(2024, 2, 29), d(2024, 3, 31)),
        (d(2023, 2, 27), d(2023, 2, 28)),
    ],
)
def test_next_period_start_is_the_next_boundary_strictly_after(on: date, expected: date) -> None:
    assert next_period_start(d(2024, 1, 31), 31, MONTH, on) == expected


def test_interval_accepts_its_string_value() -> None:
    assert periods_between(d(2024, 1, 1), None, 1, "quarter", d(2024, 4, 1)) == [
        full(d(2024, 1, 1), d(2024, 4, 1))
    ]
    assert BillingInterval("year").months == 12


@pytest.mark.parametrize("anchor", [0, 32, -1])
def test_anchor_day_outside_1_to_31_is_refused(anchor: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 31"):
        periods_between(d(2024, 1, 1), None, anchor, MONTH, d(2024, 6, 1))


def test_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="week"):
        periods_between(d(2024, 1, 1), None, 1, "week", d(2024, 6, 1))


def test_contract_end_must_be_after_its_start() -> None:
    with pytest.raises(ValueError, match="must be after its start"):
        periods_between(d(2024, 1, 1), d(2024, 1, 1), 1, MONTH, d(2024, 6, 1))


def test_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match=r"datetime\.date"):
        periods_between(datetime(2024, 1, 1, 12), None, 1, MONTH, d(2024, 6, 1))


@pytest.mark.parametrize(
    ("start", "end", "cycle"),
    [
        (d(2024, 1, 2), d(2024, 1, 1), None),  # end before start
        (d(2024, 1, 1), d(2024, 1, 1), None),  # empty
        (d(2023, 12, 31), d(2024, 1, 10), full(d(2024, 1, 1), d(2024, 2, 1))),  # outside its cycle
        (d(2024, 1, 1), d(2024, 2, 1), full(d(2024, 1, 1), d(2024, 2, 1))),  # covers the whole cycle
    ],
)
def test_inconsistent_periods_are_refused(start: date, end: date, cycle: Period | None) -> None:
    with pytest.raises(ValueError):
        Period(start, end, full=cycle)


contracts = st.builds(
    lambda start, length, open_ended, anchor, interval, horizon: (
        start,
        None if open_ended else start + timedelta(days=length),
        anchor,
        interval,
        start + timedelta(days=horizon),
    ),
    start=st.dates(min_value=d(2000, 1, 1), max_value=d(2060, 12, 31)),
    length=st.integers(min_value=1, max_value=2000),
    open_ended=st.booleans(),
    anchor=st.integers(min_value=1, max_value=31),
    interval=st.sampled_from(list(BillingInterval)),
    horizon=st.integers(min_value=-40, max_value=2500),
)


@given(contracts)
def test_periods_tile_the_contract_without_gaps_and_stay_in_their_cycles(
    contract: tuple[date, date | None, int, BillingInterval, date],
) -> None:
    start, end, anchor, interval, until = contract
    periods = periods_between(start, end, anchor, interval, until)
    if periods:
        assert periods[0].start == start
    for previous, current in pairwise(periods):
        assert previous.end == current.start
        assert previous.cycle.end == current.cycle.start
    for period in periods:
        assert period.end <= until
        assert end is None or period.end <= end
        assert period.cycle.start.day == min(anchor, _last_day(period.cycle.start))
        months = (period.cycle.end.year - period.cycle.start.year) * 12 + period.cycle.end.month
        assert months - period.cycle.start.month == interval.months
        assert period.partial == (period.start != period.cycle.start or period.end != period.cycle.end)
    # The next period (if the contract goes on) is not completed yet: nothing was left out.
    resume = periods[-1].end if periods else start
    if end is None or resume < end:
        assert period_containing(start, anchor, interval, resume, end).end > until
    assert last_completed_period(start, end, anchor, interval, until) == (periods[-1] if periods else None)


def _last_day(day: date) -> int:
    return ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
