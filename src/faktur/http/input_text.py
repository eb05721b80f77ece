"""The one input check for text: every string of a request, keys included, must be text XML can carry.

It runs on the parsed request (query parameters, path parameters and the JSON body) before the
endpoint's schema, for every route of the API and of every dialect, so that no field, free-form
object (metadata, charge_model, event properties) or vendor field can store a character that would
later make an invoice's documents impossible to render. Schemas check the same rule on their text
fields (`faktur.fields.text`), for callers that do not come through HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.exceptions import RequestValidationError

from faktur.fields import illegal_character_reason, xml_illegal_character

ERROR_TYPE = "xml_illegal_character"
# Enough to name the fields to fix; a body full of them is not worth listing in full.
MAX_PROBLEMS = 20


def _problem(loc: tuple[Any, ...], reason: str) -> dict[str, Any]:
    # No "input": the offending text is not echoed (a lone surrogate cannot even be encoded).
    return {"type": ERROR_TYPE, "loc": loc, "msg": reason, "input": None}


def _walk(value: Any, loc: tuple[Any, ...], found: list[dict[str, Any]]) -> None:
    # Iterative: a body nested as deep as the JSON parser allows must not exhaust the stack here.
    pending = [(value, loc)]
    while pending and len(found) < MAX_PROBLEMS:
        item, where = pending.pop()
        if isinstance(item, str):
            character = xml_illegal_character(item)
            if character is not None:
                found.append(_problem(where, illegal_character_reason(character)))
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                character = xml_illegal_character(key)
                if character is not None:
                    found.append(_problem(where, f"a key {illegal_character_reason(character)}"))
                else:
                    pending.append((child, (*where, key)))
        elif isinstance(item, list):
            pending.extend((child, (*where, index)) for index, child in reversed(list(enumerate(item))))


def _walk_pairs(pairs: Iterable[tuple[str, str]], kind: str, found: list[dict[str, Any]]) -> None:
    for name, value in pairs:
        character = xml_illegal_character(name)
        if character is not None:
            found.append(_problem((kind,), f"a parameter name {illegal_character_reason(character)}"))
        else:
            _walk(value, (kind, name), found)


def refuse_illegal_text(query: Iterable[tuple[str, str]], path: Iterable[tuple[str, str]], body: Any) -> None:
    """Raise a RequestValidationError (a 422 naming each field) if any text XML cannot carry is given."""
    found: list[dict[str, Any]] = []
    _walk_pairs(query, "query", found)
    _walk_pairs(path, "path", found)
    _walk(body, ("body",), found)
    if found:
        raise RequestValidationError(found[:MAX_PROBLEMS])
