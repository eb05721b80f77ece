"""Number formats: rendering and the checks that keep numbers unique."""

from datetime import date

import pytest

from faktur.numbering.format import (
    InvalidNumberFormat,
    check_number_format,
    render_number,
    split_number_format,
)


@pytest.mark.parametrize(
    ("fmt", "sequence", "issued", "expected"),
    [
        ("INV-{YYYY}-{SEQ:05}", 7, date(2026, 3, 1), "INV-2026-00007"),
        ("{YY}{MM}-{SEQ:04}", 42, date(2026, 11, 21), "2611-0042"),
        ("R{SEQ}", 123456, date(2026, 1, 1), "R123456"),
        ("INV-{YYYY}-{SEQ:03}", 12345, date(2026, 1, 1), "INV-2026-12345"),  # padding never truncates
    ],
)
def test_render_number(fmt: str, sequence: int, issued: date, expected: str) -> None:
    assert render_number(fmt, sequence, issued) == expected


@pytest.mark.parametrize(
    ("fmt", "yearly", "message"),
    [
        ("INV-{YYYY}", True, "exactly one {SEQ}"),
        ("{SEQ}-{SEQ}", False, "exactly one {SEQ}"),
        ("INV-{YY}-{SEQ}", True, "needs {YYYY}"),
        ("INV-{DD}-{SEQ}", False, "unknown placeholder"),
        ("INV-{SEQ", False, "exactly one {SEQ}"),
        ("X" * 95 + "{SEQ:05}", False, "longer than 100"),
    ],
)
def test_format_that_could_repeat_or_break_is_refused(fmt: str, yearly: bool, message: str) -> None:
    with pytest.raises(InvalidNumberFormat, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_number_format(fmt, yearly_reset=yearly)


def test_never_resetting_format_without_year_is_accepted() -> None:
    check_number_format("R-{SEQ:06}", yearly_reset=False)


@pytest.mark.parametrize(
    "fmt", ["INV-{YYYY}-{SEQ:05}", "{SEQ}", "{YY}{MM}/{SEQ:3}-X", "R{SEQ:02}.{YYYY}", "{MM}{SEQ}{YY}"]
)
@pytest.mark.parametrize("value", [1, 7, 123, 100000, 10**9])
def test_split_format_renders_what_render_number_renders(fmt: str, value: int) -> None:
    before, width, after = split_number_format(fmt, date(2026, 3, 9))
    assert before + str(value).zfill(width) + after == render_number(fmt, value, date(2026, 3, 9))
