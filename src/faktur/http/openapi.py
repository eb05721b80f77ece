"""The OpenAPI document faktur serves: FastAPI's, completed with what FastAPI cannot see.

FastAPI documents the success answer of each route and a 422 in its own validation shape. faktur's
native API (`/v1`) answers every error as `{"error": {"code", "message", "details"}}`, and some
statuses come from layers FastAPI does not inspect (authentication, the Idempotency-Key claim,
malformed JSON, database faults). Each is added here from facts of the operation itself: a 401
where the operation is secured, a 404 where its path names a resource, a 409 on authenticated
writes, a 400 and a 422 where it takes input, a 503 everywhere and a 507 on writes (document
downloads, which store a document on first request, declare theirs). Dialects declare their
vendors' answers on their routes. Component names lose module paths
(`faktur__dialects__axim__InvoiceIn` becomes `AximInvoiceIn`), operation ids are the route
functions' names, and properties without a description take one from
`faktur.http.openapi_descriptions`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from faktur.http import openapi_descriptions
from faktur.http.routing import ComputingRoute

NATIVE_PREFIX = "/v1"
_WRITES = {"post", "put", "patch", "delete"}
_REF = "#/components/schemas/"


class ErrorDetail(BaseModel):
    """One problem of the request, at a field."""

    model_config = ConfigDict(extra="allow", title="ErrorDetail")

    field: str = Field(description="Where the problem is, e.g. `lines[0].quantity` (or `body`)")
    reason: str = Field(description="What is wrong with it, for a person")


class ErrorBody(BaseModel):
    """What went wrong: a stable code for programs, a message for people, field details."""

    code: str = Field(description="Stable snake_case error code, e.g. `invoice_not_draft`")
    message: str = Field(description="What happened and what to do, for a person")
    details: list[ErrorDetail] = Field(description="Field-level problems; empty when there are none")


class Error(BaseModel):
    """Every error of faktur's own API (`/v1`)."""

    error: ErrorBody = Field(description="The error")


def _native_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}}}


def _resource(path: str) -> str:
    """`/v1/invoices/{invoice_id}/pay` -> 'invoice' (the last path parameter names the resource)."""
    names = re.findall(r"\{(\w+?)(?:_id)?\}", path)
    return names[-1].replace("_", " ") if names else "resource"


def _native_responses(
    path: str, method: str, operation: dict[str, Any], *, stores: bool
) -> dict[str, dict[str, Any]]:
    parameters = operation.get("parameters", [])
    takes_body = "requestBody" in operation
    secured = bool(operation.get("security"))
    added: dict[str, dict[str, Any]] = {}
    if takes_body:
        added["400"] = _native_error("The body is not JSON (`malformed_json`).")
    if secured:
        added["401"] = _native_error(
            "No API key (`missing_api_key`), or one that is unknown or revoked (`invalid_api_key`)."
        )
    if any(parameter.get("in") == "path" for parameter in parameters):
        added["404"] = _native_error(
            f"No such {_resource(path)} in the key's organisation (`..._not_found`); another "
            "organisation's ids are not found either."
        )
    if secured and method in _WRITES:
        added["409"] = _native_error(
            "The request conflicts with the stored state (the code says which, e.g. `invoice_not_draft`)"
            + (
                ", or its Idempotency-Key was used with another body (`idempotency_key_reused`)."
                if method == "post" and stores
                else "."
            )
        )
    if takes_body or parameters:
        added["422"] = _native_error(
            "The request is invalid (`validation_error` with one entry per field in `details`, or a "
            "specific code)."
        )
    # Database faults (faktur.database_faults) can meet any request; only a write needs disk space.
    added["503"] = {
        **_native_error(
            "The database cannot answer now: `database_busy` (no turn to write within the bound), "
            "`database_unavailable` (connection lost or refused), `database_io_error` or "
            "`database_corrupt`. Nothing was stored; retry after `Retry-After` seconds with the same "
            "Idempotency-Key."
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        },
    }
    if method in _WRITES and stores:
        added["507"] = _native_error(
            "The database's disk is full (`storage_full`): nothing was stored. Retry once space is freed."
        )
    return added


