"""A Request whose JSON numbers become Decimal, so no float ever enters the money path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a number JSON allows", name, 0)


def parse_json_exact(body: bytes) -> Any:
    """Parse a JSON body: numbers with a fraction or exponent become Decimal, never float."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError("the body is not valid UTF-8", repr(body[:20]), exc.start) from exc
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        # Python refuses integers of more than 4300 digits with a plain ValueError.
        raise json.JSONDecodeError(str(exc), text[:20], 0) from exc


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_exact_json"):
            self._exact_json = parse_json_exact(await self.body())
        return self._exact_json
