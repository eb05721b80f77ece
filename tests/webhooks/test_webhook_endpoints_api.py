"""/v1/webhook-endpoints: register (secret shown once), list, get, change, delete, rotate; bad
URLs and unknown event types are refused with a code; other organisations' endpoints are 404."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from webhook_fixtures import app  # noqa: F401 - fixtures
from webhook_settings import webhook_settings

from faktur.app import create_app
from faktur.webhooks.errors import WebhookUrlPrivate
from faktur.webhooks.urls import check_url


def _create(client, headers, **body):
    body = {"url": "http://127.0.0.1:9/hooks", **body}
    return client.post("/v1/webhook-endpoints", json=body, headers=headers)


def test_the_secret_is_shown_once_and_the_endpoint_can_be_managed(client, tenant) -> None:
    created = _create(
        client, tenant.headers, enabled_events=["invoice.paid", "invoice.finalized"], description="ERP"
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["enabled_events"] == ["invoice.finalized", "invoice.paid"]
    got = client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()
    assert "secret" not in got and got["url"] == endpoint["url"]
    listed = client.get("/v1/webhook-endpoints", headers=tenant.headers).json()
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]] and "secret" not in listed["data"][0]

    patched = client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}",
        json={"enabled": False, "enabled_events": None, "description": None},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["enabled"], patched.json()["enabled_events"], patched.json()["description"]) == (
        False,
        None,
        None,
    )
    rotated = client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=tenant.headers
    ).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    no_grace = client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
        json={"grace_period_hours": 0},
        headers=tenant.headers,
    ).json()
    assert no_grace["previous_secret_expires_at"] is None

    assert client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).status_code == 404


def test_another_organisations_endpoint_is_not_found(client, tenant, other_tenant) -> None:
    endpoint = _create(client, tenant.headers).json()
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
    ]:
        kwargs = {"json": {"enabled": False}} if method == "PATCH" else {}
        response = client.request(
            method, f"/v1/webhook-endpoints/{endpoint['id']}{path}", headers=other_tenant.headers, **kwargs
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "webhook_endpoint_not_found"
    assert client.get("/v1/webhook-endpoints", headers=other_tenant.headers).json()["data"] == []
    assert client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()["enabled"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "http://hooks.example.com/x"}, "webhook_url_not_https"),
        ({"url": "ftp://hooks.example.com/x"}, "webhook_url_invalid"),
        ({"url": "not a url"}, "webhook_url_invalid"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "webhook_url_invalid"),
        ({"url": "https://hooks.example.com:99999/x"}, "webhook_url_invalid"),
        ({"url": "http://127.0.0.1:9/x", "enabled_events": ["invoice.exploded"]}, "unknown_event_type"),
        ({"url": "http://127.0.0.1:9/x", "enabled_events": "invoice.paid"}, "validation_error"),
        ({"url": ""}, "validation_error"),
        ({"url": "https://x.example/" + "a" * 2000}, "validation_error"),
        ({"url": "http://127.0.0.1:9/x", "secret": "whsec_mine"}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_bad_endpoints_are_refused_with_a_code(client, tenant, body, code) -> None:
    response = client.post("/v1/webhook-endpoints", json=body, headers=tenant.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code
    assert client.get("/v1/webhook-endpoints", headers=tenant.headers).json()["data"] == []


def test_garbage_on_every_route_is_4xx(client, tenant) -> None:
    endpoint = _create(client, tenant.headers).json()
    base = f"/v1/webhook-endpoints/{endpoint['id']}"
    for method, path, kwargs in [
        ("PATCH", base, {"json": {"url": "http://evil.example/x"}}),
        ("PATCH", base, {"json": {"enabled": "maybe"}}),
        ("PATCH", base, {"json": {"enabled_events": ["nope"]}}),
        ("PATCH", base, {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("POST", f"{base}/rotate-secret", {"json": {"grace_period_hours": -1}}),
        ("POST", f"{base}/rotate-secret", {"json": {"grace_period_hours": 10_000}}),
        ("GET", f"{base}/deliveries", {"params": {"cursor": "zzz"}}),
        ("GET", "/v1/webhook-endpoints/not-a-uuid", {}),
        ("GET", f"/v1/webhook-endpoints/{uuid.uuid4()}", {}),
    ]:
        headers = {**tenant.headers, **kwargs.pop("headers", {})}
        response = client.request(method, path, headers=headers, **kwargs)
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert response.json()["error"]["code"]
    after = client.get(base, headers=tenant.headers).json()
    assert after["url"] == endpoint["url"] and after["enabled"] and after["enabled_events"] is None


def test_post_honours_the_idempotency_key(client, tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "hook-1"}
    first = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/a"}, headers=headers)
    again = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/a"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(client.get("/v1/webhook-endpoints", headers=tenant.headers).json()["data"]) == 1
    other = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/b"}, headers=headers)
    assert other.status_code == 409


def test_private_and_loopback_addresses_are_refused_unless_allowed(database_url, engine, tenant) -> None:
    strict = create_app(
        webhook_settings(database_url, webhook_allow_private_urls=False, outbox_in_process=False), engine
    )
    with TestClient(strict) as client:
        for url in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://192.168.0.10/x",
        ]:
            response = client.post("/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers)
            assert response.status_code == 422, (url, response.text)
            assert response.json()["error"]["code"] == "webhook_url_private", url


def test_names_are_checked_on_the_addresses_they_resolve_to() -> None:
    with pytest.raises(WebhookUrlPrivate):
        check_url("https://intranet.example/x", allow_private=False, resolver=lambda host, port: ["10.0.0.7"])
    with pytest.raises(WebhookUrlPrivate):
        check_url(
            "https://m.example/x", allow_private=False, resolver=lambda host, port: ["::ffff:127.0.0.1"]
        )
    check_url("https://public.example/x", allow_private=False, resolver=lambda host, port: ["93.184.216.34"])
    check_url("https://intranet.example/x", allow_private=True, resolver=lambda host, port: ["10.0.0.7"])
