"""The OpenAPI document tells the truth: valid, described, stably named, and its statuses are the
ones each operation answers.

Statuses are checked both ways, as far as a request can decide them: for every operation of the
native API, requests that must fail (no key, an unknown id, a malformed id, a malformed body,
invalid input, a reused Idempotency-Key) answer a status the document lists, in faktur's error
schema; and every generic status the document lists (400, 401, 404, 422) is answered by one of them.
Conflicts (409) are provoked per kind: the idempotency claim on a POST, a finalized invoice edited,
an invoiced item deleted, a draft's e-invoice.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.app import create_app
from faktur.config import Settings

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('spec') / 'x.sqlite3'}"))
    document = app.openapi()
    app.state.engine.dispose()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def test_every_schema_property_is_described(spec: dict[str, Any]) -> None:
    undescribed = [
        f"{name}.{prop}"
        for name, schema in spec["components"]["schemas"].items()
        for prop, value in schema.get("properties", {}).items()
        if not value.get("description")
    ]
    assert undescribed == []


def test_component_names_and_operation_ids_are_plain_and_stable(spec: dict[str, Any]) -> None:
    names = list(spec["components"]["schemas"])
    assert [name for name in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)] == []
    assert all(spec["components"]["schemas"][name].get("title", name) == name for name in names)
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*", i)] == []
    assert {"create_invoice", "get_invoice", "zenskar_generate_invoice", "axim_create_invoice"} <= set(ids)
    assert "seed" not in str(spec).lower()


# The keywords of JSON Schema 2020-12 and OpenAPI 3.1's additions that faktur's schemas use or may.
SCHEMA_KEYWORDS = {
    "$ref",
    "$defs",
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "discriminator",
    "contentMediaType",
    "contentEncoding",
}
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "propertyNames", "not")


def unknown_schema_keys(schema: dict[str, Any], where: str) -> list[str]:
    """`where.key` for every key of `schema` and its subschemas that is no schema keyword."""
    found = [f"{where}.{key}" for key in schema if key not in SCHEMA_KEYWORDS and not key.startswith("x-")]
    maps = [(key, schema.get(key, {})) for key in _SCHEMA_MAPS]
    subschemas = [
        *((f"{where}.{key}.{name}", sub) for key, subs in maps for name, sub in subs.items()),
        *((f"{where}.{key}[{n}]", sub) for key in _SCHEMA_LISTS for n, sub in enumerate(schema.get(key, []))),
        *((f"{where}.{key}", schema[key]) for key in _SCHEMA_VALUES if isinstance(schema.get(key), dict)),
    ]
    return found + [key for path, sub in subschemas for key in unknown_schema_keys(sub, path)]


def test_schemas_use_only_json_schema_keywords(spec: dict[str, Any]) -> None:
    # A constraint pydantic cannot express (a bound placed after a validator) leaks as its own
    # keyword ("ge", "le"), which clients and validators silently ignore.
    schemas = [(name, schema) for name, schema in spec["components"]["schemas"].items()]
    for path, method, operation in operations(spec):
        schemas += [(f"{method} {path} {p['name']}", p["schema"]) for p in operation.get("parameters", [])]
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        schemas += [(f"{method} {path}", m["schema"]) for b in bodies for m in b.get("content", {}).values()]
    assert [key for where, schema in schemas for key in unknown_schema_keys(schema, where)] == []
    leaked = {"properties": {"n": {"anyOf": [{"ge": 0}]}}}
    assert unknown_schema_keys(leaked, "X") == ["X.properties.n.anyOf[0].ge"]


def test_native_errors_use_faktur_error_schema_and_dialects_their_own(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, _, operation in operations(spec):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            if path.startswith("/v1"):
                assert ref == "#/components/schemas/Error", (path, status)
            else:
                assert ref.startswith("#/components/schemas/") and ref != "#/components/schemas/Error", (
                    path,
                    status,
                )
    for path, _, operation in operations(spec):
        if path.startswith("/compat"):
            success = [s for s in operation["responses"] if s.startswith("2")]
            assert all(operation["responses"][s]["content"]["application/json"]["schema"] for s in success)


def test_main_request_bodies_have_examples_that_fit_their_schemas(spec: dict[str, Any]) -> None:
    examples = 0
    for path, method, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None or "example" not in body:
            continue
        examples += 1
        schema = {**body["schema"], "components": spec["components"]}
        errors = [error.message for error in OAS31Validator(schema).iter_errors(body["example"])]
        assert errors == [], (method, path, errors)
    assert examples >= 12
    documented = {o["operationId"] for _, _, o in operations(spec) if "example" in str(o.get("requestBody"))}
    assert {
        "create_customer",
        "create_invoice",
        "record_payment",
        "create_order",
        "create_contract",
    } <= documented


def _path(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _example(operation: dict[str, Any]) -> Any:
    return operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example", {})


def _probes(
    path: str, method: str, operation: dict[str, Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Requests that must fail, each with the status it must get."""
    has_path_ids = "{" in path
    json_headers = {**headers, "Content-Type": "application/json"}
    takes_body = "requestBody" in operation
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    probes = [
        {"status": 401, "url": _path(path, str(uuid.uuid4())), "headers": {}, "json": _example(operation)}
    ]
    if has_path_ids:
        probes.append(
            {
                "status": 404,
                "url": _path(path, str(uuid.uuid4())),
                "headers": headers,
                "json": _example(operation),
            }
        )
        probes.append({"status": 422, "url": _path(path, "not-an-id"), "headers": headers, "json": {}})
    if takes_body:
        probes.append(
            {"status": 400, "url": _path(path, str(uuid.uuid4())), "headers": json_headers, "content": "{"}
        )
        if not has_path_ids:
            probes.append({"status": 422, "url": path, "headers": headers, "json": ["not", "an", "object"]})
    elif query and not has_path_ids:
        name = query[0]["name"]
        probes.append({"status": 422, "url": f"{path}?{name}=%E2%9C%97not-valid", "headers": headers})
    return probes


