"""Billing periods of recurring contracts: which days a contract bills for, cycle by cycle.

Pure calendar arithmetic on `datetime.date` values; no clock, no time zones (the caller decides
which calendar day "today" is in the organisation's zone and passes it in).

The rules, precisely:

* Every period is half-open, ``[start, end)``: ``end`` is the first day *not* covered, so
  consecutive periods share a boundary date and the number of days is ``(end - start).days``.
* The **cycle grid** is fixed by the contract start, the anchor day and the interval. Its boundaries
  are the anchor day in the months ``M + k * step`` for every integer ``k`` (negative too), where
  ``M`` is the month of the contract start and ``step`` is 1, 3 or 12 months. For a monthly interval
  every month has a boundary, so the contract start month does not matter.
* An anchor day of 29, 30 or 31 is clamped to the last day of a shorter month (anchor 31 gives
  Feb 28, Feb 29 in a leap year, Apr 30). The clamp is applied to each month afresh and never
  carries over: anchor 31 gives Jan 31, Feb 28, Mar 31 (not Mar 28).
* A contract starting between two boundaries gets a **partial first period** from its start to the
  next boundary; a contract ending between two boundaries gets a **partial last period** cut at its
  end. A partial period carries the full cycle it is part of (``Period.full``) so it can be
  prorated against that cycle's real number of days. A contract starting exactly on a boundary
  has no partial first period.
* ``contract_end`` is exclusive like every other end: the first day the contract no longer covers.
  ``None`` means open-ended.
* A period is **completed** at ``until`` when its end is ``<= until``: the period ending on Mar 1
  can be invoiced on Mar 1.

Example (anchor 15, monthly, contract from Jan 20 to Apr 3, until Apr 10)::

    Jan 20 - Feb 15  partial, full cycle Jan 15 - Feb 15 (31 days, 26 covered)
    Feb 15 - Mar 15
    Mar 15 - Apr 3   partial, full cycle Mar 15 - Apr 15 (31 days, 19 covered)

For quarterly and yearly intervals the grid sits on the contract start month: a contract starting
on 2024-02-10 with anchor 1, quarterly, has boundaries Feb 1, May 1, Aug 1, Nov 1 and its first
period is Feb 10 - May 1 (partial, full cycle Feb 1 - May 1). With anchor 20 instead, its first
period is the stub Feb 10 - Feb 20 (partial of Nov 20 - Feb 20), then full quarters from Feb 20.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class BillingInterval(StrEnum):
    """How often a recurring contract is billed."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        """Length of one cycle in calendar months."""
        return _INTERVAL_MONTHS[self]


_INTERVAL_MONTHS = {BillingInterval.MONTH: 1, BillingInterval.QUARTER: 3, BillingInterval.YEAR: 12}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open range of days ``[start, end)`` that a contract is billed for.

    ``full`` is the whole billing cycle when this period covers only part of it (a contract that
    starts or ends mid-cycle), and ``None`` when the period is a whole cycle.
    """

    start: date
    end: date
    full: Period | None = None

    def __post_init__(self) -> None:
        _check_date(self.start, "start")
        _check_date(self.end, "end")
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after its start {self.start} (end is exclusive)")
        if self.full is not None:
            if self.full.full is not None:
                raise ValueError("the full cycle of a partial period cannot itself be partial")
            if not (self.full.start <= self.start and self.end <= self.full.end):
                raise ValueError(
                    f"partial period {self.start}..{self.end} lies outside its full cycle "
                    f"{self.full.start}..{self.full.end}"
                )
            if (self.start, self.end) == (self.full.start, self.full.end):
                raise ValueError("a period covering its whole cycle is not partial; leave full=None")

    @property
    def partial(self) -> bool:
        """True when the period covers only part of its billing cycle."""
        return self.full is not None

    @property
    def cycle(self) -> Period:
        """The whole billing cycle this period belongs to (itself when it is not partial)."""
        return self.full if self.full is not None else self

    @property
    def days(self) -> int:
        """Number of days covered (the end is exclusive)."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and not isinstance(day, datetime) and self.start <= day < self.end


def anchored_date(year: int, month: int, anchor_day: int) -> date:
    """The anchor day in the given month, clamped to the month's last day (anchor 31 -> Apr 30)."""
    _check_anchor(anchor_day)
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def cycle_containing(
    contract_start: date, anchor_day: int, interval: BillingInterval | str, on: date
) -> Period:
    """The whole billing cycle of the grid that contains the day ``on``, ignoring the contract's ends.

    ``on`` may lie before the contract start: the grid extends in both directions.
    """
    _check_date(contract_start, "contract_start")
    _check_date(on, "on")
    _check_anchor(anchor_day)
    step = BillingInterval(interval).months
    index = _month_index(on) - _month_index(contract_start)
    k = index // step
    # The boundary in `on`'s grid month may be later in that month than `on` itself (anchor 20,
    # on the 10th); the cycle then started one step earlier. Boundaries lie in distinct months,
    # so the next boundary is always after `on`.
    if _boundary(contract_start, anchor_day, step, k) > on:
        k -= 1
    return Period(
        _boundary(contract_start, anchor_day, step, k), _boundary(contract_start, anchor_day, step, k + 1)
    )


