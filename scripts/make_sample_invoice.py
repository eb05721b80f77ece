"""Regenerate docs/sample-invoice.png from an invoice created through the API (needs pdftoppm).

Run: .venv/bin/python scripts/make_sample_invoice.py   (uses a throwaway SQLite database)
     .venv/bin/python scripts/make_sample_invoice.py --locale de --output /tmp/de.png --pdf /tmp/de.pdf
     (the same invoice for a German or French customer, to look at; all pages as PNG)
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, session_scope
from faktur.migrations import upgrade_to_head
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "sample-invoice.png"
SELLER = {
    "trading_name": "Nordlicht",
    "address_line1": "Friedrichstraße 68",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "vat_id": "DE136695976",
    "tax_registration_id": "30/123/45678",
    "legal_registration_id": "HRB 123456 B",
    "email": "billing@nordlicht.example",
    "phone": "+49 30 1234567",
    "contact_name": "Jana Vogel",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "register_court": "Amtsgericht Charlottenburg",
    "register_number": "HRB 123456 B",
    "managing_directors": "Jana Vogel, Tom Berger",
    "payment_terms_days": 14,
    "number_format": "RE-{YYYY}-{SEQ:05}",
}
CUSTOMER = {
    "name": "Brandt & Söhne KG",
    "email": "ap@brandt.example",
    "address_line1": "Königsallee 12",
    "address_line2": "3. OG",
    "city": "Düsseldorf",
    "postal_code": "40212",
    "country": "DE",
    "vat_id": "DE129273398",
    "buyer_reference": "04011000-12345-34",
    "locale": "en",
}
INVOICE = {
    "lines": [
        {
            "description": "Implementation and consulting",
            "sku": "SVC-IMPL",
            "quantity": "24",
            "unit_code": "HUR",
            "unit_price": "120.00",
            "tax": {"category": "S", "percent": "19"},
            "allowances": [{"percent": "10", "reason": "Framework agreement"}],
        },
        {
            "description": "faktur Cloud, Team plan",
            "sku": "SUB-TEAM",
            "quantity": "1",
            "unit_price": "290.00",
            "tax": {"category": "S", "percent": "19"},
            "period_start": "2026-11-01",
            "period_end": "2026-12-01",
        },
        {
            "description": "Handbook: E-invoicing in practice",
            "sku": "BK-EINV",
            "quantity": "3",
            "unit_price": "24.90",
            "tax": {"category": "S", "percent": "7"},
        },
    ],
    "adjustments": [
        {"kind": "charge", "amount": "9.90", "reason": "Shipping", "tax": {"category": "S", "percent": "7"}}
    ],
    "memo": "Thank you for your business.",
    "period_start": "2026-11-01",
    "period_end": "2026-12-01",
    "delivery_date": "2026-11-27",
    "finalize": True,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locale", default="en", help="the customer's locale: en, de, fr, ...")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the PNG (with --pdf: one per page)")
    parser.add_argument("--pdf", type=Path, help="also keep the PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/sample.sqlite3"
        upgrade_to_head(url)
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            organisation = organisations.create_organisation(
                session, OrganisationCreate(legal_name="Nordlicht Software GmbH"), datetime.now(UTC)
            )
            key = organisations.create_api_key(session, organisation.id, "sample", datetime.now(UTC))
        headers = {"Authorization": f"Bearer {key.plaintext}"}
        app = create_app(Settings(database_url=url, create_demo_organisation=False), engine)
        with TestClient(app) as client:
            client.patch("/v1/organisation", json=SELLER, headers=headers).raise_for_status()
            customer = client.post("/v1/customers", json={**CUSTOMER, "locale": args.locale}, headers=headers)
            customer.raise_for_status()
            invoice = client.post(
                "/v1/invoices", json={"customer_id": customer.json()["id"], **INVOICE}, headers=headers
            )
            invoice.raise_for_status()
            pdf = client.get(f"/v1/invoices/{invoice.json()['id']}/pdf", headers=headers)
            pdf.raise_for_status()
        engine.dispose()
        source = args.pdf or Path(directory) / "sample.pdf"
        source.write_bytes(pdf.content)
        stem = args.output.with_suffix("")
        pages = ["-singlefile", "-f", "1", "-l", "1"] if args.pdf is None else []
        subprocess.run(["pdftoppm", "-png", "-r", "80", *pages, str(source), str(stem)], check=True)
    print(f"wrote {args.output if args.pdf is None else f'{stem}-N.png and {args.pdf}'}")


if __name__ == "__main__":
    main()
