"""Changing number_format or number_reset after invoices were numbered: numbering continues."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice

YEAR = datetime.now(UTC).year


def _settings(client: TestClient, tenant: Tenant, **fields: str) -> None:
    response = client.patch("/v1/organisation", json=fields, headers=tenant.headers)
    assert response.status_code == 200, response.text


def _issue(client: TestClient, tenant: Tenant, customer: str, count: int) -> list[str]:
    return [create_invoice(client, tenant.headers, customer, finalize=True)["number"] for _ in range(count)]


def test_numbering_continues_after_every_allowed_settings_change(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    issued = _issue(client, tenant, customer, 3)
    assert issued == [f"INV-{YEAR}-0000{n}" for n in (1, 2, 3)]

    # yearly -> never: the never series starts after this year's numbers, not at 1 again.
    _settings(client, tenant, number_reset="never")
    issued += _issue(client, tenant, customer, 2)
    assert issued[-2:] == [f"INV-{YEAR}-00004", f"INV-{YEAR}-00005"]

    # never -> yearly: this year's series continues after the numbers issued meanwhile.
    _settings(client, tenant, number_reset="yearly")
    issued += _issue(client, tenant, customer, 1)
    assert issued[-1] == f"INV-{YEAR}-00006"

    # A new prefix: no old number can be rendered by it, the counter simply goes on.
    _settings(client, tenant, number_format="RE-{YYYY}-{SEQ:05}")
    issued += _issue(client, tenant, customer, 1)
    assert issued[-1] == f"RE-{YEAR}-00007"

    # Back to the old prefix: continues after the highest INV number.
    _settings(client, tenant, number_format="INV-{YYYY}-{SEQ:05}")
    issued += _issue(client, tenant, customer, 1)
    assert issued[-1] == f"INV-{YEAR}-00008"

    # A format that reads earlier numbers as other sequence values: 'A-1{SEQ}' issues A-16 and
    # A-17 (values 6 and 7); 'A-{SEQ}' reads them as 16 and 17, so it goes on at 18 (at 8 it
    # would have reached A-16 again after eight invoices).
    _settings(client, tenant, number_format="A-1{SEQ}", number_reset="never")
    issued += _issue(client, tenant, customer, 2)
    _settings(client, tenant, number_format="A-{SEQ}")
    issued += _issue(client, tenant, customer, 2)
    assert issued[-4:] == ["A-16", "A-17", "A-18", "A-19"]

    assert len(set(issued)) == len(issued)


def test_switching_reset_back_and_forth_without_invoices_changes_nothing(
    client: TestClient, tenant: Tenant
) -> None:
    _settings(client, tenant, number_reset="never")
    _settings(client, tenant, number_reset="yearly")
    customer = create_customer(client, tenant.headers)["id"]
    assert _issue(client, tenant, customer, 1) == [f"INV-{YEAR}-00001"]
