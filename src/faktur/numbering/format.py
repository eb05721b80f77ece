"""Invoice number formats such as 'INV-{YYYY}-{SEQ:05}': parsing, checking and rendering."""

from __future__ import annotations

import re
from datetime import date

_TOKEN = re.compile(r"\{([A-Z]+)(?::0?(\d{1,2}))?\}")
_KNOWN = {"YYYY", "YY", "MM", "SEQ"}


class InvalidNumberFormat(ValueError):
    pass


def check_number_format(fmt: str, *, yearly_reset: bool) -> None:
    """Raise InvalidNumberFormat unless `fmt` yields unique numbers under its reset policy."""
    tokens = [m.group(1) for m in _TOKEN.finditer(fmt)]
    unknown = sorted(set(tokens) - _KNOWN)
    if unknown:
        raise InvalidNumberFormat(
            f"unknown placeholder(s) {unknown}; use {{YYYY}}, {{YY}}, {{MM}}, {{SEQ}} or {{SEQ:05}}"
        )
    if tokens.count("SEQ") != 1:
        raise InvalidNumberFormat("the format needs exactly one {SEQ} (or {SEQ:05} for zero padding)")
    if yearly_reset and "YYYY" not in tokens:
        # With {YY} alone the numbers of 2026 and 2126 would collide; require the full year.
        raise InvalidNumberFormat("a yearly reset needs {YYYY} in the format, or numbers would repeat")
    stripped = _TOKEN.sub("", fmt)
    if "{" in stripped or "}" in stripped:
        raise InvalidNumberFormat("unbalanced or malformed braces in the format")
    if len(render_number(fmt, 10**9, date(2000, 12, 31))) > 100:
        raise InvalidNumberFormat("the format makes numbers longer than 100 characters")


def render_number(fmt: str, sequence: int, issue_date: date) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, width = match.group(1), match.group(2)
        if name == "YYYY":
            return f"{issue_date.year:04d}"
        if name == "YY":
            return f"{issue_date.year % 100:02d}"
        if name == "MM":
            return f"{issue_date.month:02d}"
        return str(sequence).zfill(int(width)) if width else str(sequence)

    return _TOKEN.sub(substitute, fmt)


def split_number_format(fmt: str, issue_date: date) -> tuple[str, int, str]:
    """(text before the sequence, its zero-padding width, text after) of the numbers `fmt`
    renders on `issue_date`: render_number(fmt, n, issue_date) == before + str(n).zfill(width) + after."""
    seq = next(m for m in _TOKEN.finditer(fmt) if m.group(1) == "SEQ")
    width = int(seq.group(2)) if seq.group(2) else 0
    return (
        render_number(fmt[: seq.start()], 0, issue_date),
        width,
        render_number(fmt[seq.end() :], 0, issue_date),
    )


def parse_number(fmt: str, number: str) -> tuple[int, int | None] | None:
    """(sequence, year given by {YYYY} or None) of `number` if `render_number(fmt, ...)` renders it
    exactly, padding included; None when the format cannot produce it."""
    digits = {"YYYY": r"\d{4}", "YY": r"\d{2}", "MM": r"\d{2}", "SEQ": r"\d+"}
    pattern = ""
    position = 0
    seen: set[str] = set()
    for match in _TOKEN.finditer(fmt):
        pattern += re.escape(fmt[position : match.start()])
        name = match.group(1)
        # A placeholder used twice must repeat the same digits.
        pattern += f"(?P={name})" if name in seen else f"(?P<{name}>{digits.get(name, 'x^')})"
        seen.add(name)
        position = match.end()
    pattern += re.escape(fmt[position:])
    found = re.fullmatch(pattern, number)
    if found is None or "SEQ" not in found.groupdict():
        return None
    groups = found.groupdict()
    year = int(groups["YYYY"]) if groups.get("YYYY") else 2000 + int(groups.get("YY") or 0)
    month = int(groups["MM"]) if groups.get("MM") else 1
    if not 1 <= month <= 12 or year < 1:
        return None
    sequence = int(groups["SEQ"])
    if render_number(fmt, sequence, date(year, month, 1)) != number:
        return None
    return sequence, int(groups["YYYY"]) if groups.get("YYYY") else None


def sequence_of(fmt: str, number: str) -> int | None:
    """The sequence value `render_number(fmt, ...)` would have rendered as `number`, else None.

    Imports use it to refuse manual numbers that the automatic series could produce later, and
    dialects whose clients expect an integer invoice number read it from here.
    """
    parsed = parse_number(fmt, number)
    return None if parsed is None else parsed[0]


def formats_overlap(first: str, second: str) -> bool:
    """True when some number rendered by `second` could also be rendered by `first` (or the other
    way round), checked on sample sequences and dates: two series whose numbers can coincide
    would make a document's number ambiguous."""
    samples = [
        (sequence, day)
        for sequence in (1, 42, 12345, 10**7)
        for day in (date(2026, 1, 31), date(2099, 12, 1))
    ]
    return any(
        parse_number(one, render_number(other, sequence, day)) is not None
        for one, other in ((first, second), (second, first))
        for sequence, day in samples
    )
