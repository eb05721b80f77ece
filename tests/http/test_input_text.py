"""The one input layer for text: characters XML cannot carry are refused everywhere, with a 422
naming the field, in values and in keys; unit codes must be UN/ECE Rec 20/21 codes."""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.fields import Metadata, Name, Text, UnitCode

# Characters XML 1.0 cannot carry, as the JSON escapes a client sends.
ILLEGAL = {
    "U+0001": "\\u0001",
    "U+0007": "\\u0007",
    "U+000B": "\\u000b",
    "U+000C": "\\u000c",
    "U+001B": "\\u001b",
    "U+FFFE": "\\ufffe",
    "U+FFFF": "\\uffff",
    "U+D800": "\\ud800",  # a lone high surrogate
    "U+DC00": "\\udc00",  # a lone low surrogate
    "U+0000": "\\u0000",
}
JSON = {"content-type": "application/json"}


def _raw(template: str, escape: str) -> bytes:
    return template.replace("@", escape).encode()


def _fields(response: Any) -> list[str]:
    return [detail["field"] for detail in response.json()["error"]["details"]]


def _count(client: TestClient, tenant: Tenant, path: str) -> int:
    return len(client.get(path, params={"limit": 100}, headers=tenant.headers).json()["data"])


@pytest.mark.parametrize("character", list(ILLEGAL), ids=list(ILLEGAL))
def test_illegal_character_in_a_value_is_refused_naming_the_field(
    client: TestClient, tenant: Tenant, character: str
) -> None:
    response = client.post(
        "/v1/customers",
        content=_raw('{"name": "Kunde @ AG", "city": "Berlin"}', ILLEGAL[character]),
        headers={**tenant.headers, **JSON},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert _fields(response) == ["name"]
    assert character in response.json()["error"]["details"][0]["reason"]
    assert _count(client, tenant, "/v1/customers") == 0


@pytest.mark.parametrize(
    ("path", "template", "field"),
    [
        ("/v1/customers", '{"name": "K", "metadata": {"ke@y": "v"}}', "metadata"),
        ("/v1/customers", '{"name": "K", "metadata": {"key": "v@"}}', "metadata.key"),
        (
            "/v1/contracts",
            '{"customer_id": "%s", "start_date": "2024-01-01", "components": [{"kind": "usage", '
            '"name": "API", "metric_code": "api", "tax": {"category": "S", "percent": "19"}, '
            '"charge_model": {"model": "per_unit", "unit_price": "1", "no@te": "x"}}]}',
            "components[0].charge_model",
        ),
        (
            "/v1/events",
            '{"transaction_id": "t1", "metric_code": "api", "timestamp": "2025-01-01T00:00:00Z", '
            '"properties": {"re@gion": "eu"}}',
            "properties",
        ),
        ("/v1/invoices", '{"customer_id": "%s", "lines": [], "metadata": {"a": "b", "c@": "d"}}', "metadata"),
    ],
    ids=["metadata_key", "metadata_value", "charge_model_key", "event_property_key", "invoice_metadata_key"],
)
@pytest.mark.parametrize("character", ["U+0007", "U+D800", "U+FFFF"])
def test_illegal_character_in_a_key_of_a_free_form_object_is_refused(
    client: TestClient, tenant: Tenant, path: str, template: str, field: str, character: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    body = _raw(template.replace("%s", customer), ILLEGAL[character])
    response = client.post(path, content=body, headers={**tenant.headers, **JSON})
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]
    assert character in response.text
    assert _count(client, tenant, "/v1/customers") == 1
    assert _count(client, tenant, "/v1/invoices") == 0


def test_illegal_character_in_a_query_parameter_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/v1/invoices?status=open%07", headers=tenant.headers)
    assert response.status_code == 422
    assert _fields(response) == ["status"]


def test_number_format_with_a_control_character_is_refused(client: TestClient, tenant: Tenant) -> None:
    before = client.get("/v1/organisation", headers=tenant.headers).json()["number_format"]
    response = client.patch(
        "/v1/organisation",
        content=_raw('{"number_format": "INV@-{YYYY}-{SEQ:05}"}', ILLEGAL["U+000C"]),
        headers={**tenant.headers, **JSON},
    )
    assert response.status_code == 422
    assert _fields(response) == ["number_format"]
    assert client.get("/v1/organisation", headers=tenant.headers).json()["number_format"] == before


def test_tab_line_feed_carriage_return_and_astral_characters_are_kept(
    client: TestClient, tenant: Tenant
) -> None:
    name = "Kunde\tAG\r\nAbteilung 😀 Straße"
    customer = create_customer(client, tenant.headers, name=name, metadata={"emoji 😀": "zeile\nzwei"})
    assert customer["name"] == name
    # And a finalized invoice with such text renders its documents.
    issued = create_invoice(
        client, tenant.headers, customer["id"], finalize=True, lines=[line(description="Beratung\tund 😀")]
    )
    for kind in ("pdf", "ubl", "cii"):
        assert client.get(f"/v1/invoices/{issued['id']}/{kind}", headers=tenant.headers).status_code == 200


def test_whitespace_only_name_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/customers", json={"name": " \t "}, headers=tenant.headers)
    assert response.status_code == 422
    assert _fields(response) == ["name"]


def _operations_with_a_body(app: FastAPI) -> list[tuple[str, str]]:
    operations = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
                operations.append((method.upper(), concrete))
    return operations


def test_every_operation_of_the_api_and_its_dialects_refuses_illegal_text(
    app: FastAPI, client: TestClient, tenant: Tenant
) -> None:
    """The check is one layer under every route: each operation that takes a body refuses it,
    in its own error shape (dialects), naming the field, and stores nothing."""
    operations = _operations_with_a_body(app)
    assert len(operations) > 20
    assert any(path.startswith("/compat/") for _method, path in operations)
    headers = {**tenant.headers, "X-API-Key": tenant.api_key, **JSON}
    for method, path in operations:
        body = json.dumps({"some_field": "bad\u0007text", "other": ["ok", {"k\ud800": 1}]})
        response = client.request(
            method, path, content=body.encode("utf-8", "surrogatepass"), headers=headers
        )
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert "some_field" in response.text, (method, path, response.text)
        assert "U+0007" in response.text and "U+D800" in response.text, (method, path, response.text)
    assert _count(client, tenant, "/v1/customers") == 0
    assert _count(client, tenant, "/v1/invoices") == 0


# --- The same rule on the schema types, for callers that do not come through HTTP -------------


@pytest.mark.parametrize("kind", [Name, Annotated[str, Text(100)]])
def test_text_types_refuse_illegal_characters(kind: Any) -> None:
    adapter = TypeAdapter(kind)
    for bad in ("a\x07b", "a\ufffeb", "a\x00b", "a\x1bb"):
        with pytest.raises(ValidationError, match="cannot carry"):
            adapter.validate_python(bad)
    with pytest.raises(ValidationError):  # Pydantic itself refuses a lone surrogate
        adapter.validate_python("a\ud800b")
    assert adapter.validate_python("a\tb\nc\rd é 😀") == "a\tb\nc\rd é 😀"


def test_metadata_type_refuses_illegal_keys() -> None:
    with pytest.raises(ValidationError, match="cannot carry"):
        TypeAdapter(Metadata).validate_python({"k\x01": "v"})


# --- Unit codes --------------------------------------------------------------------------------


def test_unit_code_type_takes_rec_20_and_rec_21_codes_only() -> None:
    adapter = TypeAdapter(UnitCode)
    for good in ("C62", "H87", "HUR", "KGM", "XBX", "XPK", "E48"):
        assert adapter.validate_python(good) == good
    for bad in ("ZZZ", "c62", "PCS", "HRS", "", "C6", "C622"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/invoices", {"lines": [line(unit_code="PCS")]}, "lines[0].unit_code"),
        ("/v1/invoices/preview", {"lines": [line(unit_code="ZZZ")]}, "lines[0].unit_code"),
        (
            "/v1/orders",
            {
                "lines": [
                    {
                        "name": "Boots",
                        "quantity": "1",
                        "unit_price": "5",
                        "unit_code": "PCS",
                        "tax": {"category": "S", "percent": "19"},
                    }
                ]
            },
            "lines[0].unit_code",
        ),
        (
            "/v1/invoice-items",
            {
                "description": "Setup",
                "unit_price": "5",
                "unit_code": "HRS",
                "tax": {"category": "S", "percent": "19"},
            },
            "unit_code",
        ),
    ],
    ids=["invoice", "preview", "order", "invoice_item"],
)
def test_unknown_unit_code_is_refused_naming_the_field(
    client: TestClient, tenant: Tenant, path: str, body: dict[str, Any], field: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    response = client.post(path, json={"customer_id": customer, **body}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]
    assert "Recommendation 20" in response.text
    assert _count(client, tenant, "/v1/invoices") == 0


def test_iw_erp_item_unit_is_checked_too(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    invoice = {
        "buyer": {"id": customer},
        "items": [{"name": "Beratung", "price": 10, "unit": "PCS"}],
        "tax": {"value": 19},
    }
    response = client.post(
        "/compat/iw-erp/api/invoice/invoices", json={"invoice": invoice}, headers=tenant.headers
    )
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["invoice.items[0].unit"]
    assert _count(client, tenant, "/v1/invoices") == 0


def test_rec_21_package_unit_is_accepted_and_rendered(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    issued = create_invoice(client, tenant.headers, customer, finalize=True, lines=[line(unit_code="XBX")])
    assert issued["lines"][0]["unit_code"] == "XBX"
    ubl = client.get(f"/v1/invoices/{issued['id']}/ubl", headers=tenant.headers)
    assert 'unitCode="XBX"' in ubl.text
