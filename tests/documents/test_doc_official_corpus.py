"""Invoices from every creation path pass the official rule sets in every profile: zero fatal findings.

The corpus (made through the API, on SQLite and PostgreSQL): every VAT category (S at two rates, Z, E,
AE, G, O, L, M; K see below), line and document allowances and charges, tax-inclusive prices, JPY and
USD, 120 lines, unicode names, a negative correction line, a seller without VAT id; native lines,
orders, pending items, contract periods with usage (in-advance fees, late usage lowering a volume tier)
and the five dialects. Each invoice's UBL and CII (en16931), UBL Peppol, UBL and CII XRechnung and the
CII inside its Factur-X PDF are validated with ../shared/einvoice-validator.

The EN 16931 fields added for issue 13 are in it too: category K (intra-community supply) with its
delivery date (BT-72), deliver-to party (BG-13) and the buyer's VAT id, an invoicing period (BG-14),
SEPA direct debit and card payment means (BG-18, BG-19), and imports whose total the items do not
explain (a WizCommerce charge and allowance) with an amount paid before issue (BT-113); Zenskar
invoices for any range of days of a contract. Category K without its delivery data is refused at
finalization with a 422 naming the missing fields.
"""

from __future__ import annotations

from typing import Any

from document_api import complete_seller
from einvoice_corpus import SELLER_WITHOUT_VAT_ID, buyer, check_documents
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import line
from official_validator import OfficialValidator
from recurring_factories import create_contract, create_metric, event, flat, send_events, usage

S19 = {"category": "S", "percent": "19"}
S7 = {"category": "S", "percent": "7"}
UNICODE_NAME = "Ærøskøbing Δέλτα 株式会社 – Zoë’s Café"


def _create(
    client: TestClient, tenant: Tenant, customer_id: str, lines: list[dict[str, Any]], **extra: Any
) -> str:
    body = {"customer_id": customer_id, "lines": lines, "finalize": True, **extra}
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _native_cases(client: TestClient, tenant: Tenant) -> dict[str, str]:
    headers = tenant.headers
    de = buyer(client, headers)
    discount = {"percent": "10", "reason": "Loyalty discount", "reason_code": "95"}
    packing = {"amount": "4.50", "reason": "Packaging", "reason_code": "ABL"}
    cases = {
        "two_rates_zero_allowances_charges": _create(
            client,
            tenant,
            de,
            [
                line("Consulting", "12.5", "120.00", "19", unit_code="HUR", allowances=[discount]),
                line("Handbook", "12", "3.99", "7", charges=[packing]),
                line("Printed matter (zero rated)", "3", "15.50", "0", category="Z"),
            ],
            adjustments=[
                {
                    "kind": "allowance",
                    "percent": "5",
                    "base_amount": "1000.00",
                    "reason": "Volume",
                    "tax": S19,
                },
                {"kind": "charge", "amount": "12.00", "reason_code": "FC", "tax": S7},
            ],
        ),
        "exempt": _create(
            client,
            tenant,
            de,
            [
                {
                    **line("Seminar", "1", "800.00", "0", category="E"),
                    "tax": {"category": "E", "percent": "0", "exemption_reason": "§ 4 Nr. 21 UStG"},
                }
            ],
        ),
        # No exemption reason given: the VATEX defaults are stated.
        "reverse_charge": _create(
            client,
            tenant,
            buyer(client, headers, "FR"),
            [line("Licences", "5", "200.00", "0", category="AE")],
        ),
        "export": _create(
            client, tenant, buyer(client, headers, "US"), [line("Machine", "1", "1500.00", "0", category="G")]
        ),
        # A seller with a VAT id, a buyer with one: the documents leave both out (BR-O-02).
        "not_subject_vat_id_parties": _create(
            client,
            tenant,
            buyer(client, headers, "CH", vat_id="CHE-116.281.710"),
            [line("Advisory outside the EU", "1", "300.00", "0", category="O")],
        ),
        "igic": _create(
            client,
            tenant,
            de,
            [line("Canary Islands delivery", "2", "50.00", "7", category="L")],
        ),
        "ipsi": _create(client, tenant, de, [line("Ceuta delivery", "1", "80.00", "4", category="M")]),
        "tax_inclusive": _create(
            client,
            tenant,
            de,
            [
                line("Coffee", "3", "11.90", "19", allowances=[{"amount": "1.19", "reason": "Voucher"}]),
                line("Milk", "7", "2.49", "7"),
            ],
            prices_include_tax=True,
            adjustments=[{"kind": "charge", "amount": "5.95", "reason_code": "FC", "tax": S19}],
        ),
        "jpy": _create(
            client,
            tenant,
            de,
            [line("Seats", "3", "12800", "19"), line("Book", "1", "980", "7")],
            currency="JPY",
        ),
        "usd": _create(client, tenant, de, [line("Support", "4", "95.50", "19")], currency="USD"),
        "many_lines": _create(
            client,
            tenant,
            de,
            [
                line(f"Licence seat {n}", str(1 + n % 7), f"{9 + n}.95", "19" if n % 3 else "7")
                for n in range(120)
            ],
        ),
        "unicode_names": _create(
            client,
            tenant,
            buyer(client, headers, name=UNICODE_NAME, city="Ærøskøbing", address_line1="Vestergade 7 ✉"),
            [
                line("☕ Kaffee – Größe XL “extra”", "2", "4.20", "7"),
                line("Überführung → Lager №5", "1", "99.00", "19"),
            ],
        ),
        # A correction as a negative unit price: rendered as a negative quantity at the positive price.
        "negative_price_correction": _create(
            client,
            tenant,
            de,
            [line("Monthly plan", "1", "100.00", "19"), line("Goodwill credit", "1", "-20.00", "19")],
        ),
    }
    return cases


