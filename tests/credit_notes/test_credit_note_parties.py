"""A credit note is between the parties of the invoice it corrects, on SQLite and PostgreSQL: its
JSON shows the seller and customer as frozen on the invoice (as its documents do), not as they were
edited since."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line


def test_a_credit_note_keeps_the_invoices_parties_after_they_are_edited(
    client: TestClient, tenant: Tenant
) -> None:
    headers = tenant.headers
    customer = create_customer(client, headers, name="Before GmbH")
    invoice = create_invoice(client, headers, customer["id"], [line()], finalize=True)
    assert invoice["customer"]["name"] == "Before GmbH"
    renamed = client.patch(f"/v1/customers/{customer['id']}", json={"name": "After AG"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    moved = client.patch("/v1/organisation", json={"city": "Elsewhere"}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert invoice["seller"]["city"] != "Elsewhere"

    response = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={}, headers=headers)
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["customer"] == invoice["customer"]
    assert note["seller"] == invoice["seller"]
    read = client.get(f"/v1/credit-notes/{note['id']}", headers=headers).json()
    assert (read["customer"], read["seller"]) == (invoice["customer"], invoice["seller"])
    # The preview of a credit note shows the same parties.
    other = create_invoice(client, headers, customer["id"], [line()], finalize=True)
    client.patch(f"/v1/customers/{customer['id']}", json={"name": "Later Ltd"}, headers=headers)
    preview = client.post(f"/v1/invoices/{other['id']}/credit-notes/preview", json={}, headers=headers)
    assert preview.status_code == 200, preview.text
    assert preview.json()["customer"]["name"] == "After AG"
