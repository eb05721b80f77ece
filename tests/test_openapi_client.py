"""A client generated from faktur's OpenAPI (openapi-python-client) runs the README's walk-through.

The generator must accept the whole document without a warning (every schema and operation
usable), and the generated code must speak to a real server: customer, invoice finalized at once
(with an Idempotency-Key), payment, the PDF, and an error parsed into the `Error` model.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant

GENERATOR = Path(sys.prefix) / "bin" / "openapi-python-client"
pytestmark = pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is a test dependency")

# The generator reads JSON bodies only; documents are bytes either way.
CONFIG = """content_type_overrides:
  application/pdf: application/octet-stream
  application/xml: application/octet-stream
"""


@pytest.fixture
def generated(client: TestClient, tmp_path: Path) -> Iterator[ModuleType]:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(client.get("/openapi.json").json()))
    (tmp_path / "config.yaml").write_text(CONFIG)
    package = tmp_path / "generated" / "faktur_client"
    arguments = ["--path", str(spec), "--meta", "none", "--config", str(tmp_path / "config.yaml")]
    result = subprocess.run(
        [str(GENERATOR), "generate", *arguments, "--output-path", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.prefix) / 'bin'}:{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    sys.path.insert(0, str(package.parent))
    try:
        yield importlib.import_module("faktur_client")
    finally:
        sys.path.remove(str(package.parent))
        for name in [name for name in sys.modules if name.split(".")[0] == "faktur_client"]:
            del sys.modules[name]
        shutil.rmtree(package.parent, ignore_errors=True)


def test_generated_client_runs_the_walk_through(
    generated: ModuleType, live_server: str, tenant: Tenant
) -> None:
    api = importlib.import_module("faktur_client.api")
    models = importlib.import_module("faktur_client.models")
    customers = importlib.import_module("faktur_client.api.customers.create_customer")
    invoices = importlib.import_module("faktur_client.api.invoices")
    create_invoice = importlib.import_module("faktur_client.api.invoices.create_invoice")
    record_payment = importlib.import_module("faktur_client.api.invoices.record_payment")
    get_invoice = importlib.import_module("faktur_client.api.invoices.get_invoice")
    get_pdf = importlib.import_module("faktur_client.api.documents.get_pdf")
    assert api and invoices

    with generated.AuthenticatedClient(base_url=live_server, token=tenant.api_key) as client:
        customer = customers.sync(
            client=client,
            body=models.CustomerCreate(
                name="Kunde AG",
                email="ap@kunde.example",
                country="DE",
                vat_id="DE123456788",
                address_line1="Ringstraße 9",
                city="München",
                postal_code="80331",
                locale="de",
            ),
        )
        assert isinstance(customer, models.CustomerOut), customer

        def tax(percent: str) -> object:
            return models.TaxIn(category=models.TaxCategory("S"), percent=percent)

        body = models.InvoiceCreate(
            customer_id=customer.id,
            lines=[
                models.InvoiceLineIn(
                    description="Consulting", quantity="12.5", unit_price="120.00", tax=tax("19")
                ),
                models.InvoiceLineIn(description="Handbook", quantity="2", unit_price="24.90", tax=tax("7")),
            ],
            finalize=True,
        )
        invoice = create_invoice.sync(client=client, body=body, idempotency_key="order-1001")
        assert isinstance(invoice, models.InvoiceOut), invoice
        assert (invoice.status, invoice.subtotal, invoice.tax_total, invoice.total) == (
            models.InvoiceStatus("open"),
            "1549.80",
            "288.49",
            "1838.29",
        )
        again = create_invoice.sync(client=client, body=body, idempotency_key="order-1001")
        assert again.id == invoice.id

        paid = record_payment.sync(
            invoice.id, client=client, body=models.PaymentCreate(amount="1838.29", method="sepa")
        )
        assert isinstance(paid, models.InvoiceOut), paid
        assert (paid.status, paid.amount_due) == (models.InvoiceStatus("paid"), "0.00")

        pdf = get_pdf.sync_detailed(invoice.id, client=client)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF-")

        missing = get_invoice.sync(uuid.uuid4(), client=client)
        assert isinstance(missing, models.Error), missing
        assert missing.error.code == "invoice_not_found"

    with generated.AuthenticatedClient(base_url=live_server, token="fk_unknown") as stranger:
        refused = get_invoice.sync(invoice.id, client=stranger)
        assert isinstance(refused, models.Error) and refused.error.code == "invalid_api_key"