def test_native_invoices_of_every_category_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    failures = []
    for label, invoice_id in _native_cases(client, tenant).items():
        failures += check_documents(client, tenant.headers, official_validator, invoice_id, label)
    assert failures == [], "\n".join(failures)


def test_intra_community_supply_without_its_delivery_data_is_refused(
    client: TestClient, tenant: Tenant
) -> None:
    complete_seller(client, tenant.headers)
    customer = buyer(client, tenant.headers, "FR")
    response = client.post(
        "/v1/invoices",
        json={
            "customer_id": customer,
            "lines": [line("Goods", "40", "12.50", "0", category="K")],
            "finalize": True,
        },
        headers=tenant.headers,
    )
    # BT-72 (or BG-14) and BG-13's country are missing: refused at finalization, never a document
    # that fails BR-IC-11/12; nothing stored.
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "tax_rule_violation"
    assert {(d["rule"], d["field"]) for d in error["details"]} == {
        ("BR-IC-11", "delivery_date"),
        ("BR-IC-12", "deliver_to.country"),
    }
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


def test_seller_without_vat_id_passes_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers, **SELLER_WITHOUT_VAT_ID)
    invoice_id = _create(
        client,
        tenant,
        buyer(client, tenant.headers),
        [line("Design work", "8", "75.00", "19", unit_code="HUR")],
    )
    failures = check_documents(
        client, tenant.headers, official_validator, invoice_id, "seller_without_vat_id"
    )
    assert failures == [], "\n".join(failures)


