"""/v1/customers: create, get, list (newest first, cursor pagination, email filter) and patch."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, customer_body


def list_all(client: TestClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/v1/customers{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_create_returns_the_customer_with_normalised_codes(client: TestClient, tenant: Tenant) -> None:
    body = customer_body(country="de", currency="eur", vat_id="DE 123 456 788", locale="de-CH")
    response = client.post("/v1/customers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    customer = response.json()
    assert customer["name"] == "Kunde AG"
    assert customer["email"] == "ap@kunde.example"
    assert customer["country"] == "DE"
    assert customer["currency"] == "EUR"
    assert customer["vat_id"] == "DE123456788"
    assert customer["locale"] == "de_CH"
    assert customer["metadata"] == {}
    assert customer["created_at"] == customer["updated_at"]


def test_create_defaults_locale_to_english(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers, locale=None)
    assert customer["locale"] == "en"


def test_create_keeps_metadata(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers, metadata={"crm_id": "42", "tier": "gold"})
    assert customer["metadata"] == {"crm_id": "42", "tier": "gold"}


def test_get_returns_what_create_returned(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers, metadata={"crm_id": "42"})
    response = client.get(f"/v1/customers/{created['id']}", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json() == created


def test_get_unknown_customer_is_404_customer_not_found(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/v1/customers/00000000-0000-4000-8000-000000000000", headers=tenant.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_list_pages_newest_first_without_duplicates(client: TestClient, tenant: Tenant) -> None:
    created = [create_customer(client, tenant.headers, name=f"Customer {n}")["id"] for n in range(5)]

    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/customers{query}", headers=tenant.headers).json()
        pages.append(len(page["data"]))
        seen.extend(row["id"] for row in page["data"])
        assert page["has_more"] == (page["next_cursor"] is not None)
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not terminate"

    assert pages == [2, 2, 1]
    assert len(seen) == len(set(seen))
    assert seen == list(reversed(created))


def test_list_with_limit_equal_to_count_has_no_more(client: TestClient, tenant: Tenant) -> None:
    for n in range(3):
        create_customer(client, tenant.headers, name=f"Customer {n}")
    page = client.get("/v1/customers?limit=3", headers=tenant.headers).json()
    assert len(page["data"]) == 3
    assert page["has_more"] is False
    assert page["next_cursor"] is None


def test_list_default_limit_is_20(client: TestClient, tenant: Tenant) -> None:
    for n in range(21):
        create_customer(client, tenant.headers, name=f"Customer {n}")
    page = client.get("/v1/customers", headers=tenant.headers).json()
    assert len(page["data"]) == 20
    assert page["has_more"] is True


def test_list_pages_stay_stable_when_customers_are_added_meanwhile(
    client: TestClient, tenant: Tenant
) -> None:
    older = [create_customer(client, tenant.headers, name=f"Old {n}")["id"] for n in range(3)]
    first = client.get("/v1/customers?limit=2", headers=tenant.headers).json()
    create_customer(client, tenant.headers, name="Newcomer")
    rest = client.get(f"/v1/customers?limit=2&cursor={first['next_cursor']}", headers=tenant.headers).json()
    ids = [row["id"] for row in first["data"] + rest["data"]]
    assert ids == list(reversed(older))


def test_list_filters_by_exact_email(client: TestClient, tenant: Tenant) -> None:
    a1 = create_customer(client, tenant.headers, name="A1", email="a@x.example")["id"]
    create_customer(client, tenant.headers, name="B", email="b@x.example")
    a2 = create_customer(client, tenant.headers, name="A2", email="a@x.example")["id"]
    create_customer(client, tenant.headers, name="No email", email=None)

    assert [c["id"] for c in list_all(client, tenant.headers, "?email=a@x.example")] == [a2, a1]
    assert list_all(client, tenant.headers, "?email=a@x") == []
    assert list_all(client, tenant.headers, "?email=nobody@x.example") == []


def test_email_filter_pages_with_cursor(client: TestClient, tenant: Tenant) -> None:
    wanted = [create_customer(client, tenant.headers, name=f"W{n}", email="w@x.example")["id"] for n in "abc"]
    create_customer(client, tenant.headers, name="Other", email="o@x.example")
    first = client.get("/v1/customers?email=w@x.example&limit=2", headers=tenant.headers).json()
    rest = client.get(
        f"/v1/customers?email=w@x.example&limit=2&cursor={first['next_cursor']}", headers=tenant.headers
    ).json()
    assert [c["id"] for c in first["data"] + rest["data"]] == list(reversed(wanted))
    assert rest["has_more"] is False


def test_patch_changes_only_the_given_fields(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers)
    response = client.patch(
        f"/v1/customers/{created['id']}",
        json={"city": "Hamburg", "postal_code": "20095"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["city"] == "Hamburg" and updated["postal_code"] == "20095"
    unchanged = {k: v for k, v in updated.items() if k not in ("city", "postal_code", "updated_at")}
    assert unchanged == {k: v for k, v in created.items() if k not in ("city", "postal_code", "updated_at")}
    assert updated["updated_at"] >= created["updated_at"]
    assert client.get(f"/v1/customers/{created['id']}", headers=tenant.headers).json() == updated


def test_patch_with_null_clears_an_optional_field(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers, address_line2="Hinterhaus")
    response = client.patch(
        f"/v1/customers/{created['id']}",
        json={"address_line2": None, "vat_id": None, "email": None},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    stored = client.get(f"/v1/customers/{created['id']}", headers=tenant.headers).json()
    assert stored["address_line2"] is None
    assert stored["vat_id"] is None
    assert stored["email"] is None
    assert stored["name"] == created["name"]
    assert stored["city"] == created["city"]


def test_patch_metadata_null_empties_it(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers, metadata={"crm_id": "42"})
    response = client.patch(f"/v1/customers/{created['id']}", json={"metadata": None}, headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["metadata"] == {}


def test_patch_name_null_is_422_and_keeps_the_name(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers)
    response = client.patch(
        f"/v1/customers/{created['id']}", json={"name": None, "city": "Hamburg"}, headers=tenant.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["name"]
    stored = client.get(f"/v1/customers/{created['id']}", headers=tenant.headers).json()
    assert stored == created


def test_patch_with_empty_object_changes_nothing_but_updated_at(client: TestClient, tenant: Tenant) -> None:
    created = create_customer(client, tenant.headers)
    response = client.patch(f"/v1/customers/{created['id']}", json={}, headers=tenant.headers)
    assert response.status_code == 200
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        k: v for k, v in created.items() if k != "updated_at"
    }


def test_patch_unknown_customer_is_404(client: TestClient, tenant: Tenant) -> None:
    response = client.patch(
        "/v1/customers/00000000-0000-4000-8000-000000000000", json={"name": "X"}, headers=tenant.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_patching_a_customer_does_not_change_a_finalized_invoice(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)
    issued = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    client.patch(
        f"/v1/customers/{customer['id']}", json={"name": "Renamed AG", "city": "Köln"}, headers=tenant.headers
    )
    after = client.get(f"/v1/invoices/{issued['id']}", headers=tenant.headers).json()
    assert after["customer"]["name"] == "Kunde AG"
    assert after["customer"]["city"] == "München"
    assert after["customer"] == issued["customer"]


def test_patching_a_customer_is_seen_by_its_drafts(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)
    draft = create_invoice(client, tenant.headers, customer["id"])
    client.patch(f"/v1/customers/{customer['id']}", json={"name": "Renamed AG"}, headers=tenant.headers)
    finalized = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).json()
    assert finalized["customer"]["name"] == "Renamed AG"