def test_documented_statuses_are_answered_and_answers_are_documented(
    client: TestClient, tenant: Tenant
) -> None:
    spec = client.get("/openapi.json").json()
    unanswered = []
    for path, method, operation in operations(spec):
        if not path.startswith("/v1"):
            continue
        documented = set(operation["responses"])
        answered = set()
        for probe in _probes(path, method, operation, tenant.headers):
            expected = probe.pop("status")
            response = client.request(method.upper(), probe.pop("url"), **probe)
            assert str(response.status_code) in documented, (
                method,
                path,
                response.status_code,
                response.text,
            )
            assert response.status_code == expected, (method, path, expected, response.text)
            declared = operation["responses"][str(response.status_code)]["content"]["application/json"][
                "schema"
            ]
            validator = OAS31Validator({**declared, "components": spec["components"]})
            assert [e.message for e in validator.iter_errors(response.json())] == [], (method, path)
            answered.add(str(response.status_code))
        generic = {status for status in documented if status in {"400", "401", "404", "422"}}
        unanswered += [f"{method.upper()} {path} {status}" for status in sorted(generic - answered)]
    assert unanswered == []


def test_documented_conflicts_are_answered(client: TestClient, tenant: Tenant) -> None:
    spec = client.get("/openapi.json").json()

    def documents(method: str, path: str, status: int) -> bool:
        return str(status) in spec["paths"][path][method]["responses"]

    headers = tenant.headers
    customer = create_customer(client, headers)["id"]
    body = {"customer_id": customer, "lines": [line()]}
    first = client.post("/v1/invoices", json=body, headers={**headers, "Idempotency-Key": "k-1"})
    reused = client.post(
        "/v1/invoices", json={**body, "memo": "other"}, headers={**headers, "Idempotency-Key": "k-1"}
    )
    assert (first.status_code, reused.status_code) == (201, 409)
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert documents("post", "/v1/invoices", 409)

    draft = first.json()["id"]
    ubl = client.get(f"/v1/invoices/{draft}/ubl", headers=headers)
    assert ubl.status_code == 409 and documents("get", "/v1/invoices/{invoice_id}/ubl", 409)

    issued = create_invoice(client, headers, customer, [line()], finalize=True)["id"]
    edited = client.patch(f"/v1/invoices/{issued}", json={"memo": "late"}, headers=headers)
    assert edited.status_code == 409 and documents("patch", "/v1/invoices/{invoice_id}", 409)

    item = client.post(
        "/v1/invoice-items",
        json={"customer_id": customer, "description": "Seat", "unit_price": "5.00", "tax": line()["tax"]},
        headers=headers,
    ).json()["id"]
    assert client.post(
        "/v1/invoice-items/invoice", json={"customer_id": customer}, headers=headers
    ).is_success
    deleted = client.delete(f"/v1/invoice-items/{item}", headers=headers)
    assert deleted.status_code == 409 and documents("delete", "/v1/invoice-items/{item_id}", 409)
    for response in (reused, ubl, edited, deleted):
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_the_previews_document_no_idempotency_key_and_no_full_disk(
    client: TestClient, tenant: Tenant
) -> None:
    """A preview stores nothing: the document offers it no Idempotency-Key (one sent is ignored,
    not replayed) and no 507; the create beside it has both."""
    spec = client.get("/openapi.json").json()

    def offers_key(path: str) -> bool:
        parameters = spec["paths"][path]["post"].get("parameters", [])
        return any(parameter["name"] == "Idempotency-Key" for parameter in parameters)

    previews = ["/v1/invoices/preview", "/v1/invoices/{invoice_id}/credit-notes/preview"]
    for path in previews:
        assert not offers_key(path), path
        assert "507" not in spec["paths"][path]["post"]["responses"], path
    assert offers_key("/v1/invoices") and "507" in spec["paths"]["/v1/invoices"]["post"]["responses"]

    customer = create_customer(client, tenant.headers)["id"]
    keyed = {**tenant.headers, "Idempotency-Key": "p-1"}
    body = {"customer_id": customer, "lines": [line()]}
    first = client.post("/v1/invoices/preview", json=body, headers=keyed)
    again = client.post("/v1/invoices/preview", json={**body, "memo": "other"}, headers=keyed)
    assert (first.status_code, again.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in again.headers