def _records_cases(client: TestClient, tenant: Tenant) -> dict[str, str]:
    headers = tenant.headers
    customer = buyer(client, headers)
    order = client.post(
        "/v1/orders",
        json={
            "customer_id": customer,
            "external_reference": "PO-1001",
            "lines": [
                {
                    "name": "Widget",
                    "sku": "W-1",
                    "quantity": "3",
                    "unit_price": "10.00",
                    "tax": S19,
                    "discount": {"amount": "10.00", "reason": "Bundle"},
                },
                {"name": "Handbook", "quantity": "2", "unit_price": "24.90", "tax": S7},
            ],
        },
        headers=headers,
    )
    assert order.status_code == 201, order.text
    order_id, first_line = order.json()["id"], order.json()["lines"][0]["id"]
    cases = {}
    for label, body in (
        ("order_partial", {"lines": [{"order_line_id": first_line, "quantity": "1"}], "finalize": True}),
        ("order_rest", {"finalize": True}),
    ):
        response = client.post(f"/v1/orders/{order_id}/invoices", json=body, headers=headers)
        assert response.status_code == 201, response.text
        cases[label] = response.json()["id"]
    for description, price in (("3 extra seats, May", "15.00"), ("Onboarding call", "120.00")):
        item = client.post(
            "/v1/invoice-items",
            json={
                "customer_id": customer,
                "description": description,
                "quantity": "3",
                "unit_price": price,
                "tax": S19,
                "period_start": "2026-05-01",
                "period_end": "2026-06-01",
            },
            headers=headers,
        )
        assert item.status_code == 201, item.text
    gathered = client.post(
        "/v1/invoice-items/invoice", json={"customer_id": customer, "finalize": True}, headers=headers
    )
    assert gathered.status_code == 201, gathered.text
    for index, invoice in enumerate(gathered.json()["invoices"]):
        cases[f"pending_items_{index}"] = invoice["id"]
    return cases


