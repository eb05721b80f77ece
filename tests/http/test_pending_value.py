"""faktur.pending: a value decided at COMMIT replaces its placeholder in JSON rendered before."""

from __future__ import annotations

import json

import pytest

from faktur.pending import PendingValue


def test_fill_puts_the_value_where_the_placeholder_was_rendered() -> None:
    pending = PendingValue.new("number")
    rendered = json.dumps({"number": pending.placeholder, "memo": "number", "lines": [1]})
    filled = json.loads(pending.fill(rendered, 'INV-2026-"7"'))
    assert filled == {"number": 'INV-2026-"7"', "memo": "number", "lines": [1]}
    assert json.loads(pending.fill_bytes(rendered.encode(), "A-1"))["number"] == "A-1"


def test_each_pending_value_has_its_own_placeholder_and_a_missing_one_is_a_bug() -> None:
    first, second = PendingValue.new("number"), PendingValue.new("number")
    assert first.placeholder != second.placeholder
    with pytest.raises(ValueError, match="does not occur"):
        first.fill(json.dumps({"number": second.placeholder}), "INV-1")
