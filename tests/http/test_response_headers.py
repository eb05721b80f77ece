"""Headers on API responses: no sniffing, no caching of tenant data, Allow on a 405."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice


def test_api_responses_forbid_sniffing_and_caching(client: TestClient, tenant: Tenant) -> None:
    for response in (
        client.get("/v1/customers", headers=tenant.headers),
        client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers),
        client.get("/v1/customers"),  # 401
        client.get("/compat/zenskar/v1/invoices/x", headers=tenant.headers),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_a_stored_document_may_be_kept_by_the_client_and_revalidated(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    invoice = create_invoice(client, tenant.headers, customer, finalize=True)["id"]
    response = client.get(f"/v1/invoices/{invoice}/ubl", headers=tenant.headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    again = client.get(
        f"/v1/invoices/{invoice}/ubl", headers={**tenant.headers, "If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, no-cache"


def test_trace_is_405_with_the_methods_the_path_allows(client: TestClient, tenant: Tenant) -> None:
    response = client.request("TRACE", "/v1/customers", headers=tenant.headers)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert response.json()["error"]["code"] == "method_not_allowed"
