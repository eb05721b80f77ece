"""How an error detail names a field: a Pydantic error location written as `lines[0].quantity`.

Below every domain: the HTTP error handlers, the dialects and services that validate lists item
by item (usage events) name fields the same way.
"""

from __future__ import annotations

from typing import Any


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'lines', 0, 'quantity') -> 'lines[0].quantity'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"