def _complete_native(path: str, method: str, operation: dict[str, Any], *, stores: bool) -> None:
    responses = operation.setdefault("responses", {})
    for status, generic in _native_responses(path, method, operation, stores=stores).items():
        declared = responses.get(status)
        if declared is None or _is_fastapi_validation(declared):
            responses[status] = generic
        else:
            # A route's own declaration (e.g. which 409 codes) keeps its words.
            declared.setdefault("content", generic["content"])
    for status, declared in responses.items():
        if status.startswith(("4", "5")) and "content" not in declared:
            declared["content"] = _native_error("")["content"]


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the POST safe to retry: the same key and body replay the stored answer "
    "(header `Idempotent-Replayed: true`); the same key with another body is a 409.",
    "schema": {"type": "string", "maxLength": 255},
}


def _add_idempotency_key(operation: dict[str, Any]) -> None:
    """Every authenticated POST claims its Idempotency-Key (`faktur.http.idempotency`)."""
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
        parameters.append(dict(IDEMPOTENCY_KEY))


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") == f"{_REF}HTTPValidationError"


def _drop_fastapi_validation(operation: dict[str, Any]) -> None:
    """Dialects answer request problems in their vendor's shape, declared on their routes."""
    responses = operation.get("responses", {})
    if "422" in responses and _is_fastapi_validation(responses["422"]):
        del responses["422"]


def _stable_name(name: str) -> str:
    if name.startswith("Page_") and name.endswith("_"):
        item = name[len("Page_") : -1]
        return f"{item.removesuffix('Out')}Page"
    if "__" not in name:
        return name
    parts = name.split("__")
    if "dialects" in parts:
        dialect = parts[parts.index("dialects") + 1]
        return openapi_descriptions.DIALECT_NAMES.get(dialect, dialect.title()) + parts[-1]
    return parts[-1]


def _rename_components(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    renames = {name: _stable_name(name) for name in schemas if _stable_name(name) != name}
    new_names = [renames.get(name, name) for name in schemas]
    if len(set(new_names)) != len(new_names):
        raise RuntimeError(f"component names collide after removing module paths: {sorted(new_names)}")
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"{_REF}{old}"', f'"{_REF}{new}"')
    renamed = json.loads(text)
    renamed["components"]["schemas"] = {
        renames.get(name, name): schema for name, schema in renamed["components"]["schemas"].items()
    }
    for new in renames.values():
        # Generators name classes after the title, which is still the bare class name.
        renamed["components"]["schemas"][new]["title"] = new
    return renamed


def _add_error_schemas(document: dict[str, Any]) -> None:
    schema = Error.model_json_schema(ref_template=_REF + "{model}")
    definitions = schema.pop("$defs", {})
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(definitions)
    components["Error"] = schema


def _drop_unused_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    while True:
        text = json.dumps({key: value for key, value in document.items() if key != "components"})
        text += json.dumps(schemas)
        unused = [name for name in schemas if f'"{_REF}{name}"' not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def _route_name(path: str, method: str, generated: str) -> str:
    """The route function's name, from FastAPI's id `<name><path with _ for non-word>_<method>`."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return generated.removesuffix(suffix) if generated.endswith(suffix) else generated


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    _add_error_schemas(document)
    # POSTs that store nothing (the previews) claim no Idempotency-Key and need no disk space.
    computing = {
        (route.path_format, method.lower())
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, ComputingRoute)
        for method in route.methods or ()
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            name = _route_name(path, method, operation.get("operationId", ""))
            operation["operationId"] = openapi_descriptions.operation_id(path, name)
            stores = (path, method) not in computing
            if path.startswith(NATIVE_PREFIX):
                _complete_native(path, method, operation, stores=stores)
            else:
                _drop_fastapi_validation(operation)
            if method == "post" and stores and (operation.get("security") or path.startswith("/compat/")):
                _add_idempotency_key(operation)
            openapi_descriptions.add_example(operation)
    document = _rename_components(document)
    _drop_unused_components(document)
    openapi_descriptions.describe_properties(document["components"]["schemas"])
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema
