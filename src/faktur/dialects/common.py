"""Plumbing shared by the compatibility dialects: the API key from a vendor header, exact JSON
numbers in responses, core errors renamed to the vendor's field names, and error details.

A dialect translates; it never computes. Everything here is about the wire, not about invoices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from faktur.auth import authenticate
from faktur.context import Actor, Principal
from faktur.dialects.errors import VendorRequestInvalid
from faktur.errors import FakturError, MissingApiKey
from faktur.field_paths import field_path

M = TypeVar("M", bound=BaseModel)


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        # A JSON number with exactly the decimal's digits: never through float.
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)


def exact_json(value: Any) -> bytes:
    """Serialise like json.dumps, but Decimals become JSON numbers with their exact digits."""
    return _encode(value).encode()


class ExactJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return exact_json(content)


def authenticate_key(request: Request, session: Session, token: str | None, *, header: str) -> Principal:
    """A faktur API key given in the vendor's header (the route claims the Idempotency-Key)."""
    try:
        return authenticate(request, session, token)
    except MissingApiKey:
        raise MissingApiKey(header) from None


def actor(principal: Principal) -> Actor:
    return Actor(principal.organisation, principal.actor)


@contextmanager
def vendor_fields(rename: Callable[[str], str]) -> Iterator[None]:
    """Re-raise core errors with their field names in the vendor's vocabulary."""
    try:
        yield
    except FakturError as error:
        error.details = [{**d, "field": rename(str(d.get("field", "")))} for d in error.details]
        raise


def rename_by_prefix(mapping: dict[str, str]) -> Callable[[str], str]:
    """A renamer from 'core.path' prefixes to vendor ones, longest first; indexes are kept."""
    ordered = sorted(mapping.items(), key=lambda item: -len(item[0]))

    def rename(field: str) -> str:
        for core, vendor in ordered:
            if field == core or field.startswith((core + ".", core + "[")):
                return vendor + field[len(core) :]
        return field

    return rename


def rename_line_fields(vendor_list: str, line_fields: dict[str, str]) -> Callable[[str], str]:
    """'lines[2].unit_price' -> '<vendor_list>[2].<vendor name>'."""
    pattern = re.compile(r"^lines\[(\d+)\]\.?([a-z_]*)(.*)$")

    def rename(field: str) -> str:
        found = pattern.match(field)
        if found is None:
            return field
        index, name, rest = found.groups()
        vendor = line_fields.get(name, name)
        return f"{vendor_list}[{index}]" + (f".{vendor}" if vendor else "") + rest

    return rename


def core_model(model: type[M], data: dict[str, Any]) -> M:
    """Build a core request model from translated values; a refusal is a 400, never a 500."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": field_path(e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        raise VendorRequestInvalid(details) from None


def error_details(error: FakturError) -> list[dict[str, str]]:
    """Field-level details reduced to {field, reason}, the shape vendors document."""
    return [{"field": str(d.get("field", "")), "reason": str(d.get("reason", ""))} for d in error.details]


def validation_messages(validation: RequestValidationError | None) -> list[tuple[tuple[Any, ...], str, str]]:
    """(loc, msg, type) of each problem Pydantic found in the request."""
    if validation is None:
        return []
    return [
        (tuple(e.get("loc", ())), str(e.get("msg", "")), str(e.get("type", ""))) for e in validation.errors()
    ]


def _reject_non_numbers(value: Any) -> Any:
    # Vendors document JSON numbers: strings and booleans are refused as their servers would.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a JSON number")
    return value


def _reject_non_integers(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a JSON integer")
    return value


# JSON numbers with at most 6 decimals and a magnitude no real invoice reaches. The bounds come
# before the validator: placed after it, pydantic cannot express them in JSON Schema and writes
# its own keys ("ge", "le") into the OpenAPI document.
JsonNumber = Annotated[
    Decimal,
    Field(max_digits=19, decimal_places=6, ge=Decimal("-1000000000000"), le=Decimal("1000000000000")),
    BeforeValidator(_reject_non_numbers),
]
NonNegativeJsonNumber = Annotated[
    Decimal,
    Field(max_digits=19, decimal_places=6, ge=0, le=Decimal("1000000000000")),
    BeforeValidator(_reject_non_numbers),
]
JsonInteger = Annotated[int, Field(ge=-(10**12), le=10**12), BeforeValidator(_reject_non_integers)]
NonNegativeJsonInteger = Annotated[int, Field(ge=0, le=10**12), BeforeValidator(_reject_non_integers)]


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 date-time with a zone, or a plain date (midnight UTC); ValueError otherwise."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add 'Z' or an offset such as +02:00")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} lies outside the years 1 to 9999 once converted to UTC") from None


def utc_z(value: datetime) -> str:
    """'2025-01-01T00:00:00Z': UTC with a Z, as most vendor APIs print it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
