"""A value decided at COMMIT, such as an invoice's number, and the JSON rendered before it.

Gapless numbers are taken from a counter row that stays locked from taking a number until COMMIT,
so every issuing request of an organisation waits for the one that holds it. The HTTP endpoints
that issue an invoice therefore take the number as their transaction's last statement, after the
invoice's events and their own response have been rendered: those carry a `PendingValue`'s
placeholder, a JSON string no input can contain (random), and `fill` puts the decided value in
its place. Nothing else is done while the row is locked.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class PendingValue:
    """A string value not known yet; JSON rendered before it is known shows `placeholder`."""

    placeholder: str

    @classmethod
    def new(cls, what: str) -> PendingValue:
        return cls(f"{what}-decided-at-commit-{uuid.uuid4().hex}")

    def fill(self, rendered: str, value: str) -> str:
        """`rendered` JSON with the placeholder string replaced by `value` (a JSON string too)."""
        quoted = json.dumps(self.placeholder)
        if quoted not in rendered:
            raise ValueError(f"{self.placeholder!r} does not occur in the rendered JSON")
        return rendered.replace(quoted, json.dumps(value))

    def fill_bytes(self, rendered: bytes, value: str) -> bytes:
        return self.fill(rendered.decode(), value).encode()


@dataclass(frozen=True)
class Decided:
    """What a step run before COMMIT decided: `value` for `pending`."""

    pending: PendingValue
    value: str