def _contract_cases(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """A contract billed in advance with usage on a volume model, and late usage that lowers the tier."""
    headers = tenant.headers
    create_metric(client, headers, "api_calls")
    volume = {
        "model": "volume",
        "tiers": [{"up_to": "10", "unit_price": "1"}, {"up_to": None, "unit_price": "0.50"}],
    }
    contract = create_contract(
        client,
        headers,
        [flat("100.00"), usage("api_calls", volume)],
        customer_id=buyer(client, headers),
        start_date="2024-01-01",
        billing_cycle_start_day=1,
        billing_timing="in_advance",
    )
    send_events(client, headers, [event(contract["id"], "2024-01-20T10:00:00Z") for _ in range(8)])
    cases = {}
    january = client.post(
        f"/v1/contracts/{contract['id']}/invoices",
        json={"period_start": "2024-01-01", "period_end": "2024-02-01", "finalize": True},
        headers=headers,
    )
    assert january.status_code == 201, january.text
    cases["contract_period_in_advance"] = january.json()["id"]
    # 5 late events: 13 calls at the volume price 0.50 = 6.50 < the 8.00 billed.
    send_events(client, headers, [event(contract["id"], "2024-01-31T23:00:00Z") for _ in range(5)])
    february = client.post(
        f"/v1/contracts/{contract['id']}/invoices",
        json={"period_start": "2024-02-01", "period_end": "2024-03-01", "finalize": True},
        headers=headers,
    )
    assert february.status_code == 201, february.text
    adjustment = next(ln for ln in february.json()["lines"] if ln["metadata"].get("late_usage") == "true")
    assert (adjustment["quantity"], adjustment["unit_price"], adjustment["net_amount"]) == (
        "-1",
        "1.50",
        "-1.50",
    )
    cases["contract_late_usage_lowering_the_tier"] = february.json()["id"]
    return cases


def test_orders_items_and_contract_periods_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    cases = {**_records_cases(client, tenant), **_contract_cases(client, tenant)}
    failures = []
    for label, invoice_id in cases.items():
        failures += check_documents(client, tenant.headers, official_validator, invoice_id, label)
    assert failures == [], "\n".join(failures)


def _dialect_cases(client: TestClient, tenant: Tenant) -> dict[str, str]:
    key, headers = tenant.api_key, tenant.headers
    customer = buyer(client, headers)
    cases = {}
    # Wingback: pending items gathered into issued invoices.
    item = client.post(
        "/v1/invoice-items",
        json={
            "customer_id": customer,
            "description": "Seats",
            "quantity": "2",
            "unit_price": "30.00",
            "tax": S19,
        },
        headers=headers,
    )
    assert item.status_code == 201, item.text
    wingback = client.post(
        "/compat/wingback/v1/c/invoice", json={"customer_id": f"Cust_{customer}"}, headers={"wb-key": key}
    )
    assert wingback.status_code == 201, wingback.text
    cases["wingback"] = wingback.json()[0].removeprefix("Inv_")
    # Zenskar: a draft for a contract period, finalized natively.
    contract = create_contract(
        client, headers, [flat("100.00")], customer_id=customer, billing_cycle_start_day=1
    )
    zenskar = client.post(
        "/compat/zenskar/invoices/generate_invoice",
        json={
            "customer_id": customer,
            "contract_id": contract["id"],
            "from_date": "2024-01-01T00:00:00Z",
            "to_date": "2024-02-01T00:00:00Z",
        },
        headers={"x-api-key": key, "organisation": str(tenant.organisation_id)},
    )
    assert zenskar.status_code == 200, zenskar.text
    finalized = client.post(f"/v1/invoices/{zenskar.json()['id']}/finalize", headers=headers)
    assert finalized.status_code == 200, finalized.text
    cases["zenskar"] = zenskar.json()["id"]
    # WizCommerce: an import of an issued invoice, category O (the vendor sends no tax).
    order = client.post(
        "/v1/orders",
        json={
            "customer_id": customer,
            "external_reference": "ORD-1001",
            "lines": [{"name": "Boots", "sku": "SKU-1", "quantity": "2", "unit_price": "134.98", "tax": S19}],
        },
        headers=headers,
    )
    assert order.status_code == 201, order.text
    wiz = client.post(
        "/compat/wizcommerce/v1/invoices",
        json={
            "reference_id": "INV-20250101",
            "order_id": "ORD-1001",
            "invoice_number": "WZ-20250101",
            "total_amount": 269.96,
            "paid_amount": 100,
            "status": "PARTIALLY_PAID",
            "due_date": "2025-01-31T00:00:00Z",
            "created_at": "2025-01-01T00:00:00Z",
            "items": [
                {"reference_id": "ITEM-1", "sku": "SKU-1", "quantity": 2, "amount": 134.98, "name": "Boots"}
            ],
        },
        headers={"X-API-Key": key},
    )
    assert wiz.status_code == 201, wiz.text
    cases["wizcommerce_import"] = wiz.json()["data"]["id"]
    # iw-erp: an open invoice with two rates.
    iw = client.post(
        "/compat/iw-erp/api/invoice/invoices",
        params={"iw-build-id": "1", "iw-package-id": "1"},
        json={
            "invoice": {
                "buyer": {"id": customer},
                "name": "Mitgliedsbeitrag 2025",
                "tax": {"value": 19},
                "payment_goal": 14,
                "items": [
                    {"name": "Beitrag", "quantity": 2, "price": 50},
                    {"name": "Buch", "quantity": 1, "price": 24.9, "tax": {"value": 7}},
                ],
            }
        },
        headers={"x-session-token": key},
    )
    assert iw.status_code == 200, iw.text
    listed = client.get("/v1/invoices", params={"customer_id": customer}, headers=headers).json()["data"]
    cases["iw_erp"] = next(inv["id"] for inv in listed if inv["number"] == iw.json()["number_string"])
    # Order platform (axim): every remaining quantity of an order.
    axim_order = client.post(
        "/v1/orders",
        json={
            "customer_id": customer,
            "external_reference": "69ab24db449866373d5e3e35",
            "lines": [{"name": "Widget", "sku": "W-1", "quantity": "30", "unit_price": "10.00", "tax": S19}],
        },
        headers=headers,
    )
    assert axim_order.status_code == 201, axim_order.text
    axim = client.post(
        "/compat/axim/invoices", json={"orderId": "69ab24db449866373d5e3e35"}, headers={"accessToken": key}
    )
    assert axim.status_code == 201, axim.text
    listed = client.get("/v1/invoices", params={"customer_id": customer}, headers=headers).json()["data"]
    known = set(cases.values())
    cases["axim"] = next(
        inv["id"]
        for inv in listed
        if inv["id"] not in known and inv["status"] != "draft" and inv["source"] == "order"
    )
    return cases


def test_dialect_invoices_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    failures = []
    for label, invoice_id in _dialect_cases(client, tenant).items():
        failures += check_documents(client, tenant.headers, official_validator, invoice_id, label)
    assert failures == [], "\n".join(failures)


CREDITOR_ID = "DE98ZZZ09999999999"
DIRECT_DEBIT = {
    "method": "sepa_direct_debit",
    "mandate_reference": "MANDATE-2026-017",
    "debited_iban": "DE02120300000000202051",
}
CARD = {
    "method": "credit_card",
    "card_last_digits": "4242",
    "card_holder": "Max Kunde",
    "card_network": "VISA",
}


def _field_cases(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """Native invoices with the EN 16931 fields of issue 13: K, period, delivery, payment means."""
    headers = tenant.headers
    de = buyer(client, headers)
    france = buyer(client, headers, "FR")
    work = [line("Maintenance", "10", "85.00", "19", unit_code="HUR"), line("Manual", "1", "19.90", "7")]
    return {
        # Delivery date (BT-72) and deliver-to (BG-13) with the buyer's VAT id; no exemption reason:
        # the VATEX-EU-IC default is stated.
        "intra_community_supply": _create(
            client,
            tenant,
            france,
            [
                line("Industrial pump", "2", "1250.00", "0", category="K"),
                line("Spare seal", "6", "12.40", "0", category="K"),
            ],
            delivery_date="2026-03-05",
            deliver_to={
                "name": "Atelier Lumière, entrepôt",
                "address_line1": "5 quai de Seine",
                "city": "Rouen",
                "postal_code": "76000",
                "country": "FR",
            },
        ),
        # An invoicing period alone (BG-14) also dates a K supply (BR-IC-11).
        "intra_community_supply_in_a_period": _create(
            client,
            tenant,
            france,
            [line("Monthly parts delivery", "1", "640.00", "0", category="K")],
            period_start="2026-02-01",
            period_end="2026-03-01",
            deliver_to={"name": "Atelier Lumière", "city": "Paris", "postal_code": "75002", "country": "FR"},
        ),
        "service_period": _create(
            client, tenant, de, work, period_start="2026-02-01", period_end="2026-03-01"
        ),
        "delivery_date": _create(client, tenant, de, work, delivery_date="2026-03-02"),
        "delivery_date_and_deliver_to": _create(
            client,
            tenant,
            de,
            work,
            delivery_date="2026-03-02",
            deliver_to={
                "name": "Kunde AG, Lager Nord",
                "address_line1": "Lagerweg 3",
                "city": "Hamburg",
                "postal_code": "20095",
                "country": "DE",
            },
        ),
        "sepa_direct_debit": _create(client, tenant, de, work, payment_means=DIRECT_DEBIT),
        # The customer's default payment means, frozen at finalization.
        "sepa_direct_debit_customer_default": _create(
            client, tenant, buyer(client, headers, payment_means=DIRECT_DEBIT), work
        ),
        "credit_card": _create(client, tenant, de, work, payment_means=CARD),
        "bank_card_usd": _create(
            client,
            tenant,
            de,
            work,
            currency="USD",
            payment_means={"method": "bank_card", "card_last_digits": "0005"},
        ),
    }


def test_new_en16931_fields_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers, sepa_creditor_id=CREDITOR_ID)
    failures = []
    for label, invoice_id in _field_cases(client, tenant).items():
        failures += check_documents(client, tenant.headers, official_validator, invoice_id, label)
    assert failures == [], "\n".join(failures)


def _wizcommerce_import(
    client: TestClient, tenant: Tenant, customer: str, reference: str, total: float, paid: float, status: str
) -> str:
    order = client.post(
        "/v1/orders",
        json={
            "customer_id": customer,
            "external_reference": f"ORD-{reference}",
            "lines": [
                {"name": "Boots", "sku": "SKU-1", "quantity": "2", "unit_price": "99.99", "tax": S19},
                {"name": "Socks", "sku": "SKU-2", "quantity": "1", "unit_price": "69.98", "tax": S19},
            ],
        },
        headers=tenant.headers,
    )
    assert order.status_code == 201, order.text
    response = client.post(
        "/compat/wizcommerce/v1/invoices",
        json={
            "reference_id": f"INV-{reference}",
            "order_id": f"ORD-{reference}",
            "invoice_number": f"WZ-{reference}",
            "total_amount": total,
            "paid_amount": paid,
            "status": status,
            "due_date": "2025-01-31T00:00:00Z",
            "created_at": "2025-01-01T00:00:00Z",
            "items": [
                {"reference_id": "1", "sku": "SKU-1", "name": "Boots", "quantity": 2, "amount": 99.99},
                {
                    "reference_id": "2",
                    "sku": "SKU-2",
                    "name": "Socks",
                    "quantity": 1,
                    "amount": 69.98,
                    "discount": 5,
                },
            ],
        },
        headers={"X-API-Key": tenant.api_key},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_imports_with_unexplained_totals_and_partial_ranges_pass_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, tenant.headers)
    headers = tenant.headers
    customer = buyer(client, headers)
    # The items come to 264.96 (Socks 5 off): a total above it is a document charge, below it an
    # allowance; what was paid before issue is the prepaid amount (BT-113).
    cases = {
        "wizcommerce_total_above_items_prepaid": _wizcommerce_import(
            client, tenant, customer, "3001", 289.96, 100, "PARTIALLY_PAID"
        ),
        "wizcommerce_total_below_items_prepaid": _wizcommerce_import(
            client, tenant, customer, "3002", 250.00, 250.00, "PAID"
        ),
    }
    for label, (charge, allowance) in (
        ("wizcommerce_total_above_items_prepaid", ("25.00", "0.00")),
        ("wizcommerce_total_below_items_prepaid", ("0.00", "14.96")),
    ):
        stored = client.get(f"/v1/invoices/{cases[label]}", headers=headers).json()
        assert (stored["charge_total"], stored["allowance_total"]) == (charge, allowance), label
        assert stored["prepaid_amount"] != "0.00", label
    # Zenskar: an invoice for a range of days inside a billing cycle (prorated), finalized natively.
    contract = create_contract(
        client, headers, [flat("100.00")], customer_id=customer, billing_cycle_start_day=1
    )
    zenskar = client.post(
        "/compat/zenskar/invoices/generate_invoice",
        json={
            "customer_id": customer,
            "contract_id": contract["id"],
            "from_date": "2024-01-10T00:00:00Z",
            "to_date": "2024-01-25T00:00:00Z",
        },
        headers={"x-api-key": tenant.api_key, "organisation": str(tenant.organisation_id)},
    )
    assert zenskar.status_code == 200, zenskar.text
    finalized = client.post(f"/v1/invoices/{zenskar.json()['id']}/finalize", headers=headers)
    assert finalized.status_code == 200, finalized.text
    assert (finalized.json()["period_start"], finalized.json()["period_end"]) == ("2024-01-10", "2024-01-25")
    cases["zenskar_partial_range"] = zenskar.json()["id"]
    failures = []
    for label, invoice_id in cases.items():
        failures += check_documents(client, headers, official_validator, invoice_id, label)
    assert failures == [], "\n".join(failures)
