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