def next_period_start(
    contract_start: date, anchor_day: int, interval: BillingInterval | str, on: date
) -> date:
    """The first cycle boundary strictly after ``on`` (when the next cycle starts)."""
    return cycle_containing(contract_start, anchor_day, interval, on).end


def period_containing(
    contract_start: date,
    anchor_day: int,
    interval: BillingInterval | str,
    on: date,
    contract_end: date | None = None,
) -> Period:
    """The contract's billing period containing the day ``on``, cut to the contract's start and end.

    Raises ``ValueError`` when ``on`` is outside the contract (before its start, or on or after its
    exclusive end): no period of the contract contains it.
    """
    _check_contract(contract_start, contract_end)
    _check_date(on, "on")
    if on < contract_start or (contract_end is not None and on >= contract_end):
        raise ValueError(
            f"{on} is outside the contract running from {contract_start} to "
            f"{contract_end if contract_end is not None else 'open end'} (end exclusive)"
        )
    return _cut(cycle_containing(contract_start, anchor_day, interval, on), contract_start, contract_end)


def periods_between(
    contract_start: date,
    contract_end: date | None,
    anchor_day: int,
    interval: BillingInterval | str,
    until: date,
) -> list[Period]:
    """Every period of the contract that is completed at ``until`` (its end ``<= until``), in order.

    The first period is partial when the contract starts between boundaries, the last one when the
    contract ends between boundaries. Returns an empty list when nothing is completed yet.
    """
    _check_contract(contract_start, contract_end)
    _check_date(until, "until")
    periods: list[Period] = []
    cycle = cycle_containing(contract_start, anchor_day, interval, contract_start)
    while True:
        period = _cut(cycle, contract_start, contract_end)
        if period.end > until:
            return periods
        periods.append(period)
        if contract_end is not None and period.end >= contract_end:
            return periods
        cycle = cycle_containing(contract_start, anchor_day, interval, cycle.end)


def last_completed_period(
    contract_start: date,
    contract_end: date | None,
    anchor_day: int,
    interval: BillingInterval | str,
    until: date,
) -> Period | None:
    """The latest period completed at ``until`` (``periods_between(...)[-1]``), or ``None``.

    Computed directly rather than by walking every period since the contract start, so a billing
    run can ask for it on long-running contracts cheaply.
    """
    _check_contract(contract_start, contract_end)
    _check_date(until, "until")
    if contract_end is not None and contract_end <= until:
        last_day = contract_end - timedelta(days=1)
    else:
        # The latest boundary on or before `until` is where the latest completed period ends.
        boundary = cycle_containing(contract_start, anchor_day, interval, until).start
        if boundary <= contract_start:
            return None
        last_day = boundary - timedelta(days=1)
    return period_containing(contract_start, anchor_day, interval, last_day, contract_end)


def _boundary(contract_start: date, anchor_day: int, step: int, k: int) -> date:
    year, month0 = divmod(_month_index(contract_start) + k * step, 12)
    return anchored_date(year, month0 + 1, anchor_day)


def _cut(cycle: Period, contract_start: date, contract_end: date | None) -> Period:
    start = max(cycle.start, contract_start)
    end = cycle.end if contract_end is None else min(cycle.end, contract_end)
    if (start, end) == (cycle.start, cycle.end):
        return cycle
    return Period(start, end, full=cycle)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _check_anchor(anchor_day: int) -> None:
    if isinstance(anchor_day, bool) or not isinstance(anchor_day, int):
        raise TypeError(f"anchor day must be an int, got {type(anchor_day).__name__}")
    if not 1 <= anchor_day <= 31:
        raise ValueError(f"anchor day must be between 1 and 31, got {anchor_day}")


def _check_date(value: object, name: str) -> None:
    # datetime is a subclass of date but compares and subtracts differently; a time of day here is
    # a caller's mistake (which zone's day?), so refuse it rather than guess.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")


def _check_contract(contract_start: date, contract_end: date | None) -> None:
    _check_date(contract_start, "contract_start")
    if contract_end is not None:
        _check_date(contract_end, "contract_end")
        if contract_end <= contract_start:
            raise ValueError(
                f"contract end {contract_end} must be after its start {contract_start} (end is exclusive)"
            )
